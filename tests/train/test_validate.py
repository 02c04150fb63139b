"""``python -m oldfilm.train.validate``: weight files scored on a run's validation clips, as the trainer does."""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np

from oldfilm.train.config import TrainConfig
from oldfilm.train.loop import train
from oldfilm.train.validate import ValClip, load_val_set, main, save_val_set, validate_model
from tests.clips import moving_clip


def test_cli_scores_snapshots_as_the_trainer_would(tiny: TrainConfig, tmp_path: Path) -> None:
    clean = moving_clip(t=4, h=64, w=64, channels=1)[..., 0]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    save_val_set([ValClip("light", noisy, clean)], tmp_path / "val_set.npz")
    train(replace(tiny, steps=2, snapshot_every=1), tmp_path / "run")
    snaps = sorted((tmp_path / "run" / "snapshots").iterdir())
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main([*map(str, snaps), "--val-set", str(tmp_path / "val_set.npz"), "--threads", "1"]) == 0
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [r["weights"] for r in rows] == ["classical", *map(str, snaps)]
    from oldfilm.models.weights import load_model

    direct = validate_model(load_model(snaps[1]), load_val_set(tmp_path / "val_set.npz"), 1)["light"]
    assert float(rows[2]["psnr_tone"]) == round(direct["psnr_tone"], 4)
    assert float(rows[0]["psnr_tone"]) > 0
