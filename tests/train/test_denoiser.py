"""The learned denoiser's pairs and fit: crops of what reaches the spatial pass with a tone-fitted clean
target; a fit that checkpoints, resumes where it stopped and exports weights the restorer loads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from oldfilm.models.denoiser import Denoiser, DenoiserConfig
from oldfilm.models.weights import load_weights
from oldfilm.train.denoiser import FitConfig, PairsConfig, draw_pairs, evaluate, export, fit, make_pairs


def _pairs_cfg(corpus_root: Path) -> PairsConfig:
    cfg = PairsConfig()
    return replace(cfg, frames=5, warmup=1, size=(64, 72), crops=2, crop=32,
                   data=replace(cfg.data, frames=5, corpus=str(corpus_root)))


def test_pairs_are_the_spatial_pass_input_and_a_tone_fitted_clean_target(corpus_root: Path) -> None:
    x, y, sigma = draw_pairs(0, _pairs_cfg(corpus_root))
    assert x.shape == y.shape == (8, 32, 32) and x.dtype == np.float16 and sigma.shape == (8,)
    assert (sigma > 0).all() and np.isfinite(x).all() and np.isfinite(y).all()
    # the target keeps the input's tone (its gain and offset were fitted), not the clean frame's
    assert abs(float(x.astype(np.float32).mean() - y.astype(np.float32).mean())) < 0.02
    x2, _, _ = draw_pairs(0, _pairs_cfg(corpus_root))
    assert np.array_equal(x, x2)  # a draw is a pure function of its index


def test_fit_resumes_and_exports(corpus_root: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.npz"
    make_pairs(pairs, draws=11, jobs=1, cfg=_pairs_cfg(corpus_root))  # draws 0 and 10 are held out
    cfg = FitConfig(steps=3, batch=4, patch=16, model=DenoiserConfig(channels=4, depth=3))
    run = tmp_path / "run"
    fit(pairs, run, cfg, minutes=5)
    first = (run / "log.csv").read_text().splitlines()
    fit(pairs, run, replace(cfg, steps=5), minutes=5)
    rows = (run / "log.csv").read_text().splitlines()
    assert first[0].startswith("step,") and first[-1].startswith("3,") and rows[-1].startswith("5,")
    assert len(rows) == len(first) + 1  # resumed at step 3: one more logged row, no second header
    export(run, tmp_path / "d.safetensors")
    net = load_weights(tmp_path / "d.safetensors", Denoiser)
    assert net.cfg.channels == 4
    x = torch.rand(1, 1, 20, 20)
    assert net(x, torch.tensor([0.01])).shape == x.shape
    scores = evaluate(pairs, tmp_path / "d.safetensors")
    assert set(scores) == {"input", "nlmeans", "network"} and all(np.isfinite(v) for v in scores.values())


def test_the_target_is_blurred_as_the_damage_blurred_each_frame() -> None:
    from oldfilm.degrade import ops
    from oldfilm.train.denoiser import blurred_as_damaged

    clean = (np.random.default_rng(0).random((2, 40, 48, 1)) * 255).astype(np.uint8)
    template = {"scale": 2.0, "blur_angle": 0.3, "resample_scale": 0.5, "resample_interp": ["area", "linear"]}
    params = {"template": template,
              "frames": [{"blur_sigma": None}, {"blur_sigma": [0.5, 0.8]}]}
    got = blurred_as_damaged(clean, params)
    x = clean / np.float32(255)
    assert np.allclose(got[0], ops.resample(x[0], 0.5, "area", "linear").reshape(40, 48, 1), atol=1e-6)
    want = ops.resample(ops.gaussian_blur(x[1], 1.0, 1.6, 0.3), 0.5, "area", "linear").reshape(40, 48, 1)
    assert np.allclose(got[1], want, atol=1e-6)
