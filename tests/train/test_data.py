from __future__ import annotations

import time
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch

from oldfilm.train.config import DataConfig, TrainConfig
from oldfilm.train.corpus import load_corpus
from oldfilm.train.data import StepSampler, TrainClips, crop_size, perturb_flows, sample_clean
from oldfilm.train.motion import camera_motion_clip
from tests.clips import texture


def test_samples_have_declared_shapes_ranges_and_are_quick(tiny: TrainConfig) -> None:
    ds = TrainClips(tiny.data, seed=0, per_step=2, multiple=tiny.model.multiple)
    ds[0]  # warm-up (corpus load)
    t0 = time.perf_counter()
    items = [ds[i] for i in range(6)]
    assert (time.perf_counter() - t0) / 6 < 0.5
    for i, s in enumerate(items):
        size = crop_size(tiny.data, 0, i // 2, tiny.model.multiple)
        t = tiny.data.frames
        assert s["lq"].shape == s["gt"].shape == (t, 1, size, size)
        assert s["flows_fwd"].shape == s["flows_bwd"].shape == (t - 1, 2, size, size)
        for k in ("lq", "gt"):
            assert s[k].dtype == torch.float32 and 0.0 <= s[k].min() and s[k].max() <= 1.0
        assert torch.isfinite(s["flows_fwd"]).all()
    assert items[0]["lq"].shape == items[1]["lq"].shape  # one crop size per step


def test_samples_are_a_function_of_seed_and_index(tiny: TrainConfig) -> None:
    a = TrainClips(tiny.data, seed=3, per_step=2, multiple=8)
    b = TrainClips(tiny.data, seed=3, per_step=2, multiple=8)
    for k in ("lq", "gt", "flows_fwd"):
        assert torch.equal(a[5][k], b[5][k])
    assert not torch.equal(a[5]["gt"], a[6]["gt"])


def test_degraded_differs_from_clean(tiny: TrainConfig) -> None:
    s = TrainClips(tiny.data, seed=0, per_step=1, multiple=8)[0]
    assert (s["lq"] - s["gt"]).abs().mean() > 1e-3


def test_crop_sizes_are_multiples_within_range() -> None:
    cfg = DataConfig(crop=(96, 256))
    sizes = {crop_size(cfg, 0, s, 32) for s in range(50)}
    assert sizes <= {96, 128, 160, 192, 224, 256} and len(sizes) > 2


def test_sample_clean_uses_videos_and_stills(tiny: TrainConfig) -> None:
    corpus = load_corpus(tiny.data.corpus)  # type: ignore[arg-type]
    cfg = tiny.data
    clip = sample_clean(corpus, cfg, 32, np.random.default_rng(0))
    assert clip.shape == (cfg.frames, 32, 32, 3) and clip.dtype == np.uint8


def test_camera_motion_moves_smoothly() -> None:
    img = texture(200, 260, np.random.default_rng(1), channels=3)
    clip = camera_motion_clip(img, 7, 64, np.random.default_rng(2))
    assert clip.shape == (7, 64, 64, 3) and clip.dtype == np.uint8
    diffs = [np.abs(clip[i + 1].astype(int) - clip[i]).mean() for i in range(6)]
    assert 0 < min(diffs) and max(diffs) < 40


def test_step_sampler_partitions_steps_between_ranks() -> None:
    r0 = list(islice(iter(StepSampler(2, start_step=3, rank=0, world=2)), 4))
    r1 = list(islice(iter(StepSampler(2, start_step=3, rank=1, world=2)), 4))
    assert r0 == [12, 13, 16, 17] and r1 == [14, 15, 18, 19]


def test_guided_samples_carry_the_classical_restoration(tiny: TrainConfig) -> None:
    ds = TrainClips(tiny.data, seed=0, per_step=2, multiple=tiny.model.multiple, guided=True)
    s = ds[0]
    t, size = tiny.data.frames, crop_size(tiny.data, 0, 0, tiny.model.multiple)
    assert s["lq"].shape == (t, 2, size, size) and s["gt"].shape == (t, 1, size, size)
    assert 0.0 <= s["lq"].min() and s["lq"].max() <= 1.0
    # the guide is a restoration: different from the degraded frames, closer to the clean ones
    lq, guide, gt = s["lq"][:, 0], s["lq"][:, 1], s["gt"][:, 0]
    assert (guide - lq).abs().mean() > 1e-3
    assert (guide - gt).square().mean() < (lq - gt).square().mean()


def test_low_key_clips_are_darker_and_off_by_default(tiny: TrainConfig) -> None:
    from dataclasses import replace
    from pathlib import Path

    corpus = load_corpus(Path(tiny.data.corpus))
    plain = sample_clean(corpus, tiny.data, 32, np.random.default_rng(1))
    again = sample_clean(corpus, replace(tiny.data, low_key_prob=0.0), 32, np.random.default_rng(1))
    dark = sample_clean(corpus, replace(tiny.data, low_key_prob=1.0), 32, np.random.default_rng(1))
    assert np.array_equal(plain, again)  # disabled: the random stream is untouched
    assert dark.shape == plain.shape and dark.mean() < 0.8 * plain.mean()


def test_long_clips_are_drawn_per_step_with_their_own_length_and_crop(tiny: TrainConfig) -> None:
    from dataclasses import replace

    from oldfilm.train.data import clip_shape

    cfg = replace(tiny.data, long_prob=0.5, long_frames=6, long_crop=(16, 24))
    shapes = {clip_shape(cfg, 0, s, 8) for s in range(40)}
    assert {t for t, _ in shapes} == {cfg.frames, 6}
    assert all(s in (16, 24) for t, s in shapes if t == 6)
    assert clip_shape(tiny.data, 0, 3, 8) == (tiny.data.frames, crop_size(tiny.data, 0, 3, 8))
    long_step = next(s for s in range(40) if clip_shape(cfg, 0, s, 8)[0] == 6)
    item = TrainClips(cfg, seed=0, per_step=1, multiple=8)[long_step]
    assert item["lq"].shape[0] == 6 and item["flows_fwd"].shape[0] == 5


def test_soft_clips_are_blurred_clean_clips(tiny: TrainConfig) -> None:
    from dataclasses import replace

    corpus = load_corpus(tiny.data.corpus)  # type: ignore[arg-type]
    sharp = sample_clean(corpus, tiny.data, 32, np.random.default_rng(3))
    soft = sample_clean(corpus, replace(tiny.data, soft_prob=1.0, soft_sigma=(2.0, 2.0)), 32, np.random.default_rng(3))
    grad = lambda c: float(np.abs(np.diff(c.astype(np.float32), axis=2)).mean())  # noqa: E731
    assert soft.shape == sharp.shape and grad(soft) < 0.7 * grad(sharp)


def test_flow_errors_are_local_smooth_and_off_by_default(tiny: TrainConfig) -> None:
    from dataclasses import replace

    flows = np.zeros((3, 2, 64, 64), np.float32)
    wrong = perturb_flows(flows, np.random.default_rng(0), max_px=4.0)
    assert not flows.any() and wrong.shape == flows.shape
    size = np.hypot(wrong[:, 0], wrong[:, 1])
    assert 0 < size.max() <= 4.0 + 1e-4
    assert all((size[p] > 0.1 * size[p].max()).mean() < 0.9 for p in range(3))  # places, not everywhere
    assert np.abs(np.diff(wrong, axis=-1)).max() < 0.5  # smooth: no edges of wrong flow
    plain = TrainClips(tiny.data, seed=0, per_step=1, multiple=tiny.model.multiple)[0]
    off = TrainClips(replace(tiny.data, flow_error_prob=0.0, flow_error_px=8.0), seed=0, per_step=1,
                     multiple=tiny.model.multiple)[0]
    on = TrainClips(replace(tiny.data, flow_error_prob=1.0), seed=0, per_step=1, multiple=tiny.model.multiple)[0]
    torch.testing.assert_close(off["flows_fwd"], plain["flows_fwd"])
    torch.testing.assert_close(on["lq"], plain["lq"])
    assert not torch.equal(on["flows_fwd"], plain["flows_fwd"])


def test_debian_photos_are_kept_in_the_cache_and_a_missing_package_only_warns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import cv2

    from oldfilm.errors import InputError
    from oldfilm.io import sources
    from oldfilm.train import corpus

    package = next(p for p in corpus.DEB_PHOTOS if p.startswith("opencv-doc"))
    names = corpus.DEB_PHOTOS[package][1]
    tree = tmp_path / "tree"
    tree.mkdir()
    for n in names:
        cv2.imwrite(str(tree / n), np.full((40, 60, 3), (10, 20, 200), np.uint8))  # BGR: red
    calls = []

    def fetch(clip: sources.PackagedClip, tmp: Path) -> Path:
        calls.append(clip.package)
        if clip.package.startswith("mate"):
            raise InputError("could not download the Debian package mate-backgrounds")
        return tree

    monkeypatch.setattr(sources, "fetch_deb", fetch)
    monkeypatch.setenv("OLDFILM_CACHE", str(tmp_path / "cache"))
    got = dict(corpus._deb_photos())
    assert sorted(got) == sorted(f"opencv-doc-{Path(n).stem}" for n in names)
    assert got["opencv-doc-apple"].shape == (40, 60, 3) and got["opencv-doc-apple"][0, 0, 0] > 150  # as RGB
    assert "mate-backgrounds" in caplog.text
    # kept in the cache like a packaged clip: read again without a download
    calls.clear()
    assert sorted(dict(corpus._deb_photos())) == sorted(got)
    assert calls == [next(p for p in corpus.DEB_PHOTOS if p.startswith("mate"))]


def test_guide_context_makes_guide_and_flows_on_a_larger_clip_and_keeps_its_centre(tiny: TrainConfig) -> None:
    from dataclasses import replace

    from oldfilm.train.data import GUIDE_MARGIN, classical_guide, clip_shape, degrade_luma

    cfg = replace(tiny.data, guide_context=2.0)
    item = TrainClips(cfg, 7, per_step=1, multiple=8, guided=True)[0]
    frames, size = clip_shape(cfg, 7, 0, 8)
    assert item["lq"].shape == (frames, 2, size, size) and item["flows_fwd"].shape == (frames - 1, 2, size, size)
    # made again by hand: the clip twice as large, its guide, then the centre
    rng = np.random.default_rng([7, 0])
    m, o = GUIDE_MARGIN, size // 2
    lq, gt = degrade_luma(sample_clean(load_corpus(Path(cfg.corpus)), cfg, 2 * size, rng, frames + 2 * m), cfg, rng)
    centre = (slice(m, m + frames), slice(o, o + size), slice(o, o + size))
    assert np.array_equal(item["gt"][:, 0].numpy(), gt[centre])
    assert np.array_equal(item["lq"][:, 1].numpy(), classical_guide(lq)[centre])
    # ...which is not the guide the crop alone would get
    alone = classical_guide(lq[:, o: o + size, o: o + size])[m: m + frames]
    assert not np.array_equal(item["lq"][:, 1].numpy(), alone)
