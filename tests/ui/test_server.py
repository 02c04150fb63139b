"""The web app's HTTP API without a browser: uploads checked, before/after, jobs run, cancel, restart, colour."""

from __future__ import annotations

import json
import threading
import time
from base64 import b64decode
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from starlette.testclient import TestClient

from oldfilm.ui import create_app
from oldfilm.ui.jobs import JobManager
from tests.clips import add_dust, moving_clip, write_clip

H = {"X-Oldfilm": "1"}


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", add_dust(moving_clip(t=12, h=48, w=64, channels=3)))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path / "work"


def client(work: Path, **options: object) -> TestClient:
    return TestClient(create_app(work, **options), base_url="http://127.0.0.1")


@pytest.fixture
def app(work: Path) -> Iterator[TestClient]:
    with client(work) as c:
        yield c


def upload(app: TestClient, path: Path, name: str | None = None) -> dict:
    r = app.post(f"/api/videos/upload?name={name or path.name}", content=path.read_bytes(), headers=H)
    return {"status": r.status_code, **r.json()}


def wait(app: TestClient, jid: str, timeout: float = 60) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        job = app.get(f"/api/jobs/{jid}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {jid} did not finish: {job}")


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def test_upload_shows_info_and_frames(app: TestClient, clip: Path, work: Path) -> None:
    v = upload(app, clip)
    assert v["status"] == 200 and v["frames"] == 12
    assert (v["info"]["width"], v["info"]["height"]) == (64, 48)
    assert Path(v["source"]).is_relative_to(work.resolve())  # the upload is kept inside the work folder
    img = decode(app.get(f"/api/videos/{v['id']}/frame?i=11").content)
    assert img.shape == (48, 64, 3)
    r = app.get(f"/api/videos/{v['id']}/frame?i=12")
    assert r.status_code == 400 and "not in the film" in r.json()["error"]
    assert [x["id"] for x in app.get("/api/videos").json()["videos"]] == [v["id"]]


def test_bad_uploads_are_refused_with_a_message(app: TestClient, work: Path, tmp_path: Path, clip: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a film at all\n" * 50)
    r = upload(app, text)
    assert r["status"] == 400 and "not a video" in r["error"]
    empty = tmp_path / "empty.avi"  # a container with a video stream and no frames
    with av.open(str(empty), "w") as c:
        s = c.add_stream("mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        c.start_encoding()
    r = upload(app, empty)
    assert r["status"] == 400 and "frames" in r["error"], r
    r = app.post("/api/videos/upload?name=x.mp4", content=b"", headers=H)
    assert r.status_code == 400 and "empty" in r.json()["error"]
    assert not list((work / "videos").iterdir())  # nothing of a refused upload is kept
    with client(work, max_upload_mb=clip.stat().st_size / 2**20 / 2) as small:
        r = upload(small, clip)
        assert r["status"] == 400 and "too big" in r["error"]
    assert not list((work / "videos").iterdir())


def test_requests_from_elsewhere_are_refused(app: TestClient, clip: Path) -> None:
    r = app.post("/api/videos/upload?name=clip.mp4", content=clip.read_bytes())
    assert r.status_code == 403  # no X-Oldfilm header: another site's form cannot drive the app
    assert app.get("/api/options", headers={"Host": "evil.example"}).status_code == 400
    assert app.get("/api/jobs/..%2f..%2fetc").status_code in (400, 404)
    r = app.get("/api/videos/../../etc/frame")
    assert r.status_code in (400, 404)


def test_open_path_and_only_shipped_methods(app: TestClient, clip: Path) -> None:
    from oldfilm.restore.api import best_preset

    assert "nowhere" in app.post("/api/videos/open", json={"path": "/nowhere/x.mp4"}, headers=H).json()["error"]
    v = app.post("/api/videos/open", json={"path": str(clip)}, headers=H).json()
    assert v["frames"] == 12 and v["source"] == str(clip.resolve())
    opts = app.get("/api/options").json()
    assert opts["methods"] == (["classical", "rtn"] if best_preset() else ["classical"])
    if best_preset() is None:
        r = app.post(f"/api/videos/{v['id']}/preview", json={"frame": 5, "method": "rtn"}, headers=H)
        assert r.status_code == 400 and "not available" in r.json()["error"]
        r = app.post("/api/jobs/new", json={"video": v["id"], "method": "rtn"}, headers=H)
        assert r.status_code == 400


def test_before_after_comes_from_the_restorer(app: TestClient, clip: Path) -> None:
    from oldfilm.io.video import open_video
    from oldfilm.restore.api import restore_stream

    v = upload(app, clip)
    r = app.post(f"/api/videos/{v['id']}/preview", json={"frame": 9, "method": "classical"}, headers=H).json()
    assert r["window"] == [3, 12]
    with open_video(clip) as reader:
        frames = [f for f, _ in reader.frames_with_pts(3, 12)]
    expected = list(restore_stream(frames, "classical"))[6]
    before = decode(b64decode(r["before"].split(",", 1)[1]))[..., ::-1]
    after = decode(b64decode(r["after"].split(",", 1)[1]))[..., ::-1]
    assert np.array_equal(before, frames[6]) and np.array_equal(after, expected)
    assert not np.array_equal(before, after)


def test_restore_job_runs_downloads_and_is_found_again(work: Path, clip: Path) -> None:
    with client(work) as app:
        v = upload(app, clip)
        job = app.post("/api/jobs/new", json={"video": v["id"], "codec": "ffv1"}, headers=H).json()
        done = wait(app, job["id"])
        assert (done["state"], done["done"], done["total"]) == ("done", 12, 12)
        r = app.get(f"/api/jobs/{job['id']}/download")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        out = work / "dl.mkv"
        out.write_bytes(r.content)
        assert count_frames(out) == 12
        m = app.get(f"/api/jobs/{job['id']}/metrics").json()
        assert m["scores"]["frames"] == 12 and len(m["flicker_per_frame"]) == 11
        mi = app.get(f"/api/videos/{v['id']}/metrics").json()
        assert mi["scores"]["flicker"] > m["scores"]["flicker"]  # the dust made the input flicker more
    with client(work) as again:  # a new server on the same work folder (a reload, a restart)
        assert [j["id"] for j in again.get("/api/jobs").json()["jobs"]] == [job["id"]]
        assert again.get(f"/api/jobs/{job['id']}/download").status_code == 200


def test_cancel_leaves_nothing_behind(app: TestClient, clip: Path, work: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    started, go = threading.Event(), threading.Event()
    real = JobManager.report

    def held(self: JobManager, *args: object) -> None:  # the job stops after its first written frame
        started.set()
        go.wait(30)
        real(self, *args)

    monkeypatch.setattr(JobManager, "report", held)
    v = upload(app, clip)
    job = app.post("/api/jobs/new", json={"video": v["id"], "codec": "ffv1"}, headers=H).json()  # muxes at once
    assert started.wait(30)
    folder = work / "jobs" / job["id"]
    assert [p.name for p in folder.iterdir() if "partial" in p.name]  # the writer's temporary exists now
    assert app.post(f"/api/jobs/{job['id']}/cancel", json={}, headers=H).status_code == 200
    go.set()
    assert wait(app, job["id"])["state"] == "cancelled"
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]
    assert app.get(f"/api/jobs/{job['id']}/download").status_code == 400


def test_work_cut_off_by_a_stop_is_marked_and_cleaned(work: Path) -> None:
    with client(work):
        pass
    folder = work / "jobs" / "0123456789ab"
    folder.mkdir()
    record = {"id": "0123456789ab", "video": "aaaaaaaaaaaa", "name": "x.mp4", "kind": "restore", "params": {},
              "output": "x-restored.mp4", "state": "running"}
    (folder / "job.json").write_text(json.dumps(record))
    (folder / ".x-restored.oldfilm-partial-123.mp4").write_bytes(b"half")
    cut_upload = work / "videos" / "ba9876543210"
    cut_upload.mkdir()
    (cut_upload / ".upload.mp4").write_bytes(b"half a film")
    with client(work) as app:
        job = app.get("/api/jobs/0123456789ab").json()
    assert job["state"] == "interrupted"
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]
    assert not cut_upload.exists()


def test_colour_keyframe_preview_and_whole_film(app: TestClient, tmp_path: Path, work: Path) -> None:
    gray = moving_clip(t=10, h=48, w=64, channels=1)
    v = upload(app, write_clip(tmp_path / "bw.mp4", gray))
    key = gray[4, ..., 0]
    ok, bw_png = cv2.imencode(".png", key)
    r = app.post(f"/api/videos/{v['id']}/colour?frame=4", content=bw_png.tobytes(), headers=H)
    assert r.status_code == 400 and "black-and-white" in r.json()["error"]
    r = app.post("/api/jobs/new", json={"video": v["id"], "kind": "colorize"}, headers=H)
    assert r.status_code == 400 and "colour reference" in r.json()["error"]
    ok, png = cv2.imencode(".png", np.stack([key // 2, key, 255 - key // 3], -1))  # BGR: a coloured keyframe
    assert app.post(f"/api/videos/{v['id']}/colour?frame=4", content=png.tobytes(), headers=H).json() == {"frame": 4}
    p = app.post(f"/api/videos/{v['id']}/colour-preview", json={}, headers=H).json()
    assert p["window"] == [0, 10] and len(p["frames"]) == 4
    for f in p["frames"]:
        img = decode(b64decode(f["image"].split(",", 1)[1])).astype(int)
        assert np.abs(img[..., 0] - img[..., 2]).mean() > 20  # coloured, not gray
    job = wait(app, app.post("/api/jobs/new", json={"video": v["id"], "kind": "colorize"}, headers=H).json()["id"])
    assert job["state"] == "done" and job["output"].endswith("-colour.mp4")
    out = work / "jobs" / job["id"] / job["output"]
    assert count_frames(out) == 10


def test_cli_serves_on_localhost_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import oldfilm.ui
    from oldfilm.cli import main

    seen: dict = {}
    monkeypatch.setattr(oldfilm.ui, "serve", lambda work, **kw: seen.update(work=work, **kw))
    assert main(["ui", "--port", "9123", "--work", str(tmp_path)]) == 0
    assert seen == {"work": tmp_path, "host": "127.0.0.1", "port": 9123, "max_upload_mb": 2048}


def test_demo_clip_is_read_from_the_cache_without_writing_there(app: TestClient, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "oldfilm-cache"
    (cache / "sources").mkdir(parents=True)
    write_clip(cache / "sources" / "bikes.mp4", moving_clip(t=6, channels=3))
    monkeypatch.setenv("OLDFILM_CACHE", str(cache))
    before = sorted(cache.rglob("*"))
    v = app.post("/api/videos/demo", json={"name": "bikes"}, headers=H).json()
    assert v["frames"] == 6 and v["name"] == "bikes (demo)"
    assert sorted(cache.rglob("*")) == before
    r = app.post("/api/videos/demo", json={"name": "nope"}, headers=H)
    assert r.status_code == 400 and "unknown demo" in r.json()["error"]


def test_cli_without_the_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture) -> None:
    import sys

    import oldfilm.ui
    from oldfilm.cli import main

    def must_not_serve(*args: object, **kw: object) -> None:
        raise AssertionError("served without starlette")

    monkeypatch.setattr(oldfilm.ui, "serve", must_not_serve)
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if starlette were not installed
    assert main(["ui", "--port", "0"]) == 2
    assert "pip install 'oldfilm[ui]'" in capsys.readouterr().err
