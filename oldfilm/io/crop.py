"""The active picture area: find black (or plain, unchanging) borders — letterbox and pillarbox bars, a
scanner's overscan, plain frame lines — and restore only what lies inside, the borders left as they were.

Written here rather than taken from FFmpeg's ``cropdetect`` because this build of FFmpeg has no
``cropdetect`` filter, and because a border must be judged over many frames (a dark scene is not a bar).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from oldfilm.errors import UsageError
from oldfilm.io.video import VideoInfo, open_video

SAMPLE_FRAMES = 96
"""Frames (from the start of the range) looked at by ``detect_crop``; every 4th is used."""
BLACK = 0.08
"""A border line's brightest mean, as a fraction of full scale (video black is 16/255 = 0.063)."""
PLAIN = 0.012
"""A plain border line's largest spread (standard deviation along it and over time), fraction of full scale."""


@dataclass(frozen=True)
class Box:
    """A rectangle in frame pixels: ``w`` × ``h`` at (``x``, ``y``) from the top left."""

    x: int
    y: int
    w: int
    h: int

    def __str__(self) -> str:
        return f"{self.w}x{self.h}+{self.x}+{self.y}"


def parse_box(text: str, width: int, height: int) -> Box:
    """``WxH+X+Y`` → ``Box``, checked against the frame size."""
    m = re.fullmatch(r"\s*(\d+)x(\d+)\+(\d+)\+(\d+)\s*", text)
    if m is None:
        raise UsageError(f"--crop {text!r}: expected auto or WxH+X+Y, e.g. 1440x1080+240+0")
    w, h, x, y = (int(v) for v in m.groups())
    if w < 1 or h < 1 or x + w > width or y + h > height:
        raise UsageError(f"--crop {text}: does not fit in the {width}x{height} frame")
    return Box(x, y, w, h)


def _blank_lines(luma: np.ndarray, axis: int) -> np.ndarray:
    """Per row (axis=2) or column (axis=1) of (T, H, W) luma in [0, 1]: dark, or plain and unchanging."""
    means = luma.mean(axis=axis)  # (T, lines)
    spread = np.sqrt(luma.var(axis=axis).max(axis=0) + means.var(axis=0))
    return (means.max(axis=0) <= BLACK) | (spread <= PLAIN)


def _inner_span(blank: np.ndarray) -> tuple[int, int]:
    """First and one-past-last line that is not blank, counted only from the edges inwards."""
    keep = np.flatnonzero(~blank)
    if keep.size == 0:
        return 0, blank.size
    return int(keep[0]), int(keep[-1]) + 1


def detect_crop(frames: Iterable[np.ndarray]) -> Box | None:
    """The picture area inside borders that are blank in every frame given; None when there are none."""
    lumas = []
    h = w = 0
    for f in frames:
        h, w = f.shape[:2]
        scale = 65535.0 if f.dtype == np.uint16 else 255.0
        lumas.append(f.astype(np.float32).mean(axis=2) / scale)
    if not lumas:
        return None
    luma = np.stack(lumas)
    y0, y1 = _inner_span(_blank_lines(luma, axis=2))
    x0, x1 = _inner_span(_blank_lines(luma, axis=1))
    box = Box(x0, y0, x1 - x0, y1 - y0)
    if (box.w, box.h) == (w, h) or box.w < w // 4 or box.h < h // 4:
        return None  # no border, or "borders" that leave too little to be a picture: leave it all
    return box


def resolve_crop(crop: str | None, info: VideoInfo, start: int = 0) -> Box | None:
    """``crop``: None (whole frame), "auto" (``detect_crop`` on the first frames) or "WxH+X+Y"."""
    if crop is None or crop == "none":
        return None
    if crop != "auto":
        return parse_box(crop, info.width, info.height)
    with open_video(info.path) as r:
        sample = (f for i, (f, _) in enumerate(r.frames_with_pts(start, start + SAMPLE_FRAMES)) if i % 4 == 0)
        return detect_crop(sample)


def restore_within(frames: Iterable[np.ndarray], box: Box | None,
                   process: Callable[[Iterator[np.ndarray]], Iterable[np.ndarray]]) -> Iterator[np.ndarray]:
    """Run ``process`` (a stream → stream of the same length, e.g. a restorer) on ``box`` of each frame and
    put its output back into the frame; pixels outside ``box`` are the input's, untouched."""
    if box is None:
        yield from process(iter(frames))
        return
    held: deque[np.ndarray] = deque()

    def inside() -> Iterator[np.ndarray]:
        for f in frames:
            held.append(f)
            yield np.ascontiguousarray(f[box.y:box.y + box.h, box.x:box.x + box.w])

    for out in process(inside()):
        full = held.popleft().copy()
        if out.shape[2] != full.shape[2]:
            full = np.repeat(full, out.shape[2], axis=2) if full.shape[2] == 1 else full[..., :out.shape[2]]
        full[box.y:box.y + box.h, box.x:box.x + box.w] = out.astype(full.dtype, copy=False)
        yield full
