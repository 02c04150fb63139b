"""Small synthetic test footage, made in the tests (numpy + PyAV): nothing is downloaded or committed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def texture(h: int, w: int, rng: np.random.Generator, channels: int = 1, sigma: float = 3.0) -> np.ndarray:
    """A smooth random texture (H, W, C) uint8 spanning 0–255: something flow can lock onto."""
    planes = []
    for _ in range(channels):
        t = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), sigma)
        planes.append(cv2.normalize(t, None, 0, 255, cv2.NORM_MINMAX))
    return np.stack(planes, -1).astype(np.uint8)


def moving_clip(t: int = 12, h: int = 64, w: int = 80, channels: int = 1, step: int = 2, seed: int = 0) -> np.ndarray:
    """(T, H, W, C) uint8: a texture panning right by ``step`` pixels per frame."""
    rng = np.random.default_rng(seed)
    big = texture(h, w + step * t, rng, channels)
    return np.stack([big[:, step * i: step * i + w] for i in range(t)])


def add_dust(frames: np.ndarray, seed: int = 1, specks: int = 12) -> np.ndarray:
    """Dark and bright specks (radius 1–2) at random places in each frame, independent per frame."""
    rng = np.random.default_rng(seed)
    out = frames.copy()
    t, h, w, c = frames.shape
    for i in range(t):
        img = np.ascontiguousarray(out[i])
        for _ in range(specks):
            y, x = int(rng.integers(3, h - 3)), int(rng.integers(3, w - 3))
            cv2.circle(img, (x, y), int(rng.integers(1, 3)), (int(rng.choice([0, 255])),) * c, -1)
        out[i] = img.reshape(out[i].shape)
    return out


def write_clip(path: Path, frames: np.ndarray, fps: int = 25, audio: bool = False, codec: str = "libx264",
               pts: list[int] | None = None, rotation: int = 0, options: dict[str, str] | None = None,
               fmt: str | None = None) -> Path:
    """Encode (T, H, W, C) uint8 frames; optionally a sine audio track, explicit pts (time base 1/1000), a
    display rotation, encoder ``options`` (GOP size, B-frames: ``{"g": "8", "bf": "2"}``), a container
    format ``fmt`` (else from the suffix)."""
    c = av.open(str(path), "w", format=fmt)
    s = c.add_stream(codec, rate=fps, options=options or {})
    s.width, s.height = frames.shape[2], frames.shape[1]
    odd = s.width % 2 or s.height % 2
    s.pix_fmt = "bgr0" if codec == "ffv1" else ("yuv444p" if codec == "libx264" and odd else "yuv420p")
    if pts is not None:
        s.time_base = Fraction(1, 1000)
    if rotation:
        s.set_display_rotation(rotation)
    a = None
    if audio:
        a = c.add_stream("aac", rate=48000)
        a.layout = "mono"
    for i, f in enumerate(frames):
        rgb = np.repeat(f, 3, 2) if f.shape[2] == 1 else f
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if pts is not None:
            vf.pts, vf.time_base = pts[i], Fraction(1, 1000)
        for p in s.encode(vf):
            c.mux(p)
    if a is not None:
        n = int(48000 * len(frames) / fps)
        wave = (0.3 * np.sin(np.arange(n) / 8.0)).astype(np.float32)[None]
        for k in range(0, n, 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[:, k:k + 1024]), format="fltp", layout="mono")
            af.sample_rate, af.pts = 48000, k
            for p in a.encode(af):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 arrays (test helper; the metrics package has the real one)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))
