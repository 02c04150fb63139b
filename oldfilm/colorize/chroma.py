"""Chroma helpers for colourisation: guided filters that tie ab to the clip's L, resizing of ab maps, and the
L-preserving way back from (L, ab) to RGB.

Convention:
    L: (H, W) float32 CIE L* in [0, 100] (``oldfilm.colorspace.rgb_to_lab``'s first channel).
    ab: (H, W, 2) float32 CIE a*, b* (roughly [-110, 110]).
    conf: (H, W) float32 confidence in [0, 1].

The guided filter is He, Sun & Tang, "Guided Image Filtering" (ECCV 2010 / TPAMI 2013), with an optional
per-pixel confidence (a weighted least-squares fit per window) so that holes are filled from trusted
neighbours. OpenCV's ximgproc (not in the headless wheel) is not needed: everything is ``cv2.boxFilter``.
"""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.colorspace import lab_to_rgb

_EPS = 1e-6


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)² window, reflected borders; works on (H, W) and (H, W, C)."""
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)


def _expand(x: np.ndarray) -> np.ndarray:
    return x[..., None] if x.ndim == 2 else x


def guided_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float,
                        weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local linear model ``src ≈ a·guide + b`` fitted in every window, then averaged over windows.

    Args:
        guide: (H, W) float32, e.g. L / 100.
        src: (H, W, C) float32 to be filtered (ab).
        radius: window radius in pixels.
        eps: regulariser on ``a`` in guide units² (bigger → smoother, less edge-following).
        weight: optional (H, W) confidence of ``src``; windows fit the confident pixels only (a weighted
            least-squares guided filter), so holes are filled from confident neighbours along L's structure.

    Returns:
        (a, b, support): (H, W, C), (H, W, C) and (H, W) — ``support`` is the mean weight near each pixel
        (1 everywhere without ``weight``), the confidence that the fit rests on data.
    """
    g = guide.astype(np.float32, copy=False)
    p = _expand(src).astype(np.float32, copy=False)
    if weight is None:
        w = np.ones_like(g)
    else:
        w = np.maximum(weight.astype(np.float32, copy=False), 0.0)
    wsum = _box(w, radius)
    inv = 1.0 / (wsum + _EPS)
    mean_g = _box(w * g, radius) * inv
    mean_p = _expand(_box(w[..., None] * p, radius)) * inv[..., None]
    corr_gp = _expand(_box((w * g)[..., None] * p, radius)) * inv[..., None]
    var_g = _box(w * g * g, radius) * inv - mean_g * mean_g
    a = (corr_gp - mean_g[..., None] * mean_p) / (np.maximum(var_g, 0.0)[..., None] + eps)
    b = mean_p - a * mean_g[..., None]
    # average the window models, each weighted by how much data it saw
    wa = _box(wsum, radius) + _EPS
    a = _expand(_box(a * wsum[..., None], radius)) / wa[..., None]
    b = _expand(_box(b * wsum[..., None], radius)) / wa[..., None]
    return a, b, np.clip(wa, 0.0, 1.0)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """Edge-aware smoothing of ``src`` (H, W, C) guided by ``guide`` (H, W); see ``guided_coefficients``."""
    a, b, _ = guided_coefficients(guide, src, radius, eps, weight)
    return a * guide[..., None] + b


def resize_map(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W[, C]) float map to ``size`` = (height, width): area down, bilinear up."""
    h, w = size
    if x.shape[:2] == (h, w):
        return x
    interp = cv2.INTER_AREA if h < x.shape[0] else cv2.INTER_LINEAR
    out = cv2.resize(x, (w, h), interpolation=interp)
    return out.reshape((h, w) + x.shape[2:])


# --- back to RGB without touching L ------------------------------------------------------------------------

_XYZ_TO_LINEAR = np.array([[3.2404542, -1.5371385, -0.4985314],
                           [-0.9692660, 1.8760108, 0.0415560],
                           [0.0556434, -0.2040259, 1.0572252]], dtype=np.float32)
_WHITE = np.array([0.950456, 1.0, 1.088754], dtype=np.float32)  # D65, as OpenCV


def _finv(t: np.ndarray) -> np.ndarray:
    return np.where(t > 6.0 / 29.0, t**3, 3.0 * (6.0 / 29.0) ** 2 * (t - 4.0 / 29.0))


def _in_gamut(L: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """Whether Lab colours map inside the sRGB cube (checked on linear RGB, no clipping)."""
    fy = (L + 16.0) / 116.0
    xyz = np.stack([_finv(fy + a / 500.0), _finv(fy), _finv(fy - b / 200.0)], -1) * _WHITE
    lin = xyz @ _XYZ_TO_LINEAR.T
    return np.all((lin >= -tol) & (lin <= 1.0 + tol), axis=-1)


def lab_to_rgb_keep_l(L: np.ndarray, ab: np.ndarray, iters: int = 7) -> np.ndarray:
    """(L, ab) → float32 RGB in [0, 1], shrinking chroma (never L) where the colour is outside sRGB.

    A plain conversion clips RGB channels, which shifts lightness; here each out-of-gamut pixel's ab is
    scaled towards gray (bisection on the scale) until it fits, so the output's L is the input's L.
    """
    L = L.astype(np.float32, copy=False)
    ab = ab.astype(np.float32, copy=True)
    bad = ~_in_gamut(L, ab[..., 0], ab[..., 1])
    if bad.any():
        Lb, abb = L[bad], ab[bad]
        lo = np.zeros(Lb.shape, np.float32)
        hi = np.ones(Lb.shape, np.float32)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            ok = _in_gamut(Lb, abb[:, 0] * mid, abb[:, 1] * mid)
            lo = np.where(ok, mid, lo)
            hi = np.where(ok, hi, mid)
        ab[bad] = abb * lo[:, None]
    return lab_to_rgb(np.dstack([L, ab]))
