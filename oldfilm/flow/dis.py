"""OpenCV DIS optical flow, computed at a reduced scale and upsampled (fast on a CPU, good enough to align
film frames; the paper's RAFT has no weights offline)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from oldfilm.imgops import shrink

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def _to_u8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


MIN_SIDE = 16
"""Frames with a shorter side than this (after scaling) get zero flow instead of DIS."""


@dataclass
class DISFlow:
    """DIS flow estimator (a ``FlowEstimator``).

    Attributes:
        preset: "ultrafast", "fast" or "medium" (OpenCV DIS presets; ~2 / 4 / 24 ms per 640×360 pair).
        max_side: frames are downscaled so their longer side is at most this many pixels before estimation;
            the flow is upsampled and rescaled back. 0 disables downscaling.
    """

    preset: str = "fast"
    max_side: int = 640

    def __post_init__(self) -> None:
        if self.preset not in _PRESETS:
            raise ValueError(f"unknown DIS preset {self.preset!r}; choose from {sorted(_PRESETS)}")

    def __call__(self, current: np.ndarray, other: np.ndarray) -> np.ndarray:
        """(H, W) luma pair → (2, H, W) float32 flow from ``current`` to ``other``."""
        if current.shape != other.shape or current.ndim != 2:
            raise ValueError(f"DISFlow expects two (H, W) frames of one size, got {current.shape} and {other.shape}")
        h, w = current.shape
        a, b = shrink(_to_u8(current), self.max_side), shrink(_to_u8(other), self.max_side)
        # DIS needs pixels of support: OpenCV 4's DIS crashed the process (segfault) on 8–15-pixel-high
        # frames 40+ pixels wide (checked: 12×40, 14×40, 12×200); such tiny frames get zero motion
        if min(a.shape) < MIN_SIDE:
            return np.zeros((2, h, w), np.float32)
        # a fresh DIS object per pair (creating one costs microseconds): a reused one was seen to give
        # different flows for the same pair depending on earlier calls, and results must be reproducible
        flow = cv2.DISOpticalFlow_create(_PRESETS[self.preset]).calc(a, b, None)  # (h', w', 2)
        if a.shape != (h, w):
            sx, sy = w / flow.shape[1], h / flow.shape[0]
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
            flow[..., 0] *= sx
            flow[..., 1] *= sy
        return np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)
