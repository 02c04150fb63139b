"""Validation sets (one clip or several) and ``python -m oldfilm.train.validate``: weight files scored on
them as the trainer scores its EMA weights."""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from oldfilm.train.config import VAL_WINDOWS, TrainConfig
from oldfilm.train.loop import train
from oldfilm.train.validate import ValClip, build_val_set, load_val_set, main, per_preset, save_val_set, validate_model
from tests.clips import moving_clip, write_clip


@pytest.fixture
def fake_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every evaluation clip of ``VAL_WINDOWS`` as a small synthetic video (each one different)."""
    import oldfilm.io.sources as sources

    paths = {}
    for k, (name, first) in enumerate(VAL_WINDOWS):
        frames = moving_clip(t=first + 6, h=40, w=56, channels=3, seed=k)
        paths[name] = write_clip(tmp_path / f"{name}.mkv", frames, codec="ffv1")
    monkeypatch.setattr(sources, "packaged_clip", lambda name: paths[name])
    return paths


def test_several_clips_make_one_set_per_clip_and_preset_and_round_trip(fake_sources, tmp_path: Path) -> None:
    clips = build_val_set(4, (32, 48), ("light", "heavy"), windows=VAL_WINDOWS)
    assert [(c.clip, c.preset) for c in clips] == [(n, p) for n, _ in VAL_WINDOWS for p in ("light", "heavy")]
    assert all(c.degraded.shape == c.clean.shape == (4, 32, 48) for c in clips)
    assert not np.array_equal(clips[0].clean, clips[2].clean)  # each window from its own clip
    save_val_set(clips, tmp_path / "v.npz")
    back = load_val_set(tmp_path / "v.npz")
    assert [(c.clip, c.preset) for c in back] == [(c.clip, c.preset) for c in clips]
    assert all(np.array_equal(a.degraded, b.degraded) for a, b in zip(back, clips, strict=True))


def test_an_older_runs_set_loads_as_bikes(tmp_path: Path) -> None:
    clean = moving_clip(t=3, h=16, w=16, channels=1)[..., 0]
    np.savez_compressed(tmp_path / "old.npz", **{"light/degraded": clean, "light/clean": clean})
    (c,) = load_val_set(tmp_path / "old.npz")
    assert (c.clip, c.preset) == ("bikes", "light") and np.array_equal(c.clean, clean)


def test_scores_average_over_clips_per_preset() -> None:
    s = {("a", "light"): {"psnr": 30.0}, ("b", "light"): {"psnr": 34.0}, ("a", "heavy"): {"psnr": 20.0}}
    assert per_preset(s) == {"light": {"psnr": 32.0}, "heavy": {"psnr": 20.0}}


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
    assert [(r["weights"], r["clip"]) for r in rows] == [(w, c) for w in ["classical", *map(str, snaps)]
                                                          for c in ("bikes", "mean")]
    from oldfilm.models.weights import load_model

    direct = validate_model(load_model(snaps[1]), load_val_set(tmp_path / "val_set.npz"), 1)["light"]
    assert float(rows[-1]["psnr_tone"]) == round(direct["psnr_tone"], 4)
    assert float(rows[0]["psnr_tone"]) > 0


def test_cli_builds_the_several_clip_set_once(fake_sources, tmp_path: Path) -> None:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["--several", str(tmp_path / "several.npz"), "--frames", "3"]) == 0
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert {r["clip"] for r in rows} == {n for n, _ in VAL_WINDOWS} | {"mean"}
    assert len(load_val_set(tmp_path / "several.npz")) == 3 * len(VAL_WINDOWS)
