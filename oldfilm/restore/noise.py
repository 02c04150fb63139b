"""Noise level estimates for the classical restorer.

``noise_level`` (Immerkær) assumes white noise: on film grain, which is clumped (spatially correlated over a
pixel or two) and softened by the scan, its Laplacian-difference kernel sees only the grain's finest part and
reports a fraction of it. ``temporal_noise_level`` measures the grain where it is independent — from frame to
frame, after motion compensation — so it sees the grain's full amplitude whatever its spatial correlation.
"""

from __future__ import annotations

import cv2
import numpy as np


def noise_level(luma: np.ndarray) -> float:
    """Standard deviation of additive white noise in a (H, W) float image, by Immerkær's fast estimator
    (J. Immerkær, "Fast Noise Variance Estimation", CVIU 1996): a Laplacian-difference kernel that cancels
    smooth structure; edges are excluded by keeping the lower 90% of responses."""
    if min(luma.shape) < 3:
        return 0.0
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = np.abs(cv2.filter2D(luma.astype(np.float32), -1, k)[1:-1, 1:-1])
    r = r[r <= np.quantile(r, 0.9)]
    return float(np.sqrt(np.pi / 2) * r.mean() / 6) if r.size else 0.0


def gradient(luma: np.ndarray) -> np.ndarray:
    """(H, W) Sobel gradient magnitude, luma units per pixel."""
    return cv2.magnitude(cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)) / 4


def temporal_noise_level(luma: np.ndarray, aligned_luma: np.ndarray, grad: np.ndarray | None = None,
                         step: int = 2) -> float:
    """Standard deviation of the noise of a frame from its differences to motion-aligned neighbours.

    luma: (H, W) the frame; aligned_luma: (K, H, W) neighbours warped onto it (independent noise, same
    scene); grad: (H, W) gradient of the scene (only the flatter half of the pixels is used: misalignment
    does not show there). Each difference frame gives a robust σ (1.4826 × median absolute deviation / √2,
    two independent noises) on every ``step``-th pixel; dirt, occlusions and misaligned edges are outliers
    the median ignores. Returns the median over neighbours (0.0 without neighbours).
    """
    if len(aligned_luma) == 0:
        return 0.0
    if grad is None:
        grad = gradient(luma)
    g = grad[::step, ::step]
    flat = g <= np.quantile(g, 0.5)
    sigmas = []
    for al in aligned_luma:
        d = (luma[::step, ::step] - al[::step, ::step])[flat]
        sigmas.append(1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2.0))
    return float(np.median(sigmas))
