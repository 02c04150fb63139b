"""A synthetic corpus (a panning texture video and two textured stills) and the tiny run config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from oldfilm.train.config import TRAIN_PRESETS, TrainConfig
from oldfilm.train.corpus import save_corpus
from tests.clips import moving_clip, texture


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("corpus")
    videos = {"pan": moving_clip(t=12, h=64, w=80, channels=3, step=2)}
    stills = {"a": texture(72, 90, rng, channels=3), "b": texture(64, 64, rng, channels=3, sigma=1.5)}
    return save_corpus(root, videos, stills)


@pytest.fixture
def tiny(corpus_root: Path) -> TrainConfig:
    cfg = TRAIN_PRESETS["tiny"]
    return replace(cfg, data=replace(cfg.data, corpus=str(corpus_root)), steps=8)
