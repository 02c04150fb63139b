"""The classical restorer removes impulsive dirt, keeps clean detail, deflickers, and respects scene cuts."""

from __future__ import annotations

import numpy as np
import pytest

from oldfilm.restore.api import restore_stream
from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer
from oldfilm.restore.scenes import SceneDetector
from tests.clips import add_dust, moving_clip, psnr


@pytest.mark.parametrize("channels", [1, 3])
def test_removes_dust_on_a_moving_clip(channels: int) -> None:
    clean = moving_clip(t=10, h=72, w=96, channels=channels)
    dirty = add_dust(clean, specks=15)
    out = np.stack(list(ClassicalRestorer().run(dirty)))
    assert out.shape == dirty.shape and out.dtype == np.uint8
    before = np.mean([psnr(d, c) for d, c in zip(dirty, clean, strict=True)])
    after = np.mean([psnr(o, c) for o, c in zip(out, clean, strict=True)])
    assert after > before + 8.0


def test_clean_input_is_barely_touched() -> None:
    clean = moving_clip(t=8, h=64, w=80, channels=3)
    out = np.stack(list(restore_stream(clean, "classical")))
    assert np.mean([psnr(o, c) for o, c in zip(out, clean, strict=True)]) > 38.0


def test_spatial_denoise_removes_grain_that_time_does_not() -> None:
    clean = moving_clip(t=8, h=72, w=96)
    rng = np.random.default_rng(5)
    grainy = np.clip(clean + rng.normal(0, 10, clean.shape), 0, 255).astype(np.uint8)
    score = lambda cfg: np.mean([psnr(o, c) for o, c in  # noqa: E731
                                 zip(ClassicalRestorer(cfg).run(grainy), clean, strict=True)])
    temporal_only = score(ClassicalConfig(spatial_denoise=0.0))
    assert score(ClassicalConfig()) > temporal_only + 1.0


def test_keep_grain_repairs_dust_but_leaves_the_grain() -> None:
    from oldfilm.restore.classical import KEEP_GRAIN

    clean = moving_clip(t=8, h=72, w=96)
    grain = np.random.default_rng(7).normal(0, 8, clean.shape)
    grainy = np.clip(clean + grain, 0, 255).astype(np.uint8)
    dirty = add_dust(grainy, specks=15)
    kept = np.stack(list(restore_stream(dirty, "classical", **KEEP_GRAIN))).astype(np.float32)
    removed = np.stack(list(restore_stream(dirty, "classical"))).astype(np.float32)
    speck = np.abs(dirty.astype(np.float32) - grainy) > 60
    # the specks are gone in both...
    assert np.abs(kept - grainy)[speck].mean() < 0.3 * np.abs(dirty.astype(np.float32) - grainy)[speck].mean()
    # ...but only the default takes the grain away: keep leaves the frame much closer to its grainy self
    inner = (slice(2, -2), slice(8, -8), slice(8, -8))
    keep = ~speck[inner]
    assert np.abs(kept - grainy)[inner][keep].mean() < 0.5 * np.abs(removed - grainy)[inner][keep].mean()


def test_16bit_and_float_frames_keep_their_type() -> None:
    clean = moving_clip(t=5, h=32, w=40)
    out16 = list(ClassicalRestorer().run(clean.astype(np.uint16) * 257))
    assert out16[0].dtype == np.uint16 and out16[0].shape == (32, 40, 1)
    outf = list(ClassicalRestorer().run(clean.astype(np.float32) / 255))
    assert outf[0].dtype == np.float32


def test_deflicker_steadies_brightness() -> None:
    clean = moving_clip(t=16, h=48, w=64).astype(np.float32)
    gains = 1.0 + 0.25 * np.sin(np.arange(16) * 2.1)
    flicker = np.clip(clean * gains[:, None, None, None], 0, 255).astype(np.uint8)
    cfg = ClassicalConfig(denoise_strength=0.0)
    out = np.stack(list(ClassicalRestorer(cfg).run(flicker))).astype(np.float32)
    index = lambda v: np.std(np.diff(v.reshape(len(v), -1).mean(1)))  # noqa: E731
    assert index(out) < 0.5 * index(flicker.astype(np.float32))


def test_one_output_per_input_even_when_short() -> None:
    for t in (1, 2, 3):
        assert len(list(ClassicalRestorer().run(moving_clip(t=t, h=16, w=16)))) == t
    assert list(ClassicalRestorer().run([])) == []


def test_scene_cut_detected_on_a_spliced_clip() -> None:
    a = moving_clip(t=8, h=48, w=64, seed=1)
    b = 255 - moving_clip(t=8, h=48, w=64, seed=2) // 2
    det = SceneDetector()
    cuts = [det(f) for f in np.concatenate([a, b])]
    assert [i for i, c in enumerate(cuts) if c] == [0, 8]
    flicker = np.clip(a.astype(np.float32) * (1 + 0.2 * np.sin(np.arange(8)))[:, None, None, None], 0, 255)
    det.reset()
    assert sum(det(f) for f in flicker.astype(np.uint8)) == 1  # flicker is not a cut


def test_fast_pan_and_noise_are_not_cuts() -> None:
    pan = moving_clip(t=12, h=72, w=96, step=9, seed=4)  # 9 px per frame: large frame differences
    noisy = np.clip(pan + np.random.default_rng(0).normal(0, 25, pan.shape), 0, 255).astype(np.uint8)
    for clip in (pan, noisy):
        det = SceneDetector()
        assert [i for i, f in enumerate(clip) if det(f)] == [0]


def test_window_does_not_cross_a_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.full((6, 32, 40, 1), 40, np.uint8)
    b = moving_clip(t=6, h=32, w=40, seed=3)
    pairs: list[tuple[int, int]] = []
    real = ClassicalRestorer._flow

    def spy(self, centre, other):  # noqa: ANN001
        pairs.append((centre.index, other.index))
        return real(self, centre, other)

    monkeypatch.setattr(ClassicalRestorer, "_flow", spy)
    out = np.stack(list(ClassicalRestorer(ClassicalConfig(deflicker=False, sharpen=0.0)).run(np.concatenate([a, b]))))
    assert len(out) == 12 and pairs
    assert all((i < 6) == (j < 6) for i, j in pairs)  # no frame is aligned to one across the cut
    assert psnr(out[5], a[5]) > 40 and psnr(out[6], b[0]) > 35


def test_learned_spatial_pass_runs_the_given_network(tmp_path) -> None:  # noqa: ANN001
    """``spatial_method`` as a weights file: a network that removes nothing gives exactly the restoration
    without a spatial pass; one that does, another restoration; an unknown method is refused."""
    import torch

    from oldfilm.errors import UsageError, WeightsError
    from oldfilm.models.denoiser import Denoiser, DenoiserConfig
    from oldfilm.models.weights import save_weights

    torch.manual_seed(0)
    net = Denoiser(DenoiserConfig(channels=8, depth=3))
    active = save_weights(net, tmp_path / "active.safetensors")
    with torch.no_grad():
        net.body[-1].weight.zero_()
    idle = save_weights(net, tmp_path / "idle.safetensors")
    rng = np.random.default_rng(3)
    noisy = np.clip(moving_clip(t=6, h=48, w=64).astype(np.float64) + rng.normal(0, 12, (6, 48, 64, 1)), 0, 255)
    noisy = noisy.astype(np.uint8)

    def run(**options: object) -> np.ndarray:
        return np.stack(list(ClassicalRestorer(ClassicalConfig(**options)).run(noisy)))

    none = run(spatial_denoise=0.0)
    assert np.array_equal(run(spatial_method=str(idle)), none)
    assert not np.array_equal(run(spatial_method=str(active)), none)
    with pytest.raises(UsageError, match="spatial_method"):
        ClassicalRestorer(ClassicalConfig(spatial_method="bm3d"))
    with pytest.raises(WeightsError, match="does not exist"):
        ClassicalRestorer(ClassicalConfig(spatial_method=str(tmp_path / "none.safetensors")))
