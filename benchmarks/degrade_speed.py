"""How fast the degradation model makes training clips: frames/s at 256×256, 7-frame clips, one thread.

Each clip gets a fresh seed and template, as in training (``degrade_clip(clip, rng, cfg)``). Reports
wall-clock frames/s and CPU-time frames/s (the latter is robust to other processes sharing the machine).

Usage: ``.venv/bin/python benchmarks/degrade_speed.py [--clips 60] [--size 256] [--presets paper medium]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one core

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from oldfilm.bench.suite import machine  # noqa: E402
from oldfilm.degrade import PRESETS, degrade_clip  # noqa: E402


def clean_clip(size: int, frames: int = 7, gray: bool = False) -> np.ndarray:
    """A 7-frame pan over a real photo (scikit-image's astronaut; smooth noise without scikit-image)."""
    try:
        from skimage.data import astronaut

        photo = astronaut()
    except ImportError:
        noise = np.random.default_rng(0).random((512, 512, 3), dtype=np.float32)
        photo = (cv2.GaussianBlur(noise, (0, 0), 4) * 255).astype(np.uint8)
    crop = 384
    out = [cv2.resize(photo[3 * t:3 * t + crop, 3 * t:3 * t + crop], (size, size),
                      interpolation=cv2.INTER_AREA) for t in range(frames)]
    clip = np.stack(out)
    return (clip @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.uint8) if gray else clip


def measure(preset: str, clip: np.ndarray, clips: int) -> tuple[float, float]:
    """(wall frames/s, CPU frames/s) over ``clips`` clips with seeds 0..clips-1."""
    cfg = PRESETS[preset]
    degrade_clip(clip, np.random.default_rng(10_000), cfg)  # warm-up (lookup tables, code paths)
    w0, c0 = time.perf_counter(), time.process_time()
    for seed in range(clips):
        degrade_clip(clip, np.random.default_rng(seed), cfg)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = clips * len(clip)
    return n / wall, n / cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=60)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--presets", nargs="+", default=["paper", "light", "medium", "heavy"])
    p.add_argument("--gray", action="store_true", help="1-channel clips instead of RGB")
    a = p.parse_args()
    cv2.setNumThreads(1)
    clip = clean_clip(a.size, gray=a.gray)
    print(f"degrade_clip, {a.clips} clips × 7 frames of {a.size}×{a.size}×{clip.shape[-1]}, one thread, "
          f"{machine()}, load average {os.getloadavg()[0]:.1f}")
    for preset in a.presets:
        wall, cpu = measure(preset, clip, a.clips)
        print(f"  {preset:<7} {wall:7.1f} frames/s wall   {cpu:7.1f} frames/s CPU time")


if __name__ == "__main__":
    main()
