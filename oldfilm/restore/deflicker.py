"""Local deflicker: flicker in real transfers is not one gain per frame — exposure varies across the frame
(uneven illumination, a vignette that breathes, a gain that tilts) and changes from frame to frame.

It runs on a frame and its neighbours *after* they are aligned to it by optical flow, so the same scene
content sits at the same place in all of them and what differs at a coarse scale is the light. Each is
summarised by a coarse map of its luma (``grid`` cells, area-averaged); the target is their mean; the log
ratio target/own is fitted by a smooth low-order surface (quadratic in x and y; weighted least squares with a
robust reweighting, so that the cells where motion or occlusion left a difference count little), and each
image is multiplied by its surface. The global deflicker runs before (one gain per frame over a longer
window); this evens out what varies across the frame, and lets the temporal average use its neighbours fully.
"""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.colorspace import rgb_to_luma


def coarse_map(luma: np.ndarray, grid: tuple[int, int] = (16, 12)) -> np.ndarray:
    """(gh, gw) area-averaged luma (``grid`` is (width, height) cells)."""
    return cv2.resize(luma.astype(np.float32), grid, interpolation=cv2.INTER_AREA)


def _basis(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [np.ones_like(x), x, y, x * x, y * y, x * y]


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates on [-1, 1]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return (x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1


def gain_surface(own: np.ndarray, target: np.ndarray, size: tuple[int, int], max_gain: float = 1.3,
                 iterations: int = 3) -> np.ndarray:
    """(H, W) float32 smooth gain that maps the coarse map ``own`` onto ``target`` (both (gh, gw))."""
    gh, gw = own.shape
    x, y = _grid(gh, gw)
    a = np.stack(_basis(x, y), -1).reshape(-1, 6).astype(np.float64)
    ratio = (np.log(np.maximum(target, 1e-3)) - np.log(np.maximum(own, 1e-3))).reshape(-1)
    base = np.clip(own.reshape(-1), 0.05, None)  # dark cells: ratios are unreliable there
    w = base
    coef = np.zeros(6)
    for _ in range(iterations):
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(a * sw[:, None], ratio * sw, rcond=None)
        r = ratio - a @ coef
        s = 1.4826 * np.median(np.abs(r)) + 1e-4
        w = base / (1 + (r / (2 * s)) ** 2)  # Cauchy weights: cells that do not fit count little
    x, y = _grid(*size)
    log_gain = sum(c * b for c, b in zip(coef, _basis(x, y), strict=True))
    return np.exp(np.clip(log_gain, -np.log(max_gain), np.log(max_gain))).astype(np.float32)


def match_local_brightness(img: np.ndarray, aligned: np.ndarray, max_gain: float = 1.3
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Bring ``img`` (H, W, C) and its aligned neighbours ``aligned`` (K, H, W, C) onto their mean coarse
    brightness, each by its own smooth gain surface; returns the corrected (img, aligned)."""
    maps = [coarse_map(rgb_to_luma(img))] + [coarse_map(rgb_to_luma(a)) for a in aligned]
    target = np.mean(maps, axis=0)
    size = img.shape[:2]
    out = [np.clip(f * gain_surface(m, target, size, max_gain)[..., None], 0.0, 1.0)
           for f, m in zip([img, *aligned], maps, strict=True)]
    return out[0], np.stack(out[1:])
