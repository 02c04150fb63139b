"""The classical restorer's stages for real transfers: noise that sees clumped grain, local deflicker, gate-weave
stabilisation, dirt that stays for a few frames, and grain left steady from frame to frame."""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.restore.border import frame_border
from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer
from oldfilm.restore.deflicker import match_local_brightness
from oldfilm.restore.dirt import one_sided_dirt
from oldfilm.restore.noise import noise_level, temporal_noise_level
from oldfilm.restore.stabilize import global_shift, shift_image
from tests.clips import moving_clip, psnr, texture


def _clumped(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    g = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 1.5)
    return sigma * g / g.std()


def test_temporal_noise_level_sees_clumped_grain() -> None:
    rng = np.random.default_rng(0)
    scene = texture(96, 128, rng)[..., 0].astype(np.float32) / 255
    frame = scene + _clumped(rng, scene.shape, 0.05)
    neighbours = np.stack([scene + _clumped(rng, scene.shape, 0.05) for _ in range(4)])
    assert noise_level(frame) < 0.025  # the white-noise estimator sees a fraction of it
    assert abs(temporal_noise_level(frame, neighbours) - 0.05) < 0.008


def test_local_deflicker_removes_a_gain_tilt() -> None:
    rng = np.random.default_rng(1)
    scene = 0.2 + 0.6 * texture(60, 80, rng).astype(np.float32) / 255
    tilt = (1 + 0.25 * np.linspace(-1, 1, 80, dtype=np.float32))[None, :, None]
    img, aligned = match_local_brightness(scene * tilt, np.stack([scene] * 4))
    before, after = np.abs(scene * tilt - scene).mean(), np.abs(img - aligned.mean(0)).mean()
    assert after < 0.25 * before


def test_global_shift_and_stabilisation() -> None:
    rng = np.random.default_rng(2)
    still = texture(72, 96, rng, sigma=2.0)
    assert np.allclose(global_shift(still[..., 0] / 255.0, np.roll(still, 3, axis=1)[..., 0] / 255.0), (3, 0),
                       atol=0.2)
    offsets = rng.normal(0, 1.0, (12, 2))
    weave = np.stack([np.clip(shift_image(still.astype(np.float32), dx, dy), 0, 255).astype(np.uint8)
                      for dx, dy in offsets])
    cfg = ClassicalConfig(sharpen=0.0)
    plain = np.stack(list(ClassicalRestorer(cfg).run(weave)))
    steady = np.stack(list(ClassicalRestorer(ClassicalConfig(sharpen=0.0, stabilize=True)).run(weave)))
    inner = (slice(None), slice(8, -8), slice(8, -8))
    jitter = [np.abs(np.diff(o[inner].astype(np.float32), axis=0)).mean() for o in (plain, steady)]
    assert jitter[1] < 0.5 * jitter[0]


def test_one_sided_dirt_finds_a_speck_that_stays() -> None:
    rng = np.random.default_rng(3)
    scene = texture(48, 64, rng, sigma=4.0)[..., 0].astype(np.float32) / 255
    dirty = scene.copy()
    cv2.circle(dirty, (30, 20), 2, 0.0, -1)
    # offsets -2, -1, +1, +2: the speck is in the centre and the next frame, not in the earlier ones
    frames = [scene, scene, dirty, scene]
    aligned = np.stack(frames)[..., None]
    mask, fill = one_sided_dirt(dirty, aligned, aligned[..., 0], [-2, -1, 1, 2], np.full(scene.shape, 0.05), 0.1,
                                9)
    assert mask[20, 30] and mask.sum() < 40 and abs(fill[20, 30, 0] - scene[20, 30]) < 0.02
    clean_mask, _ = one_sided_dirt(scene, aligned, aligned[..., 0], [-2, -1, 1, 2], np.full(scene.shape, 0.05),
                                   0.1, 9)
    assert not clean_mask.any()


def test_grain_is_left_steady() -> None:
    """Clumped grain on a pan: the restored frames change less from one to the next (along the motion) than
    with the earlier settings (white-noise estimate, absolute-difference weights, no recursive term)."""
    rng = np.random.default_rng(4)
    clean = moving_clip(t=10, h=64, w=80, step=1, seed=5)
    noisy = np.stack([np.clip(c + 255 * _clumped(rng, c.shape[:2], 0.05)[..., None], 0, 255) for c in clean])
    noisy = noisy.astype(np.uint8)
    old = ClassicalConfig(noise_estimator="spatial", similarity="abs", recursive=0.0, denoise_strength=0.6,
                          denoise_sigma=0.03, noise_factor=1.5, spatial_denoise=2.0, spatial_from_residual=False,
                          local_deflicker=False, sharpen=0.0)

    def change(frames: np.ndarray) -> float:  # content moves 1 px left per frame
        f = frames.astype(np.float32)
        return float(np.abs(f[1:, :, :-1] - f[:-1, :, 1:]).mean())

    before = np.stack(list(ClassicalRestorer(old).run(noisy)))
    after = np.stack(list(ClassicalRestorer(ClassicalConfig(sharpen=0.0)).run(noisy)))
    assert change(after) < 0.7 * change(before)
    assert np.mean([psnr(o, c) for o, c in zip(after, clean, strict=True)]) > \
        np.mean([psnr(o, c) for o, c in zip(before, clean, strict=True)])


def test_frame_line_is_left_as_it_is() -> None:
    """A black frame-line along the left edge survives deflicker, denoising and sharpening unchanged."""
    clip = moving_clip(t=8, h=48, w=64, seed=6)
    clip[:, :, :5] = 0
    gains = np.linspace(0.8, 1.2, 8)[:, None, None, None]  # flicker, which the deflicker lifts blacks against
    flick = np.clip(clip * gains + 10 * (gains > 1), 0, 255).astype(np.uint8)
    flick[:, :, :5] = 0
    out = np.stack(list(ClassicalRestorer().run(flick)))
    assert np.array_equal(out[:, :, :6], flick[:, :, :6])
    assert frame_border(flick[0, :, :, 0] / 255.0) == (0, 0, 5, 0)


def test_restore_file_with_stabilize(tmp_path) -> None:
    import pytest

    from oldfilm.api import restore
    from oldfilm.errors import UsageError
    from oldfilm.io.video import open_video
    from tests.clips import write_clip

    src = write_clip(tmp_path / "in.mkv", moving_clip(t=6, h=48, w=64, channels=3), codec="ffv1")
    with pytest.raises(UsageError):
        restore(src, tmp_path / "rtn.mkv", method="rtn", stabilize=True)
    out = restore(src, tmp_path / "out.mkv", stabilize=True)
    with open_video(out) as r:
        assert sum(1 for _ in r) == 6
