"""Clips from still photographs by synthetic camera motion: a smooth pan/zoom/rotation trajectory plus a
small, slowly changing local warp (so neighbouring frames are not exact similarity transforms of each
other, as with real parallax, lens breathing and film shrinkage).

Convention: images (H, W, 3) uint8 RGB; clips (T, S, S, 3) uint8; one explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class MotionConfig:
    """Ranges of the synthetic camera trajectory (drawn once per clip)."""

    pan: float = 0.25
    """Largest total pan over the clip, as a fraction of the crop side (per axis)."""
    zoom: tuple[float, float] = (0.85, 1.2)
    """Zoom factor range; the clip moves from one draw to another."""
    rotation: float = 4.0
    """Largest rotation at either end of the clip, degrees."""
    shake: float = 0.6
    """Standard deviation of a per-frame hand-held jitter, pixels."""
    warp: float = 1.5
    """Amplitude of the smooth local warp, pixels."""
    warp_grid: int = 4
    """Control points per side of the local warp (coarser = smoother)."""


def camera_motion_clip(image: np.ndarray, frames: int, size: int, rng: np.random.Generator,
                       cfg: MotionConfig = MotionConfig()) -> np.ndarray:
    """Film ``image`` with a moving virtual camera.

    Args:
        image: (H, W, 3) uint8 photograph.
        frames: T, clip length.
        size: S, side of the square output frames.
        rng: randomness.
        cfg: trajectory ranges.

    Returns:
        (T, S, S, 3) uint8 clip.
    """
    h, w = image.shape[:2]
    fit = min(h, w) / size  # largest zoom-out that keeps the window inside the photo
    z0, z1 = (float(np.clip(rng.uniform(*cfg.zoom), 0.5, None)) for _ in range(2))
    z0, z1 = min(z0, fit * 0.9), min(z1, fit * 0.9)
    r0, r1 = rng.uniform(-cfg.rotation, cfg.rotation, 2)
    span = cfg.pan * size
    d = rng.uniform(-span, span, 2)
    # the window's centre moves along d; keep both ends inside the photo
    margin = size * max(z0, z1) * 0.75
    lo = np.array([margin, margin]) + np.maximum(0.0, -d)
    hi = np.array([w - margin, h - margin]) - np.maximum(0.0, d)
    c0 = np.array([w / 2, h / 2]) if np.any(hi <= lo) else rng.uniform(lo, hi)
    c1 = c0 + (d if np.all(hi > lo) else 0.0)
    ease = _ease(frames)
    field0, field1 = _smooth_field(size, cfg, rng), _smooth_field(size, cfg, rng)
    gx, gy = np.meshgrid(np.arange(size, dtype=np.float32) - size / 2, np.arange(size, dtype=np.float32) - size / 2)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t, a in enumerate(ease):
        z = z0 + (z1 - z0) * a
        th = np.deg2rad(r0 + (r1 - r0) * a)
        c = c0 + (c1 - c0) * a + rng.normal(0.0, cfg.shake, 2)
        cos, sin = np.cos(th) * z, np.sin(th) * z
        fx, fy = field0 + (field1 - field0) * a
        map_x = (cos * (gx + fx) - sin * (gy + fy) + c[0]).astype(np.float32)
        map_y = (sin * (gx + fx) + cos * (gy + fy) + c[1]).astype(np.float32)
        out[t] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def _ease(frames: int) -> np.ndarray:
    """Smooth-step positions in [0, 1] for T frames."""
    s = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)
    return s * s * (3.0 - 2.0 * s)


def _smooth_field(size: int, cfg: MotionConfig, rng: np.random.Generator) -> np.ndarray:
    """(2, S, S) float32 displacement, bicubic from a coarse random grid, amplitude ``cfg.warp``."""
    g = rng.normal(0.0, cfg.warp, (2, cfg.warp_grid, cfg.warp_grid)).astype(np.float32)
    return np.stack([cv2.resize(p, (size, size), interpolation=cv2.INTER_CUBIC) for p in g])
