"""Interlaced and telecined sources: detection (idet), inverse telecine (frame-exact), deinterlacing."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.filter import Graph

import oldfilm
from oldfilm.cli import main
from oldfilm.io.fields import _drain, detect_fields
from oldfilm.io.video import open_video
from tests.clips import moving_clip

_pull_all = _drain  # the module's own drain of a filter graph's sink


def telecine(frames: np.ndarray, first: str = "top") -> np.ndarray:
    """24p RGB frames → 3:2 pulldown at 30 (FFmpeg's ``telecine`` filter, 5 frames per 4)."""
    h, w = frames.shape[1:3]
    g = Graph()
    src = g.add("buffer", f"video_size={w}x{h}:pix_fmt=gbrp:time_base=1/24:frame_rate=24/1:pixel_aspect=1/1")
    tc = g.add("telecine", f"first_field={first}:pattern=23")
    sink = g.add("buffersink")
    src.link_to(tc)
    tc.link_to(sink)
    g.configure()
    out = []
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="gbrp")
        vf.pts = i
        src.push(vf)
        out += _pull_all(sink)
    src.push(None)
    out += _pull_all(sink)
    return np.stack([o.to_ndarray() for o in out])


def interlace(fields: np.ndarray, order: str) -> np.ndarray:
    """Frames at twice the rate → interlaced frames: the earlier field on the top lines for TFF."""
    out = []
    for a, b in zip(fields[0::2], fields[1::2], strict=True):
        f = a.copy()
        f[1::2] = b[1::2]
        if order == "bff":
            f = b.copy()
            f[1::2] = a[1::2]
        out.append(f)
    return np.stack(out)


def write_ffv1(path: Path, frames: np.ndarray, rate: Fraction, field_order: int = 0, timecode: str | None = None
               ) -> Path:
    with av.open(str(path), "w") as c:
        if timecode:
            c.metadata["timecode"] = timecode
        s = c.add_stream("ffv1", rate=rate)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        if field_order:
            s.codec_context.field_order = field_order
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def test_pulldown_is_detected_and_undone_frame_exactly(tmp_path: Path, capsys) -> None:
    film = moving_clip(t=24, h=96, w=128, channels=3, step=3)
    video = telecine(film)
    assert len(video) == 30
    src = write_ffv1(tmp_path / "telecined.mkv", video, Fraction(30000, 1001), timecode="01:00:00;25")
    assert main(["info", str(src)]) == 0
    assert "fields: telecined (TFF)" in capsys.readouterr().out
    dst = oldfilm.restore(src, tmp_path / "film.mkv", method="none", codec="ffv1")  # --fields auto
    with open_video(dst) as r:
        assert r.info.fps == Fraction(24000, 1001) and r.info.timecode == "01:00:00:20"  # the same moment
        back = np.stack(list(r))
    assert back.shape == film.shape and np.array_equal(back, film)


def test_pulldown_is_undone_exactly_on_16bit_gray(tmp_path: Path) -> None:
    film8 = moving_clip(t=12, h=96, w=128, channels=3, step=3)
    film = (film8[..., 1:2].astype(np.uint16) * 257) ^ np.uint16(0x5A)  # low bits an 8-bit copy cannot hold
    video = telecine(np.repeat((film >> 8).astype(np.uint8), 3, axis=3))[..., :1]
    # the same pulldown on the 16-bit frames: each field of the 8-bit result found in the film
    deep = np.empty(video.shape, np.uint16)
    for k, v in enumerate(video):
        for parity in (0, 1):
            j = next(j for j in range(len(film)) if np.array_equal((film[j] >> 8)[parity::2], v[parity::2]))
            deep[k][parity::2] = film[j][parity::2]
    src = tmp_path / "deep"
    src.mkdir()
    for k, f in enumerate(deep):
        cv2.imwrite(str(src / f"f{k:03d}.tif"), f[..., 0])
    dst = oldfilm.restore(src, tmp_path / "out", method="none", codec="tiff", fields="ivtc")
    back = np.stack([cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted(dst.iterdir())])
    assert back.dtype == np.uint16 and np.array_equal(back, film[..., 0])


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_interlaced_clip_is_detected_with_its_field_order(tmp_path: Path, order: str) -> None:
    video = interlace(moving_clip(t=40, h=96, w=128, channels=1, step=2), order)
    report = detect_fields(iter(video), Fraction(25))
    assert (report.kind, report.order) == ("interlaced", order)
    progressive = detect_fields(iter(moving_clip(t=20, h=96, w=128, channels=1, step=2)), Fraction(25))
    assert progressive.kind == "progressive"


@pytest.mark.parametrize("size", [(17, 33), (64, 80), (96, 128)])
def test_noise_is_not_taken_for_fields(size: tuple[int, int]) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (30, *size, 3), dtype=np.uint8)
    assert detect_fields(iter(noise)).kind == "progressive"


def test_deinterlace_keeps_count_and_removes_combing(tmp_path: Path, caplog) -> None:
    fields = moving_clip(t=24, h=96, w=128, channels=3, step=4)
    src = write_ffv1(tmp_path / "i.mkv", interlace(fields, "tff"), Fraction(25))
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        dst = oldfilm.restore(src, tmp_path / "p.mkv", method="none", codec="ffv1")
    assert "deinterlacing with bwdif" in caplog.text

    def combing(frames: np.ndarray) -> float:  # line-to-line difference beyond what the picture has
        f = frames.astype(float)
        return float(np.abs(f[:, 1:-1] - (f[:, :-2] + f[:, 2:]) / 2).mean())

    with open_video(dst) as r:
        out = np.stack(list(r))
    with open_video(src) as r:
        inp = np.stack(list(r))
    assert len(out) == len(inp) == 12
    assert combing(out) < 0.5 * combing(inp)
    assert combing(out) < 2 * combing(fields[0::2])


def test_fields_none_on_a_tagged_interlaced_source_warns(tmp_path: Path, caplog) -> None:
    src = write_ffv1(tmp_path / "i.mkv", interlace(moving_clip(t=8, h=32, w=48, channels=3), "tff"), Fraction(25),
                     field_order=2)
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        oldfilm.restore(src, tmp_path / "o.mkv", method="none", codec="ffv1", fields="none")
    assert "restoring its frames as they are" in caplog.text
