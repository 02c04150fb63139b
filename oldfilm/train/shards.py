"""Precomputed training pairs in shards, reused across epochs: on two CPU cores the classical guide
(≈ 0.14 s a sample) and the flows must not be paid at every step.

A shard holds ``DataConfig.shard_size`` samples of ``TrainClips`` (degraded luma + guide, clean luma, both
flows), one crop size per shard, stored compactly (luma as uint16, flows as float16) in one ``.npz``. Shard
k holds ``TrainClips`` items ``k·K … k·K+K−1``, so it is a pure function of (data config, seed, k): a
builder running beside training (``python -m oldfilm.train.shards``) and the trainer agree on its content
without talking, and a new machine rebuilds exactly the shards a resumed run expects.

The trainer reads item i of its step stream as sample ``i mod K`` of shard ``order(i // K)``: epoch 0 walks
the shards in order (so the builder only has to stay ahead), later epochs in an order drawn from (seed,
epoch), each shard's samples shuffled by (seed, epoch, shard). A shard not yet built is waited for.

Layout: ``<cache>/shards/<key>/shard-00000.npz`` with ``key`` a hash of what the samples depend on.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from oldfilm.train.config import DataConfig
from oldfilm.train.data import TrainClips

_U16 = 65535.0


def shard_key(cfg: DataConfig, seed: int, multiple: int, guided: bool, guide: str = "") -> str:
    """A short hash of everything a shard's samples depend on."""
    from oldfilm.train.corpus import TRAIN_VIDEOS

    # version 2: the default corpus's videos are part of the key (the dlib office clip joined them)
    videos = {} if cfg.corpus else {"videos": list(TRAIN_VIDEOS)}
    blob = json.dumps({"data": asdict(cfg), "seed": seed, "multiple": multiple, "guided": guided,
                       "version": 2, **videos, **({"guide": guide} if guide else {})}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def shard_dir(cfg: DataConfig, seed: int, multiple: int, guided: bool, guide: str = "") -> Path:
    """``cfg.shard_dir`` (or ``<oldfilm cache>/shards``) / ``shard_key(...)``."""
    from oldfilm.io.sources import cache_dir

    root = Path(cfg.shard_dir) if cfg.shard_dir else cache_dir() / "shards"
    return root / shard_key(cfg, seed, multiple, guided, guide)


def shard_path(folder: Path, k: int) -> Path:
    return folder / f"shard-{k:05d}.npz"


def build_shard(cfg: DataConfig, seed: int, multiple: int, guided: bool, k: int, folder: Path,
                guide: str = "") -> Path:
    """Make shard ``k`` (if missing) and return its path; written atomically."""
    dest = shard_path(folder, k)
    if dest.exists():
        return dest
    folder.mkdir(parents=True, exist_ok=True)
    size = cfg.shard_size
    ds = TrainClips(cfg, seed, per_step=size, multiple=multiple, guided=guided, guide=guide)
    items = [ds[k * size + j] for j in range(size)]
    arrays = {
        "lq": _to_u16(torch.stack([it["lq"] for it in items])),
        "gt": _to_u16(torch.stack([it["gt"] for it in items])),
        "flows_fwd": torch.stack([it["flows_fwd"] for it in items]).numpy().astype(np.float16),
        "flows_bwd": torch.stack([it["flows_bwd"] for it in items]).numpy().astype(np.float16),
    }
    part = dest.with_name(dest.stem + f".part{os.getpid()}.npz")
    np.savez(part, **arrays)
    os.replace(part, dest)
    return dest


def _to_u16(x: torch.Tensor) -> np.ndarray:
    return np.round(x.clamp(0, 1).numpy() * _U16).astype(np.uint16)


def shard_of(index: int, cfg: DataConfig, seed: int) -> tuple[int, int]:
    """(shard, sample) that item ``index`` of the trainer's stream reads."""
    size, count = cfg.shard_size, cfg.shard_count
    block, j = divmod(index, size)
    epoch, pos = divmod(block, count)
    k = pos if epoch == 0 else int(np.random.default_rng([seed, epoch, 7]).permutation(count)[pos])
    sample = int(np.random.default_rng([seed, epoch, k, 11]).permutation(size)[j])
    return k, sample


class ShardClips(Dataset):
    """The trainer's dataset when ``DataConfig.shard_count > 0``: samples read from shards (see the module
    docstring); same item format as ``TrainClips``. A missing shard is built here when ``build`` is true,
    otherwise waited for (a builder process makes it)."""

    def __init__(self, cfg: DataConfig, seed: int, multiple: int, guided: bool, guide: str = "", build: bool = True,
                 poll_seconds: float = 2.0) -> None:
        self.cfg, self.seed, self.multiple, self.guided, self.guide = cfg, seed, multiple, guided, guide
        self.folder = shard_dir(cfg, seed, multiple, guided, guide)
        self.build, self.poll = build, poll_seconds
        self._cache: tuple[int, dict[str, np.ndarray]] | None = None

    def __len__(self) -> int:
        return 2**62

    def _shard(self, k: int) -> dict[str, np.ndarray]:
        if self._cache is not None and self._cache[0] == k:
            return self._cache[1]
        path = shard_path(self.folder, k)
        while not path.exists():
            if self.build:
                build_shard(self.cfg, self.seed, self.multiple, self.guided, k, self.folder, self.guide)
            else:
                time.sleep(self.poll)
        with np.load(path) as z:
            data = {name: z[name] for name in z.files}
        self._cache = (k, data)
        return data

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        k, j = shard_of(index, self.cfg, self.seed)
        z = self._shard(k)
        return {
            "lq": torch.from_numpy(z["lq"][j].astype(np.float32) / _U16),
            "gt": torch.from_numpy(z["gt"][j].astype(np.float32) / _U16),
            "flows_fwd": torch.from_numpy(z["flows_fwd"][j].astype(np.float32)),
            "flows_bwd": torch.from_numpy(z["flows_bwd"][j].astype(np.float32)),
        }


def main(argv: list[str] | None = None) -> int:
    """``python -m oldfilm.train.shards --config NAME [--first K] [--count N]``: build a run's shards (in
    the background, beside training)."""
    import argparse

    from oldfilm.train.config import load_config

    p = argparse.ArgumentParser(prog="python -m oldfilm.train.shards", description=main.__doc__)
    p.add_argument("--config", required=True, help="a TRAIN_PRESETS name or a JSON config file")
    p.add_argument("--first", type=int, default=0, help="first shard to build")
    p.add_argument("--count", type=int, default=None, help="how many (default: all of the config's)")
    args = p.parse_args(argv)
    cfg = load_config(args.config)
    torch.set_num_threads(1)
    folder = shard_dir(cfg.data, cfg.seed, cfg.model.multiple, cfg.model.guided, cfg.model.guide)
    last = cfg.data.shard_count if args.count is None else min(cfg.data.shard_count, args.first + args.count)
    for k in range(args.first, last):
        t0 = time.monotonic()
        build_shard(cfg.data, cfg.seed, cfg.model.multiple, cfg.model.guided, k, folder, cfg.model.guide)
        print(f"{shard_path(folder, k)} {time.monotonic() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
