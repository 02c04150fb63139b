"""Do the no-reference scores reward restoration? NIQE and BRISQUE (lower = "more natural") of the clean
frames, the damaged frames and the classical restoration, on the benchmark's windows where the clean frames
are known.

    python benchmarks/noref_vs_clean.py [--suite full] [--every 6]

Issue 15 asks that the real 1906 film's NIQE and BRISQUE improve over its input. This script checks whether
that is a sound target: if the damaged frames score better than the clean ones they were made from, a
restorer that brings a frame back towards its clean original must *raise* the score, and "better than the
input" measures how much grain is left, not how well the film was restored. Prints one row per (window,
preset) and the mean per preset.
"""

from __future__ import annotations

import argparse

import numpy as np

from oldfilm.bench.suite import SUITES, eval_pair
from oldfilm.colorspace import from_float, rgb_to_luma
from oldfilm.io.sources import cache_dir
from oldfilm.metrics.noref import brisque, niqe
from oldfilm.restore.api import restore_stream


def _gray(frames: np.ndarray) -> list[np.ndarray]:
    return [f[..., 0] if f.shape[-1] == 1 else from_float(rgb_to_luma(f), np.uint8) for f in frames]


def _scores(frames: list[np.ndarray], every: int) -> tuple[float, float]:
    picks = frames[::every]
    return float(np.mean([niqe(f) for f in picks])), float(np.mean([brisque(f) for f in picks]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="full", help="a bench suite (oldfilm.bench.suite.SUITES) with presets")
    ap.add_argument("--every", type=int, default=6, help="score every n-th frame")
    args = ap.parse_args()
    cfg = SUITES[args.suite]
    per: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print("| window | preset | NIQE clean | damaged | classical | BRISQUE clean | damaged | classical |")
    print("|---|---|---|---|---|---|---|---|")
    for preset in cfg.presets:
        for w in cfg.windows:
            clean, degraded = eval_pair(w, preset, cfg.seed, cache_dir() / "bench")
            restored = [np.asarray(f).reshape(degraded.shape[1:]) for f in restore_stream(iter(degraded), "classical")]
            rows = [_scores(_gray(x), args.every) for x in (clean, degraded, np.stack(restored))]
            for name, s in zip(("clean", "damaged", "classical"), rows, strict=True):
                per.setdefault((preset, name), []).append(s)
            label = f"{w.clip} {'colour' if w.colour else 'gray'} {w.start}"
            print(f"| {label} | {preset} | " + " | ".join(f"{r[0]:.2f}" for r in rows) + " | "
                  + " | ".join(f"{r[1]:.1f}" for r in rows) + " |", flush=True)
    print()
    for preset in cfg.presets:
        means = [np.mean(per[(preset, n)], axis=0) for n in ("clean", "damaged", "classical")]
        print(f"{preset}: NIQE clean / damaged / classical " + " / ".join(f"{m[0]:.2f}" for m in means)
              + ";  BRISQUE " + " / ".join(f"{m[1]:.1f}" for m in means))


if __name__ == "__main__":
    main()
