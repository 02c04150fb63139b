"""Exemplar colour transfer: colour a gray frame from any colour photograph of a similar scene.

The method is Welsh, Ashikhmin & Mueller, "Transferring Color to Greyscale Images" (SIGGRAPH 2002), global
version: the exemplar's luminance is remapped to the target's mean and spread (as in Reinhard et al.,
"Color Transfer between Images", 2001); about 200 exemplar pixels on a jittered grid are described by their
luminance and the standard deviation of luminance around them (texture); every target pixel takes the ab
of the sample nearest in that (luminance, texture) space, weighted 50/50 as in the paper. The result is then
smoothed along the target's own L with a guided filter (the paper's raw output is blotchy), which a video
then carries along the flow (``oldfilm.colorize.propagate``).

Convention: exemplar (H, W, 3) RGB uint8/uint16/float; target L (H, W) float32 L* in [0, 100]; output ab
(H, W, 2) float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from oldfilm.colorize.chroma import guided_filter, resize_map
from oldfilm.colorspace import rgb_to_lab
from oldfilm.errors import InputError
from oldfilm.imgops import fit_size


@dataclass(frozen=True)
class TransferConfig:
    """Settings of the exemplar transfer.

    Attributes:
        samples: exemplar pixels sampled on a jittered grid (Welsh et al. use about 200).
        window: side of the square neighbourhood whose luminance standard deviation is the texture feature.
        texture_weight: weight of the texture feature against luminance (0.5: the paper's 50/50).
        max_side: matching runs at this longer side; ab is upsampled to the frame afterwards.
        smooth_radius: radius (work pixels) of the guided filter that smooths the transferred ab on L.
        smooth_eps: its regulariser in (L/100)².
        seed: seed of the sampling jitter (the transfer is deterministic).
    """

    samples: int = 200
    window: int = 5
    texture_weight: float = 0.5
    max_side: int = 256
    smooth_radius: int = 4
    smooth_eps: float = 1e-3
    seed: int = 0


def _local_std(L: np.ndarray, window: int) -> np.ndarray:
    k = (window, window)
    mean = cv2.blur(L, k, borderType=cv2.BORDER_REFLECT)
    sq = cv2.blur(L * L, k, borderType=cv2.BORDER_REFLECT)
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))


def transfer_colour(exemplar: np.ndarray, L: np.ndarray, cfg: TransferConfig = TransferConfig()) -> np.ndarray:
    """ab for a frame of luminance ``L`` (H, W) taken from the colour photograph ``exemplar``."""
    if exemplar.ndim != 3 or exemplar.shape[2] < 3:
        raise InputError("the exemplar must be a colour (RGB) image")
    return transfer_lab(rgb_to_lab(exemplar[..., :3]), L, cfg)


def transfer_lab(lab: np.ndarray, L: np.ndarray, cfg: TransferConfig = TransferConfig()) -> np.ndarray:
    """As ``transfer_colour`` from an exemplar already in Lab ((h, w, 3) float32, any size)."""
    lab_s = resize_map(lab.astype(np.float32, copy=False), fit_size(*lab.shape[:2], cfg.max_side))
    size = fit_size(*L.shape, cfg.max_side)
    L_t = resize_map(L.astype(np.float32), size)
    L_s, ab_s = lab_s[..., 0], lab_s[..., 1:]
    # luminance remapping: exemplar L to the target's mean and spread
    L_s = (L_s - L_s.mean()) * (L_t.std() / max(float(L_s.std()), 1e-3)) + L_t.mean()
    feat_s = np.stack([L_s, _local_std(L_s, cfg.window)], -1)
    feat_t = np.stack([L_t, _local_std(L_t, cfg.window)], -1)
    # jittered grid of samples
    rng = np.random.default_rng(cfg.seed)
    h, w = L_s.shape
    n = max(1, int(round(np.sqrt(cfg.samples))))
    ys = ((np.arange(n)[:, None] + rng.random((n, n))) * h / n).astype(int).clip(0, h - 1).ravel()
    xs = ((np.arange(n)[None, :] + rng.random((n, n))) * w / n).astype(int).clip(0, w - 1).ravel()
    wts = np.array([1.0 - cfg.texture_weight, cfg.texture_weight], np.float32)
    samp = feat_s[ys, xs] * np.sqrt(wts)  # (S, 2)
    flat = feat_t.reshape(-1, 2) * np.sqrt(wts)
    best = np.empty(flat.shape[0], np.int64)
    for i in range(0, flat.shape[0], 65536):  # bounded memory: 64k × S distances at a time
        d = ((flat[i:i + 65536, None, :] - samp[None]) ** 2).sum(-1)
        best[i:i + 65536] = d.argmin(1)
    ab = ab_s[ys, xs][best].reshape(size + (2,))
    if cfg.smooth_radius > 0:
        ab = guided_filter(L_t / 100.0, ab, cfg.smooth_radius, cfg.smooth_eps)
    return resize_map(ab.astype(np.float32), L.shape)
