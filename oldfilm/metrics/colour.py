"""Colour metrics for colourisation: CIEDE2000 colour difference and Hasler–Süsstrunk colourfulness.

Convention: images are numpy (H, W, 3) RGB, uint8/uint16 or float in [0, 1] (sRGB, D65).
"""

from __future__ import annotations

import numpy as np

from oldfilm.colorspace import rgb_to_lab, to_float
from oldfilm.errors import InputError


def ciede2000_lab(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 ΔE between two (..., 3) Lab arrays (Sharma, Wu & Dalal 2005; kL = kC = kH = 1)."""
    L1, a1, b1 = (lab1[..., i].astype(np.float64) for i in range(3))
    L2, a2, b2 = (lab2[..., i].astype(np.float64) for i in range(3))
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm7 = ((C1 + C2) / 2.0) ** 7
    G = 0.5 * (1.0 - np.sqrt(Cm7 / (Cm7 + 25.0**7)))
    a1p, a2p = a1 * (1.0 + G), a2 * (1.0 + G)
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0
    dLp, dCp = L2 - L1, C2p - C1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(C1p * C2p == 0.0, 0.0, dh)
    dHp = 2.0 * np.sqrt(C1p * C2p) * np.sin(np.radians(dh / 2.0))
    Lpm, Cpm = (L1 + L2) / 2.0, (C1p + C2p) / 2.0
    hs = h1p + h2p
    hpm = np.where(np.abs(h1p - h2p) > 180.0, np.where(hs < 360.0, hs + 360.0, hs - 360.0), hs) / 2.0
    hpm = np.where(C1p * C2p == 0.0, hs, hpm)
    T = (1.0 - 0.17 * np.cos(np.radians(hpm - 30.0)) + 0.24 * np.cos(np.radians(2.0 * hpm))
         + 0.32 * np.cos(np.radians(3.0 * hpm + 6.0)) - 0.20 * np.cos(np.radians(4.0 * hpm - 63.0)))
    d_theta = 30.0 * np.exp(-(((hpm - 275.0) / 25.0) ** 2))
    Cpm7 = Cpm**7
    Rc = 2.0 * np.sqrt(Cpm7 / (Cpm7 + 25.0**7))
    Sl = 1.0 + 0.015 * (Lpm - 50.0) ** 2 / np.sqrt(20.0 + (Lpm - 50.0) ** 2)
    Sc = 1.0 + 0.045 * Cpm
    Sh = 1.0 + 0.015 * Cpm * T
    Rt = -np.sin(np.radians(2.0 * d_theta)) * Rc
    tl, tc, th = dLp / Sl, dCp / Sc, dHp / Sh
    return np.sqrt(tl * tl + tc * tc + th * th + Rt * tc * th)


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference of two RGB images (0 for identical images; ~2.3 is a just
    noticeable difference)."""
    if a.shape[:2] != b.shape[:2] or a.ndim != 3 or b.ndim != 3 or a.shape[2] != 3 or b.shape[2] != 3:
        raise InputError(f"ΔE needs two RGB images of one size, got {a.shape} and {b.shape}.")
    return float(ciede2000_lab(rgb_to_lab(a), rgb_to_lab(b)).mean())


def colourfulness(img: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M on the 0–255 scale: 0 for gray; ~33 "moderately",
    ~59 "quite", ~82 "highly" colourful."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise InputError(f"colourfulness needs an RGB image, got shape {img.shape}.")
    f = to_float(img).astype(np.float64) * 255.0
    rg = f[..., 0] - f[..., 1]
    yb = 0.5 * (f[..., 0] + f[..., 1]) - f[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
