"""Streaming video I/O: round trips, timestamps, audio copy, folders, 16-bit, bad input, atomic writes."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from oldfilm.errors import InputError, OutputError
from oldfilm.io import video as video_mod
from oldfilm.io.video import VideoWriter, open_video
from tests.clips import moving_clip, write_clip


def _copy(src: Path, dst: Path, **kw) -> Path:
    with open_video(src) as r, VideoWriter(dst, r.info, **kw) as w:
        for f, pts in r.frames_with_pts():
            w.write(f, pts)
    return dst


def test_reader_info_and_frames(tmp_path: Path) -> None:
    frames = moving_clip(t=10, h=48, w=64, channels=3)
    src = write_clip(tmp_path / "a.mp4", frames, fps=30)
    with open_video(src) as r:
        assert (r.info.width, r.info.height, r.info.fps, r.info.frame_count) == (64, 48, 30, 10)
        assert r.info.channels == 3 and r.info.bit_depth == 8 and not r.info.has_audio
        out = list(r)
    assert len(out) == 10 and out[0].shape == (48, 64, 3) and out[0].dtype == np.uint8
    assert np.abs(out[3].astype(int) - frames[3].astype(int)).mean() < 6  # H.264 at default quality


def test_roundtrip_keeps_count_fps_and_audio(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "a.mp4", moving_clip(t=20, channels=3), fps=24, audio=True)
    dst = _copy(src, tmp_path / "b.mp4", audio_from=src)
    with av.open(str(dst)) as c:
        assert c.streams.video[0].frames == 20 and c.streams.video[0].average_rate == 24
        assert len(c.streams.audio) == 1
        audio_packets = sum(1 for p in c.demux(c.streams.audio[0]) if p.size)
    with av.open(str(src)) as c:
        src_packets = sum(1 for p in c.demux(c.streams.audio[0]) if p.size)
    assert audio_packets >= src_packets - 1  # copied, not re-encoded (the priming packet may be dropped)


def test_variable_frame_rate_timestamps_kept(tmp_path: Path) -> None:
    pts = [0, 40, 80, 200, 240, 400, 440, 480]  # ms: irregular gaps
    src = write_clip(tmp_path / "vfr.mkv", moving_clip(t=len(pts), channels=3), pts=pts)
    dst = _copy(src, tmp_path / "out.mkv")
    with open_video(dst) as r:
        got = [p * r.info.time_base for _, p in r.frames_with_pts()]
    assert [round(float(g) * 1000) for g in got] == pts


@pytest.mark.parametrize("size", [(17, 33), (1, 1), (2, 3)])
def test_odd_and_tiny_sizes(tmp_path: Path, size: tuple[int, int]) -> None:
    h, w = size
    frames = np.random.default_rng(0).integers(0, 255, (4, h, w, 3), dtype=np.uint8)
    src = tmp_path / "src"
    src.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(src / f"{i}.png"), f)
    dst = _copy(src, tmp_path / "out.mp4")
    with open_video(dst) as r:
        assert (r.info.width, r.info.height) == (w, h) and len(list(r)) == 4


def test_16bit_gray_folder_roundtrips_losslessly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    src = tmp_path / "scan"
    src.mkdir()
    frames = rng.integers(0, 65535, (3, 20, 30), dtype=np.uint16)
    for i, f in enumerate(frames):  # natural sort: 2 before 10
        cv2.imwrite(str(src / f"frame{[2, 10, 100][i]}.tif"), f)
    with open_video(src) as r:
        assert r.info.bit_depth == 16 and r.info.channels == 1 and r.info.frame_count == 3
    mkv = _copy(src, tmp_path / "archive.mkv", codec="ffv1")
    with open_video(mkv) as r:
        back = np.stack(list(r))[..., 0]
    assert back.dtype == np.uint16 and np.array_equal(back, frames)
    folder = _copy(src, tmp_path / "png16")  # numbered on from the first file's number (2)
    assert np.array_equal(cv2.imread(str(folder / "000003.png"), cv2.IMREAD_UNCHANGED), frames[1])


def test_alpha_is_dropped(tmp_path: Path) -> None:
    src = tmp_path / "rgba"
    src.mkdir()
    img = np.zeros((8, 8, 4), np.uint8)
    img[..., 2], img[..., 3] = 200, 10  # red (BGRA), nearly transparent
    cv2.imwrite(str(src / "0.png"), img)
    with open_video(src) as r:
        f = next(iter(r))
    assert f.shape == (8, 8, 3) and f[0, 0].tolist() == [200, 0, 0]


def test_rotation_is_applied(tmp_path: Path) -> None:
    frames = moving_clip(t=3, h=32, w=48, channels=3)
    src = write_clip(tmp_path / "rot.mp4", frames, rotation=90)
    with open_video(src) as r:
        assert (r.info.width, r.info.height, r.info.rotation) == (32, 48, 90)
        assert next(iter(r)).shape == (48, 32, 3)


@pytest.mark.parametrize("name, content, message", [
    ("missing.mp4", None, "no such file"),
    ("notes.txt", b"hello", "not a video"),
    ("empty.mp4", b"", "not a video"),
    ("empty_dir", "dir", "holds no images"),
])
def test_bad_inputs_raise_input_error(tmp_path: Path, name: str, content, message: str) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        open_video(path)


def test_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=48000)
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        af.sample_rate = 48000
        for p in list(a.encode(af)) + list(a.encode()):
            c.mux(p)
    with pytest.raises(InputError, match="no video stream"):
        open_video(path)


def test_huge_frames_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_clip(tmp_path / "a.mp4", moving_clip(t=2, channels=3))
    monkeypatch.setattr(video_mod, "MAX_PIXELS", 1000)
    with pytest.raises(InputError, match="larger than the supported"):
        open_video(src)


def test_corrupt_stream_decodes_what_it_can(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src = write_clip(tmp_path / "a.mkv", moving_clip(t=60, channels=3), codec="mpeg4")
    data = bytearray(src.read_bytes())
    mid = len(data) // 2
    data[mid: mid + 4000] = bytes(4000)  # a hole in the middle of the stream
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(bytes(data))
    with open_video(broken) as r:
        n = len(list(r))
    assert 10 < n <= 60
    truncated = tmp_path / "trunc.mkv"
    truncated.write_bytes(bytes(data[: len(data) * 2 // 3]))
    with open_video(truncated) as r:
        assert 5 < len(list(r)) < 60


def test_writer_refuses_existing_output_and_input(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "a.mp4", moving_clip(t=3, channels=3))
    existing = tmp_path / "b.mp4"
    existing.write_bytes(b"keep me")
    with open_video(src) as r:
        with pytest.raises(OutputError, match="exists already"):
            VideoWriter(existing, r.info)
        with pytest.raises(OutputError, match="is the input"):
            VideoWriter(src, r.info, overwrite=True)
    assert existing.read_bytes() == b"keep me"
    _copy(src, existing, overwrite=True)
    assert existing.read_bytes() != b"keep me"


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "a.mp4", moving_clip(t=5, channels=3))
    dst = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), open_video(src) as r, VideoWriter(dst, r.info) as w:
        for i, f in enumerate(r):
            w.write(f)
            if i == 2:
                raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


def test_frames_are_cropped_exactly_to_the_picture(tmp_path: Path) -> None:
    """A stream whose picture starts a few pixels into the coded frame (the 1906 Calais film's Theora: 4 px
    into 218) decodes to the picture, not to FFmpeg's aligned approximation of it."""
    path = tmp_path / "crop.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 224, 64, "yuv420p"
        s.options = {"x264-params": "crop-rect=6,0,4,0"}  # 6 px off the left, 4 off the right
        for i in range(4):
            a = np.full((64, 224, 3), 40 * i, np.uint8)
            a[:, :6] = 255  # outside the picture
            for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with open_video(path) as r:
        frames = list(r)
    assert r.info.width == 214 and all(f.shape == (64, 214, 3) for f in frames)
    assert all(abs(int(f[:, :2].mean()) - 40 * i) < 8 for i, f in enumerate(frames))


def test_h264_444_keeps_chroma_resolution(tmp_path: Path) -> None:
    """Fine colour detail (a 1-px red/blue checker on a constant luma) survives 4:4:4 and not 4:2:0."""
    yy, xx = np.mgrid[:32, :48]
    checker = ((yy + xx) % 2).astype(bool)
    frame = np.where(checker[..., None], [180, 60, 120], [60, 110, 200]).astype(np.uint8)
    src = tmp_path / "still"
    src.mkdir()
    for i in range(3):
        cv2.imwrite(str(src / f"{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    errs = {}
    for codec in ("h264", "h264-444"):
        dst = _copy(src, tmp_path / f"{codec}.mp4", codec=codec)
        with av.open(str(dst)) as c:
            assert c.streams.video[0].codec_context.pix_fmt == ("yuv420p" if codec == "h264" else "yuv444p")
        with open_video(dst) as r:
            errs[codec] = np.abs(next(iter(r)).astype(int) - frame).mean()
    assert errs["h264-444"] < 6 < errs["h264"]
