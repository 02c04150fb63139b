"""The colour benchmark's harness on a tiny synthetic clip (no download): modes, baselines, metrics, report."""

from __future__ import annotations

import numpy as np
import pytest

from oldfilm.bench import colorize as cb
from oldfilm.colorize.api import ColorizeConfig
from tests.colorize.test_propagate import moving_square_clip


def test_given_frames_and_flicker() -> None:
    assert cb.given(10, "first") == [0] and cb.given(10, "first-last") == [0, 9]
    with pytest.raises(ValueError):
        cb.given(10, "middle")
    clip, _ = moving_square_clip(n=4)
    frames = list(clip)
    assert max(cb.chroma_flicker(frames, frames)) == 0.0
    frozen = [frames[0]] * 4  # colour that does not follow the motion: flicker against the truth's change
    assert min(cb.chroma_flicker(frozen, frames)) > 0.5


def test_baselines_on_a_still_shot_are_exact_and_flow_only_blends_two_keys() -> None:
    clip, _ = moving_square_clip(n=6)
    still = [clip[0]] * 6
    gray = [f.mean(-1, keepdims=True).astype(np.uint8) for f in still]
    for fn in (cb.copy_key, cb.flow_only):
        out = fn(gray, {0: still[0]})
        assert len(out) == 6 and out[0] is still[0]
    warm = np.clip(clip[0].astype(int) + [40, 0, -40], 0, 255).astype(np.uint8)
    out = cb.flow_only(gray, {0: clip[0], 5: warm})
    b = [float(cb.rgb_to_lab(o)[..., 2].mean()) for o in out]
    assert b[0] < b[2] < b[4] < b[5]  # the forward and backward chains blend by distance


def test_evaluate_and_report(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    clip, _ = moving_square_clip(n=10)
    monkeypatch.setattr(cb, "load_window", lambda spec, frames, max_side: list(clip[:frames]))
    cfg = cb.ColorBenchConfig(clips=("a", "b"), frames=8)
    md = cb.run_colorize_bench(tmp_path, cfg, ColorizeConfig(refine="off"), say=lambda s: None, command="test")
    text = md.read_text()
    assert "## Mode `first`" in text and "## Mode `first-last`" in text and "mean gain over" in text
    import json

    res = json.loads((tmp_path / "benchmark-colorize" / "results.json").read_text())
    for mode in cb.MODES:
        per = res["per_clip"][mode]
        assert set(per) == {"copy-key", "flow-only", "ours"} and set(per["ours"]) == {"a", "b"}
        assert res["mean"][mode]["ours"]["psnr"] == pytest.approx(per["ours"]["a"]["psnr"])
        assert per["ours"]["a"]["psnr"] > per["copy-key"]["a"]["psnr"]  # a moving object: flow beats a copy


def test_training_conditions() -> None:
    clip, _ = moving_square_clip(n=6)
    frames = list(clip)
    for how in ("dark+jpeg", "pan", "shake", "static"):
        out = cb.condition(frames, how)
        assert len(out) == 6 and len({o.shape for o in out}) == 1 and out[0].dtype == np.uint8
    assert np.mean(cb.condition(frames, "dark")[0]) < 0.4 * np.mean(frames[0])
    static = cb.condition(frames, "static")
    assert np.abs(static[5][:20].astype(int) - frames[0][:20]).mean() < 2  # above the moving patch: still
    with pytest.raises(ValueError):
        cb.condition(frames, "fog")
