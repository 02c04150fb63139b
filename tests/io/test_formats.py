"""Archive formats: DPX/EXR sequences (depth, frame numbers, timecode), pro codecs, metadata carried."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import oldfilm
from oldfilm.errors import OutputError
from oldfilm.io import sequences
from oldfilm.io.meta import timecode_add, timecode_rescale
from oldfilm.io.video import open_video
from tests.clips import moving_clip


def _scan(folder: Path, codec: str, bits: int, t: int = 4, first: int = 86400, tc: str | None = "01:00:00:00",
          h: int = 48, w: int = 64, transfer: tuple[int, int] | None = None, file_bits: int | None = None,
          low: int = 0) -> np.ndarray:
    """A gradient-plus-noise RGB scan sequence of ``bits``-deep samples from ``low`` up, stored at ``file_bits``
    (default ``bits``; EXR: 16 half, 32 float); returns the samples (T, H, W, 3)."""
    rng = np.random.default_rng(bits)
    folder.mkdir()
    ramp = np.linspace(low, (1 << bits) - 1, h * w).reshape(h, w)
    top = (1 << bits) - 1
    frames = []
    for i in range(t):
        f = np.stack([ramp, ramp[::-1], ramp[:, ::-1]], -1) + rng.normal(0, top / 100, (h, w, 3))
        f = np.clip(f, low, top).astype(np.uint16)
        frames.append(f)
        data = sequences.encode_image(sequences.to16(f, bits), codec, file_bits or bits,
                                      timecode_add(tc, i, Fraction(24)), Fraction(24), transfer)
        (folder / f"reel1.{first + i:07d}.{codec}").write_bytes(data)
    return np.stack(frames)


def _decoded(path: Path) -> tuple[np.ndarray, av.VideoFrame]:
    """The stored samples (half floats read plane by plane: PyAV has no numpy conversion for them)."""
    frame, _ = sequences.decode_file(path)
    if "f16" not in frame.format.name:
        return frame.to_ndarray(), frame
    planes = [np.frombuffer(bytes(p), np.float16).reshape(p.height, -1)[:, :p.width] for p in frame.planes]
    return np.stack(planes, -1), frame


@pytest.mark.parametrize("bits", [10, 12])
def test_depth_widening_is_exactly_inverted(bits: int) -> None:
    codes = np.arange(1 << bits, dtype=np.uint16)
    wide = sequences.to16(codes, bits)
    assert wide[-1] == 65535 and np.all(np.diff(wide.astype(int)) > 0)
    assert np.array_equal(sequences.from16(wide, bits), codes)


def test_dpx_10bit_sequence_passes_through_bit_exact_with_numbers_and_timecode(tmp_path: Path) -> None:
    src = tmp_path / "scan"
    frames = _scan(src, "dpx", 10, transfer=(1, 1))  # a log scan: printing density
    with open_video(src) as r:
        i = r.info
        assert (i.source_bits, i.bit_depth, i.first_frame, i.timecode, i.fps) == (10, 16, 86400, "01:00:00:00", 24)
    out = oldfilm.restore(src, tmp_path / "out", method="none", codec="dpx", start=1)
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["086401.dpx", "086402.dpx", "086403.dpx"]
    for k, f in enumerate(files):
        arr, frame = _decoded(f)
        assert frame.format.name == "gbrp10le" and np.array_equal(arr, frames[k + 1])
        assert frame.metadata["timecode"] == f"01:00:00:{k + 1:02d}"
        assert f.read_bytes()[801:803] == b"\x01\x01"
    mkv = oldfilm.restore(src, tmp_path / "archive.mkv", method="none", codec="ffv1")
    with av.open(str(mkv)) as c:
        s = c.streams.video[0]
        assert s.codec_context.format.name == "gbrp10le"
        assert np.array_equal(np.stack([f.to_ndarray() for f in c.decode(s)]), frames)
    assert oldfilm.probe(mkv).timecode == "01:00:00:00"


@pytest.mark.parametrize("file_bits, fmt, low", [(32, "gbrpf32le", 0), (16, "gbrpf16le", 1024)])
def test_exr_16bit_sequence_passes_through_bit_exact(tmp_path: Path, file_bits: int, fmt: str, low: int) -> None:
    """16-bit codes in float EXR, over the whole range; half-float EXR from 1/64 of full scale up (below,
    halves are finer than 16-bit steps)."""
    src = tmp_path / "exr"
    _scan(src, "exr", 16, first=1001, tc=None, file_bits=file_bits, low=low)
    out = oldfilm.restore(src, tmp_path / "out", method="none", codec="exr")
    names = sorted(p.name for p in out.iterdir())
    assert names[0] == "001001.exr" and len(names) == 4
    for a, b in zip(sorted(src.iterdir()), sorted(out.iterdir()), strict=True):
        (fa, frame_a), (fb, frame_b) = _decoded(a), _decoded(b)
        assert frame_a.format.name == frame_b.format.name == fmt and np.array_equal(fa, fb)


@pytest.mark.parametrize("codec, bits, fmt", [("dpx", 10, "gbrp10le"), ("exr", 16, "gbrpf32le")])
def test_classical_restore_keeps_depth(tmp_path: Path, codec: str, bits: int, fmt: str) -> None:
    src = tmp_path / "scan"
    frames = _scan(src, codec, bits, t=5, file_bits=32 if codec == "exr" else bits)
    out = oldfilm.restore(src, tmp_path / "out", method="classical", codec=codec)
    arr, frame = _decoded(sorted(out.iterdir())[2])
    assert frame.format.name == fmt
    codes = arr if codec == "dpx" else np.round(arr * 65535).astype(np.int64)
    # an 8-bit detour would leave at most 256 levels per channel (and 16-bit codes all multiples of 257)
    assert len(np.unique(codes[..., 1])) > 600
    if codec == "exr":
        assert np.any(codes % 257)
    assert np.abs(codes.astype(float) - frames[2]).mean() < 0.02 * ((1 << bits) - 1)


def _tagged_source(path: Path, rotation: int = 0) -> np.ndarray:
    """An FFV1 .mkv with BT.709 colour tags, a timecode and a display rotation."""
    frames = moving_clip(t=6, h=48, w=64, channels=3)
    with av.open(str(path), "w") as c:
        c.metadata["timecode"] = "10:00:00:00"
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv444p"
        cc = s.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1
        if rotation:
            s.set_display_rotation(rotation)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv444p", dst_colorspace="ITU709")
            vf.color_primaries, vf.color_trc, vf.colorspace, vf.color_range = 1, 1, 1, 1
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return frames


@pytest.mark.parametrize("codec, suffix, pix", [
    ("prores", ".mov", "yuv422p10le"), ("prores4444", ".mov", "yuv444p12le"),  # 4444 decodes as 12-bit
    ("ffv1", ".mkv", "bgr0"), ("h264", ".mp4", "yuv420p")])
def test_timecode_colour_and_rotation_survive_a_restore(tmp_path: Path, codec: str, suffix: str, pix: str) -> None:
    src = tmp_path / "src.mkv"
    _tagged_source(src, rotation=90)
    dst = oldfilm.restore(src, tmp_path / f"out{suffix}", method="classical", codec=codec, start=2)
    with av.open(str(dst)) as c:
        s = c.streams.video[0]
        cc = s.codec_context
        tags = {**dict(c.metadata), **dict(s.metadata)}
        assert (tags.get("timecode") or tags.get("TIMECODE")) == "10:00:00:02"
        assert cc.format.name == pix and (cc.color_primaries, cc.color_trc) == (1, 1)
        if pix != "bgr0":  # RGB storage has no matrix and is full range by nature
            assert (cc.colorspace, cc.color_range) == (1, 1)
        frame = next(c.decode(s))
        assert round(frame.rotation) == 90 and (frame.width, frame.height) == (64, 48)
    with open_video(dst) as r:
        assert (r.info.width, r.info.height, r.info.rotation) == (48, 64, 90)
        assert [f.shape for f in r] == [(64, 48, 3)] * 4


def test_dnxhr_is_10bit_hqx_and_refuses_small_frames(tmp_path: Path) -> None:
    src = tmp_path / "small.mkv"
    _tagged_source(src)
    with pytest.raises(OutputError, match="at least 256x120"):
        oldfilm.restore(src, tmp_path / "x.mov", method="none", codec="dnxhr")
    assert not (tmp_path / "x.mov").exists()
    scan = tmp_path / "scan"
    _scan(scan, "dpx", 10, t=2, h=120, w=256)
    dst = oldfilm.restore(scan, tmp_path / "d.mov", method="none", codec="dnxhr")
    with av.open(str(dst)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.name, cc.format.name, cc.profile) == ("dnxhd", "yuv422p10le", "DNXHR HQX")
    assert oldfilm.probe(dst).timecode == "01:00:00:00"


@pytest.mark.parametrize("tc, n, fps, want", [
    ("01:00:00:00", 25, 25, "01:00:01:00"), ("00:59:59:23", 1, 24, "01:00:00:00"),
    ("00:00:59;29", 1, Fraction(30000, 1001), "00:01:00;02"), ("00:09:59;29", 1, Fraction(30000, 1001), "00:10:00;00"),
])
def test_timecode_arithmetic(tc: str, n: int, fps: Fraction, want: str) -> None:
    assert timecode_add(tc, n, Fraction(fps)) == want


def test_timecode_rescale_keeps_the_moment() -> None:
    assert timecode_rescale("01:00:00;25", Fraction(30000, 1001), Fraction(24000, 1001)) == "01:00:00:20"
    assert timecode_rescale("00:10:00:23", Fraction(24), Fraction(18)) == "00:10:00:17"
    assert timecode_rescale("00:10:00:23", Fraction(24), Fraction(24)) == "00:10:00:23"
