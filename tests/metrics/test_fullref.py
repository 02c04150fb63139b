"""PSNR and SSIM: constructed cases and scikit-image's values."""

import math

import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from oldfilm.errors import InputError
from oldfilm.metrics import psnr, ssim


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    a = data.astronaut()[::2, ::2]
    rng = np.random.default_rng(1)
    return a, np.clip(a + rng.normal(0, 15, a.shape), 0, 255).astype(np.uint8)


def test_identical_images() -> None:
    a = data.camera()[:64, :64]
    assert psnr(a, a) == math.inf
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_known_noise_level() -> None:
    a = np.full((32, 32), 0.5, np.float32)
    b = a + np.where(np.indices(a.shape).sum(0) % 2 == 0, 0.1, -0.1).astype(np.float32)
    assert psnr(a, b) == pytest.approx(20.0, abs=1e-4)  # MSE 0.01


def test_uint8_and_float_agree(pair) -> None:
    a, b = pair
    assert psnr(a, b) == pytest.approx(psnr(a / 255.0, b / 255.0), abs=1e-4)


@pytest.mark.parametrize("gray", [False, True])
def test_matches_scikit_image(pair, gray: bool) -> None:
    a, b = pair
    if gray:
        a, b = a[..., 1], b[..., 1]
    axis = None if gray else 2
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-3)
    paper = structural_similarity(a, b, channel_axis=axis, data_range=255, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False)
    assert ssim(a, b) == pytest.approx(paper, abs=1e-3)
    assert ssim(a, b, gaussian=False) == pytest.approx(
        structural_similarity(a, b, channel_axis=axis, data_range=255), abs=1e-3)


def test_luma_space_of_colour_pair(pair) -> None:
    a, b = pair
    ya = (a / 255.0) @ np.array([0.299, 0.587, 0.114])
    yb = (b / 255.0) @ np.array([0.299, 0.587, 0.114])
    expected = peak_signal_noise_ratio(ya, yb, data_range=1.0)
    assert psnr(a, b, space="luma") == pytest.approx(expected, abs=1e-3)
    assert psnr(a, b, space="luma") != pytest.approx(psnr(a, b, space="rgb"), abs=1e-2)
    assert psnr(a[..., :1], b) == psnr(a[..., :1], b, space="luma")  # gray vs colour → luma


def test_errors() -> None:
    a = np.zeros((16, 16), np.uint8)
    with pytest.raises(InputError):
        psnr(a, np.zeros((16, 17), np.uint8))
    with pytest.raises(InputError):
        ssim(a, a, space="lab")
    with pytest.raises(InputError):
        psnr(a, a, space="rgb")
    with pytest.raises(InputError):
        ssim(a[:5, :5], a[:5, :5])
