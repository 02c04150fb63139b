"""The benchmark: baselines keep frame count and shape; a tiny run end to end writes every report file."""

import json

import numpy as np
import pytest
from skimage import data

from oldfilm.bench import BenchConfig, Window, run_bench, suite
from oldfilm.bench.baselines import ffmpeg_filter, opencv_nlmeans_multi
from oldfilm.bench.report import markdown_table, strongest_baseline
from oldfilm.bench.suite import Result, eval_pair
from oldfilm.errors import InputError
from oldfilm.metrics.clip import ClipScores


def _synthetic_window(window: Window) -> np.ndarray:
    """Stands in for bikes.mp4 (no download in tests): a scene panning 2 px per frame, (T, 128, 224, C)."""
    img = data.astronaut() if window.colour else data.camera()[..., None]
    return np.stack([img[100:228, 200 - 2 * t : 424 - 2 * t] for t in range(window.frames)])


@pytest.fixture
def fake_clip(monkeypatch) -> None:
    monkeypatch.setattr(suite, "_clean_window", _synthetic_window)


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("spec,pad", [("tmedian=radius=1,deflicker=size=5:mode=am", 1), ("nlmeans=s=2", 0)])
def test_ffmpeg_filter_keeps_frames(colour: bool, spec: str, pad: int) -> None:
    frames = list(_synthetic_window(Window(0, 5, colour))[:, :48, :64])
    out = ffmpeg_filter(frames, spec, pad=pad)
    assert len(out) == 5 and all(o.shape == frames[0].shape and o.dtype == np.uint8 for o in out)


def test_tmedian_is_aligned() -> None:
    frames = [np.full((16, 16, 1), 10 * i, np.uint8) for i in range(6)]
    out = ffmpeg_filter(frames, "tmedian=radius=1", pad=1)
    # interior frames: the median of a ramp is its centre (so no shift); the ends see mirrored neighbours
    assert [int(o.mean()) for o in out] == [10, 10, 20, 30, 40, 40]


def test_opencv_multi_shapes() -> None:
    frames = list(_synthetic_window(Window(0, 3))[:, :32, :32])
    out = opencv_nlmeans_multi(frames)
    assert len(out) == 3 and out[0].shape == (32, 32, 1)


def test_eval_pair_is_cached_and_deterministic(fake_clip, tmp_path) -> None:
    clean, degraded = eval_pair(Window(0, 3), "light", 7, tmp_path)
    assert clean.shape == degraded.shape == (3, 128, 224, 1) and not np.array_equal(clean, degraded)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = eval_pair(Window(0, 3), "light", 7, tmp_path / "other")
    assert np.array_equal(again[1], degraded)
    other_seed = eval_pair(Window(0, 3), "light", 8, tmp_path)
    assert not np.array_equal(other_seed[1], degraded)


def test_result_weights_windows() -> None:
    row = Result("gray", "light", "x")
    row.add(ClipScores(2, 30.0, 0.9, 0.01, 0.0, 5.0, 20.0), 1.0, 10.0)
    row.add(ClipScores(6, 20.0, 0.5, None, 0.0, None, None), 3.0, 5.0)
    assert row.frames == 8 and row.psnr == pytest.approx(22.5) and row.ewarp == 0.01
    assert row.sec_per_frame == pytest.approx(0.5) and row.peak_mib == 10.0


def test_table_marks_best() -> None:
    rows = [Result("gray", "light", "identity", psnr=40.0), Result("gray", "light", "a", psnr=30.0),
            Result("gray", "light", "b", psnr=31.0), Result("gray", "light", "oldfilm-classical", psnr=35.0),
            Result("gray", "light", "rtn:mine", psnr=36.0)]  # ours, with given weights: not a baseline
    table = markdown_table(rows)
    assert "**36.00**" in table and "**40.00**" not in table
    assert strongest_baseline(rows) == ("b", 31.0)


def test_tiny_run_end_to_end(fake_clip, tmp_path) -> None:
    cfg = BenchConfig("tiny", (Window(0, 4), Window(0, 4, colour=True)), presets=("light", "heavy"),
                      noref_every=4, methods=("identity", "ffmpeg-tmedian-deflicker"))
    md = run_bench(out_dir=tmp_path / "docs", cache=tmp_path / "cache", config=cfg, say=lambda s: None)
    assets = tmp_path / "docs" / "benchmark-tiny"
    assert md == tmp_path / "docs" / "benchmark-tiny.md"
    for name in ("results.csv", "results.json", "contact-gray.png", "contact-colour.png", "bars.png"):
        assert (assets / name).stat().st_size > 0
    report = json.loads((assets / "results.json").read_text())
    rows = {(r["variant"], r["preset"], r["method"]) for r in report["results"]}
    assert ("gray", "heavy", "ffmpeg-tmedian-deflicker") in rows and ("colour", "-", "clean") in rows
    text = md.read_text()
    assert "| light | identity |" in text and "benchmark-tiny/contact-gray.png" in text and "Measured" in text


def test_unknown_method(fake_clip, tmp_path) -> None:
    with pytest.raises(InputError):
        run_bench(out_dir=tmp_path, cache=tmp_path, config=BenchConfig("t", (Window(0, 3),)),
                  methods=["nope"])


def test_measure_time_and_memory() -> None:
    out, seconds, peak = suite.measure(lambda f: [np.ones(40 * 2**20 // 8)], [])
    assert seconds > 0 and len(out) == 1
    if peak is not None:  # Linux: resident memory grew by about the 40 MiB allocated
        assert peak > 30


def test_weights_run_once_per_self_ensemble_size(fake_clip, tmp_path) -> None:
    import torch

    from oldfilm.models.presets import RTNConfig
    from oldfilm.models.rtn import RTN
    from oldfilm.models.weights import save_weights

    torch.manual_seed(0)
    w = save_weights(RTN(RTNConfig(name="tiny", scale=4, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4,
                                   shift=2)), tmp_path / "tiny.safetensors")
    cfg = BenchConfig("tiny", (Window(0, 4),), presets=("light",), noref_every=4, methods=("identity",))
    run_bench(out_dir=tmp_path / "docs", cache=tmp_path / "cache", config=cfg, weights=[w], ensembles=(1, 2),
              say=lambda s: None)
    rows = json.loads((tmp_path / "docs" / "benchmark-tiny" / "results.json").read_text())["results"]
    by = {r["method"]: r["psnr"] for r in rows}
    assert {"identity", "rtn:tiny", "rtn:tiny+mirror2"} <= set(by) and by["rtn:tiny"] != by["rtn:tiny+mirror2"]
