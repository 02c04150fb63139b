"""Local deflicker: flicker in real transfers is not one gain per frame — exposure varies across the frame
(uneven illumination, a vignette that breathes, a gain that tilts) and changes from frame to frame.

Each frame is summarised by a coarse map of its luma (``grid`` cells, area-averaged) divided by its mean —
its *shape*. The target shape is the mean of the shapes of the frames within the deflicker window; the
ratio target/own is fitted by a smooth low-order surface (quadratic in x and y, weighted least squares with
a robust reweighting so that moving objects, which change a few cells, count little) and the frame is
multiplied by it. The global level is left to the global deflicker (the surface is normalised to mean 1).
"""

from __future__ import annotations

import cv2
import numpy as np


def coarse_shape(luma: np.ndarray, grid: tuple[int, int] = (16, 12)) -> np.ndarray:
    """(gh, gw) area-averaged luma divided by its mean (a frame's brightness distribution)."""
    small = cv2.resize(luma.astype(np.float32), grid, interpolation=cv2.INTER_AREA)
    return small / max(float(small.mean()), 1e-4)


def _basis(h: int, w: int) -> np.ndarray:
    """(h·w, 6) quadratic basis 1, x, y, x², y², xy on [-1, 1] cell centres."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x = (x + 0.5) / w * 2 - 1
    y = (y + 0.5) / h * 2 - 1
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], -1).reshape(-1, 6)


def gain_surface(own: np.ndarray, target: np.ndarray, size: tuple[int, int], max_gain: float = 1.3,
                 iterations: int = 3) -> np.ndarray:
    """(H, W) float32 smooth gain that maps the shape ``own`` onto ``target`` (both (gh, gw)), mean 1."""
    gh, gw = own.shape
    a = _basis(gh, gw)
    ratio = (np.log(np.maximum(target, 1e-3)) - np.log(np.maximum(own, 1e-3))).reshape(-1)
    w = np.clip(own.reshape(-1), 0.05, None)  # dark cells: ratios are unreliable there
    coef = np.zeros(6)
    for _ in range(iterations):
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(a * sw[:, None], ratio * sw, rcond=None)
        r = ratio - a @ coef
        s = 1.4826 * np.median(np.abs(r)) + 1e-4
        w = np.clip(own.reshape(-1), 0.05, None) / (1 + (r / (2 * s)) ** 2)  # Cauchy-like reweighting
    h, wd = size
    y, x = np.mgrid[0:h, 0:wd].astype(np.float32)
    x = (x + 0.5) / wd * 2 - 1
    y = (y + 0.5) / h * 2 - 1
    log_gain = (coef[0] + coef[1] * x + coef[2] * y + coef[3] * x * x + coef[4] * y * y + coef[5] * x * y)
    gain = np.exp(np.clip(log_gain, -np.log(max_gain), np.log(max_gain))).astype(np.float32)
    return gain / float(gain.mean())
