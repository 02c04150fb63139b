"""Where a guided network wins or loses against its guide (the classical restoration), per degradation preset
and per kind of pixel, on held-out draws from the training sources (a seed no run uses).

Kinds of pixel (from the clean frame and the damage): *damaged* (|degraded − clean| > 0.08: dirt, scratches,
blotches), *edges* (clean gradient magnitude in the top quarter), *flat* (bottom quarter), *rest*. For each,
the guide's and the network's MSE and the gain in dB; the total per preset is the PSNR gain over the guide.

    python benchmarks/guide_gap.py --weights runs/quality-cpu/best.safetensors [--clips 12] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from oldfilm.models.weights import load_model
from oldfilm.train.config import DataConfig
from oldfilm.train.data import TrainClips

PRESETS = ("light", "transfer-light", "medium", "transfer", "heavy")
KINDS = ("damaged", "edges", "flat", "rest", "all")


def pixel_kinds(lq: np.ndarray, gt: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks (T, H, W) of each kind of pixel."""
    gy, gx = np.gradient(gt, axis=(1, 2))
    grad = np.hypot(gx, gy)
    lo, hi = np.quantile(grad, [0.25, 0.75])
    damaged = np.abs(lq - gt) > 0.08
    edges = (grad >= hi) & ~damaged
    flat = (grad <= lo) & ~damaged
    return {"damaged": damaged, "edges": edges, "flat": flat, "rest": ~(damaged | edges | flat),
            "all": np.ones_like(damaged)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--clips", type=int, default=12, help="clips per preset")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--seed", type=int, default=90210, help="a seed no training run uses")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(2)
    model = load_model(args.weights).eval()
    rows = {}
    for preset in PRESETS:
        cfg = DataConfig(frames=args.frames, crop=(args.size, args.size), degrade=preset, weave=False,
                         flow_preset=model.cfg.flow_preset)  # the flows the network pins, as the engine gives them
        ds = TrainClips(cfg, args.seed, per_step=1, multiple=model.multiple, guided=True, guide=model.cfg.guide)
        sums = {k: [0.0, 0.0, 0] for k in KINDS}
        for i in range(args.clips):
            item = ds[i]
            with torch.no_grad():
                out = model(item["lq"][None], item["flows_fwd"][None], item["flows_bwd"][None])[0, :, 0]
            out = out.clamp(0, 1).numpy()
            lq, guide, gt = item["lq"][:, 0].numpy(), item["lq"][:, 1].numpy(), item["gt"][:, 0].numpy()
            for kind, m in pixel_kinds(lq, gt).items():
                sums[kind][0] += float(((guide - gt) ** 2)[m].sum())
                sums[kind][1] += float(((out - gt) ** 2)[m].sum())
                sums[kind][2] += int(m.sum())
        rows[preset] = {k: {"share": n / sums["all"][2], "guide_mse": g / max(n, 1), "net_mse": o / max(n, 1),
                            "gain_db": 10 * np.log10(max(g, 1e-12) / max(o, 1e-12))}
                        for k, (g, o, n) in sums.items()}
    print(f"{'preset':16s}" + "".join(f"{k:>18s}" for k in KINDS))
    for preset, per in rows.items():
        print(f"{preset:16s}" + "".join(f"{per[k]['gain_db']:+8.2f} dB ({per[k]['share']:4.0%})" for k in KINDS))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"weights": args.weights, "clips": args.clips, "size": args.size, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
