"""``VideoInfo``: what a probe knows of a video or frame folder — the record every reader, writer and
stream stage shares (its own module, so that ``io.images`` and ``io.video`` need not import each other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from oldfilm.io.meta import ColourTags

MAX_PIXELS = 8192 * 8192  # refuse frames above 67 Mpx (8K DCI is 35 Mpx) rather than exhaust memory


@dataclass(frozen=True)
class VideoInfo:
    """What a probe knows of a video or frame folder.

    Attributes:
        path: the source.
        width, height: frame size as displayed (after rotation).
        fps: average frame rate (a Fraction); 25 for image folders unless told otherwise.
        time_base: unit of the frames' timestamps.
        frame_count: number of frames when the container says so (or counted for folders), else None.
        duration: seconds, when known.
        rotation: display rotation in degrees (counter-clockwise) applied to decoded frames.
        pix_fmt: FFmpeg pixel format of the source ("gray16le", "yuv420p", "png-rgb48", ...).
        channels: 1 for gray sources, 3 otherwise.
        bit_depth: 8 or 16 — the dtype frames are yielded in.
        codec: the source video codec name ("image" for folders).
        has_audio: whether an audio stream exists (it is copied to the output).
        is_folder: a folder of images.
        source_bits: bits per sample of the source (8, 10, 12, 16; EXR: 16 half, 32 float); outputs keep
            it where their format can.
        first_frame: number of the first frame (an image sequence's first file number, else 0).
        timecode: SMPTE timecode of the first frame (container tag or DPX header), if any.
        colour: colour primaries, transfer, matrix and range as tagged.
        field_order: what the container says: "progressive", "tt"/"bb" (interlaced), "tb"/"bt", "unknown".
        dpx_transfer: a DPX source's transfer characteristic and colorimetric codes (SMPTE 268M: 1 printing
            density, 3 logarithmic, ...), written back to DPX outputs.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frame_count: int | None
    duration: float | None
    rotation: int
    pix_fmt: str
    channels: int
    bit_depth: int
    codec: str
    has_audio: bool
    is_folder: bool = False
    source_bits: int = 8
    first_frame: int = 0
    timecode: str | None = None
    colour: ColourTags = field(default_factory=ColourTags)
    field_order: str = "unknown"
    dpx_transfer: tuple[int, int] | None = None


def info_for(frame: np.ndarray, fps: Fraction | int = 25, path: str | Path = "<memory>") -> VideoInfo:
    """A ``VideoInfo`` for frames made in memory (to write them with ``VideoWriter``): size, channels and
    bit depth from ``frame``, constant ``fps``, one tick per frame."""
    fps = Fraction(fps)
    h, w = frame.shape[:2]
    c = 1 if frame.ndim == 2 else frame.shape[2]
    return VideoInfo(path=Path(path), width=w, height=h, fps=fps, time_base=1 / fps, frame_count=None,
                     duration=None, rotation=0, pix_fmt="memory", channels=c,
                     bit_depth=16 if frame.dtype == np.uint16 else 8, codec="none", has_audio=False)
