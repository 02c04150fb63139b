"""Procedural contaminant textures: valid patches, augmentation, pasting, line scratches, user textures."""

from __future__ import annotations

import numpy as np
import pytest

from oldfilm.degrade import textures as tx

GENERATORS = {
    "straight_scratch": lambda rng: tx.straight_scratch(rng, 60.0, 1.0),
    "curved_scratch": lambda rng: tx.curved_scratch(rng, 60.0, 0.6),
    "hair": lambda rng: tx.hair(rng, 50.0, 1.2),
    "crack": lambda rng: tx.crack(rng, 50.0, 0.8),
    "blotch": lambda rng: tx.blotch(rng, 30.0),
    "emulsion_damage": lambda rng: tx.emulsion_damage(rng, 30.0),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_give_valid_patches(name: str) -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        patch = GENERATORS[name](rng)
        assert patch.ndim == 2 and patch.dtype == np.float32
        assert patch.min() >= 0.0 and patch.max() <= 1.0 and patch.max() > 0.2
        aug = tx.augment(patch, rng)
        assert aug.ndim == 2 and aug.dtype == np.float32 and 0.0 <= aug.min() and aug.max() <= 1.0
        assert aug.max() > 0.05


def test_generators_are_deterministic() -> None:
    for make in GENERATORS.values():
        a = make(np.random.default_rng(7))
        b = make(np.random.default_rng(7))
        assert np.array_equal(a, b)


def test_rotate_patch_holds_everything() -> None:
    patch = np.zeros((10, 40), np.float32)
    patch[4:6, :] = 1.0
    rot = tx.rotate_patch(patch, 90.0)
    assert rot.shape[0] >= 39 and rot.shape[1] >= 9
    assert abs(rot.sum() - patch.sum()) < 0.1 * patch.sum()


def test_paste_max_clips_at_borders() -> None:
    layer = np.zeros((20, 30), np.float32)
    patch = np.ones((8, 8), np.float32)
    tx.paste_max(layer, patch, 0, 0, 0.7)  # centred on the corner: a quarter lands
    assert np.isclose(layer.sum(), 16 * 0.7) and np.isclose(layer.max(), 0.7)
    tx.paste_max(layer, patch, 100, 100, 1.0)  # entirely outside: nothing
    tx.paste_max(layer, patch * 0.5, 1, 1, 1.0)  # max, not sum
    assert np.isclose(layer.max(), 0.7)


def test_dust_polygons_and_drawing() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[10.0, 10.0], [30.0, 20.0]])
    polys = tx.dust_polygons(rng, centres, np.array([3.0, 1.0]))
    assert polys.shape == (2, 7, 2) and polys.dtype == np.int32
    canvas = np.zeros((32, 48), np.uint8)
    tx.draw_polygons(canvas, list(polys), [255, 128])
    assert canvas[7:14, 7:14].max() == 255 and 0 < canvas[18:23, 28:33].max() <= 128
    assert canvas[:, 40:].max() == 0


def test_line_scratch_stays_at_its_column() -> None:
    layer = np.zeros((100, 60), np.float32)
    tx.line_scratch(layer, 20.3, 2.0, 0.8, np.random.default_rng(0))
    cols = np.nonzero(layer.sum(0))[0]
    assert cols.min() >= 17 and cols.max() <= 24
    assert layer.max() <= 0.8 and (layer.max(1) > 0).mean() > 0.5
    partial = np.zeros((100, 60), np.float32)
    tx.line_scratch(partial, 40.0, 1.0, 0.5, np.random.default_rng(1), extent=(0.5, 1.0))
    assert partial[:50].max() == 0.0


def test_user_textures_are_normalised() -> None:
    img = np.full((600, 300, 3), 240, np.uint8)  # dark marks on white paper
    img[100:110] = 10
    tex = tx.texture_from_image(img)
    assert tex.dtype == np.uint8 and tex.ndim == 2 and max(tex.shape) == 512
    assert tex.mean() < 128 and tex.max() > 200  # inverted: bright defect on dark
    patch = tx.real_texture(tex, np.random.default_rng(0), 128)
    assert patch.dtype == np.float32 and patch.max() <= 1.0 and max(patch.shape) <= 2 * 128
