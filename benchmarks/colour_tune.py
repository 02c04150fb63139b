"""Tune the colouriser on the TRAINING clips only (bigbuckbunny, city): the colour benchmark's harness
(``oldfilm.bench.colorize``) on windows of the training clips, baselines once, then named variants of
``ColorizeConfig``. The evaluation clips are never read here.

    OMP_NUM_THREADS=1 python benchmarks/colour_tune.py [--mode first] [--frames 32] [variant ...]
    (no names: all variants)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from functools import partial

from oldfilm.bench.colorize import MODES, TRAIN, ColorBenchConfig, evaluate, ours
from oldfilm.colorize.adapt import AdaptConfig
from oldfilm.colorize.api import ColorizeConfig
from oldfilm.colorize.propagate import PropagateConfig
from oldfilm.io.sources import CLIPS

_P = PropagateConfig(noise_gain=0.0, fill_reach=0.0)
OFF = ColorizeConfig(refine="off", propagate=_P, adapt=AdaptConfig(still=0.0, unsure=0.0))
STILL = replace(OFF, adapt=AdaptConfig(still=1.0))
VARIANTS: dict[str, ColorizeConfig] = {
    "before": OFF,
    "no-prior": replace(OFF, prior=0.0),
    "no-direct": replace(OFF, propagate=replace(OFF.propagate, direct=0.0)),
    "no-fill": replace(OFF, propagate=replace(OFF.propagate, fill_radius=0)),
    "unsure.3": replace(OFF, adapt=AdaptConfig(unsure=0.3)),
    "still-lightness-only": replace(OFF, adapt=AdaptConfig(still=1.0, still_motion=0.0)),
    "still": STILL,
    "still-gated": replace(OFF, adapt=AdaptConfig(still=1.0, still_gate=1.0, still_motion=0.0)),
    "still-gated-noise1": replace(OFF, adapt=AdaptConfig(still=1.0, still_gate=1.0, still_motion=0.0),
                                  propagate=replace(OFF.propagate, noise_gain=1.0)),
    "noise1": replace(OFF, propagate=replace(OFF.propagate, noise_gain=1.0)),
    "smooth.7": replace(OFF, smooth=0.7),
    "shipped": ColorizeConfig(refine="off"),
    "noise-only": ColorizeConfig(refine="off", propagate=PropagateConfig(fill_reach=0.0)),
    "reach.1": ColorizeConfig(refine="off", propagate=PropagateConfig(fill_reach=0.1)),
    "reach.3": ColorizeConfig(refine="off", propagate=PropagateConfig(fill_reach=0.3)),
    "still+noise1": replace(STILL, propagate=replace(OFF.propagate, noise_gain=1.0)),
    "still+smooth.7": replace(STILL, smooth=0.7),
}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", action="append", choices=MODES)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--baselines", action="store_true", help="also run copy-key and flow-only")
    ap.add_argument("--clips", default=",".join(TRAIN), help="comma-separated training windows")
    ap.add_argument("variants", nargs="*")
    a = ap.parse_args(argv)
    clips = tuple(a.clips.split(","))
    assert all(CLIPS[c.partition("@")[0].partition("!")[0]].role == "train" for c in clips)
    cfg = ColorBenchConfig(clips=clips, frames=a.frames, modes=tuple(a.mode or MODES),
                           methods=("copy-key", "flow-only") if a.baselines else ())
    extra = {n: partial(ours, config=VARIANTS[n]) for n in (a.variants or VARIANTS)}
    t0 = time.time()
    res = evaluate(cfg, say=lambda s: print(s, flush=True), extra=extra)
    for mode in cfg.modes:
        print(f"## {mode}")
        for n, per in res["per_clip"][mode].items():
            m = res["mean"][mode][n]
            print(f"{n:16s} mean {m['psnr']:.2f} dE {m['delta_e']:.2f} fl {m['flicker']:.3f} | "
                  + " ".join(f"{c} {v['psnr']:.2f}" for c, v in per.items()))
    print(f"{(time.time() - t0) / 60:.1f} min; s/frame " + ", ".join(f"{k} {v:.3f}" for k, v in res["seconds"].items()))


if __name__ == "__main__":
    main(sys.argv[1:])
