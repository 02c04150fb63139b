"""The stress suite: its damage family (independent of the training generator), per-clip rows with their mean,
and the real film scored without reference."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from oldfilm.bench import film, stress, suite
from oldfilm.bench.report import strongest_baseline
from oldfilm.bench.suite import STRESS, Result, mean_rows, run_bench
from tests.clips import moving_clip


def test_stress_damage_is_deterministic_and_real_looking() -> None:
    clean = moving_clip(t=6, h=64, w=96, seed=1)
    a = stress.stress_clip(clean, np.random.default_rng(5))
    b = stress.stress_clip(clean, np.random.default_rng(5))
    assert a.shape == clean.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, stress.stress_clip(clean, np.random.default_rng(6)))
    rng = np.random.default_rng(0)
    grain = stress._grain(rng, 64, 64, 1.3)  # clumped: neighbouring pixels are strongly correlated
    assert np.corrcoef(grain[:, 1:].ravel(), grain[:, :-1].ravel())[0, 1] > 0.5
    gains = stress._flicker_fields(rng, 8, 32, 48, stress.STRESS)  # varies across the frame and over time
    assert np.ptp(gains[0]) > 0.01 and np.ptp(gains.mean(axis=(1, 2))) > 0.01
    alpha, _ = stress._dirt_layers(rng, 10, 64, 64, replace(stress.STRESS, dirt_per_frame=40.0))
    born = (alpha[1:] > 0.5) & (alpha[:-1] > 0.5)  # specks stay at their place into the next frame
    assert born.sum() > 0.5 * (alpha[:-1] > 0.5).sum()


def test_training_never_imports_the_stress_damage() -> None:
    train = Path(suite.__file__).parents[1] / "train"
    for src in train.glob("*.py"):
        text = src.read_text()
        assert "bench.stress" not in text and "stress_clip" not in text, src


def test_mean_rows_and_strongest_baseline_on_the_mean() -> None:
    rows = [Result("gray", "a", "x", psnr_tone=20.0, ewarp=0.02), Result("gray", "b", "x", psnr_tone=24.0),
            Result("gray", "a", "y", psnr_tone=23.0), Result("gray", "b", "y", psnr_tone=22.0)]
    means = {r.method: r for r in mean_rows(rows)}
    assert means["x"].psnr_tone == 22.0 and means["x"].ewarp == 0.02 and means["y"].preset == "mean"
    assert strongest_baseline(rows + list(means.values()), key="psnr_tone", group="mean") == ("y", 22.5)


def test_tiny_stress_run_with_the_film(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(suite, "_clean_window", lambda w: moving_clip(t=w.frames, h=48, w=64, seed=len(w.clip)))
    monkeypatch.setattr(film, "film_frames", lambda name, n: list(moving_clip(t=n, h=96, w=128, seed=9)))
    cfg = replace(STRESS, name="tiny-stress", windows=tuple(replace(w, frames=4) for w in STRESS.windows[:2]),
                  film_frames=5, methods=("identity", "ffmpeg-hqdn3d"))
    md = run_bench(out_dir=tmp_path, cache=tmp_path / "cache", config=cfg, say=lambda s: None)
    text = md.read_text()
    assert "| mean | identity |" in text and "| bikes | ffmpeg-hqdn3d |" in text and "| film | method" in text
    assert (tmp_path / "benchmark-tiny-stress" / "film-strip.png").stat().st_size > 0
    rows = json.loads((tmp_path / "benchmark-tiny-stress" / "results.json").read_text())["results"]
    assert {r["variant"] for r in rows} == {"gray", "film"}
    assert any(r["variant"] == "film" and r["flicker"] is not None and r["psnr"] is None for r in rows)


def test_unknown_suite(tmp_path) -> None:
    from oldfilm.errors import InputError

    with pytest.raises(InputError):
        run_bench(out_dir=tmp_path, suite="nope")


def test_the_tuning_suites_cut_only_training_clips() -> None:
    """The classical restorer is tuned on ``stress-train`` and ``presets-train``: no evaluation clip may be
    in them (DATA.md: never tune on evaluation footage)."""
    from oldfilm.bench.config import SUITES
    from oldfilm.io.sources import CLIPS

    for name in ("stress-train", "presets-train"):
        assert {CLIPS[w.clip].role for w in SUITES[name].windows} == {"train"}, name
    assert {w.clip for w in SUITES["presets-train"].windows} == {"city", "bigbuckbunny", "office"}


def test_a_tuning_suites_report_says_it_is_training_footage_with_its_own_damage() -> None:
    from oldfilm.bench.config import PRESETS_TRAIN, STRESS, STRESS_TRAIN
    from oldfilm.bench.report import _evaluation_set

    presets = _evaluation_set(PRESETS_TRAIN)
    assert "*training* clips" in presets and "presets light, medium, heavy" in presets
    assert "independent family" not in presets
    assert "*training* clips" in _evaluation_set(STRESS_TRAIN) and "independent family" in _evaluation_set(STRESS_TRAIN)
    assert "never used in training" in _evaluation_set(STRESS)


def test_the_evaluation_presets_suite_cuts_evaluation_clips_away_from_the_validation_windows() -> None:
    from oldfilm.bench.config import PRESETS_EVAL
    from oldfilm.io.sources import CLIPS
    from oldfilm.train.config import VAL_WINDOWS

    assert {w.clip for w in PRESETS_EVAL.windows} == {c for c, _ in VAL_WINDOWS}
    assert all(CLIPS[w.clip].role == "eval" for w in PRESETS_EVAL.windows)
    for w in PRESETS_EVAL.windows:  # the networks are picked on VAL_WINDOWS: no frame in common
        start = dict(VAL_WINDOWS)[w.clip]
        assert w.start + w.frames <= start or start + 24 <= w.start
