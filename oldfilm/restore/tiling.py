"""Padding and tiling: any frame size in, the network's multiples inside, bounded memory for large frames.

Frames are padded (reflect, or edge when too small to reflect) up to the network's multiple and cropped
back afterwards. Frames larger than a tile are cut into overlapping tiles whose outputs are blended with
linear ramps over the overlaps (weights normalised, so any overlap blends seamlessly).

Convention: boxes are ``(y0, x0, y1, x1)`` in pixels of the padded frame, end-exclusive.
"""

from __future__ import annotations

import math

import numpy as np

Box = tuple[int, int, int, int]


def padded_size(h: int, w: int, multiple: int) -> tuple[int, int]:
    """(h, w) rounded up to multiples of ``multiple``."""
    return -(-h // multiple) * multiple, -(-w // multiple) * multiple


def pad_frame(img: np.ndarray, multiple: int) -> np.ndarray:
    """Pad an (H, W[, C]) array at the bottom and right to multiples of ``multiple`` (reflect; edge when a
    side is too short to reflect). Crop back with ``img[:H, :W]``."""
    h, w = img.shape[:2]
    hp, wp = padded_size(h, w, multiple)
    if (hp, wp) == (h, w):
        return img
    pad = [(0, hp - h), (0, wp - w)] + [(0, 0)] * (img.ndim - 2)
    mode = "reflect" if hp - h < h and wp - w < w else "edge"
    return np.pad(img, pad, mode=mode)


def _starts(length: int, tile: int, overlap: int, multiple: int) -> list[int]:
    if length <= tile:
        return [0]
    step = max(multiple, tile - overlap - multiple)  # leave room for rounding to the multiple
    n = math.ceil((length - tile) / step) + 1
    return [round(i * (length - tile) / (n - 1) / multiple) * multiple for i in range(n)]


def tile_boxes(h: int, w: int, tile: int, overlap: int, multiple: int) -> list[Box]:
    """Overlapping boxes covering an (h, w) frame (both multiples of ``multiple``); each box side is at most
    ``tile`` (rounded down to the multiple) and neighbours overlap by about ``overlap`` pixels."""
    if h % multiple or w % multiple:
        raise ValueError(f"tile_boxes: {h}×{w} is not a multiple of {multiple}")
    tile = max(multiple, tile // multiple * multiple)
    th, tw = min(tile, h), min(tile, w)
    return [
        (y, x, y + th, x + tw)
        for y in _starts(h, th, overlap, multiple)
        for x in _starts(w, tw, overlap, multiple)
    ]


def _ramp(n: int, ramp: int, start: bool, end: bool) -> np.ndarray:
    r = np.ones(n, np.float32)
    k = min(ramp, n)
    if k > 0:
        up = (np.arange(k, dtype=np.float32) + 1.0) / (k + 1.0)
        if start:
            r[:k] = np.minimum(r[:k], up)
        if end:
            r[n - k:] = np.minimum(r[n - k:], up[::-1])
    return r


def blend_weights(box: Box, h: int, w: int, overlap: int) -> np.ndarray:
    """(y1−y0, x1−x0) float32 weights: 1 inside, ramping down over ``overlap`` pixels towards edges that
    are interior to the frame (frame borders keep weight 1)."""
    y0, x0, y1, x1 = box
    wy = _ramp(y1 - y0, overlap, y0 > 0, y1 < h)
    wx = _ramp(x1 - x0, overlap, x0 > 0, x1 < w)
    return wy[:, None] * wx[None, :]


class TileBlender:
    """Accumulates per-tile outputs ``(T, th, tw[, C])`` into ``(T, h, w[, C])`` with ``blend_weights``."""

    def __init__(self, shape: tuple[int, ...], overlap: int) -> None:
        self.shape = shape
        self.overlap = overlap
        self.acc = np.zeros(shape, np.float32)
        self.weight = np.zeros(shape[1:3], np.float32)

    def add(self, box: Box, values: np.ndarray) -> None:
        y0, x0, y1, x1 = box
        wgt = blend_weights(box, self.shape[1], self.shape[2], self.overlap)
        self.weight[y0:y1, x0:x1] += wgt
        extra = (None,) * (values.ndim - 3)
        self.acc[:, y0:y1, x0:x1] += values * wgt[(slice(None), slice(None), *extra)]

    def result(self) -> np.ndarray:
        extra = (None,) * (self.acc.ndim - 3)
        return self.acc / np.maximum(self.weight, 1e-8)[(slice(None), slice(None), *extra)]
