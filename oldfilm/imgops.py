"""Small image operations shared by several layers (flow, scene cuts, the engine, colourisation).

Arrays are numpy (H, W[, C]); sizes are (height, width) unless said otherwise (OpenCV takes (width, height)).
"""

from __future__ import annotations

import cv2
import numpy as np


def fit_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled so the longer side is at most ``max_side`` (0: unchanged), each side at least
    8 px (rounded to the nearest pixel); a frame that fits is left as it is.

    Example:
        >>> fit_size(720, 1280, 640)
        (360, 640)
        >>> fit_size(100, 50, 0), fit_size(100, 50, 160)
        ((100, 50), (100, 50))
    """
    if not max_side or max(height, width) <= max_side:
        return height, width
    s = max_side / max(height, width)
    return max(8, round(height * s)), max(8, round(width * s))


def shrink(img: np.ndarray, max_side: int) -> np.ndarray:
    """``img`` with its longer side scaled down to at most ``max_side`` (``fit_size``; pixel-area
    averaging), or ``img`` itself when it fits already."""
    h, w = img.shape[:2]
    size = fit_size(h, w, max_side)
    if size == (h, w):
        return img
    return cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)
