"""The refinement trainer: runs, batches, a few steps, checkpoint and resume, export (tiny, CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from oldfilm.colorize.propagate import PropagateConfig
from oldfilm.colorize.refine import RefineConfig, load_refiner
from oldfilm.train import refine as tr


def tiny_clip(n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = (rng.random((40, 48, 3)) * 200 + 20).astype(np.uint8)
    return np.stack([np.roll(base, t, axis=1) for t in range(n)])


def test_train_resume_and_export(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    prop = PropagateConfig(max_side=48)
    run = tr._run(tiny_clip(), prop)
    assert run["ab"].shape == (6, 40, 48, 2) and run["flow"].shape == (6, 2, 40, 48)
    (tmp_path / "runs").mkdir()
    np.savez(tmp_path / "runs" / "tiny.npz", **run)
    monkeypatch.setattr(tr, "build_runs", lambda dest, cfg, prop_cfg: [tmp_path / "runs" / "tiny.npz"])
    cfg = tr.RefineTrainConfig(frames=3, crop=16, batch=2, steps=3, checkpoint_every=2)
    net = RefineConfig(width=8, blocks=1)
    assert tr.train(tmp_path, 1.0, cfg, net, prop) == 3
    assert tr.train(tmp_path, 1.0, tr.RefineTrainConfig(frames=3, crop=16, batch=2, steps=5), net, prop) == 5
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 5  # resumed at step 3, not from scratch
    loaded = load_refiner(tr.export(tmp_path, tmp_path / "r.safetensors"))
    assert loaded.cfg == net
