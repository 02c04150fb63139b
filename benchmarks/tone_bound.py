"""How much of the benchmark's error is global tone? PSNR after an *oracle* per-clip tone alignment.

The degradation presets change a clip's exposure, contrast (fading) and corner brightness (vignetting) with
random factors drawn once per video; nothing in the frames says what the true exposure was. This script
scores the input and the classical restoration of every ``oldfilm bench`` clip as they are, then after the
best per-clip mapping onto the clean clip fitted *with the clean clip in hand* (least squares):

* ``affine``: ``g · x + o`` (one gain and offset for the clip): the benchmark's PSNR-t;
* ``affine+vignette``: ``g · x / V_s + o`` with the degradation model's vignette shape ``V_s`` (``s`` searched).

The gap between a method's PSNR and its oracle-aligned PSNR is error that no method can remove without a
prior on the true exposure; the target of issue #7 is measured against it in docs/model-card.md.

    python benchmarks/tone_bound.py              # markdown table on stdout (≈ 2 min on 2 cores)
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
from datetime import UTC, datetime

import numpy as np

from oldfilm.bench.suite import FULL, eval_pair, machine
from oldfilm.degrade.ops import vignette_map
from oldfilm.io.sources import cache_dir
from oldfilm.metrics import psnr, tone_aligned_psnr, tone_moments
from oldfilm.restore.api import restore_stream


def clip_psnr(x: np.ndarray, y: np.ndarray) -> float:
    """Mean per-frame PSNR (dB) of (T, H, W, C) float clips in [0, 1]."""
    return float(np.mean([psnr(a, b) for a, b in zip(x, y, strict=True)]))


def aligned_psnr(x: np.ndarray, y: np.ndarray, vignette: float = 0.0) -> float:
    """PSNR-t (``oldfilm.metrics.tone_aligned_psnr``, the bench's column) of ``x`` divided by the vignette
    shape ``V_s`` first: the least-squares ``g · x / V_s + o`` per clip."""
    if vignette:
        x = x / vignette_map(x.shape[1], x.shape[2], vignette)[None, :, :, None]
    return tone_aligned_psnr(np.stack([tone_moments(a, b) for a, b in zip(x, y, strict=True)]))


def best_vignette(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(PSNR, s) of the best affine+vignette alignment, ``s`` searched on a 0.05 grid (frames subsampled)."""
    sub = slice(None, None, 4)
    s = max(np.arange(0.0, 0.71, 0.05), key=lambda s: aligned_psnr(x[sub], y[sub], float(s)))
    return aligned_psnr(x, y, float(s)), float(s)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    cache = cache_dir() / "bench"
    print(f"# Oracle tone alignment of the `oldfilm bench` clips\n\n{machine()}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `python benchmarks/tone_bound.py`\n")
    print("| clip | preset | method | PSNR | + oracle affine | + oracle affine & vignette (s) |")
    print("|---|---|---|---|---|---|")
    for window in FULL.windows:
        for preset in FULL.presets:
            clean, degraded = eval_pair(window, preset, FULL.seed, cache)
            y = clean.astype(np.float32) / 255
            restored = np.stack([np.asarray(f).reshape(degraded[0].shape)
                                 for f in restore_stream(iter(list(degraded)), "classical")])
            for name, clip in (("input", degraded), ("oldfilm-classical", restored)):
                x = clip.astype(np.float32) / 255
                pv, s = best_vignette(x, y)
                print(f"| {window.variant} {window.start}–{window.start + window.frames - 1} | {preset} | {name} | "
                      f"{clip_psnr(x, y):.2f} | {aligned_psnr(x, y):.2f} | {pv:.2f} ({s:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
