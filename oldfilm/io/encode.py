"""Video codecs for file outputs: stream set-up (pixel format, profile, colour tags, timecode, rotation)
and numpy frame → ``av.VideoFrame`` conversion, per codec.

| codec        | encoder    | pixels                                  | notes                          |
|--------------|------------|-----------------------------------------|--------------------------------|
| h264         | libx264    | yuv420p (yuv444p for odd sizes), 8-bit  | CRF                            |
| h264-444     | libx264    | yuv444p, 8-bit                          | CRF; full chroma (colour)      |
| ffv1         | ffv1       | RGB/gray at the source's depth (≤ 16)   | lossless, archival             |
| prores       | prores_ks  | yuv422p10le, profile 422 HQ             | .mov                           |
| prores4444   | prores_ks  | yuv444p10le, profile 4444               | .mov                           |
| dnxhr        | dnxhd      | yuv422p10le, profile dnxhr_hqx          | .mov/.mxf, ≥ 256×120           |

YUV encodings use the source's matrix (BT.601 when it has none, as FFmpeg assumes on reading) and are
written limited-range; primaries and transfer are carried unchanged.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from oldfilm.errors import OutputError
from oldfilm.io.info import VideoInfo
from oldfilm.io.meta import ColourTags
from oldfilm.io.sequences import from16

FILE_CODECS = ("h264", "h264-444", "ffv1", "prores", "prores4444", "dnxhr")
FOLDER_CODECS = ("png", "tiff", "dpx", "exr")
_YUV10 = {"prores": ("prores_ks", "yuv422p10le", {"profile": "3", "vendor": "apl0"}),
          "prores4444": ("prores_ks", "yuv444p10le", {"profile": "4", "vendor": "apl0"}),
          "dnxhr": ("dnxhd", "yuv422p10le", {"profile": "dnxhr_hqx"})}


def ffv1_format(info: VideoInfo) -> str:
    """FFV1's pixel format for a source: RGB planes or gray at the source's sample depth."""
    bits = min(16, max(8, info.source_bits)) if info.bit_depth == 16 else 8
    if info.channels == 1:
        return "gray" if bits == 8 else ("gray16le" if bits in (11, 13, 15, 16) else f"gray{bits}le")
    if bits == 8:
        return "bgr0"
    return "gbrp16le" if bits in (11, 13, 15) else f"gbrp{bits}le"


def add_video_stream(container: Any, codec: str, info: VideoInfo, crf: int) -> Any:
    """Add and configure the video stream of ``codec`` for frames described by ``info``."""
    rate = info.fps.limit_denominator(1001 * 1000) if info.fps else Fraction(25)
    w, h = (info.height, info.width) if info.rotation % 180 else (info.width, info.height)
    if codec == "dnxhr" and (w < 256 or h < 120):
        raise OutputError(f"DNxHR needs frames of at least 256x120; these are {w}x{h} (use prores or ffv1)")
    if codec in _YUV10:
        name, pix, options = _YUV10[codec]
    elif codec.startswith("h264"):
        full = codec == "h264-444" or w % 2 or h % 2
        name, pix, options = "libx264", ("yuv444p" if full else "yuv420p"), {"crf": str(crf), "preset": "medium"}
    else:
        name, pix, options = "ffv1", ffv1_format(info), {"level": "3", "g": "1", "slicecrc": "1"}
    s = container.add_stream(name, rate=rate)
    s.width, s.height = w, h
    s.time_base = info.time_base
    s.codec_context.time_base = info.time_base
    s.pix_fmt = pix
    s.options = options
    s.thread_type = "AUTO"
    info.colour.apply(s.codec_context, rgb=_is_rgb(pix))
    if info.rotation:
        s.set_display_rotation(info.rotation)
    if info.timecode:
        container.metadata["timecode"] = info.timecode
    return s


def _is_rgb(pix: str) -> bool:
    return pix.startswith(("gbr", "bgr", "rgb", "gray"))


def to_video_frame(frame: np.ndarray, stream: Any, info: VideoInfo) -> av.VideoFrame:
    """(H, W, C) uint8/uint16 upright frame → an ``av.VideoFrame`` in ``stream``'s pixel format, stored
    orientation (rotation undone: the display matrix turns it back) and colour tags."""
    if info.rotation:
        frame = np.ascontiguousarray(np.rot90(frame, k=-round(info.rotation / 90) % 4))
    pix = stream.pix_fmt if isinstance(stream.pix_fmt, str) else stream.codec_context.format.name
    tags: ColourTags = info.colour
    if _is_rgb(pix):
        vf = _planar_rgb(frame, pix)
        tags.apply(vf, rgb=True)
        return vf
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    deep = pix.endswith(("10le", "12le", "16le"))
    if deep:
        rgb = frame if frame.dtype == np.uint16 else frame.astype(np.uint16) * 257
        src = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb48le")
    else:
        rgb = (frame >> 8).astype(np.uint8) if frame.dtype == np.uint16 else frame
        src = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    vf = src.reformat(format=pix, dst_colorspace=tags.yuv_matrix())
    tags.apply(vf, rgb=False)
    return vf


def _planar_rgb(frame: np.ndarray, pix: str) -> av.VideoFrame:
    """Lossless RGB/gray frame for FFV1 (``pix`` from ``ffv1_format``)."""
    gray = frame.shape[2] == 1
    if pix in ("gray", "bgr0"):
        a = (frame >> 8).astype(np.uint8) if frame.dtype == np.uint16 else frame
        if gray:
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(a[..., 0]), format="gray")
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(a), format="rgb24")
    a16 = frame if frame.dtype == np.uint16 else frame.astype(np.uint16) * 257
    bits = int("".join(ch for ch in pix if ch.isdigit()))
    data = from16(a16, bits)
    if gray:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(data[..., 0]), format=pix)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(data), format=pix)
