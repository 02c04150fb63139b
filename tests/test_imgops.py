"""oldfilm.imgops: the one "longer side at most N" helper."""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.imgops import fit_size, shrink


def test_fit_size_rounds_and_keeps_8_pixels() -> None:
    assert fit_size(368, 640, 320) == (184, 320)
    assert fit_size(641, 367, 160) == (160, 92)  # 91.6 → 92
    assert fit_size(1000, 10, 100) == (100, 8)  # never below 8 px
    assert fit_size(90, 160, 160) == (90, 160) and fit_size(90, 160, 0) == (90, 160)


def test_shrink_averages_pixel_areas_and_leaves_small_frames_alone() -> None:
    img = np.random.default_rng(0).random((90, 161)).astype(np.float32)
    small = shrink(img, 64)
    assert small.shape == (36, 64)
    assert np.array_equal(small, cv2.resize(img, (64, 36), interpolation=cv2.INTER_AREA))
    assert shrink(img, 161) is img and shrink(img, 0) is img
    rgb = np.zeros((40, 20, 3), np.uint8)
    assert shrink(rgb, 10).shape == (10, 8, 3) and shrink(rgb, 10).dtype == np.uint8
