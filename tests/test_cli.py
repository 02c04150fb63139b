"""The command line: exit codes, one-line errors, audio kept, interrupted runs leave nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from oldfilm.cli import main
from tests.clips import add_dust, moving_clip, write_clip


def test_restore_keeps_size_count_fps_and_audio(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = write_clip(tmp_path / "in.mp4", add_dust(moving_clip(t=16, h=48, w=64, channels=3)), fps=24, audio=True)
    dst = tmp_path / "out.mp4"
    assert main(["restore", str(src), str(dst), "--quiet"]) == 0
    with av.open(str(dst)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height, v.frames, v.average_rate) == (64, 48, 16, 24)
        assert len(c.streams.audio) == 1


def test_frame_range(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "in.mp4", moving_clip(t=20, channels=3), audio=True)
    dst = tmp_path / "part.mkv"
    assert main(["restore", str(src), str(dst), "--start", "5", "--end", "12", "-q"]) == 0
    with av.open(str(dst)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 7


def test_info_prints_the_probe(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = write_clip(tmp_path / "in.mp4", moving_clip(t=5, channels=3), fps=30)
    assert main(["info", str(src)]) == 0
    out = capsys.readouterr().out
    assert "80x64" in out and "30.000" in out and "frames: 5" in out


@pytest.mark.parametrize("args, code, text", [
    (["restore", "{d}/missing.mp4", "{d}/o.mp4"], 2, "no such file"),
    (["restore", "{d}/in.mp4", "{d}/in.mp4", "--overwrite"], 2, "is the input"),
    (["restore", "{d}/in.mp4", "{d}/o.mp4", "--method", "magic"], 2, "unknown method"),
    (["restore", "{d}/in.mp4", "{d}/nofolder/o.mp4"], 2, "does not exist"),
    (["restore", "{d}/in.mp4", "{d}/o.mp4", "--start", "50"], 2, "no decodable video frames"),
    (["restore", "{d}/in.mp4", "{d}/o.mp4", "--no-such-flag"], 2, "No such option"),
])
def test_errors_are_one_line_with_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str],
                                            code: int, text: str) -> None:
    write_clip(tmp_path / "in.mp4", moving_clip(t=5, channels=3))
    assert main([a.format(d=tmp_path) for a in args]) == code
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_no_output(tmp_path: Path, sig: int) -> None:
    src = write_clip(tmp_path / "in.mp4", moving_clip(t=400, h=120, w=160, channels=3))
    dst = tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "oldfilm.cli", "restore", str(src), str(dst)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = ""
    while "restore:" not in line or "/400" not in line:  # wait until frames are being written
        line = proc.stderr.read(1) and line + proc.stderr.read(60)
        assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.2)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert not dst.exists()
    if sig == signal.SIGTERM:  # a catchable signal also removes the temporary
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_subtitles_are_copied(tmp_path: Path) -> None:
    import imageio_ffmpeg  # a dev dependency (its FFmpeg can mux an .srt file; PyAV cannot encode one)

    video = write_clip(tmp_path / "in.mp4", moving_clip(t=10, channels=3), audio=True)
    (tmp_path / "s.srt").write_text("1\n00:00:00,000 --> 00:00:00,300\nHello film\n\n")
    src = tmp_path / "sub.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(video), "-i",
                    str(tmp_path / "s.srt"), "-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt", str(src)],
                   check=True)
    dst = tmp_path / "out.mkv"
    assert main(["restore", str(src), str(dst), "-q"]) == 0
    with av.open(str(dst)) as c:
        assert [s.type for s in c.streams] == ["video", "audio", "subtitle"]
        packets = [p for p in c.demux(c.streams.subtitles[0]) if p.size]
    assert len(packets) == 1 and b"Hello film" in bytes(packets[0])


def test_the_codec_help_lists_every_codec_the_writer_has() -> None:
    from oldfilm.cli import CODEC_HELP
    from oldfilm.io.encode import FILE_CODECS, FOLDER_CODECS

    listed = {w.strip("(),;") for w in CODEC_HELP.split()}
    assert set(FILE_CODECS) | set(FOLDER_CODECS) <= listed
