"""Whole-clip scoring: ``evaluate_clip`` on arrays, ``evaluate_paths`` and ``oldfilm metrics`` on folders."""

import json
import math

import cv2
import numpy as np
import pytest
from skimage import data

from oldfilm.cli import main
from oldfilm.errors import InputError
from oldfilm.metrics import evaluate_clip, evaluate_paths


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    """A gray scene panning by 2 px per frame, (128, 224, 1) uint8 — big enough for NIQE (two blocks)."""
    img = data.camera()
    return [img[100:228, 200 - 2 * t : 424 - 2 * t, None].copy() for t in range(4)]


def test_evaluate_clip(clip) -> None:
    same = evaluate_clip(clip, clip)
    assert same.frames == 4 and math.isinf(same.psnr) and same.ssim == pytest.approx(1.0)
    assert same.flicker == 0.0 and same.ewarp < 0.01 and same.niqe is not None and same.brisque is not None
    rng = np.random.default_rng(0)
    noisy = [np.clip(f + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in clip]
    scores = evaluate_clip(noisy, clip, noref_every=2)
    assert 20 < scores.psnr < 40 and scores.ssim < 1 and scores.ewarp > same.ewarp
    assert scores.niqe > same.niqe
    noref = evaluate_clip(noisy, noref_every=0)
    assert noref.psnr is None and noref.niqe is None and noref.ewarp is not None


def test_evaluate_clip_errors(clip) -> None:
    with pytest.raises(InputError):
        evaluate_clip([], [])
    with pytest.raises(InputError):
        evaluate_clip(clip, clip[:2])


def _write(folder, frames) -> None:
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), f)


def test_paths_and_cli(clip, tmp_path, capsys) -> None:
    _write(tmp_path / "ref", clip)
    _write(tmp_path / "out", [cv2.GaussianBlur(f, (5, 5), 1.0)[..., None] for f in clip])
    scores = evaluate_paths(tmp_path / "out", tmp_path / "ref", noref_every=0)
    assert scores.frames == 4 and 25 < scores.psnr < 45
    assert main(["metrics", str(tmp_path / "out"), "--ref", str(tmp_path / "ref"), "--noref-every", "0",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["psnr"] == pytest.approx(scores.psnr)
    assert main(["metrics", str(tmp_path / "missing")]) == 2


def test_tone_aligned_psnr_forgives_one_global_exposure_error_only() -> None:
    from oldfilm.metrics.fullref import tone_aligned_psnr, tone_moments

    rng = np.random.default_rng(3)
    clean = [rng.random((24, 32)).astype(np.float32) * 0.6 + 0.2 for _ in range(5)]
    darker = [0.8 * c + 0.05 for c in clean]  # one exposure error for the whole clip
    scores = evaluate_clip(darker, clean, noref_every=0)
    assert scores.psnr < 25 and scores.psnr_tone > 80
    # a different exposure per frame (flicker) is not forgiven, nor is noise
    flicker = [c * (1.0 + 0.1 * (-1) ** i) for i, c in enumerate(clean)]
    assert tone_aligned_psnr(np.stack([tone_moments(f, c) for f, c in zip(flicker, clean, strict=True)])) < 35
    noisy = [0.8 * c + 0.05 + rng.normal(0, 0.02, c.shape).astype(np.float32) for c in clean]
    got = evaluate_clip(noisy, clean, noref_every=0).psnr_tone
    assert got == pytest.approx(-20 * np.log10(0.02 / 0.8), abs=0.3)  # the noise, scaled back by the gain 1/0.8
