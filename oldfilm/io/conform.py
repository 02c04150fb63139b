"""From what a source holds to the film's own frames: a frame range, fields (inverse telecine or
deinterlacing) and speed, applied to the reader's ``(frame, pts)`` stream before restoration, with the
``VideoInfo`` the output is written with (fps, time base, first frame number and timecode moved along).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from oldfilm.io.meta import timecode_add
from oldfilm.io.video import VideoInfo, VideoReader

log = logging.getLogger("oldfilm")

Pairs = Iterator[tuple[np.ndarray, int | None]]
"""Frames with their timestamps in the info's time base (None: evenly spaced at its fps)."""


@dataclass(frozen=True)
class Conformed:
    """The stream to restore and how to write it.

    Attributes:
        pairs: ``(frame, pts)`` in ``info.time_base`` (pts None: evenly spaced).
        info: the output's ``VideoInfo``.
        keep_audio: whether the source's audio still matches the frames (not after a speed change).
    """

    pairs: Pairs
    info: VideoInfo
    keep_audio: bool = True


def frame_rate(fps: Fraction | float) -> Fraction:
    """A rate as given (18, 24, 25) or an NTSC rate typed in decimals (23.976 → 24000/1001)."""
    if isinstance(fps, Fraction) or abs(fps - round(fps)) < 1e-6:
        return Fraction(fps).limit_denominator(1001 * 1000)
    ntsc = round(fps * 1.001)
    return Fraction(ntsc * 1000, 1001) if abs(fps - ntsc / 1.001) < 0.005 else Fraction(fps).limit_denominator(1000)


def conform(reader: VideoReader, start: int = 0, end: int | None = None, *, fields: str = "auto",
            fps: Fraction | float | None = None) -> Conformed:
    """The reader's frames ``[start, end)`` as the film's frames: see ``oldfilm.io.fields`` for ``fields``
    ("auto", "ivtc", "deinterlace", "none") and ``oldfilm.io.speed`` for ``fps`` (None: keep)."""
    info = reader.info
    info = replace(info, first_frame=info.first_frame + start,
                   timecode=timecode_add(info.timecode, start, info.fps))
    pairs: Pairs = reader.frames_with_pts(start, end)
    from oldfilm.io import fields as fields_mod

    pairs, info = fields_mod.apply_fields(pairs, info, fields, start=start)
    keep_audio = True
    if fps is not None:
        from oldfilm.io import speed

        pairs, info, keep_audio = speed.retime(pairs, info, frame_rate(fps))
    return Conformed(pairs, info, keep_audio)
