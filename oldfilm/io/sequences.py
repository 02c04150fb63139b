"""Scan sequences: DPX and EXR frames through FFmpeg's image codecs (PyAV), bit depths, frame numbers.

OpenCV in this build has no OpenEXR and no DPX, so both go through PyAV's ``dpx`` and ``exr`` codecs,
one file = one packet. Samples deeper than 8 bits become uint16 by bit replication (10-bit ``v`` →
``v << 6 | v >> 4``), which ``from16`` inverts exactly, so a 10- or 12-bit scan passes through bit-exact.
EXR (float) is mapped [0, 1] → 0..65535 (values outside are clipped, with a warning); written back as
32-bit float the 16-bit codes survive exactly, and a half-float source is written back as half: every half
value from 1/64 to 1 survives exactly (darker ones are finer than 16-bit steps and are rounded to them).
"""

from __future__ import annotations

import logging
import re
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from oldfilm.errors import InputError, OutputError

log = logging.getLogger("oldfilm")

CODEC_SUFFIXES = {".dpx": "dpx", ".exr": "exr"}
"""Image suffixes decoded by PyAV rather than OpenCV."""


def to16(arr: np.ndarray, bits: int) -> np.ndarray:
    """``bits``-deep samples (8..16) → uint16 full scale, by bit replication (exactly invertible)."""
    a = arr.astype(np.uint16)
    if bits >= 16:
        return a
    return (a << (16 - bits)) | (a >> (2 * bits - 16)) if bits > 8 else (a << 8) | a


def from16(arr: np.ndarray, bits: int) -> np.ndarray:
    """uint16 full scale → ``bits``-deep samples (rounded to nearest; inverts ``to16``)."""
    if bits >= 16:
        return arr.astype(np.uint16)
    top = (1 << bits) - 1
    out = (arr.astype(np.uint32) * top + 32767) // 65535
    return out.astype(np.uint8 if bits == 8 else np.uint16)


def frame_number(path: Path) -> int | None:
    """The frame number at the end of a file name (``scan.086400.dpx`` → 86400), or None."""
    m = re.search(r"(\d+)$", path.stem)
    return int(m.group(1)) if m else None


def decode_file(path: Path) -> tuple[av.VideoFrame, Fraction | None]:
    """One DPX/EXR file → its decoded frame (native pixel format and metadata) and the frame rate its
    header gives (DPX film/TV header), if any."""
    ctx = av.CodecContext.create(CODEC_SUFFIXES[path.suffix.lower()], "r")
    try:
        frames = ctx.decode(av.Packet(path.read_bytes()))
    except (av.error.FFmpegError, OSError) as e:
        raise InputError(f"{path}: not a {path.suffix[1:].upper()} image FFmpeg can read ({e})") from None
    if not frames:
        raise InputError(f"{path}: no picture in this file")
    return frames[0], (Fraction(ctx.framerate) if ctx.framerate else None)


def sample_bits(frame: av.VideoFrame) -> int:
    """Bits per sample of a decoded frame's pixel format (16 for half float, 32 for float)."""
    if "f32" in frame.format.name:
        return 32
    if "f16" in frame.format.name:
        return 16
    try:
        return max(c.bits for c in frame.format.components)
    except ValueError:
        return 8


def frame_to_array(frame: av.VideoFrame, path: Path | str = "") -> np.ndarray:
    """A decoded image (any depth, float too) → (H, W, C) RGB/gray, uint8 for 8-bit, else uint16."""
    name = frame.format.name
    gray = name.startswith(("gray", "ya", "mono"))
    if "f32" in name or "f16" in name:
        arr = _float_planes(frame, gray)
        if float(arr.min()) < 0.0 or float(arr.max()) > 1.0:
            log.warning("%s: float samples outside [0, 1] were clipped to 16-bit range", path)
        arr = np.clip(np.nan_to_num(arr) * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
        return arr[..., None] if arr.ndim == 2 else arr
    bits = sample_bits(frame)
    if bits <= 8:
        arr = frame.to_ndarray(format="gray" if gray else "rgb24")
    elif bits < 16 and name in (f"gbrp{bits}le", f"gray{bits}le"):
        arr = to16(frame.to_ndarray(), bits)  # the native samples, widened exactly
    else:
        arr = frame.to_ndarray(format="gray16le" if gray else "rgb48le")
    return arr[..., None] if arr.ndim == 2 else arr


def _float_planes(frame: av.VideoFrame, gray: bool) -> np.ndarray:
    """A float frame's samples as float32 (H, W[, 3]) RGB, read plane by plane: PyAV has no numpy
    conversion for half floats, and swscale's half → float conversion is not exact."""
    name = frame.format.name
    if not (name.startswith(("gbrp", "gbrap", "gray")) and name.endswith(("f16le", "f32le"))):
        return frame.reformat(format="grayf32le" if gray else "gbrpf32le").to_ndarray()
    dtype = np.float16 if "f16" in name else np.float32
    planes = [np.frombuffer(bytes(p), dtype).reshape(p.height, -1)[:, :p.width] for p in frame.planes]
    if gray:
        return planes[0].astype(np.float32)
    g, b, r = planes[:3]  # planar RGB is stored G, B, R (then alpha)
    return np.stack([r, g, b], -1).astype(np.float32)


def read_coded_image(path: Path) -> tuple[np.ndarray, int, dict[str, str], Fraction | None]:
    """A DPX/EXR file → (frame array, source bits, frame metadata, frame rate from the header or None)."""
    frame, rate = decode_file(path)
    return frame_to_array(frame, path), sample_bits(frame), dict(frame.metadata), rate


def encode_image(frame: np.ndarray, codec: str, bits: int, timecode: str | None = None,
                 fps: Fraction | None = None, dpx_transfer: tuple[int, int] | None = None) -> bytes:
    """(H, W, C) uint8/uint16 → the bytes of one DPX (``bits`` 8/10/12/16) or EXR (``bits`` 16: half, else
    32-bit float) file;
    DPX gets ``timecode``, ``fps`` and the transfer/colorimetric codes ``dpx_transfer`` in its header."""
    gray = frame.shape[2] == 1
    a16 = frame.astype(np.uint16) * 257 if frame.dtype == np.uint8 else frame
    if codec == "exr":
        fmt = "grayf32le" if gray else "gbrpf32le"
        data = (a16.astype(np.float32) / np.float32(65535.0))
        if bits == 16:  # round to half here (to nearest): the encoder's own float → half conversion truncates
            data = data.astype(np.float16).astype(np.float32)
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(data[..., 0] if gray else data), format=fmt)
        options = {"compression": "zip1", "format": "half" if bits == 16 else "float"}
    elif codec == "dpx":
        if gray:
            bits = 8 if bits <= 8 else 16  # FFmpeg's DPX encoder writes gray only at 8 or 16 bits
        fmt = {8: "gray" if gray else "rgb24", 10: "gbrp10le", 12: "gbrp12le",
               16: "gray16le" if gray else "rgb48le"}[bits]
        data = from16(a16, bits)
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(data[..., 0] if gray else data), format=fmt)
        options = {}
    else:
        raise OutputError(f"no image codec {codec!r}")
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = frame.shape[1], frame.shape[0], fmt
    ctx.time_base = Fraction(1, 25)
    ctx.options = options
    packets = ctx.encode(vf) + ctx.encode(None)
    out = b"".join(bytes(p) for p in packets)
    if codec == "dpx":
        out = dpx_header_fields(out, timecode, fps, dpx_transfer)
    return out


def dpx_header_fields(data: bytes, timecode: str | None, fps: Fraction | None,
                      transfer: tuple[int, int] | None = None) -> bytes:
    """Insert DPX's film and television headers (SMPTE 268M, 384 bytes) with frame rate and timecode, and
    set the image element's transfer characteristic and colorimetric codes.

    Written by hand because FFmpeg's DPX encoder writes the 1664-byte generic header only (no timecode,
    no frame rate) and always marks the pixels "unspecified video"; its decoder reads timecode and rate back
    (``frame.metadata['timecode']``). Fields left undefined are all-ones, as the standard says."""
    if data[:4] not in (b"SDPX", b"XPDS") or len(data) < 1664:
        return data
    end = ">" if data[:4] == b"SDPX" else "<"
    offset = struct.unpack_from(end + "I", data, 4)[0]
    if offset != 1664:
        return data  # already has an industry header
    head = bytearray(data[:1664])
    if transfer is not None:
        head[801], head[802] = transfer  # image element 1: transfer characteristic, colorimetric
    ind = bytearray(b"\xff" * 384)
    if fps:
        struct.pack_into(end + "f", ind, 1724 - 1664, float(fps))  # film header: frame rate
        struct.pack_into(end + "f", ind, 1940 - 1664, float(fps))  # television header: frame rate
    if timecode:
        digits = re.sub(r"\D", "", timecode)[-8:].rjust(8, "0")
        struct.pack_into(end + "I", ind, 1920 - 1664, int(digits, 16))  # BCD hh mm ss ff
        struct.pack_into(end + "I", ind, 1924 - 1664, 0)  # user bits
    image = data[1664:]
    struct.pack_into(end + "I", head, 4, 2048)  # offset to the image data
    struct.pack_into(end + "I", head, 16, 2048 + len(image))  # file size
    struct.pack_into(end + "I", head, 28, 384)  # industry header size
    struct.pack_into(end + "I", head, 808, 2048)  # image element 1: offset to its data
    return bytes(head + ind + image)


def output_bits(codec: str, info: Any, frame: np.ndarray) -> int:
    """Sample depth of an image output: DPX keeps a 10/12-bit source's depth (else 16 or 8 as the frames);
    EXR is half for a half-float EXR source, else 32-bit float."""
    if codec == "exr":
        return 16 if info.source_bits == 16 and "exr" in (info.codec, info.pix_fmt.split("-")[0]) else 32
    if info.bit_depth == 16 and info.source_bits in (10, 12):
        return info.source_bits
    return 16 if frame.dtype == np.uint16 else 8


def dpx_transfer(path: Path) -> tuple[int, int] | None:
    """A DPX file's transfer characteristic and colorimetric codes (1 printing density, 3 logarithmic, 2
    linear, ...). Read from the header by hand: FFmpeg maps only linear and BT.709 to its colour tags, so a
    log scan's "printing density" would be lost."""
    head = path.read_bytes()[:804]
    if len(head) < 804 or head[:4] not in (b"SDPX", b"XPDS"):
        return None
    return head[801], head[802]


def probe_sequence_extras(first: Path) -> dict[str, Any]:
    """Extras of a sequence's first file for ``VideoInfo``: first frame number, timecode, fps, source bits,
    DPX transfer codes."""
    extras: dict[str, Any] = {"first_frame": frame_number(first) or 0}
    if first.suffix.lower() == ".dpx":
        extras["dpx_transfer"] = dpx_transfer(first)
    if first.suffix.lower() in CODEC_SUFFIXES:
        _, bits, meta, rate = read_coded_image(first)
        extras["source_bits"] = bits
        from oldfilm.io.meta import timecode_from

        extras["timecode"] = timecode_from(meta)
        extras["fps"] = rate
    return extras
