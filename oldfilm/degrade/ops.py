"""Degradation operations: pure functions on one frame.

Convention:
    ``img``: numpy (H, W, C) with C = 1 (grey) or 3 (RGB), float32 in [0, 1], unless a function says it also
    takes uint8. Every function returns a new array of the same shape (and, where noted, dtype); none clips
    unless it says so (the pipeline clips once). Randomness comes in through an explicit ``rng``.
    Pixel sizes (sigma, shift) are output pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma, to_float

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


# ---------------------------------------------------------------- noise


def _noise_field(img: np.ndarray, rng: np.random.Generator, monochrome: bool) -> np.ndarray:
    h, w, c = img.shape
    return rng.standard_normal((h, w, 1 if monochrome else c), dtype=np.float32)


def gaussian_noise(img: np.ndarray, sigma: float, rng: np.random.Generator, monochrome: bool = False) -> np.ndarray:
    """Additive Gaussian noise, ``sigma`` on the 0–255 scale, independent per channel (one field shared by
    the channels when ``monochrome``)."""
    noise = _noise_field(img, rng, monochrome)
    noise *= np.float32(sigma / 255.0)
    return img + noise


def speckle_noise(img: np.ndarray, sigma: float, rng: np.random.Generator, monochrome: bool = False) -> np.ndarray:
    """Speckle (multiplicative) noise ``img · (1 + n)``, std of ``n`` = ``sigma`` / 255."""
    noise = _noise_field(img, rng, monochrome)
    noise *= np.float32(sigma / 255.0)
    return img + img * noise


def film_grain(img: np.ndarray, strength: float, size: float, rng: np.random.Generator,
               monochrome: bool = False) -> np.ndarray:
    """Film grain: spatially correlated noise (Gaussian-blurred with sigma ``size``, renormalised), strongest
    in mid-grey — std ``strength · 2·sqrt(y(1-y))`` where y is the luma. Colour film gets an independent
    field per dye layer, ``monochrome`` film one shared field."""
    h, w, c = img.shape
    nc = 1 if monochrome or c == 1 else c
    field = rng.standard_normal((h, w, nc), dtype=np.float32)
    if size > 0.3:
        k = cv2.getGaussianKernel(int(2 * np.ceil(3 * size) + 1), size).ravel()
        field = _like(cv2.sepFilter2D(field, -1, k, k, borderType=cv2.BORDER_REFLECT), field)
        field *= np.float32(1.0 / float((k**2).sum()))  # back to unit std
    luma = rgb_to_luma(img)
    amp = (2.0 * strength) * np.sqrt(np.clip(luma * (1.0 - luma), 0.0, 0.25))
    return img + field * amp[..., None]


# ---------------------------------------------------------------- blur and resampling


def blur_kernel(sigma_x: float, sigma_y: float, angle: float) -> np.ndarray:
    """Normalised anisotropic Gaussian kernel (k, k) float32: sigmas along its own axes, rotated by ``angle``
    radians; isotropic when the sigmas are equal."""
    r = int(np.ceil(3 * max(sigma_x, sigma_y, 0.3)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * xx + s * yy, -s * xx + c * yy
    k = np.exp(-0.5 * ((u / max(sigma_x, 1e-3)) ** 2 + (v / max(sigma_y, 1e-3)) ** 2))
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma_x: float, sigma_y: float | None = None, angle: float = 0.0) -> np.ndarray:
    """Gaussian blur, isotropic (``sigma_y`` None or equal) or anisotropic (rotated by ``angle`` radians)."""
    if sigma_y is None or abs(sigma_x - sigma_y) < 1e-3:
        return _like(cv2.GaussianBlur(img, (0, 0), sigma_x, borderType=cv2.BORDER_REFLECT), img)
    return _like(cv2.filter2D(img, -1, blur_kernel(sigma_x, sigma_y, angle), borderType=cv2.BORDER_REFLECT), img)


def resample(img: np.ndarray, scale: float, down: str = "area", up: str = "linear") -> np.ndarray:
    """Downsample by ``scale`` (< 1) with interpolation ``down``, then back up to the input size with ``up``."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)),
                       interpolation=INTERPOLATIONS[down])
    return _like(cv2.resize(small, (w, h), interpolation=INTERPOLATIONS[up]), img)


# ---------------------------------------------------------------- compression


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip at ``quality`` (cv2.imencode). uint8 or float32 in, same dtype and shape out.
    RGB is swapped to OpenCV's BGR for the codec so its luma/chroma split is the right one."""
    u8 = img if img.dtype == np.uint8 else from_float(img, np.uint8)
    bgr = u8[..., ::-1] if u8.shape[-1] == 3 else u8[..., 0]
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR if u8.shape[-1] == 3 else cv2.IMREAD_GRAYSCALE)
    out = dec[..., ::-1] if u8.shape[-1] == 3 else dec[..., None]
    out = np.ascontiguousarray(out)
    return out if img.dtype == np.uint8 else to_float(out).astype(img.dtype, copy=False)


# ---------------------------------------------------------------- tone and colour


def color_jitter(img: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """Contrast about the frame's mean, then brightness as a gain (the paper's colour jitter)."""
    mean = np.float32(img.mean())
    return (img - mean) * np.float32(contrast * brightness) + np.float32(mean * brightness)


def flicker(img: np.ndarray, gain: float, offset: float, vignette: np.ndarray | None = None) -> np.ndarray:
    """Per-frame exposure wobble ``img · gain (· vignette) + offset``; ``vignette`` (H, W) optional."""
    if vignette is None:
        return img * np.float32(gain) + np.float32(offset)
    return img * (vignette * np.float32(gain))[..., None] + np.float32(offset)


def vignette_map(height: int, width: int, strength: float) -> np.ndarray:
    """(H, W) float32 gain: 1 at the centre, ``1 - strength`` in the corners (smooth, quartic in radius)."""
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    r2 = (x * x + y * y) / 2.0
    return (1.0 - strength * r2 * r2 * (2.0 - r2)).astype(np.float32)


def to_monochrome(img: np.ndarray, tint: float = 0.0) -> np.ndarray:
    """Black-and-white conversion keeping C; ``tint`` in [0, 1] blends towards sepia (RGB only)."""
    if img.shape[-1] == 1:
        return img.copy()
    luma = rgb_to_luma(img)[..., None]
    sepia = np.array([1.0 + 0.12 * tint, 1.0 - 0.02 * tint, 1.0 - 0.25 * tint], np.float32)
    return luma * sepia


def fade_colors(img: np.ndarray, amount: float, cast: tuple[float, float, float]) -> np.ndarray:
    """Dye fading: saturation and contrast drop, blacks lift and a colour ``cast`` (RGB gains) creeps in, all
    in proportion to ``amount`` in [0, 1]. Grey frames only lose contrast."""
    a = np.float32(amount)
    if img.shape[-1] == 1:
        return img * (1 - 0.25 * a) + 0.1 * a
    luma = rgb_to_luma(img)[..., None]
    sat = luma + (img - luma) * (1 - 0.7 * a)
    gains = 1.0 + a * (np.asarray(cast, np.float32) - 1.0)
    return (sat * (1 - 0.25 * a) + 0.1 * a) * gains


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
                 mul_tint: np.ndarray | None = None) -> np.ndarray:
    """All three blend modes at once: ``img · (1 - mul · tint) + add - sub``; layers (H, W) float32 already
    carry their opacity; ``mul_tint`` (C,) makes stains coloured (None: neutral). Not clipped."""
    m = mul[..., None] if mul_tint is None else mul[..., None] * mul_tint
    return img * (1.0 - m) + (add - sub)[..., None]
