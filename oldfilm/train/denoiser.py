"""Training the classical restorer's learned spatial denoiser (``oldfilm.models.denoiser``; issue 14, item 4).

    python -m oldfilm.train.denoiser pairs --out runs/denoiser/pairs.npz [--draws 600] [--jobs 2]
    python -m oldfilm.train.denoiser fit --pairs runs/denoiser/pairs.npz --run-dir runs/denoiser [--steps 6000]
    python -m oldfilm.train.denoiser eval --pairs runs/denoiser/pairs.npz --weights runs/denoiser.safetensors
    python -m oldfilm.train.denoiser export --run-dir runs/denoiser --out runs/denoiser.safetensors [--detail-sigma 1]

``pairs``: clips of the training corpus (``data.sample_clean``: videos and photographs in camera motion, with
the quality recipes' low-key and soft clips), made gray, damaged by one of the presets the bench uses and
the transfer presets, restored by the classical restorer with its defaults; what reaches its spatial pass
(the frame after dirt repair and the temporal average) is recorded with the noise level it would be given.
The target is the clean frame with its tone fitted to that frame (one gain and offset, then the
difference coarser than a 6-px Gaussian put back): a spatial denoiser cannot know a frame's exposure, and the
deflicker's work is not its job. Random crops of each frame are kept (float16).

``fit``: mean squared error on random patches with flips, Adam with a cosine schedule; the checkpoint
(weights, optimiser, step: safetensors) is written every few minutes and picked up again by the same command.
Held-out draws (every tenth) report the PSNR of the network against the input it is given. Only the corpus
trains it; the benches decide (``benchmarks/stress_tune.py '{"spatial_method": "learned"}' '{}'``).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

from oldfilm.colorspace import from_float, rgb_to_luma, to_float
from oldfilm.degrade import ops
from oldfilm.degrade.pipeline import degrade_clip
from oldfilm.metrics.fullref import tone_fit, tone_moments
from oldfilm.models.denoiser import Denoiser, DenoiserConfig
from oldfilm.models.weights import save_weights
from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer, spatial_change
from oldfilm.restore.noise import noise_level
from oldfilm.train.config import DataConfig
from oldfilm.train.corpus import Corpus, load_corpus
from oldfilm.train.data import damage_config, sample_clean
from oldfilm.train.plot import draw_denoiser_curve
from oldfilm.train.resume import _flatten_opt, _unflatten_opt


@dataclass(frozen=True)
class PairsConfig:
    """How the training pairs are drawn.

    Attributes:
        frames: frames per clip (the first ``warmup`` only start the restorer's recursive state).
        warmup: frames of each clip not kept.
        size: the clip's side, pixels (drawn uniformly).
        crops: random crops kept per frame, each ``crop`` pixels.
        seed: the draws' seed (one no other run or benchmark uses).
        sharp: the target is the clean frame as it is (the network learns to deblur too) instead of blurred
            and resampled as the damage did it (a denoiser only).
        data: the clean clips' sampling and the damage presets drawn (``data.degrade`` and ``degrade_extra``).
    """

    frames: int = 10
    warmup: int = 2
    size: tuple[int, int] = (160, 288)
    crops: int = 2
    crop: int = 96
    seed: int = 271828
    sharp: bool = False
    data: DataConfig = DataConfig(
        frames=10, degrade="light", degrade_extra=("medium", "heavy", "transfer-light", "transfer"), weave=False,
        still_prob=0.4, low_key_prob=0.35, soft_prob=0.3)


class _Recorder(ClassicalRestorer):
    """The classical restorer, recording what reaches its spatial pass and the noise level it is given."""

    def __init__(self, config: ClassicalConfig | None = None):
        super().__init__(config)
        self.seen: list[tuple[np.ndarray, float]] = []

    def _spatial(self, img: np.ndarray, noise: float | None = None) -> np.ndarray:
        luma = rgb_to_luma(img)
        level = noise if noise is not None else noise_level(luma)
        self.seen.append((np.array(luma, np.float32), self.cfg.spatial_denoise * level))
        return super()._spatial(img, noise)


@functools.cache
def _corpus(root: str) -> Corpus:
    """The training corpus (``root``; empty: the default cache), loaded once per process."""
    return load_corpus(Path(root) if root else None)


def blurred_as_damaged(clean: np.ndarray, params: dict) -> np.ndarray:
    """(T, H, W, C) float32: the clean clip blurred and resampled as its damage blurred and resampled each
    frame (``degrade_clip``'s params): a denoiser's target. Taught to reach the sharp frame, the network
    learned to guess the blur too, and on the training windows its guess cost more than its denoising won."""
    t = params["template"]
    out = []
    for frame, p in zip(clean, params["frames"], strict=True):
        x = to_float(frame)
        if p["blur_sigma"] is not None:
            x = ops.gaussian_blur(x, p["blur_sigma"][0] * t["scale"], p["blur_sigma"][1] * t["scale"],
                                  t["blur_angle"])
        if t["resample_scale"] is not None:
            x = ops.resample(x, t["resample_scale"], *t["resample_interp"])
        out.append(x.reshape(frame.shape))
    return np.stack(out)


def draw_pairs(index: int, cfg: PairsConfig = PairsConfig()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, sigmas) of one draw: (K, crop, crop) float16 ×2 and (K,) float32."""
    rng = np.random.default_rng([cfg.seed, index])
    size = int(rng.integers(cfg.size[0], cfg.size[1] + 1))
    clean = sample_clean(_corpus(cfg.data.corpus), cfg.data, size, rng, cfg.frames)
    damage = degrade_clip(clean, rng, damage_config(cfg.data, size, rng))
    lq = np.stack([rgb_to_luma(to_float(f)) for f in damage.frames])
    target = to_float(clean) if cfg.sharp else blurred_as_damaged(clean, damage.params)
    gt = np.stack([rgb_to_luma(f) for f in target])
    restorer = _Recorder()
    for _ in restorer.run(from_float(f, np.uint8)[..., None] for f in lq):
        pass
    xs, ys, sigmas = [], [], []
    for (x, sigma), y in list(zip(restorer.seen, gt, strict=True))[cfg.warmup:]:
        gain, offset = tone_fit(tone_moments(y, x)[None])  # y's tone onto x's, as PSNR-t fits it
        y = gain * y + offset
        y = y + cv2.GaussianBlur(x - y, (0, 0), 6.0)
        for _ in range(cfg.crops):
            i, j = (int(v) for v in rng.integers(0, size - cfg.crop + 1, 2))
            xs.append(x[i:i + cfg.crop, j:j + cfg.crop])
            ys.append(y[i:i + cfg.crop, j:j + cfg.crop])
            sigmas.append(sigma)
    return (np.stack(xs).astype(np.float16), np.stack(ys).astype(np.float16), np.array(sigmas, np.float32))


def make_pairs(out: Path, draws: int, jobs: int, cfg: PairsConfig = PairsConfig()) -> None:
    """Draw ``draws`` clips' pairs (in ``jobs`` processes) into one .npz (``draw`` holds each crop's draw)."""
    with ProcessPoolExecutor(jobs) as pool:
        got = list(pool.map(functools.partial(draw_pairs, cfg=cfg), range(draws), chunksize=4))
    arrays = {k: np.concatenate([g[i] for g in got]) for i, k in enumerate(("x", "y", "sigma"))}
    arrays["draw"] = np.concatenate([np.full(len(g[2]), d, np.int32) for d, g in enumerate(got)])
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.stem + ".part.npz")
    np.savez(part, **arrays)
    part.replace(out)
    print(f"{out}: {len(arrays['x'])} crops from {draws} draws", flush=True)


@dataclass(frozen=True)
class FitConfig:
    """The fit: ``steps`` of ``batch`` patches of ``patch`` pixels, Adam at ``lr`` with a cosine schedule."""

    steps: int = 6000
    batch: int = 32
    patch: int = 64
    lr: float = 1e-3
    seed: int = 0
    model: DenoiserConfig = DenoiserConfig()


def _batch(x: np.ndarray, y: np.ndarray, s: np.ndarray, idx: np.ndarray, patch: int,
           rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    crop = x.shape[-1]
    i, j = rng.integers(0, crop - patch + 1, 2)
    xb = torch.from_numpy(x[idx, i:i + patch, j:j + patch].astype(np.float32))[:, None]
    yb = torch.from_numpy(y[idx, i:i + patch, j:j + patch].astype(np.float32))[:, None]
    if rng.random() < 0.5:
        xb, yb = xb.flip(-1), yb.flip(-1)
    if rng.random() < 0.5:
        xb, yb = xb.transpose(-1, -2), yb.transpose(-1, -2)
    return xb, yb, torch.from_numpy(s[idx])


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(F.mse_loss(a, b) + 1e-12))


def fit(pairs: Path, run_dir: Path, cfg: FitConfig, minutes: float) -> None:
    """Train (or go on training) the denoiser in ``run_dir`` from the pairs file; checkpoint every 5 minutes
    and at the end."""
    data = np.load(pairs)
    x, y, s, draw = data["x"], data["y"], data["sigma"], data["draw"]
    held = draw % 10 == 0
    train_idx, val_idx = np.flatnonzero(~held), np.flatnonzero(held)[:512]
    torch.manual_seed(cfg.seed)
    model = Denoiser(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt, step = run_dir / "checkpoint.safetensors", 0
    if ckpt.exists():
        step = _load_checkpoint(ckpt, model, opt)
        print(f"resuming at step {step}", flush=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    rng = np.random.default_rng([cfg.seed, step])
    xv = torch.from_numpy(x[val_idx].astype(np.float32))[:, None]
    yv = torch.from_numpy(y[val_idx].astype(np.float32))[:, None]
    sv = torch.from_numpy(s[val_idx])
    log = (run_dir / "log.csv").open("a")
    if step == 0:
        log.write("step,loss_db,val_input_db,val_out_db,seconds\n")
    t0 = last_save = time.monotonic()
    losses: list[float] = []
    while step < cfg.steps and time.monotonic() - t0 < minutes * 60:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        xb, yb, sb = _batch(x, y, s, rng.choice(train_idx, cfg.batch), cfg.patch, rng)
        loss = F.mse_loss(model(xb, sb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % 250 == 0 or step == cfg.steps:
            with torch.no_grad():
                out = torch.cat([model(xv[k:k + 64], sv[k:k + 64]) for k in range(0, len(xv), 64)])
            row = (f"{step},{-10 * math.log10(np.mean(losses)):.3f},{_psnr(xv, yv):.3f},{_psnr(out, yv):.3f},"
                   f"{time.monotonic() - t0:.0f}")
            log.write(row + "\n")
            log.flush()
            print(row, flush=True)
            losses = []
        if time.monotonic() - last_save > 300:
            _save_checkpoint(ckpt, model, opt, step)
            last_save = time.monotonic()
    _save_checkpoint(ckpt, model, opt, step)
    log.close()
    draw_denoiser_curve(run_dir)


def _save_checkpoint(path: Path, model: Denoiser, opt: torch.optim.Optimizer, step: int) -> None:
    tensors = {f"model.{k}": v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    meta = {"step": str(step), "model": json.dumps(model.cfg.to_dict())}
    _flatten_opt("opt", opt.state_dict(), tensors, meta)
    part = path.with_name(path.name + ".part")
    save_file(tensors, str(part), metadata=meta)
    part.replace(path)


def _load_checkpoint(path: Path, model: Denoiser, opt: torch.optim.Optimizer) -> int:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state = _unflatten_opt("opt", tensors, meta)
    if state is not None:
        opt.load_state_dict(state)
    return int(meta["step"])


def export(run_dir: Path, out: Path, detail_sigma: float = 0.0) -> None:
    """The run's weights as a ``Denoiser`` weights file (``oldfilm.models.weights``), with its change kept
    finer than ``detail_sigma`` when > 0 (``DenoiserConfig.detail_sigma``)."""
    cfg = json.loads((run_dir / "config.json").read_text())
    model = Denoiser(replace(DenoiserConfig.from_dict(cfg["model"]), detail_sigma=detail_sigma))
    opt = torch.optim.Adam(model.parameters())
    step = _load_checkpoint(run_dir / "checkpoint.safetensors", model, opt)
    save_weights(model, out, {"oldfilm.run": str(run_dir.name), "oldfilm.step": str(step)})
    print(f"{out}: step {step}")


def evaluate(pairs: Path, weights: Path) -> dict[str, float]:
    """PSNR (pooled over the crops) against the target of the held-out crops (every tenth draw, the first
    512, as ``fit`` reports): the input, OpenCV's non-local means as the classical restorer runs it, the
    network."""
    from oldfilm.models.weights import load_weights

    data = np.load(pairs)
    idx = np.flatnonzero(data["draw"] % 10 == 0)[:512]
    x, y, s = (data[k][idx].astype(np.float32) for k in ("x", "y", "sigma"))
    nl = [xi + spatial_change(xi, float(si * 255)) if si * 255 >= 0.5 else xi for xi, si in zip(x, s, strict=True)]
    net = load_weights(weights, Denoiser)
    with torch.no_grad():
        out = net(torch.from_numpy(x)[:, None], torch.from_numpy(s))[:, 0].numpy()
    scores = {k: float(-10 * np.log10(np.mean((v - y) ** 2))) for k, v in (("input", x), ("nlmeans", np.stack(nl)),
                                                                          ("network", out))}
    print(" ".join(f"{k} {v:.2f} dB" for k, v in scores.items()), f"({len(idx)} held-out crops)")
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--draws", type=int, default=600)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--sharp", action="store_true", help="the clean frame as the target (denoise and deblur)")
    f = sub.add_parser("fit")
    f.add_argument("--pairs", type=Path, required=True)
    f.add_argument("--run-dir", type=Path, required=True)
    f.add_argument("--steps", type=int, default=FitConfig.steps)
    f.add_argument("--channels", type=int, default=DenoiserConfig.channels)
    f.add_argument("--depth", type=int, default=DenoiserConfig.depth)
    f.add_argument("--minutes", type=float, default=1e9)
    v = sub.add_parser("eval")
    v.add_argument("--pairs", type=Path, required=True)
    v.add_argument("--weights", type=Path, required=True)
    e = sub.add_parser("export")
    e.add_argument("--run-dir", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--detail-sigma", type=float, default=0.0)
    args = ap.parse_args()
    if args.cmd == "pairs":
        make_pairs(args.out, args.draws, args.jobs, replace(PairsConfig(), sharp=args.sharp))
    elif args.cmd == "fit":
        model = replace(DenoiserConfig(), channels=args.channels, depth=args.depth)
        fit(args.pairs, args.run_dir, replace(FitConfig(), steps=args.steps, model=model), args.minutes)
    elif args.cmd == "eval":
        evaluate(args.pairs, args.weights)
    else:
        export(args.run_dir, args.out, args.detail_sigma)


if __name__ == "__main__":
    main()
