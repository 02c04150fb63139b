"""Gate-weave stabilisation: the whole picture wanders by a pixel or so from frame to frame (the film moves in
the projector's or printer's gate); camera moves are slow by comparison. Each frame's global translation
against the previous one is measured by phase correlation (OpenCV ``phaseCorrelate``, Hann-windowed, sub-pixel),
summed into a path over the scene, and the frame is moved onto that path smoothed by a centred Gaussian of
``sigma`` frames: the jitter goes, pans and tilts stay. Scene cuts restart the path.
"""

from __future__ import annotations

import cv2
import numpy as np


def global_shift(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """(dx, dy) translation of ``cur`` relative to ``prev`` (two (H, W) float luma frames), pixels."""
    win = cv2.createHanningWindow(prev.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(prev.astype(np.float32), cur.astype(np.float32), win)
    return float(dx), float(dy)


def smooth_offset(positions: list[tuple[int, float, float]], sigma: float) -> tuple[float, float]:
    """Where the centre frame should be: a Gaussian-weighted straight-line fit to the path positions
    ``[(frame offset from the centre, x, y), ...]`` (same scene, centre included), read at offset 0. A line,
    not a mean: a steady pan is followed exactly, also at the ends of a scene where the window is one-sided."""
    o = np.array([p[0] for p in positions], np.float64)
    w = np.exp(-0.5 * (o / max(sigma, 1e-3)) ** 2)
    xy = np.array([p[1:] for p in positions], np.float64)
    if len(o) < 3:
        return tuple((w[:, None] * xy).sum(0) / w.sum())  # type: ignore[return-value]
    a = np.stack([np.ones_like(o), o], 1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(a, xy * np.sqrt(w)[:, None], rcond=None)
    return float(coef[0, 0]), float(coef[0, 1])


def shift_image(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """(H, W, C) image moved by (dx, dy) pixels (bicubic; the edges are extended by reflection)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    out = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REFLECT)
    return out.reshape(img.shape)
