"""oldfilm.restore.inputs: the one preparation of a network's inputs, shared by the engine and the trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oldfilm.colorspace import to_float
from oldfilm.models.presets import RTNConfig
from oldfilm.models.rtn import RTN
from oldfilm.restore.engine import EngineConfig, RTNEngine
from oldfilm.restore.inputs import clip_channels, clip_flows, flow_estimator, network_frame
from oldfilm.train.data import classical_guide
from tests.clips import moving_clip


def test_clip_flows_follow_a_pan() -> None:
    luma = moving_clip(t=3, h=64, w=80, step=2)[..., 0].astype(np.float32) / 255
    fwd, bwd = clip_flows(luma, flow_estimator())
    assert fwd.shape == bwd.shape == (2, 2, 64, 80)
    # the texture moves left by 2 px per frame: a pixel of frame t+1 is at x+2 in frame t
    assert np.median(fwd[:, 0, 16:-16, 16:-16]) == pytest.approx(2, abs=0.5)
    assert np.median(bwd[:, 0, 16:-16, 16:-16]) == pytest.approx(-2, abs=0.5)
    empty = clip_flows(luma[:1], flow_estimator())
    assert empty[0].shape == empty[1].shape == (0, 2, 64, 80)


def test_channels_of_luma_rgb_and_guided_networks() -> None:
    rgb = moving_clip(t=2, h=16, w=24, channels=3)
    assert network_frame(rgb[0], None, 1).shape == (16, 24)
    assert network_frame(rgb[0], None, 3).shape == (16, 24, 3)
    assert network_frame(rgb[0][..., 0], None, 3).shape == (16, 24, 3)  # gray into an RGB network
    guided = network_frame(rgb[0], rgb[1], 1)
    assert guided.shape == (16, 24, 2) and guided.dtype == np.float32
    x = clip_channels(list(rgb), list(rgb[::-1]), 3)
    assert x.shape == (2, 6, 16, 24) and x.flags.c_contiguous
    assert np.array_equal(x[0, 3:], x[1, :3])


def test_the_engine_gives_a_network_what_the_trainer_trains_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a film the engine prepares, frame by frame, exactly the channels, guide and flows the trainer makes
    for the same (8-bit) clip."""
    cfg = RTNConfig(name="tiny-g", scale=2, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2,
                    shuffle_channels=4, guided=True)
    frames = list(moving_clip(t=6, h=40, w=56, step=2)[..., 0])
    seen = []
    restore_window = RTNEngine._restore_window

    def spy(self: RTNEngine, window: list, keep: int, state: dict) -> np.ndarray:
        seen.extend(window[:keep])
        return restore_window(self, window, keep, state)

    monkeypatch.setattr(RTNEngine, "_restore_window", spy)
    torch.manual_seed(0)
    engine = RTNEngine(RTN(cfg).eval(), EngineConfig(chunk=8, lookahead=0, scenes=False, threads=1), device="cpu")
    assert len(list(engine.run(frames))) == 6 and len(seen) == 6

    lq = np.stack([to_float(f) for f in frames])  # the trainer's degraded luma
    x = clip_channels(lq, classical_guide(lq, cfg.guide), in_channels=1)
    fwd, bwd = clip_flows(lq, flow_estimator())
    for t, rec in enumerate(seen):
        assert np.array_equal(rec.net[:40, :56], x[t].transpose(1, 2, 0))
        assert rec.to_prev is None if t == 0 else np.array_equal(rec.to_prev, fwd[t - 1])
        assert rec.to_next is None if t == 5 else np.array_equal(rec.to_next, bwd[t])


def test_training_crops_get_their_flows_at_the_engines_flow_scale() -> None:
    """The trainer computes flows on whole crops with the engine's estimator; the engine computes them on
    frames scaled to ``flow_side``: so no training crop may be larger than that."""
    from oldfilm.train.config import TRAIN_PRESETS

    for name, tc in TRAIN_PRESETS.items():
        side = EngineConfig().resolved(tc.model).flow_side
        assert tc.data.flow_preset == tc.model.flow_preset, name
        assert max(tc.data.crop[1], tc.data.long_crop[1]) <= side, name


def test_the_engine_and_the_trainer_use_the_networks_pinned_flow_preset() -> None:
    from dataclasses import replace

    from oldfilm.errors import UsageError
    from oldfilm.models.presets import PRESETS
    from oldfilm.train.config import TRAIN_PRESETS

    medium = replace(PRESETS["quality"], flow_preset="medium")
    assert RTNEngine(RTN(medium), device="cpu").flow.preset == "medium"
    assert RTNEngine(RTN(PRESETS["quality"]), device="cpu").flow.preset == "fast"
    g = TRAIN_PRESETS["quality-cpu-flow"]
    assert g.model.flow_preset == g.data.flow_preset == "medium"
    with pytest.raises(UsageError, match="flow preset"):
        replace(g, data=replace(g.data, flow_preset="fast"))
    with pytest.raises(ValueError, match="flow_preset"):
        replace(medium, flow_preset="slow")
