"""Dirt that stays for a few frames: one-sided temporal outliers that are also small spots.

The classical restorer's repair replaces a pixel that is brighter (or darker) than *every* aligned neighbour.
Dirt on the gate or on the scanner's glass stays at one place for two or three frames, so some neighbours
carry it too and that rule misses it. Here a pixel counts as dirt when it differs, in one direction, from
every aligned neighbour on *one side* in time (all the earlier ones, or all the later ones — the speck was
not there yet, or is gone), those neighbours agree among themselves, and it lies on a small spot in the
frame itself (a morphological top-hat / black-hat with a disc of ``spot_size`` pixels: small bright or dark
specks respond, larger objects that appear or are uncovered by motion do not). It is filled from that side.
"""

from __future__ import annotations

import cv2
import numpy as np


def spot_response(luma: np.ndarray, spot_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(bright, dark) ≥ 0: how far each pixel stands above (below) what an opening (closing) with a disc of
    ``spot_size`` pixels leaves — i.e. small bright and dark specks."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (spot_size, spot_size))
    src = luma.astype(np.float32, copy=False)
    return cv2.morphologyEx(src, cv2.MORPH_TOPHAT, k), cv2.morphologyEx(src, cv2.MORPH_BLACKHAT, k)


def one_sided_dirt(luma: np.ndarray, aligned: np.ndarray, aligned_luma: np.ndarray, offsets: list[int],
                   threshold: np.ndarray, agree: float, spot_size: int, weak_ratio: float = 0.5,
                   dilate: int = 1, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(mask (H, W) bool, fill (H, W, C)): pixels that are dirt by the one-sided rule, and what replaces them
    (the mean of the aligned neighbours on the clean side). ``offsets``: each neighbour's frame offset from the
    centre; ``threshold`` (H, W): the difference that counts (grows with the local gradient); ``agree``: the
    largest spread of the clean side's neighbours. The mask grows by up to ``dilate`` pixels into weaker
    one-sided outliers (``weak_ratio`` × the threshold): the specks' soft rims. Two neighbours disagree with
    a pixel far more often by chance than four do, so the threshold grows by 3 × the difference's noise
    (``noise``: the frame's noise level), and at least one neighbour on the *other* side must share the speck
    (differ from the pixel by less than half the threshold): dirt that stays is in the next or last frame."""
    bright, dark = spot_response(luma, spot_size)
    mask = np.zeros(luma.shape, bool)
    fill = np.zeros(aligned.shape[1:], np.float32)
    threshold = threshold + 3 * np.sqrt(2.0) * noise
    past, future = [k for k, o in enumerate(offsets) if o < 0], [k for k, o in enumerate(offsets) if o > 0]
    for side, other in ((past, future), (future, past)):
        if len(side) < 2 or not other:  # one neighbour cannot tell dirt from a change in the scene
            continue
        shared = (np.abs(luma[None] - aligned_luma[other]) < threshold / 2).any(0)
        d = luma[None] - aligned_luma[side]
        low, high = d.min(0), d.max(0)
        spread = aligned_luma[side].max(0) - aligned_luma[side].min(0)
        ok = spread < agree
        ok &= shared
        hit = ok & (((low > threshold) & (bright > threshold)) | ((high < -threshold) & (dark > threshold)))
        if dilate and hit.any():
            t = threshold * weak_ratio
            weak = (ok & ((low > t) | (high < -t))).astype(np.uint8)
            grown = hit.astype(np.uint8)
            for _ in range(dilate):
                grown = cv2.dilate(grown, np.ones((3, 3), np.uint8)) & weak | grown
            hit = grown.astype(bool)
        new = hit & ~mask
        if new.any():
            fill[new] = aligned[side].mean(0)[new]
            mask |= new
    return mask, fill
