"""Degradation operations: pure functions on one frame.

Convention:
    ``img``: numpy (H, W, C) with C = 1 (grey) or 3 (RGB), float32 in [0, 1], unless a function says it also
    takes uint8. Every function returns a new array of the same shape (and, where noted, dtype); none clips
    unless it says so (the pipeline clips once). Randomness comes in through an explicit ``rng``.
    Pixel sizes (sigma, shift) are output pixels.
"""

from __future__ import annotations

from statistics import NormalDist

import cv2
import numpy as np

from oldfilm.colorspace import LUMA_WEIGHTS, from_float, rgb_to_luma, to_float

INTERPOLATIONS: dict[str, int] = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
}
"""Interpolation names used in parameters (JSON-friendly) → OpenCV flags."""

BLEND_MODES = ("add", "subtract", "multiply")
"""The paper's contaminant blending modes."""


def _like(out: np.ndarray, img: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing channel axis of 1; put it back."""
    return out.reshape(img.shape)


def expand(plane: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) → (H, W, ``channels``) by repetition. numpy broadcasting over a trailing axis of 3 is several
    times slower than a same-shape operation, so the hot paths expand once with OpenCV instead."""
    if channels == 1:
        return plane[..., None]
    return cv2.cvtColor(np.ascontiguousarray(plane, dtype=np.float32), cv2.COLOR_GRAY2RGB)


# ---------------------------------------------------------------- noise


def _normal_quantiles(levels: int = 256) -> np.ndarray:
    """(levels,) float32 standard-normal quantiles at the centres of equal-probability bins, rescaled to
    unit variance."""
    inv = NormalDist().inv_cdf
    q = np.array([inv((i + 0.5) / levels) for i in range(levels)])
    return (q / q.std()).astype(np.float32)


_NORMAL_LUT = _normal_quantiles()


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float32 unit-variance Gaussian samples, quantised to 256 equal-probability levels (tails end at
    ±2.9σ): a lookup of random bytes, 5–10× faster than ``rng.standard_normal`` here. After scaling by a
    noise sigma the steps are below 8-bit output precision; grain blurs them away entirely."""
    out = cv2.LUT(rng.integers(0, 256, shape, dtype=np.uint8), _NORMAL_LUT)
    return out.reshape(shape)


def _noise_field(img: np.ndarray, rng: np.random.Generator, sigma: float, monochrome: bool) -> np.ndarray:
    """Noise of std ``sigma`` (0–255 scale) shaped like ``img``; one field shared by the channels when
    ``monochrome``."""
    h, w, c = img.shape
    if monochrome and c > 1:
        return expand(standard_normal(rng, (h, w)) * np.float32(sigma / 255.0), c)
    noise = standard_normal(rng, img.shape)
    noise *= np.float32(sigma / 255.0)
    return noise


def gaussian_noise(img: np.ndarray, sigma: float, rng: np.random.Generator,
                   monochrome: bool = False) -> np.ndarray:
    """Additive Gaussian noise, ``sigma`` on the 0–255 scale, independent per channel (one field shared by
    the channels when ``monochrome``)."""
    return img + _noise_field(img, rng, sigma, monochrome)


def speckle_noise(img: np.ndarray, sigma: float, rng: np.random.Generator,
                  monochrome: bool = False) -> np.ndarray:
    """Speckle (multiplicative) noise ``img · (1 + n)``, std of ``n`` = ``sigma`` / 255."""
    return img + img * _noise_field(img, rng, sigma, monochrome)


_GRAIN_MIX = ((0.3 * np.eye(3) + np.full((3, 3), 1.0 / 3.0)) / np.sqrt(0.09 + 0.2 + 1 / 3)).astype(np.float32)
"""Channel mixing of colour grain: 0.3 · own layer + the mean of the three, renormalised to unit variance
(channel correlation ≈ 0.86: colour-film grain is mostly luminance, with a little chroma)."""


def film_grain(img: np.ndarray, strength: float, size: float, rng: np.random.Generator,
               monochrome: bool = False) -> np.ndarray:
    """Film grain: spatially correlated noise (Gaussian-blurred with sigma ``size``, renormalised), strongest
    in mid-grey — std ``strength · 2·sqrt(y(1-y))`` where y is the luma. Colour film gets an independent
    field per dye layer, ``monochrome`` film one shared field. Temporally independent (new per call)."""
    h, w, c = img.shape
    nc = 1 if monochrome or c == 1 else c
    field = standard_normal(rng, (h, w, nc) if nc > 1 else (h, w))
    if size > 0.3:
        k = cv2.getGaussianKernel(int(2 * np.ceil(3 * size) + 1), size).ravel()
        field = cv2.sepFilter2D(field, -1, k, k, borderType=cv2.BORDER_REFLECT)
        field *= np.float32(1.0 / float((k**2).sum()))  # back to unit std
    if nc == 3:  # the three dye layers' grain overlaps: correlate the channels
        field = cv2.transform(field, _GRAIN_MIX)
    luma = rgb_to_luma(img)
    amp = np.sqrt(np.clip(luma * (1.0 - luma), 0.0, 0.25))
    amp *= np.float32(2.0 * strength)
    if nc == 1:
        return img + expand(field * amp, c)
    return img + field * expand(amp, c)


# ---------------------------------------------------------------- blur and resampling


def blur_kernel(sigma_x: float, sigma_y: float, angle: float) -> np.ndarray:
    """Normalised anisotropic Gaussian kernel (k, k) float32: sigmas along its own axes, rotated by ``angle``
    radians; isotropic when the sigmas are equal."""
    # ±2.5σ holds 98.8% of the mass per axis (renormalised below) and keeps σ ≤ 2 px within 11×11, above
    # which OpenCV's filter2D switches to a several-times slower DFT path
    r = int(np.ceil(2.5 * max(sigma_x, sigma_y, 0.4)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * xx + s * yy, -s * xx + c * yy
    k = np.exp(-0.5 * ((u / max(sigma_x, 1e-3)) ** 2 + (v / max(sigma_y, 1e-3)) ** 2))
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma_x: float, sigma_y: float | None = None,
                  angle: float = 0.0) -> np.ndarray:
    """Gaussian blur, isotropic (``sigma_y`` None or equal) or anisotropic (rotated by ``angle`` radians)."""
    if sigma_y is None or abs(sigma_x - sigma_y) < 1e-3:
        return _like(cv2.GaussianBlur(img, (0, 0), sigma_x, borderType=cv2.BORDER_REFLECT), img)
    kernel = blur_kernel(sigma_x, sigma_y, angle)
    return _like(cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT), img)


def resample(img: np.ndarray, scale: float, down: str = "area", up: str = "linear") -> np.ndarray:
    """Downsample by ``scale`` (< 1) with interpolation ``down``, then back to the input size with ``up``."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)),
                       interpolation=INTERPOLATIONS[down])
    return _like(cv2.resize(small, (w, h), interpolation=INTERPOLATIONS[up]), img)


# ---------------------------------------------------------------- compression


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip at ``quality`` (cv2.imencode). uint8, uint16 or float in, same dtype and shape out.
    RGB is swapped to OpenCV's BGR for the codec so its luma/chroma split is the right one."""
    u8 = img if img.dtype == np.uint8 else from_float(to_float(img), np.uint8)
    color = u8.shape[-1] == 3
    src = cv2.cvtColor(u8, cv2.COLOR_RGB2BGR) if color else np.ascontiguousarray(u8[..., 0])
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    out = cv2.cvtColor(dec, cv2.COLOR_BGR2RGB) if color else dec[..., None]
    if img.dtype == np.uint8:
        return out
    return from_float(to_float(out), img.dtype)


# ---------------------------------------------------------------- tone and colour


def color_jitter(img: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """Contrast about the frame's mean, then brightness as a gain (the paper's colour jitter)."""
    mean = np.float32(img.mean())
    return (img - mean) * np.float32(contrast * brightness) + np.float32(mean * brightness)


def flicker(img: np.ndarray, gain: float, offset: float, vignette: np.ndarray | None = None) -> np.ndarray:
    """Per-frame exposure wobble ``img · gain (· vignette) + offset``; ``vignette`` (H, W) or (H, W, C)."""
    if vignette is None:
        return img * np.float32(gain) + np.float32(offset)
    if vignette.ndim == 2:
        vignette = expand(vignette, img.shape[-1])
    return img * (vignette * np.float32(gain)) + np.float32(offset)


def vignette_map(height: int, width: int, strength: float) -> np.ndarray:
    """(H, W) float32 gain: 1 at the centre, ``1 - strength`` in the corners (smooth, quartic in radius)."""
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    r2 = (x * x + y * y) / 2.0
    return (1.0 - strength * r2 * r2 * (2.0 - r2)).astype(np.float32)


def _color_matrix(img: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Per-pixel affine colour map ``matrix @ rgb + offset`` in one OpenCV pass."""
    return cv2.transform(img, np.hstack([matrix, offset[:, None]]).astype(np.float32))


def to_monochrome(img: np.ndarray, tint: float = 0.0) -> np.ndarray:
    """Black-and-white conversion keeping C; ``tint`` in [0, 1] blends towards sepia (RGB only)."""
    if img.shape[-1] == 1:
        return img.copy()
    sepia = np.array([1.0 + 0.12 * tint, 1.0 - 0.02 * tint, 1.0 - 0.25 * tint], np.float32)
    return _color_matrix(img, np.outer(sepia, LUMA_WEIGHTS), np.zeros(3, np.float32))


def fade_colors(img: np.ndarray, amount: float, cast: tuple[float, float, float]) -> np.ndarray:
    """Dye fading: saturation and contrast drop, blacks lift and a colour ``cast`` (RGB gains) creeps in, all
    in proportion to ``amount`` in [0, 1]. Grey frames only lose contrast."""
    a = float(amount)
    if img.shape[-1] == 1:
        return img * np.float32(1 - 0.25 * a) + np.float32(0.1 * a)
    keep = 1.0 - 0.7 * a  # saturation kept: rgb → luma + keep · (rgb - luma)
    saturation = keep * np.eye(3) + (1.0 - keep) * np.outer(np.ones(3), LUMA_WEIGHTS)
    gains = 1.0 + a * (np.asarray(cast, np.float64) - 1.0)
    return _color_matrix(img, gains[:, None] * (1 - 0.25 * a) * saturation, gains * 0.1 * a)


# ---------------------------------------------------------------- geometry


def gate_weave(img: np.ndarray, dx: float, dy: float, angle: float) -> np.ndarray:
    """Translate by (dx, dy) pixels and rotate by ``angle`` degrees about the centre (edges reflected)."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    m[:, 2] += (dx, dy)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return _like(out, img)


# ---------------------------------------------------------------- contaminant blending


def blend(img: np.ndarray, texture: np.ndarray, opacity: float, mode: str) -> np.ndarray:
    """Blend a contaminant ``texture`` (H, W) in [0, 1] onto ``img`` with ``opacity`` (paper: [0.6, 1.0]).

    ``mode``: "add" (bright defect), "subtract" (dark defect) or "multiply" (dark, proportional to the
    image: ``img · (1 - opacity · texture)``). uint8 or float32 in, same dtype and shape out (clipped).
    """
    if mode not in BLEND_MODES:
        raise ValueError(f"blend mode must be one of {BLEND_MODES}, got {mode!r}")
    zero = np.zeros(texture.shape, np.float32)
    layers = {m: zero for m in BLEND_MODES}
    layers[mode] = texture.astype(np.float32) * np.float32(opacity)
    out = blend_layers(to_float(img), layers["add"], layers["subtract"], layers["multiply"])
    return from_float(np.clip(out, 0.0, 1.0), img.dtype)


def blend_layers(img: np.ndarray, add: np.ndarray, sub: np.ndarray, mul: np.ndarray,
                 stain: np.ndarray | None = None, stain_tint: np.ndarray | None = None) -> np.ndarray:
    """All blend modes at once: ``img · (1 - mul) · (1 - stain · tint) + add - sub``.

    Layers are (H, W) float32 that already carry their opacity; ``stain`` is a multiply layer whose
    absorption differs per channel by ``stain_tint`` (C,) (yellow-brown stains; ignored for grey frames).
    Not clipped; always a new array; empty layers cost nothing.
    """
    c = img.shape[-1]
    absorb = None
    if mul.any():
        absorb = mul
    if stain is not None and stain.any():
        s = expand(stain, c)
        if stain_tint is not None and c == 3:
            s = cv2.transform(s, np.diag(np.asarray(stain_tint, np.float32)))
        keep = 1.0 - s if absorb is None else (1.0 - s) * expand(1.0 - absorb, c)
    else:
        keep = None if absorb is None else expand(1.0 - absorb, c)
    out = img if keep is None else img * keep
    if add.any() or sub.any():
        out = out + expand(add - sub, c)
    return out.copy() if out is img else out
