"""Does a guided network's gain over its guide hold on longer clips, and on the validation footage? The
per-clip PSNR gain over the guide (what ``LossConfig.relative`` trains and the benchmark scores) of one
network on clips of several lengths, from two sources:

- *train*: fresh draws from a run's training distribution (a seed no run uses; no long clips);
- *val*: 128×128 crops of the run's validation clips (the evaluation clip ``bikes``, each preset), the
  guide made on the whole 24-frame crop as the engine would.

    python benchmarks/length_gap.py --weights runs/quality-cpu-long/best.safetensors \
        --config quality-cpu-long --val-set runs/quality-cpu-long/val_set.npz [--lengths 5 12 24]

Session 6 found with it that run D's gain fell from +0.33 dB on 5-frame training clips to −0.25 dB on the
same clips 24 frames long: the recurrence drifts past the length it was trained on.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch

from oldfilm.models.weights import load_model
from oldfilm.restore.inputs import clip_flows, flow_estimator
from oldfilm.train.config import load_config
from oldfilm.train.data import TrainClips, classical_guide
from oldfilm.train.losses import clip_gain_db
from oldfilm.train.validate import load_val_set

CROPS = ((16, 64), (72, 256), (128, 256), (144, 496))
"""Top-left corners of the 128×128 validation crops (inside 272×640 frames)."""


def gain(model: torch.nn.Module, lq: np.ndarray, guide: np.ndarray, gt: np.ndarray) -> float:
    """The network's PSNR gain (dB) over ``guide`` on one (T, H, W) float clip, with the flows the network
    pins (``RTNConfig.flow_preset``), as the engine computes them."""
    fwd, bwd = clip_flows(lq, flow_estimator(model.cfg.flow_preset))
    x = torch.from_numpy(np.stack([lq, guide], axis=1))[None]
    with torch.no_grad():
        out = model(x, torch.from_numpy(fwd)[None], torch.from_numpy(bwd)[None])
    return float(clip_gain_db(out, x[:, :, -1:], torch.from_numpy(gt)[:, None][None]).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--config", required=True, help="the run's TRAIN_PRESETS name or JSON (its data)")
    ap.add_argument("--val-set", required=True, help="the run's val_set.npz")
    ap.add_argument("--lengths", type=int, nargs="+", default=[5, 12, 24])
    ap.add_argument("--clips", type=int, default=12, help="training draws per length")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.weights).eval()
    cfg = load_config(args.config)
    data = replace(cfg.data, long_prob=0.0, shard_count=0, flow_preset=model.cfg.flow_preset)
    print("| source | " + " | ".join(f"T={t}" for t in args.lengths) + " |")
    print("|---|" + "---|" * len(args.lengths))
    row = []
    for t in args.lengths:
        ds = TrainClips(replace(data, frames=t), cfg.seed + 9973, 1, model.multiple, guided=True,
                        guide=model.cfg.guide)
        gains = []
        for i in range(args.clips):
            s = ds[i]
            gains.append(gain(model, s["lq"][:, 0].numpy(), s["lq"][:, -1].numpy(), s["gt"][:, 0].numpy()))
        row.append(float(np.mean(gains)))
    print("| train (fresh draws) | " + " | ".join(f"{g:+.3f}" for g in row) + " |", flush=True)
    for clip in load_val_set(args.val_set):
        row = []
        for t in args.lengths:
            gains = []
            for y, x in CROPS:
                lq = clip.degraded[:, y: y + 128, x: x + 128].astype(np.float32) / 255
                gt = clip.clean[:, y: y + 128, x: x + 128].astype(np.float32) / 255
                guide = classical_guide(lq, model.cfg.guide)
                for s in range(0, len(lq) - t + 1, max(t, 6)):
                    sl = slice(s, s + t)
                    gains.append(gain(model, lq[sl], guide[sl], gt[sl]))
            row.append(float(np.mean(gains)))
        print(f"| val {clip.preset} (bikes crops) | " + " | ".join(f"{g:+.3f}" for g in row) + " |", flush=True)


if __name__ == "__main__":
    main()
