"""A damaged file loses nothing silently: lost frames are counted and placed, the survivors keep their
timestamps (picture and sound stay in sync), and --strict makes any loss an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from oldfilm.batch.plan import scan_film
from oldfilm.cli import main
from oldfilm.io.video import open_video
from tests.batch.film import damaged, decoded
from tests.clips import moving_clip, write_clip


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("damage")
    clean = write_clip(d / "clean.mp4", moving_clip(t=40, h=96, w=128, channels=3), audio=True)
    return damaged(clean, d / "broken.mp4")


def test_reader_counts_and_places_lost_frames(broken: Path) -> None:
    with open_video(broken) as r:
        stamps = [p for _, p in r.frames_with_pts()]
        lost, losses = r.frames_lost, r.losses
    step = stamps[1] - stamps[0]
    assert 0 < lost == 40 - len(stamps)
    gap = next(i for i in range(1, len(stamps)) if stamps[i] - stamps[i - 1] > step)
    assert losses[0].after == gap - 1 and losses[0].pts == stamps[gap - 1]
    assert scan_film(broken).lost == lost


def test_restore_reports_loss_and_keeps_sync(broken: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out.mkv"
    assert main(["restore", str(broken), str(out), "--codec", "ffv1", "-q"]) == 0
    with open_video(broken) as r:
        stamps = [p for _, p in r.frames_with_pts()]
        tb_in = r.info.time_base
        lost = r.frames_lost
    assert f"{lost} frame(s) lost to damage" in caplog.text  # the warning (on stderr from the command line)
    with open_video(out) as r:
        got = [p for _, p in r.frames_with_pts()]
        tb_out, audio = r.info.time_base, r.info.has_audio
    # each survivor is shown at its own time: the gap stays a gap, so the sound stays in sync
    assert [float(p * tb_out) for p in got] == pytest.approx([float((p - stamps[0]) * tb_in) for p in stamps])
    assert audio


@pytest.mark.parametrize("resume", [False, True])
def test_strict_refuses_a_loss(broken: Path, tmp_path: Path, resume: bool, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out.mkv"
    rc = main(["restore", str(broken), str(out), "--strict", "-q", *(["--resume"] if resume else [])])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and not out.exists() and len(lines) == 1
    assert lines[0].startswith("oldfilm: error:") and "lost" in lines[0] and "--strict" in lines[0]


def test_resumable_restore_of_a_damaged_file_matches_the_plain_one(broken: Path, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert main(["restore", str(broken), str(tmp_path / "a.mkv"), "--codec", "ffv1", "-q"]) == 0
    caplog.clear()
    assert main(["restore", str(broken), str(tmp_path / "b.mkv"), "--codec", "ffv1", "--resume",
                 "--chunk-frames", "12", "-q"]) == 0
    assert "frame(s) lost to damage" in caplog.text
    a, b = decoded(tmp_path / "a.mkv"), decoded(tmp_path / "b.mkv")
    assert [p for _, p in a] == [p for _, p in b]
    assert all((x == y).all() for (x, _), (y, _) in zip(a, b, strict=True))


def test_quiet_still_warns_that_frames_were_lost(broken: Path, tmp_path: Path) -> None:
    """--quiet drops the progress bar, not the warning that the output lacks frames (a child process: the
    CLI's logging set-up is per process)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "oldfilm.cli", "-q", "restore", str(broken), str(tmp_path / "o.mp4")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    assert "lost" in out.stderr and "warning" in out.stderr
