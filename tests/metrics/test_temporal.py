"""Warping error and flicker on constructed clips."""

import math

import cv2
import numpy as np
import pytest
from skimage import data

from oldfilm.errors import InputError
from oldfilm.metrics import ewarp, flicker, flicker_per_frame
from oldfilm.metrics.temporal import ewarp_per_frame


@pytest.fixture(scope="module")
def moving() -> list[np.ndarray]:
    """A textured gray scene panning right by 2 px per frame, (96, 128, 1) uint8."""
    img = cv2.resize(data.camera(), (256, 256), interpolation=cv2.INTER_AREA)
    return [img[60:156, 60 - 2 * t : 188 - 2 * t, None].copy() for t in range(5)]


def test_static_unchanged_clip_is_zero() -> None:
    f = data.camera()[:64, :64]
    assert ewarp([f] * 3, [f] * 3) == 0.0
    assert flicker([f] * 3) == 0.0


def test_known_shift_is_compensated(moving) -> None:
    errors = ewarp_per_frame(moving, moving)
    assert len(errors) == 4
    assert max(errors) < 0.01  # output == reference: only interpolation residue remains
    frozen = [moving[0]] * 5  # output stuck on frame 0 while the reference moves: large error
    assert ewarp(frozen, moving) > 5 * ewarp(moving, moving)


def test_known_noise_level(moving) -> None:
    rng = np.random.default_rng(0)
    sigma = 0.04
    noisy = [np.clip(f / 255.0 + rng.normal(0, sigma, f.shape), 0, 1) for f in moving]
    expected = 2 * sigma / math.sqrt(math.pi)  # E|n1 - n2| for two independent N(0, σ²)
    assert ewarp(noisy, moving) == pytest.approx(expected, rel=0.15)
    assert ewarp(noisy, moving, norm="l2") == pytest.approx(2 * sigma**2, rel=0.2)


def test_flicker_known_amplitude(moving) -> None:
    delta = 0.02
    out = [np.clip(f / 255.0 + (delta if t % 2 else -delta), 0, 1) for t, f in enumerate(moving)]
    assert flicker(out, moving) == pytest.approx(2 * delta, rel=0.05)
    assert flicker(moving, moving) == 0.0


def test_errors(moving) -> None:
    with pytest.raises(InputError):
        ewarp(moving[:1], moving[:1])
    with pytest.raises(InputError):
        ewarp(moving, moving[:3])
    with pytest.raises(InputError):
        flicker(moving[:1])
    with pytest.raises(InputError):
        ewarp(moving, moving, norm="l3")


def test_flicker_per_frame_is_the_flicker_series() -> None:
    frames = [np.full((8, 8, 1), v, np.uint8) for v in (100, 110, 90, 95)]
    series = flicker_per_frame(frames)
    assert series == pytest.approx(np.array([10, -20, 5]) / 255.0, abs=1e-6)  # float32 luma
    assert float(np.std(series)) == pytest.approx(flicker(frames))
