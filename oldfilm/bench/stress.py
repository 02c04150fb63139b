"""The stress suite's damage: a second degradation family, independent of ``oldfilm.degrade``.

``oldfilm.degrade`` is what the learned restorer trains on (and what the classical restorer was tuned beside);
this module is written apart from it, from how real transfers of old film look, and lives in ``bench`` so that
nothing in ``train`` can import it. Per clip, in the order the damage happens:

1. gate weave — the frame wanders by a smooth sub-pixel random walk (projector/printer gate);
2. flicker — a low-order gain field over the frame (tilt and vignette that change from frame to frame) that
   also breathes slowly (a sinusoid of a few frames' period), plus an offset: not one gain per frame;
3. dirt and dust — irregular dark (dirt) and bright (dust) specks that stay at one place for 2–3 frames (dirt
   on the gate or the scanner's glass, not on a single frame), so a 3-frame median keeps them;
4. line scratches — thin vertical lines whose column wanders slowly;
5. grain — clumped: white noise blurred to a correlation length of ~1–2 pixels, signal dependent, new per
   frame (a white-noise estimator such as Immerkær's sees a fraction of it);
6. soft scan — Gaussian blur of a telecine transfer;
7. compression of the digitised copy — JPEG at low quality (8×8 blocking), per frame.

Randomness comes through an explicit ``numpy.random.Generator``; the clean clip is gray (T, H, W, 1) uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class StressConfig:
    """Strengths of the stress damage (ranges are drawn per clip).

    Attributes:
        weave_px: standard deviation of the gate-weave offset, pixels.
        flicker_breath: amplitude of the breathing gain (a sinusoid over time).
        flicker_noise: standard deviation of the frame-to-frame gain jitter.
        flicker_tilt: standard deviation of the horizontal / vertical gain slopes across the frame.
        vignette: (min, max) of the corner darkening, changing over time inside that range.
        dirt_per_frame: mean number of new specks per frame (per 100 000 pixels).
        dirt_radius: (min, max) speck radius, pixels.
        scratches: number of wandering line scratches.
        grain: (min, max) grain standard deviation at mid-gray, 0–1 scale (before the scan blur).
        grain_size: (min, max) correlation length of the grain, pixels.
        scan_blur: (min, max) Gaussian sigma of the soft scan, pixels.
        jpeg_quality: (min, max) JPEG quality of the digitised copy.
    """

    weave_px: float = 0.6
    flicker_breath: float = 0.06
    flicker_noise: float = 0.03
    flicker_tilt: float = 0.08
    vignette: tuple[float, float] = (0.05, 0.2)
    dirt_per_frame: float = 6.0
    dirt_radius: tuple[float, float] = (1.0, 3.5)
    scratches: int = 2
    grain: tuple[float, float] = (0.05, 0.08)
    grain_size: tuple[float, float] = (1.0, 1.6)
    scan_blur: tuple[float, float] = (0.7, 1.1)
    jpeg_quality: tuple[int, int] = (35, 55)


STRESS = StressConfig()


def _ar1(rng: np.random.Generator, n: int, rho: float, std: float) -> np.ndarray:
    """A stationary AR(1) series of length ``n`` with lag-1 correlation ``rho`` and standard deviation ``std``."""
    x = np.empty(n)
    x[0] = rng.normal(0, std)
    innov = std * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + rng.normal(0, innov)
    return x


def _weave(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _flicker_fields(rng: np.random.Generator, t: int, h: int, w: int, cfg: StressConfig) -> np.ndarray:
    """(T, H, W) float32 gain fields: breathing global gain × tilt planes × a vignette of varying depth."""
    period = rng.uniform(4.0, 9.0)
    phase = rng.uniform(0, 2 * np.pi)
    gain = 1 + cfg.flicker_breath * np.sin(2 * np.pi * np.arange(t) / period + phase) \
        + _ar1(rng, t, 0.3, cfg.flicker_noise)
    tx, ty = _ar1(rng, t, 0.7, cfg.flicker_tilt), _ar1(rng, t, 0.7, cfg.flicker_tilt)
    depth = rng.uniform(*cfg.vignette) + _ar1(rng, t, 0.6, 0.03)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = x / max(w - 1, 1) - 0.5, y / max(h - 1, 1) - 0.5
    r2 = (x**2 + y**2) / 0.5
    return np.stack([(g + a * x + b * y) * (1 - max(d, 0.0) * r2)
                     for g, a, b, d in zip(gain, tx, ty, depth, strict=True)]).astype(np.float32)


def _dirt_layers(rng: np.random.Generator, t: int, h: int, w: int, cfg: StressConfig) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W) float32 (alpha, value): specks, each living 2–3 frames at one place (±0.5 px)."""
    alpha = np.zeros((t, h, w), np.float32)
    value = np.zeros((t, h, w), np.float32)
    rate = cfg.dirt_per_frame * h * w / 1e5
    for start in range(t):
        for _ in range(rng.poisson(rate)):
            life = int(rng.integers(2, 4))
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            rad = rng.uniform(*cfg.dirt_radius)
            n = int(rng.integers(5, 9))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            rr = rad * rng.uniform(0.5, 1.3, n)
            dark = rng.random() < 0.7
            level = rng.uniform(0.0, 0.15) if dark else rng.uniform(0.85, 1.0)
            opacity = rng.uniform(0.6, 1.0)
            for k in range(start, min(start + life, t)):
                jx, jy = rng.uniform(-0.5, 0.5, 2)
                pts = np.stack([cx + jx + rr * np.cos(ang), cy + jy + rr * np.sin(ang)], 1)
                mask = np.zeros((h, w), np.uint8)
                cv2.fillPoly(mask, [np.round(pts * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
                a = mask.astype(np.float32) / 255 * opacity
                sel = a > alpha[k]
                alpha[k][sel] = a[sel]
                value[k][sel] = level
    return alpha, value


def _scratch_layer(rng: np.random.Generator, t: int, h: int, w: int, cfg: StressConfig) -> np.ndarray:
    """(T, H, W) float32 additive line scratches whose column wanders (random-walk velocity)."""
    out = np.zeros((t, h, w), np.float32)
    xs = np.arange(w, dtype=np.float32)[None, :]
    for _ in range(cfg.scratches):
        x = rng.uniform(0.1 * w, 0.9 * w)
        v = rng.normal(0, 0.4)
        width = rng.uniform(0.6, 1.2)
        amp = rng.uniform(0.08, 0.2) * (1 if rng.random() < 0.6 else -1)
        along = 1 + 0.3 * np.sin(np.arange(h) / rng.uniform(8, 30) + rng.uniform(0, 6))[:, None]
        for k in range(t):
            v = 0.9 * v + rng.normal(0, 0.15)
            x = float(np.clip(x + v, 2, w - 3))
            out[k] += amp * along * np.exp(-0.5 * ((xs - x) / width) ** 2)
    return out


def _grain(rng: np.random.Generator, h: int, w: int, size: float) -> np.ndarray:
    """(H, W) float32 unit-variance clumped grain: white noise blurred to correlation length ``size``."""
    g = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), size)
    return g / max(float(g.std()), 1e-6)


def stress_clip(clean: np.ndarray, rng: np.random.Generator, cfg: StressConfig = STRESS) -> np.ndarray:
    """Damage a clean gray clip (T, H, W, 1) uint8 as a worn print in a poor transfer; same shape and dtype."""
    if clean.ndim != 4 or clean.shape[3] != 1 or clean.dtype != np.uint8:
        raise ValueError(f"stress_clip expects (T, H, W, 1) uint8, got {clean.shape} {clean.dtype}")
    t, h, w, _ = clean.shape
    wx, wy = _ar1(rng, t, 0.5, cfg.weave_px), _ar1(rng, t, 0.5, cfg.weave_px * 0.7)
    gains = _flicker_fields(rng, t, h, w, cfg)
    offsets = _ar1(rng, t, 0.3, 0.015)
    alpha, value = _dirt_layers(rng, t, h, w, cfg)
    lines = _scratch_layer(rng, t, h, w, cfg)
    grain_std, grain_size = rng.uniform(*cfg.grain), rng.uniform(*cfg.grain_size)
    blur = rng.uniform(*cfg.scan_blur)
    quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    out = np.empty_like(clean)
    for k in range(t):
        img = _weave(clean[k, :, :, 0].astype(np.float32) / 255, wx[k], wy[k])
        img = img * gains[k] + offsets[k]
        img = img * (1 - alpha[k]) + value[k] * alpha[k] + lines[k]
        lum = np.clip(img, 0, 1)
        img = img + grain_std * (0.5 + 2 * lum * (1 - lum)) * _grain(rng, h, w, grain_size)
        img = cv2.GaussianBlur(img, (0, 0), blur)
        u8 = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out[k, :, :, 0] = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out
