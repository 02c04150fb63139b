"""Scene cuts are detected once per frame on the RTN path: a guided network's classical guide and the engine
share one detector's flags, and the guide comes out as the classical restorer makes it on its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oldfilm.models.presets import LEGACY_GUIDE, RTNConfig
from oldfilm.models.rtn import RTN
from oldfilm.restore.classical import ClassicalRestorer, guide_config
from oldfilm.restore.scenes import SceneDetector
from tests.clips import add_dust, moving_clip
from tests.restore.test_engine import _engine  # the one place that builds a test engine


def test_a_guided_engine_detects_each_cut_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shots = [add_dust(moving_clip(t=6, h=64, w=96, seed=s), seed=s) for s in (1, 7)]
    clip = list(np.concatenate([shots[0], shots[1][:, ::-1]]))  # a hard cut at frame 6
    own = SceneDetector()
    assert [i for i, f in enumerate(clip) if own(f)] == [0, 6]
    alone = list(ClassicalRestorer(guide_config(LEGACY_GUIDE)).run(clip))  # detects its own cuts
    calls: list[int] = []
    detect = SceneDetector.__call__
    monkeypatch.setattr(SceneDetector, "__call__", lambda self, f: calls.append(1) or detect(self, f))
    # an untrained network with a full-resolution head returns its guide exactly (see test_engine.py)
    cfg = RTNConfig(name="tiny-q", scale=2, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2,
                    shuffle_channels=4, guided=True, head_channels=4, head_layers=1, guide=LEGACY_GUIDE)
    torch.manual_seed(0)
    out = list(_engine(RTN(cfg).eval(), chunk=4, lookahead=2).run(iter(clip)))
    assert len(calls) == len(clip)
    assert all(np.array_equal(o, a) for o, a in zip(out, alone, strict=True))
