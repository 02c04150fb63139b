"""The training loop: Adam with warm-up + cosine decay, gradient clipping, EMA weights, bf16 autocast on
CUDA, DDP under ``torchrun`` (gloo on CPU, NCCL on CUDA), validation on the evaluation clip, checkpoints
every few minutes with exact resume, ``log.csv``/``val.csv`` and ``curve.png`` in the run folder.

Run folder: ``config.json`` (the ``TrainConfig``), ``checkpoint.pt`` (model, EMA, optimiser, scheduler,
discriminator, RNG states, step; loaded with ``weights_only=True``), ``val_set.npz`` (the validation frames,
fixed for the run), ``log.csv``, ``val.csv``, ``curve.png``.
Exported weights are safetensors (``export_weights``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from oldfilm.errors import UsageError
from oldfilm.models.discriminator import TemporalPatchGAN, hinge_d_loss, hinge_g_loss
from oldfilm.models.rtn import RTN
from oldfilm.threads import torch_threads
from oldfilm.train import losses
from oldfilm.train.config import TrainConfig, config_from_dict
from oldfilm.train.data import StepSampler, TrainClips, worker_init
from oldfilm.train.runlog import append_csv, truncate_csv, weights_meta
from oldfilm.train.validate import Validator

log = logging.getLogger("oldfilm.train")

LOG_FIELDS = ("step", "lr", "loss", "pixel", "temporal", "ssim", "perceptual", "adversarial", "disc", "guide_pixel",
              "gain_db", "sec_per_step")
"""``guide_pixel`` is the pixel term of the guide itself on the same batch and ``gain_db`` the batch's mean PSNR
gain of the output over the guide (guided networks): the loss swings with each batch's damage far more than
with learning, and their difference is what shows learning."""


@dataclass
class Trainer:
    """Everything a step changes (what a checkpoint holds)."""

    model: RTN
    ema: RTN
    opt: torch.optim.Adam
    sched: torch.optim.lr_scheduler.LambdaLR
    disc: TemporalPatchGAN | None
    disc_opt: torch.optim.Adam | None
    step: int = 0


def lr_lambda(cfg: TrainConfig):  # noqa: ANN201
    """Learning-rate factor of step s: linear warm-up to 1, then cosine decay to ``min_lr_ratio``."""

    def f(s: int) -> float:
        if s < cfg.warmup:
            return (s + 1) / cfg.warmup
        p = min(1.0, (s - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p))

    return f


def build_trainer(cfg: TrainConfig, device: torch.device) -> Trainer:
    """Model (initialised from ``cfg.seed`` without touching the caller's global RNG), EMA copy, Adam,
    schedule and (with an adversarial weight) the discriminator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = RTN(cfg.model).to(device)
        disc = None
        if cfg.loss.adversarial > 0:
            disc = TemporalPatchGAN(cfg.model.in_channels, cfg.loss.disc_channels, cfg.loss.disc_depth).to(device)
    if cfg.init:
        _init_from(model, cfg)
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg))
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.loss.disc_lr, betas=(0.5, 0.99)) if disc else None
    return Trainer(model, ema, opt, sched, disc, disc_opt)


def _init_from(model: RTN, cfg: TrainConfig) -> None:
    """Copy the parameters of ``cfg.init`` into ``model`` (UsageError if its network differs). The pinned
    guide options and flow preset may differ: they change the inputs, not the parameters (a network
    fine-tuned onto another guide). So may the full-resolution head's width (and then the name), if it grows:
    the network is widened without changing what it computes (below), so that more capacity at the pixel is
    tried from trained weights instead of from a head that has to learn again from nothing (issue 14)."""
    from oldfilm.models.weights import load_model

    src = load_model(cfg.init)
    same = replace(src.cfg, guide=cfg.model.guide, flow_preset=cfg.model.flow_preset)
    wider = 0 < src.cfg.head_channels < cfg.model.head_channels
    if wider:
        same = replace(same, name=cfg.model.name, head_channels=cfg.model.head_channels)
    if same != cfg.model:
        raise UsageError(f"init weights {cfg.init} hold a {src.cfg.name!r} network that differs from the "
                         f"run's {cfg.model.name!r} config")
    if not wider:
        model.load_state_dict(src.state_dict())
        return
    state = model.state_dict()
    with torch.no_grad():
        for name, old in src.state_dict().items():
            if old.shape == state[name].shape:
                state[name].copy_(old)
            else:  # a head conv: the old channels keep their weights and never read the new ones, whose
                new = state[name]  # incoming weights keep their fresh random init (Net2Net-style growth)
                if new.dim() == 4:
                    new[:old.shape[0], old.shape[1]:] = 0.0
                new[tuple(slice(0, n) for n in old.shape)] = old
    model.load_state_dict(state)


@torch.no_grad()
def update_ema(ema: RTN, model: RTN, decay: float, step: int) -> None:
    """ema ← d·ema + (1−d)·model with d = min(decay, (1+step)/(10+step))."""
    d = min(decay, (1 + step) / (10 + step))
    for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
        if e.dtype.is_floating_point:
            e.mul_(d).add_(p.detach(), alpha=1 - d)
        else:
            e.copy_(p)


def save_snapshot(tr: Trainer, run_dir: Path, run: str) -> Path:
    """The EMA weights at this step → ``run_dir/snapshots/step-NNNNNN.safetensors`` (``snapshot_every``)."""
    from oldfilm.models.weights import save_weights

    dest = run_dir / "snapshots" / f"step-{tr.step:06d}.safetensors"
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_weights(tr.ema, dest, extra_meta=weights_meta(run, tr.step))
    return dest


def save_checkpoint(tr: Trainer, path: Path) -> None:
    """Atomically write the whole training state."""
    save_checkpoint_state(checkpoint_state(tr), path)


def save_checkpoint_state(state: dict, path: Path) -> None:
    """Atomically write a state dict as ``checkpoint_state`` makes it."""
    part = path.with_suffix(".part")
    torch.save(state, part)
    os.replace(part, path)


def checkpoint_state(tr: Trainer) -> dict:
    """Everything a resumed run needs: weights, EMA, optimisers, schedule, RNG state, step."""
    return {
        "step": tr.step, "model": tr.model.state_dict(), "ema": tr.ema.state_dict(),
        "opt": tr.opt.state_dict(), "sched": tr.sched.state_dict(),
        "disc": tr.disc.state_dict() if tr.disc else None,
        "disc_opt": tr.disc_opt.state_dict() if tr.disc_opt else None,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def load_checkpoint(tr: Trainer, path: Path) -> None:
    """Restore a state written by ``save_checkpoint`` (tensors and plain types only: weights_only=True)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    tr.model.load_state_dict(state["model"])
    tr.ema.load_state_dict(state["ema"])
    tr.opt.load_state_dict(state["opt"])
    tr.sched.load_state_dict(state["sched"])
    if tr.disc is not None and state["disc"] is not None:
        tr.disc.load_state_dict(state["disc"])
        tr.disc_opt.load_state_dict(state["disc_opt"])  # type: ignore[union-attr]
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    tr.step = int(state["step"])


def _dist() -> tuple[int, int]:
    """(rank, world) — initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def _device(cfg: TrainConfig, rank: int) -> torch.device:
    if cfg.device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", rank % torch.cuda.device_count())
        return torch.device("cpu")
    return torch.device(cfg.device)


def train(cfg: TrainConfig, run_dir: str | Path, stop_at: int | None = None,
          minutes: float | None = None, steps: int | None = None) -> list[float]:
    """Train (or resume: a ``checkpoint.pt`` in ``run_dir`` is picked up, with the ``config.json`` beside
    it taking precedence over ``cfg``) until ``cfg.steps`` or ``stop_at``, or until ``minutes`` of wall time
    have passed (then it checkpoints and returns: a time-boxed slice of a longer run, as on a lent GPU whose
    commands are cut off after 10 minutes); returns the loss of each step run here (rank 0's). On a CPU,
    torch runs on ``cfg.threads`` threads meanwhile (0: as the caller set it), and the caller's count is
    back afterwards. ``steps`` sets the run's total, a resumed run's too (its saved config is updated; the
    cosine schedule is stretched from there on): a run that goes on past what it was planned for."""
    with torch_threads(cfg.threads if _device(cfg, 0).type == "cpu" else None):
        return _train(cfg, run_dir, stop_at, minutes, steps)


def _train(cfg: TrainConfig, run_dir: str | Path, stop_at: int | None, minutes: float | None,
           steps: int | None = None) -> list[float]:
    started = time.monotonic()
    run_dir = Path(run_dir)
    rank, world = _dist()
    device = _device(cfg, rank)
    ckpt = run_dir / "checkpoint.pt"
    resume = ckpt.exists() and (run_dir / "config.json").exists()
    if resume:
        import json

        cfg = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    if steps is not None and steps != cfg.steps:
        cfg = replace(cfg, steps=steps)
        if resume and rank == 0:
            log.info("%s: total steps now %d", run_dir, steps)
            cfg.save(run_dir / "config.json")
    # before anything is written: bad init weights leave no run folder; a resumed run's weights come from its
    # checkpoint, so its init file need not exist any more (a resume state moved to a new machine)
    tr = build_trainer(replace(cfg, init="") if resume else cfg, device)
    if rank == 0 and not resume:
        run_dir.mkdir(parents=True, exist_ok=True)
        cfg.save(run_dir / "config.json")
    if ckpt.exists():
        load_checkpoint(tr, ckpt)
        log.info("resumed %s at step %d", run_dir, tr.step)
        if rank == 0:
            for name in ("log.csv", "val.csv"):
                truncate_csv(run_dir / name, tr.step)
    vgg = losses.load_vgg19(cfg.loss.vgg_weights).to(device) if cfg.loss.vgg_weights and cfg.loss.perceptual else None
    net: torch.nn.Module = tr.model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(tr.model, device_ids=[device.index] if device.type == "cuda"
                                                        else None)
    loader = _loader(cfg, tr.step, rank, world)
    end = min(cfg.steps, stop_at if stop_at is not None else cfg.steps)
    val = Validator(cfg, run_dir) if rank == 0 and cfg.val_every else None
    history: list[float] = []
    last_ckpt = t_log = time.monotonic()
    it = iter(loader)
    while tr.step < end:
        batch = {k: v.to(device, non_blocking=True) for k, v in next(it).items()}
        terms = _step(cfg, tr, net, vgg, batch, device)
        history.append(terms["loss"])
        tr.step += 1
        if rank == 0 and (tr.step % cfg.log_every == 0 or tr.step == end):
            now = time.monotonic()
            terms.update(step=tr.step, lr=tr.sched.get_last_lr()[0], sec_per_step=(now - t_log) / cfg.log_every)
            append_csv(run_dir / "log.csv", LOG_FIELDS, terms)
            t_log = now
        if val is not None and (tr.step % cfg.val_every == 0 or tr.step == cfg.steps):
            val(tr.ema, tr.step)
        if rank == 0 and cfg.snapshot_every and tr.step % cfg.snapshot_every == 0:
            save_snapshot(tr, run_dir, cfg.name)
        out_of_time = minutes is not None and _agreed(time.monotonic() - started > 60 * minutes, world, device)
        if rank == 0 and (time.monotonic() - last_ckpt > 60 * cfg.checkpoint_minutes or tr.step == end
                          or out_of_time):
            save_checkpoint(tr, ckpt)
            last_ckpt = time.monotonic()
        if out_of_time:
            log.info("time budget of %.1f min spent at step %d; checkpointed", minutes, tr.step)
            break
    if world > 1:
        dist.barrier()
        # every rank leaves the group together: a rank that exits while another still talks to it makes
        # gloo abort the other (SIGABRT; the DDP test failed so on fresh clones, 1 run in a few)
        dist.destroy_process_group()
    return history


def _agreed(flag: bool, world: int, device: torch.device) -> bool:
    """``flag`` as rank 0 sees it, on every rank (so all processes stop at the same step)."""
    if world == 1:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.broadcast(t, 0)
    return bool(t.item())


def _step(cfg: TrainConfig, tr: Trainer, net: torch.nn.Module, vgg: losses.VGG19Features | None,
          batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, float]:
    """One optimiser step (and one discriminator step in the adversarial stage); returns the loss terms."""
    lc = cfg.loss
    tr.model.train()
    with _autocast(cfg, device):
        out = net(batch["lq"], batch["flows_fwd"], batch["flows_bwd"])
    out = out.float()
    gt = batch["gt"]
    fit = out
    if lc.clip_affine:
        fit = losses.match_clip_affine(out, gt)
    elif lc.tone_invariant:
        fit = losses.match_means(out, gt)
    guide = batch["lq"][:, :, -cfg.model.in_channels:] if cfg.model.guided else None
    if lc.relative and guide is not None:
        gain = lc.relative_raw * losses.clip_gain_db(out, guide, gt)
        if lc.relative_raw < 1:
            with torch.no_grad():
                aligned_guide = losses.match_clip_affine(guide, gt)
            aligned = losses.clip_gain_db(losses.match_clip_affine(out, gt), aligned_guide, gt)
            gain = gain + (1 - lc.relative_raw) * aligned
        terms = {"pixel": -gain.mean()}
    else:
        terms = {"pixel": losses.charbonnier(fit, gt, lc.charbonnier_eps)}
    if lc.temporal:
        terms["temporal"] = losses.temporal_consistency(out, gt, batch["flows_fwd"], lc.charbonnier_eps)
    if lc.ssim:
        terms["ssim"] = 1.0 - losses.ssim(out, gt)
    if vgg is not None:
        terms["perceptual"] = losses.perceptual(vgg, fit, gt)
    adv_on = tr.disc is not None and tr.step >= lc.adversarial_start
    if adv_on:
        tr.disc.requires_grad_(False)  # type: ignore[union-attr]
        terms["adversarial"] = hinge_g_loss(tr.disc(out))  # type: ignore[misc]
    weights = {"pixel": lc.pixel, "temporal": lc.temporal, "ssim": lc.ssim, "perceptual": lc.perceptual,
               "adversarial": lc.adversarial}
    loss = sum(weights[k] * v for k, v in terms.items())
    tr.opt.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[union-attr]
    if cfg.grad_clip:
        torch.nn.utils.clip_grad_norm_(tr.model.parameters(), cfg.grad_clip)
    tr.opt.step()
    tr.sched.step()
    update_ema(tr.ema, tr.model, cfg.ema, tr.step)
    result = {k: float(v.detach()) for k, v in terms.items()}
    result["loss"] = float(loss.detach())  # type: ignore[union-attr]
    if guide is not None:
        with torch.no_grad():
            gfit = losses.match_means(guide, gt) if lc.tone_invariant and not lc.relative else guide
            result["guide_pixel"] = float(losses.charbonnier(gfit, gt, lc.charbonnier_eps))
            result["gain_db"] = float(losses.clip_gain_db(out.detach(), guide, gt).mean())
    if adv_on:
        tr.disc.requires_grad_(True)  # type: ignore[union-attr]
        d_loss = hinge_d_loss(tr.disc(gt), tr.disc(out.detach()))  # type: ignore[misc]
        tr.disc_opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]
        d_loss.backward()
        tr.disc_opt.step()  # type: ignore[union-attr]
        result["disc"] = float(d_loss.detach())
    return result


def _autocast(cfg: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    if cfg.amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _loader(cfg: TrainConfig, start_step: int, rank: int, world: int) -> DataLoader:
    multiple = cfg.model.multiple
    lo, hi = cfg.data.crop
    if hi < multiple:
        raise UsageError(f"crop sizes {cfg.data.crop} are smaller than the network's multiple {multiple}")
    if cfg.data.shard_count:
        from oldfilm.train.shards import ShardClips

        if cfg.data.shard_size % cfg.batch_size:
            raise UsageError(f"shard_size {cfg.data.shard_size} must be a multiple of batch_size {cfg.batch_size}")
        ds: torch.utils.data.Dataset = ShardClips(cfg.data, cfg.seed, multiple, cfg.model.guided, cfg.model.guide)
    else:
        ds = TrainClips(cfg.data, cfg.seed, cfg.batch_size * world, multiple, guided=cfg.model.guided,
                        guide=cfg.model.guide)
    sampler = StepSampler(cfg.batch_size, start_step, rank, world)
    # spawn, not fork: a forked worker can deadlock on OpenCV's / OpenMP's thread pools of the parent
    extra = {"prefetch_factor": 2, "multiprocessing_context": "spawn"} if cfg.workers else {}
    return DataLoader(ds, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers,
                      worker_init_fn=worker_init if cfg.workers else None, **extra)


def export_weights(run_dir: str | Path, dest: str | Path, use_ema: bool = True) -> Path:
    """Write the (EMA) weights of a run's checkpoint as safetensors with the network config and the run's
    step in the metadata."""
    import json

    from oldfilm.models.weights import save_weights

    run_dir = Path(run_dir)
    cfg = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    state = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    model = RTN(cfg.model)
    model.load_state_dict(state["ema" if use_ema else "model"])
    return save_weights(model, dest, extra_meta=weights_meta(cfg.name, state["step"], "ema" if use_ema else "raw"))
