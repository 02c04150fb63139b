"""The web app in a real headless Chromium (Debian's, driven by Selenium through chromedriver): refuse a bad
upload visibly, load a clip, get a before/after, restore to the end, download, show the metrics.

``scripts/install_browser.sh`` (run by ``make test``) installs Chromium; without it this test fails, it is
never skipped. ``OLDFILM_UI_SCREENSHOT=docs/ui.png`` saves the README's screenshot from the run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from oldfilm.ui import create_app
from oldfilm.ui.server import bind
from tests.clips import add_dust, moving_clip, write_clip

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread; yields its address."""
    sock = bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(create_app(tmp_path / "work"), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    srv.should_exit = True
    thread.join(20)
    sock.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is missing: run scripts/install_browser.sh (make test does), as root")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1300"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads"),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, what: str, condition, timeout: float = 60):  # noqa: ANN001
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))
    except Exception as e:
        message = driver.find_element(By.ID, "message").text
        raise AssertionError(f"timed out waiting for {what}; the page says: {message!r}") from e


def test_open_preview_restore_download_in_chromium(server: str, browser: WebDriver, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "film.mp4", add_dust(moving_clip(t=12, h=48, w=64, channels=3)))
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a film\n" * 20)
    browser.get(server)
    wait_for(browser, "the options", lambda d: d.find_elements(By.CSS_SELECTOR, "#method option"))

    # a bad upload is refused with a visible message
    browser.find_element(By.ID, "upload-file").send_keys(str(junk))
    msg = browser.find_element(By.ID, "message")
    wait_for(browser, "the error message", lambda d: msg.is_displayed() and "not a video" in msg.text)

    # a real clip: its info, then a before/after on frame 6
    browser.find_element(By.ID, "upload-file").send_keys(str(clip))
    wait_for(browser, "the film's info", lambda d: "12" in d.find_element(By.ID, "info").text)
    assert "64×48" in browser.find_element(By.ID, "info").text and not msg.is_displayed()
    scrub = browser.find_element(By.ID, "scrub")
    for _ in range(6):
        scrub.send_keys(Keys.ARROW_RIGHT)
    assert browser.find_element(By.ID, "frame-no").get_attribute("value") == "6"
    browser.find_element(By.ID, "preview").click()
    after = browser.find_element(By.ID, "after")
    wait_for(browser, "the after image", lambda d: (after.get_attribute("src") or "").startswith("data:image/png"))
    assert "frames 0–11" in browser.find_element(By.ID, "after-cap").text
    sizes = browser.execute_script("return ['before', 'after'].map(i => document.getElementById(i).naturalWidth)")
    assert sizes == [64, 64]
    browser.find_element(By.CSS_SELECTOR, "input[name=view][value=slider]").click()
    assert "slider" in browser.find_element(By.ID, "pair").get_attribute("class")

    # the whole restore, to the end, then the download
    browser.find_element(By.ID, "run").click()
    wait_for(browser, "the job to finish", lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs .state-done"))
    assert "12/12" in browser.find_element(By.CSS_SELECTOR, "#jobs tbody tr").text
    browser.find_element(By.CSS_SELECTOR, "#jobs a.download").click()
    downloads = tmp_path / "downloads"
    got = wait_for(browser, "the download", lambda d: list(downloads.glob("*.mp4"))
                   if downloads.is_dir() and not list(downloads.glob("*.crdownload")) else None)
    assert got[0].name == "film-restored.mp4"
    with av.open(str(got[0])) as c:
        assert sum(1 for _ in c.decode(video=0)) == 12

    # a reload finds the film and the job again (they live in the server, not in the tab)
    browser.refresh()
    wait_for(browser, "the job after a reload", lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs .state-done"))
    wait_for(browser, "the film after a reload", lambda d: d.find_element(By.ID, "film-name").text == "film.mp4")

    # metrics of input and output, with the per-frame flicker plot
    browser.find_element(By.CSS_SELECTOR, "#jobs button.metrics").click()
    lines = "#flicker-plot polyline"
    wait_for(browser, "the flicker plot", lambda d: len(d.find_elements(By.CSS_SELECTOR, lines)) == 2)
    assert "flicker" in browser.find_element(By.ID, "metrics-table").text

    shot = os.environ.get("OLDFILM_UI_SCREENSHOT")
    if shot:
        scrub = browser.find_element(By.ID, "scrub")  # the reload cleared the before/after: again, side by side
        for _ in range(6):
            scrub.send_keys(Keys.ARROW_RIGHT)
        browser.find_element(By.ID, "preview").click()
        wait_for(browser, "the after image",
                 lambda d: (d.find_element(By.ID, "after").get_attribute("src") or "").startswith("data:"))
        browser.execute_script("window.scrollTo(0, 0)")
        png = browser.get_screenshot_as_png()
        img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        img = cv2.resize(img, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)  # < 300 KB for the README
        cv2.imwrite(shot, img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
