"""Running a method on frames and folding its scores into report rows: ``measure`` (seconds, peak memory)
and ``Result`` (one row, frame-weighted means over windows)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from oldfilm.metrics.clip import ClipScores

Frames = list[np.ndarray]


@dataclass
class Result:
    """One (variant, preset, method) row of the report; metrics are frame-weighted over windows."""

    variant: str
    preset: str
    method: str
    frames: int = 0
    psnr: float | None = None
    ssim: float | None = None
    ewarp: float | None = None
    flicker: float | None = None
    niqe: float | None = None
    brisque: float | None = None
    psnr_tone: float | None = None
    sec_per_frame: float = 0.0
    peak_mib: float | None = None
    note: str = ""
    _weights: dict[str, float] = field(default_factory=dict, repr=False)

    def add(self, scores: ClipScores, seconds: float, peak_mib: float | None) -> None:
        """Fold one window's scores into the running frame-weighted means."""
        n = scores.frames
        for key in ("psnr", "ssim", "ewarp", "flicker", "niqe", "brisque", "psnr_tone"):
            value = getattr(scores, key)
            if value is None:
                continue
            w = self._weights.get(key, 0.0)
            old = getattr(self, key) or 0.0
            setattr(self, key, (old * w + value * n) / (w + n))
            self._weights[key] = w + n
        self.sec_per_frame = (self.sec_per_frame * self.frames + seconds) / (self.frames + n)
        self.frames += n
        if peak_mib is not None:
            self.peak_mib = max(self.peak_mib or 0.0, peak_mib)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_mib() -> float | None:
    """Resident memory of this process in MiB (Linux), else None."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return None


def measure(run: Callable[[Frames], Frames], frames: Frames) -> tuple[Frames, float, float | None]:
    """Run a method; returns (output, seconds, peak resident-memory growth in MiB, sampled every 10 ms)."""
    base = _rss_mib()
    peak = [base or 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _rss_mib() or 0.0)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        out = run(frames)
    finally:
        seconds = time.perf_counter() - t0
        done.set()
        thread.join()
    peak[0] = max(peak[0], _rss_mib() or 0.0)
    return out, seconds, (peak[0] - base if base is not None else None)
