"""A network's PSNR-t gain over the classical restorer on a bench suite's windows, cut to centre crops of
several sizes: the same content and the same damage (degraded at full size, as the bench does), only the frame
size changes. Session 8 asked whether the gains a network shows on training crops (128–192 px) fail to reach
whole frames because of the frame size; this measures it.

    python benchmarks/window_gap.py --weights runs/R7-400.safetensors [--suite presets-train] [--frames 12] \
        [--sizes 144,256,0]

Prints one line per (window, preset, size) and the mean gain per size and per (size, preset); size 0 = the
whole frame. Both methods see the same centre crop of the degraded frames (RTN through ``RTNEngine``, as
``oldfilm restore`` runs it; the classical restorer through ``restore_stream``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from oldfilm.bench.config import SUITES
from oldfilm.bench.suite import eval_pair
from oldfilm.io.sources import cache_dir
from oldfilm.models.weights import load_model
from oldfilm.restore.api import restore_stream
from oldfilm.restore.engine import EngineConfig, RTNEngine
from oldfilm.train.validate import centre_crop, score


def centre(clip: np.ndarray, size: int) -> np.ndarray:
    """The centre ``size`` × ``size`` crop of every frame of a (T, H, W) clip; 0: all of it."""
    return np.stack([centre_crop(f, (size, size)) for f in clip]) if size else np.ascontiguousarray(clip)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--suite", default="presets-train", help="a gray bench suite (default: training windows)")
    p.add_argument("--frames", type=int, default=12, help="first frames of each window")
    p.add_argument("--sizes", default="144,256,0", help="crop sides (0: the whole frame)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    suite = SUITES[args.suite]
    sizes = [int(s) for s in args.sizes.split(",")]
    engine = RTNEngine(load_model(args.weights).eval(), EngineConfig(scenes=False, threads=args.threads))
    gains: dict[tuple[int, str], list[float]] = {}
    for window in suite.windows:
        for preset in suite.presets:
            clean, degraded = eval_pair(window, preset, suite.seed, cache_dir() / "bench")
            clean, degraded = clean[: args.frames, ..., 0], degraded[: args.frames, ..., 0]
            for size in sizes:
                c, d = centre(clean, size), centre(degraded, size)
                classical = np.stack([f.reshape(f.shape[:2]) for f in restore_stream(list(d), "classical")])
                rtn = np.stack(list(engine.run(list(d))))
                a, b = score(classical, c)["psnr_tone"], score(rtn, c)["psnr_tone"]
                gains.setdefault((size, preset), []).append(b - a)
                print(f"{window.clip} {window.start} {preset:6s} {size or 'full':>4}  classical {a:.2f}  rtn {b:.2f}"
                      f"  gain {b - a:+.2f}", flush=True)
    for size in sizes:
        per = {pr: float(np.mean(gains[size, pr])) for pr in suite.presets}
        print(f"size {size or 'full'}: mean gain {np.mean(list(per.values())):+.3f}  "
              + "  ".join(f"{pr} {g:+.3f}" for pr, g in per.items()))


if __name__ == "__main__":
    main()
