"""Tune the classical restorer on the stress damage: PSNR-t and E_warp per clip for given options (any suite
of ``oldfilm.bench.suite.SUITES``: every preset × window, in that order).

    python benchmarks/stress_tune.py [--suite stress-train] [--frames 16] '{"radius": 3}' '{...}'

Prints the mean over every (preset, window) pair, each pair's PSNR-t/E_warp, and per preset the mean over
windows (PSNR, PSNR-t, E_warp). ``--suite full`` with the pre-issue-15 settings as one JSON argument and ``{}``
as another is the non-regression check of docs/benchmark-stress.md.

Each JSON argument is a set of ``ClassicalConfig`` options (``{}``: the defaults); ``chain`` as an argument
runs the chain baseline instead. Tune on ``stress-train`` (windows of the training clips); the evaluation
clips (``stress``) are for the final report only.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from oldfilm.bench.baselines import deflicker_median_hqdn3d
from oldfilm.bench.suite import SUITES, MemoFlow, eval_pair
from oldfilm.io.sources import cache_dir
from oldfilm.metrics.clip import evaluate_clip
from oldfilm.restore.api import restore_stream


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default="stress-train")
    ap.add_argument("--frames", type=int, default=0, help="cut each window to this many frames (0: all)")
    ap.add_argument("--presets", default="", help="comma-separated presets (default: the suite's)")
    ap.add_argument("--windows", default="", help="comma-separated indices of the suite's windows to use")
    ap.add_argument("configs", nargs="+")
    args = ap.parse_args()
    cfg = SUITES[args.suite]
    if args.presets:
        cfg = replace(cfg, presets=tuple(args.presets.split(",")))
    windows = [replace(w, frames=args.frames) if args.frames else w for w in cfg.windows]
    if args.windows:
        windows = [windows[int(i)] for i in args.windows.split(",")]
    pairs = [eval_pair(w, p, cfg.seed, cache_dir() / "bench") for p in cfg.presets for w in windows]
    memo = [MemoFlow() for _ in windows]
    flows = [memo[i % len(windows)] for i in range(len(pairs))]
    for spec in args.configs:
        rows = []
        t0 = time.perf_counter()
        for (clean, degraded), flow in zip(pairs, flows, strict=True):
            if spec == "chain":
                out = deflicker_median_hqdn3d(list(degraded))
            else:
                out = [np.asarray(f).reshape(clean[0].shape)
                       for f in restore_stream(iter(degraded), "classical", **json.loads(spec))]
            s = evaluate_clip(out, list(clean), 0, estimator=flow)
            rows.append((s.psnr_tone, s.ewarp, s.flicker, s.psnr))
        m = np.mean(rows, axis=0)
        per = " ".join(f"{r[0]:.2f}/{r[1]:.4f}" for r in rows)
        print(f"{spec:50s} mean PSNR-t {m[0]:.2f} PSNR {m[3]:.2f} E_warp {m[1]:.4f} flicker {m[2]:.4f} | {per} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        n = len(windows)
        for i, preset in enumerate(cfg.presets):
            part = np.mean(rows[i * n:(i + 1) * n], axis=0)
            print(f"    {preset:8s} PSNR {part[3]:.2f}  PSNR-t {part[0]:.2f}  E_warp {part[1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
