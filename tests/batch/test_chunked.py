"""Chunked restoration equals the whole-film run bit for bit, and a killed run resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oldfilm.api import restore
from oldfilm.batch.chunked import restore_chunked
from oldfilm.batch.plan import scan_film, split, work_dir
from oldfilm.errors import OutputError
from tests.batch.film import decoded, difference, film, same


def test_split_groups_scenes_and_splits_long_ones_with_context() -> None:
    cuts = [False] * 100
    for i in (0, 10, 20, 90):
        cuts[i] = True
    chunks = split(cuts, 30, lead=8, tail=4)
    assert [(c.start, c.end) for c in chunks] == [(0, 20), (20, 43), (43, 67), (67, 90), (90, 100)]
    assert [(c.lead, c.tail) for c in chunks] == [(0, 0), (0, 4), (8, 4), (8, 0), (0, 0)]
    assert split([True] * 3, 1, 5, 5)[1].lead == 0  # context never crosses a cut


def test_chunked_restore_is_bit_exact(tmp_path: Path) -> None:
    src = film(tmp_path / "in.mp4")
    assert [i for i, c in enumerate(scan_film(src).cuts) if c] == [0, 80]
    restore(src, tmp_path / "whole.mkv", codec="ffv1")
    # 80-frame shot → pieces at 0, 27, 53 (the last with 48 frames of warm-up inside the shot), then the cut
    r = restore_chunked(src, tmp_path / "chunked.mkv", codec="ffv1", chunk_frames=30)
    assert r.chunks == 4 and r.frames == 100 and r.lost == 0
    chunked, whole = decoded(tmp_path / "chunked.mkv"), decoded(tmp_path / "whole.mkv")
    assert same(chunked, whole), difference(chunked, whole)
    assert not work_dir(tmp_path / "chunked.mkv").exists()  # cleaned up on success


def test_changed_setting_redoes_only_what_it_affects(tmp_path: Path) -> None:
    src = film(tmp_path / "in.mp4", shot=24, second=6)
    first = restore_chunked(src, tmp_path / "a.mkv", codec="ffv1", chunk_frames=10, keep_work=True)
    (tmp_path / "a.mkv").rename(tmp_path / "b.mkv")
    codec = restore_chunked(src, tmp_path / "a.mkv", codec="h264", chunk_frames=10, keep_work=True)
    assert first.restored == codec.reused and not codec.restored  # the output codec only changes the join
    (tmp_path / "a.mkv").unlink()
    option = restore_chunked(src, tmp_path / "a.mkv", chunk_frames=10, denoise_strength=0.3, keep_work=True)
    assert option.restored == first.restored and not option.reused
    with pytest.raises(OutputError):
        restore_chunked(src, tmp_path / "folder", chunk_frames=10)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "oldfilm.cli", *args]


def test_killed_run_resumes_without_redoing_chunks(tmp_path: Path) -> None:
    src = film(tmp_path / "in.mp4", shot=30, second=10, audio=True)
    dst = tmp_path / "out.mkv"
    cmd = _cli("restore", str(src), str(dst), "--resume", "--chunk-frames", "8", "--codec", "ffv1", "-q")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    work = work_dir(dst)
    finished: list[Path] = []
    deadline = time.monotonic() + 120
    while proc.poll() is None and len(finished) < 2 and time.monotonic() < deadline:
        finished = sorted(work.glob("c*.mkv")) if work.is_dir() else []
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not dst.exists() and len(finished) >= 2
    mtimes = {p.name: p.stat().st_mtime_ns for p in finished}
    again = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    kept = int(again.stdout.split("; ")[1].split()[0])  # "...: N restored; K finished earlier were kept)"
    assert kept >= len(mtimes)
    restore(src, tmp_path / "whole.mkv", codec="ffv1")
    assert same(decoded(dst), decoded(tmp_path / "whole.mkv"))
    assert decoded(dst)  # and the audio came along
    from oldfilm.io.video import open_video

    with open_video(dst) as r:
        assert r.info.has_audio
    assert not work.exists()


def test_telecined_film_restores_in_chunks_as_whole(tmp_path: Path) -> None:
    from fractions import Fraction

    from tests.clips import moving_clip
    from tests.io.test_fields import telecine, write_ffv1

    src = write_ffv1(tmp_path / "tc.mkv", telecine(moving_clip(t=24, h=96, w=128, channels=3, step=3)),
                     Fraction(30000, 1001))
    plan = scan_film(src)
    assert not plan.direct and plan.frames == 24  # inverse telecine: 4 frames in 5, read in order
    restore(src, tmp_path / "whole.mkv", codec="ffv1")
    restore_chunked(src, tmp_path / "chunked.mkv", codec="ffv1", chunk_frames=10)
    assert same(decoded(tmp_path / "chunked.mkv"), decoded(tmp_path / "whole.mkv"))
