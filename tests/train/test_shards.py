"""Shards of precomputed training pairs, the per-clip dB loss and the committable resume state."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from oldfilm.models.presets import RTNConfig
from oldfilm.train.config import LossConfig, TrainConfig
from oldfilm.train.data import TrainClips
from oldfilm.train.loop import train
from oldfilm.train.losses import clip_gain_db
from oldfilm.train.resume import export_resume, import_resume
from oldfilm.train.shards import ShardClips, shard_of

HEADED = RTNConfig(name="tiny-q", scale=2, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2,
                   shuffle_channels=4, guided=True, head_channels=4, head_layers=1)


@pytest.fixture
def sharded(tiny: TrainConfig, tmp_path: Path) -> TrainConfig:
    data = replace(tiny.data, shard_count=3, shard_size=4, shard_dir=str(tmp_path / "shards"), crop=(32, 40))
    loss = LossConfig(relative=True, relative_raw=0.5, temporal=0.1)
    return replace(tiny, model=HEADED, data=data, loss=loss, batch_size=2)


def test_each_epoch_reads_every_sample_of_every_shard_once() -> None:
    from oldfilm.train.config import DataConfig

    cfg = DataConfig(shard_count=5, shard_size=4)
    for epoch in range(3):
        seen = {shard_of(i, cfg, seed=3) for i in range(epoch * 20, (epoch + 1) * 20)}
        assert seen == {(k, j) for k in range(5) for j in range(4)}
    assert [shard_of(i, cfg, 3)[0] for i in range(0, 20, 4)] == [0, 1, 2, 3, 4]  # epoch 0 in build order


def test_shard_samples_are_the_training_samples(sharded: TrainConfig) -> None:
    ds = ShardClips(sharded.data, sharded.seed, HEADED.multiple, guided=True)
    direct = TrainClips(sharded.data, sharded.seed, per_step=4, multiple=HEADED.multiple, guided=True)
    k, j = shard_of(5, sharded.data, sharded.seed)
    a, b = ds[5], direct[k * 4 + j]
    for key in ("lq", "gt"):
        assert a[key].shape == b[key].shape
        assert torch.allclose(a[key], b[key].clamp(0, 1), atol=1 / 65535)
    assert torch.allclose(a["flows_fwd"], b["flows_fwd"], atol=2e-2, rtol=1e-3)  # stored as float16
    assert a["lq"].shape[1] == 2  # degraded + guide


def test_clip_gain_db() -> None:
    gt = torch.zeros(2, 3, 1, 4, 4)
    guide = torch.full_like(gt, 0.1)
    assert clip_gain_db(guide, guide, gt).tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert clip_gain_db(guide / 10 ** 0.5, guide, gt).tolist() == pytest.approx([10.0, 10.0], abs=1e-4)


def test_sharded_run_logs_the_guide_and_resumes_from_the_committed_state(sharded: TrainConfig,
                                                                         tmp_path: Path) -> None:
    cfg = replace(sharded, steps=6)
    straight = train(cfg, tmp_path / "a")
    first = train(cfg, tmp_path / "b", stop_at=3)
    state = export_resume(tmp_path / "b", tmp_path / "committed")
    assert state.stat().st_size < 10e6
    import_resume(tmp_path / "committed", tmp_path / "c")  # a new machine: only the committed files
    rest = train(cfg, tmp_path / "c")
    assert first + rest == straight
    log = (tmp_path / "c" / "log.csv").read_text().splitlines()
    assert "guide_pixel" in log[0] and "gain_db" in log[0] and len(log) == 7
    with pytest.raises(Exception, match="not overwritten"):
        import_resume(tmp_path / "committed", tmp_path / "c")
    assert np.isfinite(straight).all()
