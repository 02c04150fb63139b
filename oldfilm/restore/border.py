"""The frame's own border: real scans often show the black frame-line or the gate's edge along a side of the
picture. It is not damage, and the restorer must leave it as it is (deflicker would lift its black, sharpening
would ring along it, stabilisation would move it). ``frame_border`` finds it: the runs of outermost rows and
columns that are dark all along (a band of the picture would not be dark from end to end)."""

from __future__ import annotations

import numpy as np


def _run(profile: np.ndarray, limit: int) -> int:
    """Length of the leading run of True in ``profile``, at most ``limit``."""
    n = 0
    while n < min(limit, len(profile)) and profile[n]:
        n += 1
    return n


def frame_border(luma: np.ndarray, dark: float = 0.08, max_frac: float = 0.15) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) widths in pixels of the dark border of a (H, W) luma frame in [0, 1]: edge
    rows/columns whose 95th percentile is below ``dark``; each side at most ``max_frac`` of the frame."""
    h, w = luma.shape
    cols = np.percentile(luma, 95, axis=0) < dark
    rows = np.percentile(luma, 95, axis=1) < dark
    mh, mw = int(h * max_frac), int(w * max_frac)
    return _run(rows, mh), _run(rows[::-1], mh), _run(cols, mw), _run(cols[::-1], mw)


def keep_border(out: np.ndarray, original: np.ndarray, border: tuple[int, int, int, int]) -> np.ndarray:
    """``out`` with the border strips (and one pixel beyond, the frame-line's edge) copied from ``original``."""
    top, bottom, left, right = border
    if not any(border):
        return out
    out = out.copy()
    h, w = out.shape[:2]
    if top:
        out[: top + 1] = original[: top + 1]
    if bottom:
        out[h - bottom - 1:] = original[h - bottom - 1:]
    if left:
        out[:, : left + 1] = original[:, : left + 1]
    if right:
        out[:, w - right - 1:] = original[:, w - right - 1:]
    return out
