"""Per-operation tests: shape and dtype kept, identities at neutral settings, statistics where they matter."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from oldfilm.colorspace import from_float, to_float
from oldfilm.degrade import ops


def _img(c: int = 3, seed: int = 0, h: int = 32, w: int = 40) -> np.ndarray:
    """A smooth random image (H, W, C) float32 in [0.1, 0.9]."""
    noise = np.random.default_rng(seed).random((h, w, c), dtype=np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0).reshape(h, w, c)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return smooth * 0.8 + 0.1


@pytest.mark.parametrize("mode", ops.BLEND_MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("c", [1, 3])
def test_blend_keeps_dtype_and_shape(mode: str, dtype: type, c: int) -> None:
    img = _img(c)
    img = (img * 255).astype(np.uint8) if dtype == np.uint8 else img
    tex = np.zeros(img.shape[:2], np.float32)
    tex[10:20, 10:20] = 1.0
    out = ops.blend(img, tex, 0.8, mode)
    assert out.dtype == img.dtype and out.shape == img.shape
    changed = np.any(out != img, axis=-1)
    assert changed[10:20, 10:20].mean() > 0.9 and not changed[:10].any()


def test_blend_directions() -> None:
    img = np.full((8, 8, 3), 0.5, np.float32)
    tex = np.ones((8, 8), np.float32)
    assert np.allclose(ops.blend(img, tex, 0.6, "add"), 1.0)
    assert np.allclose(ops.blend(img, tex, 0.6, "subtract"), 0.0, atol=1e-6)
    assert np.allclose(ops.blend(img, tex, 0.6, "multiply"), 0.2)
    with pytest.raises(ValueError):
        ops.blend(img, tex, 0.6, "screen")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("c", [1, 3])
def test_jpeg_keeps_dtype_and_shape(dtype: type, c: int) -> None:
    ref = _img(c, h=33, w=47)
    img = from_float(ref, dtype)
    out = ops.jpeg(img, 40)
    assert out.dtype == img.dtype and out.shape == img.shape
    assert 0.0 < np.abs(to_float(out) - ref).mean() < 0.05


def test_jpeg_keeps_colours_in_rgb_order() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    img[..., 0] = 200  # pure red must stay red (no BGR swap)
    out = ops.jpeg(img, 90)
    assert out[..., 0].mean() > 180 and out[..., 2].mean() < 20


def test_noise_statistics() -> None:
    rng = np.random.default_rng(0)
    img = np.full((256, 256, 3), 0.5, np.float32)
    n = ops.gaussian_noise(img, 25.0, rng) - img
    assert abs(n.mean()) < 2e-3 and abs(n.std() - 25 / 255) < 3e-3
    gray = ops.gaussian_noise(img, 25.0, rng, monochrome=True) - img
    assert np.array_equal(gray[..., 0], gray[..., 2])
    sp = ops.speckle_noise(np.full((64, 64, 1), 0.0, np.float32), 40.0, rng)
    assert np.all(sp == 0.0)  # multiplicative: black stays black
    z = ops.standard_normal(rng, (200, 300))
    assert z.dtype == np.float32 and z.shape == (200, 300)
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1.0) < 0.02


def test_grain_is_signal_dependent_and_temporally_independent() -> None:
    rng = np.random.default_rng(1)
    img = np.zeros((64, 64, 3), np.float32)
    img[:, 32:] = 0.5
    g1 = ops.film_grain(img, 0.05, 1.0, rng) - img
    g2 = ops.film_grain(img, 0.05, 1.0, rng) - img
    assert np.abs(g1[:, :32]).max() == 0.0  # nothing in pure black
    assert 0.03 < g1[:, 40:].std() < 0.07
    assert abs(np.corrcoef(g1[:, 40:].ravel(), g2[:, 40:].ravel())[0, 1]) < 0.1
    mono = ops.film_grain(img, 0.05, 1.0, rng, monochrome=True)
    assert np.array_equal(mono[..., 0], mono[..., 1])


@pytest.mark.parametrize("c", [1, 3])
def test_geometry_and_tone_ops_keep_shape(c: int) -> None:
    img = _img(c)
    for out in (ops.gaussian_blur(img, 1.0), ops.gaussian_blur(img, 2.0, 0.5, 0.7),
                ops.resample(img, 0.5, "area", "cubic"), ops.gate_weave(img, 0.7, -0.3, 0.1),
                ops.color_jitter(img, 1.1, 0.9), ops.flicker(img, 1.05, 0.01, ops.vignette_map(32, 40, 0.3)),
                ops.to_monochrome(img, 0.3), ops.fade_colors(img, 0.5, (1.1, 0.9, 0.95))):
        assert out.shape == img.shape and out.dtype == np.float32


def test_neutral_settings_are_identities() -> None:
    img = _img(3)
    assert np.allclose(ops.gate_weave(img, 0.0, 0.0, 0.0), img, atol=1e-6)
    assert np.allclose(ops.color_jitter(img, 1.0, 1.0), img, atol=1e-6)
    assert np.allclose(ops.fade_colors(img, 0.0, (1.2, 0.8, 0.9)), img, atol=1e-6)
    assert np.allclose(ops.flicker(img, 1.0, 0.0), img)


def test_blur_kernel_and_vignette() -> None:
    k = ops.blur_kernel(2.0, 0.4, 0.8)
    assert abs(k.sum() - 1.0) < 1e-5 and k.shape[0] <= 11
    assert np.allclose(ops.blur_kernel(1.0, 1.0, 0.3), ops.blur_kernel(1.0, 1.0, 0.0), atol=1e-6)
    v = ops.vignette_map(50, 80, 0.4)
    assert v.shape == (50, 80) and abs(v.max() - 1.0) < 0.01 and abs(v.min() - 0.6) < 0.01


def test_monochrome_and_fade() -> None:
    img = _img(3)
    mono = ops.to_monochrome(img)
    assert np.allclose(mono[..., 0], mono[..., 1]) and np.allclose(mono[..., 1], mono[..., 2])
    sepia = ops.to_monochrome(img, 1.0)
    assert (sepia[..., 0] >= sepia[..., 2]).all()
    faded = ops.fade_colors(img, 1.0, (1.0, 1.0, 1.0))
    sat = lambda x: (x.max(-1) - x.min(-1)).mean()  # noqa: E731
    assert sat(faded) < 0.5 * sat(img)
