"""Colour conversion, the one place for it. Arrays are numpy (H, W, C) RGB, uint8/uint16 or float in [0, 1].

Luma is BT.601 (what OpenCV's YCrCb and most film scans use). Lab is CIE L*a*b* (D65) via OpenCV on float32
input, so L is in [0, 100] and a, b roughly in [-128, 127].
"""

from __future__ import annotations

import cv2
import numpy as np

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""BT.601 luma weights of R, G, B (``rgb_to_luma``; the degrader's colour matrices use them too)."""


def to_float(img: np.ndarray) -> np.ndarray:
    """uint8/uint16/float image → float32 in [0, 1] (floats pass through as float32)."""
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0
    return img.astype(np.float32, copy=False)


def from_float(img: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """float image in [0, 1] → ``dtype`` (uint8, uint16 or float32), rounded and clipped."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.clip(img * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
    return np.clip(img, 0.0, 1.0).astype(dtype)


def is_gray(img: np.ndarray, tol: float = 2.0 / 255.0) -> bool:
    """True when ``img`` has one channel, or three channels that are equal within ``tol`` (float scale)."""
    if img.ndim == 2 or img.shape[-1] == 1:
        return True
    f = to_float(img[..., :3])
    return bool(np.abs(f[..., 0] - f[..., 1]).max() <= tol and np.abs(f[..., 1] - f[..., 2]).max() <= tol)


def rgb_to_luma(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) or (H, W, 1) → (H, W) float32 luma in [0, 1] (BT.601)."""
    f = to_float(img)
    if f.ndim == 2:
        return f
    if f.shape[-1] == 1:
        return f[..., 0]
    return f[..., :3] @ LUMA_WEIGHTS


def rgb_to_ycrcb(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB → float32 (H, W, 3) Y, Cr, Cb in [0, 1] (OpenCV's BT.601 definition)."""
    return cv2.cvtColor(to_float(img), cv2.COLOR_RGB2YCrCb)


def ycrcb_to_rgb(img: np.ndarray) -> np.ndarray:
    """float32 (H, W, 3) Y, Cr, Cb → RGB float32 in [0, 1]."""
    return np.clip(cv2.cvtColor(img.astype(np.float32, copy=False), cv2.COLOR_YCrCb2RGB), 0.0, 1.0)


def rgb_to_lab(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB → float32 Lab (L in [0, 100])."""
    return cv2.cvtColor(to_float(img), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float32 Lab → RGB float32 in [0, 1]."""
    return np.clip(cv2.cvtColor(lab.astype(np.float32, copy=False), cv2.COLOR_Lab2RGB), 0.0, 1.0)
