"""The RTN engine, with random weights on tiny configs (8 channels, small frames, one thread)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from oldfilm.errors import InputError, WeightsError
from oldfilm.models.presets import RTNConfig
from oldfilm.models.rtn import RTN
from oldfilm.models.weights import save_weights
from oldfilm.restore.engine import EngineConfig, RTNEngine, anchor_tone, build_engine, pick_device

TINY = RTNConfig(name="tiny", scale=4, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2)


def _model(seed: int = 0, identity: bool = False) -> RTN:
    torch.manual_seed(seed)
    model = RTN(TINY).eval()
    if identity:  # the decoder adds nothing: output = input
        torch.nn.init.zeros_(model.decoder.conv_last.weight)
        torch.nn.init.zeros_(model.decoder.conv_last.bias)
    return model


def _engine(model: RTN, **kw) -> RTNEngine:
    return RTNEngine(model, EngineConfig(threads=1, **kw), device="cpu")


def _pan(n: int, h: int, w: int, seed: int = 0, bright: float = 0.0) -> list[np.ndarray]:
    """A smooth random texture panning right by 2 px per frame, float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    base = rng.random((h // 8 + 2, (w + 2 * n) // 8 + 2)).astype(np.float32)
    import cv2

    big = cv2.resize(base, ((w + 2 * n + 16), h + 16), interpolation=cv2.INTER_CUBIC)[8 : 8 + h]
    return [np.clip(0.6 * big[:, 2 * i : 2 * i + w] + 0.2 + bright, 0, 1) for i in range(n)]


@pytest.mark.parametrize("layout", ["gray2d", "gray1", "rgb", "uint16"])
def test_odd_sizes_keep_shape_and_dtype(layout: str) -> None:
    frames = [(f * 255).astype(np.uint8) for f in _pan(4, 37, 51)]
    if layout == "gray1":
        frames = [f[..., None] for f in frames]
    elif layout == "rgb":
        frames = [np.stack([f, f // 2, 255 - f], axis=2) for f in frames]
    elif layout == "uint16":
        frames = [f.astype(np.uint16) * 257 for f in frames]
    out = list(_engine(_model(), chunk=3, lookahead=1).run(frames))
    assert len(out) == 4
    assert all(o.shape == frames[0].shape and o.dtype == frames[0].dtype for o in out)


def test_identity_network_reproduces_the_input_through_padding_and_tiles() -> None:
    gray = [(f * 255).astype(np.uint8) for f in _pan(5, 70, 150)]
    for tile in (None, 32):  # 32 px tiles: 3×5 tiles with overlaps
        out = list(_engine(_model(identity=True), chunk=2, lookahead=1, tile=tile, overlap=16).run(gray))
        assert all(np.array_equal(o, g) for o, g in zip(out, gray, strict=True))
    rgb = [np.stack([g, g // 2 + 60, 255 - g], axis=2) for g in gray]
    out = list(_engine(_model(identity=True), chunk=3, chroma_sigma=0).run(rgb))
    assert max(np.abs(o.astype(int) - r).max() for o, r in zip(out, rgb, strict=True)) <= 1  # chroma kept


def test_guided_network_starts_from_the_classical_restoration() -> None:
    """An untrained guided network returns the classical restorer's frames (through padding, chunks and
    tiles, gray and RGB in), a trained residual is added to them, and by default only their mean is anchored
    (to the guide's, averaged over ±4 frames)."""
    from dataclasses import replace

    from oldfilm.restore.classical import ClassicalRestorer

    rng = np.random.default_rng(4)
    gray = [np.clip(f * 255 + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in _pan(7, 70, 90)]
    ref = [r.reshape(r.shape[:2]) for r in ClassicalRestorer().run(gray)]
    torch.manual_seed(0)
    model = RTN(replace(TINY, guided=True)).eval()
    for tile in (None, 32):
        out = list(_engine(model, chunk=3, lookahead=1, tile=tile, overlap=16, tone_radius=-1).run(gray))
        assert all(np.array_equal(o, r) for o, r in zip(out, ref, strict=True))
    rgb = [np.dstack([g] * 3) for g in gray]
    out = list(_engine(model, chunk=3, tone_radius=-1).run(rgb))
    ref_rgb = list(ClassicalRestorer().run(rgb))
    assert max(np.abs(o.astype(int) - r).max() for o, r in zip(out, ref_rgb, strict=True)) <= 1
    torch.nn.init.constant_(model.decoder.conv_last.bias, 10 / 255)  # a trained residual: +10 grey levels
    out = list(_engine(model, chunk=3, tone_radius=-1).run(gray))
    diff = np.stack(out).astype(int) - np.stack(ref)
    assert np.all((diff == 10) | (np.stack(ref) > 245))
    anchored = np.stack(list(_engine(model, chunk=3).run(gray))).astype(float)  # default: mean anchor only
    means = np.stack(ref).astype(float).mean((1, 2))
    target = [means[max(0, i - 4): i + 5].mean() for i in range(len(means))]
    np.testing.assert_allclose(anchored.mean((1, 2)), target, atol=0.6)  # the +10 offset is gone


def test_streaming_matches_the_whole_clip() -> None:
    """Chunks of 3 with the forward state carried == the whole clip in one window (look-ahead to the end)."""
    frames = _pan(9, 64, 64)
    model = _model()
    whole = list(_engine(model, chunk=9, lookahead=0, scenes=False).run(frames))
    streamed = list(_engine(model, chunk=3, lookahead=9, scenes=False).run(frames))
    assert np.abs(np.stack(streamed) - np.stack(whole)).max() < 1e-5
    short = list(_engine(model, chunk=3, lookahead=2, scenes=False).run(frames))
    assert np.abs(np.stack(short) - np.stack(whole)).max() > 0  # a short look-ahead is an approximation


def test_scene_cut_resets_state() -> None:
    a, b = _pan(5, 64, 64, seed=1), _pan(5, 64, 64, seed=2, bright=0.3)
    b = [1.0 - f for f in b]  # a different scene: the detector sees a cut at frame 5
    model = _model()
    both = list(_engine(model, chunk=4, lookahead=10).run(a + b))
    alone_a = list(_engine(model, chunk=4, lookahead=10).run(a))
    alone_b = list(_engine(model, chunk=4, lookahead=10).run(b))
    assert np.abs(np.stack(both) - np.stack(alone_a + alone_b)).max() < 1e-5
    no_cuts = list(_engine(model, chunk=4, lookahead=10, scenes=False).run(a + b))
    assert np.abs(np.stack(no_cuts[5:]) - np.stack(alone_b)).max() > 1e-4


def test_anchor_tone_undoes_drift_but_keeps_repairs() -> None:
    x = _pan(1, 96, 128)[0]  # the input frame
    clean = x.copy()
    x_damaged = x.copy()
    x_damaged[40:56, 60:76] = 0.0  # a dark blotch the "network" removed
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    drift = 0.08 + 0.06 * np.sin(xx / 40.0) * np.cos(yy / 30.0)  # smooth shading the network made up
    y = np.clip(clean + drift, 0, 1)
    target = float(x_damaged.mean())
    out = anchor_tone(y, x_damaged, target, sigma=16.0)
    assert abs(float(out.mean()) - target) < 2e-3
    inner = (slice(20, 76), slice(20, 108))  # away from borders, where the Gaussian reflects
    err = np.abs(out - (clean + (target - clean.mean())))[inner]
    assert err.mean() < 0.25 * np.abs(drift - drift.mean()).mean() + 0.01  # the made-up shading is gone
    assert float(out[44:52, 64:72].mean()) > float(clean[44:52, 64:72].mean()) - 0.05  # the blotch stays repaired
    mean_only = anchor_tone(y, x_damaged, target, sigma=0)
    assert np.allclose(mean_only - mean_only.mean(), y - y.mean(), atol=1e-5)  # sigma 0: only the mean moves


def test_tone_anchor_keeps_exposure_removes_flicker_and_stops_at_cuts() -> None:
    """An identity network on a flickering clip: the anchor sets each frame to the shot's moving-average
    exposure, so the flicker goes; the second shot (brighter) keeps its own exposure."""
    a = [np.clip(f + (0.06 if i % 2 else -0.06), 0, 1) for i, f in enumerate(_pan(8, 64, 64, seed=1))]
    b = [1.0 - f for f in _pan(8, 64, 64, seed=2, bright=-0.2)]
    frames = a + b
    model = _model(identity=True)
    raw = list(_engine(model, chunk=3, lookahead=4, tone_radius=-1).run(frames))
    out = list(_engine(model, chunk=3, lookahead=4, tone_radius=4).run(frames))
    assert np.allclose(np.stack(raw), np.stack(frames), atol=1e-5)  # off: the network's output as is
    means = np.array([o.mean() for o in out])
    flicker_in = np.abs(np.diff([f.mean() for f in a])).mean()
    assert np.abs(np.diff(means[2:6])).mean() < 0.3 * flicker_in
    assert abs(means[8:].mean() - np.mean([f.mean() for f in b])) < 0.01  # shot 2: its own exposure
    assert abs(means[:8].mean() - np.mean([f.mean() for f in a])) < 0.01


def test_bad_input_is_refused() -> None:
    engine = _engine(_model())
    with pytest.raises(InputError, match="frames"):
        list(engine.run([np.zeros((8, 8, 4), np.uint8)]))
    with pytest.raises(InputError, match="frame 1"):
        list(engine.run([np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)]))
    assert list(engine.run([])) == []


def test_chunks_shrink_for_huge_frames() -> None:
    engine = _engine(_model(), chunk=32, lookahead=8)
    assert engine._chunking(368 * 640) == (32, 8)
    chunk, lookahead = engine._chunking(3840 * 2160)
    assert (chunk + lookahead) * 3840 * 2160 <= 1.2 * engine.cfg.max_pixels and chunk >= 4 and lookahead >= 2


def test_build_engine_refuses_without_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oldfilm.models import weights as W

    monkeypatch.setattr(W, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="no trained weights"):
        build_engine(preset="fast", device="cpu")
    path = save_weights(_model(), tmp_path / "tiny.safetensors")
    engine = build_engine(weights=path, device="cpu", config=EngineConfig(chunk=2, threads=1))
    assert engine.model.cfg == TINY and len(list(engine.run(_pan(3, 32, 32)))) == 3
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_guided_network_runs_on_the_guide_it_names() -> None:
    """``RTNConfig.guide`` pins the classical options of the guide: an untrained network with a full-resolution
    head returns exactly that guide (no tone anchor), not the classical restorer's current defaults."""
    from dataclasses import replace

    from oldfilm.models.presets import LEGACY_GUIDE
    from oldfilm.restore.classical import ClassicalRestorer, guide_config

    rng = np.random.default_rng(5)
    gray = [np.clip(f * 255 + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in _pan(8, 64, 96)]
    legacy = [r.reshape(r.shape[:2]) for r in ClassicalRestorer(guide_config(LEGACY_GUIDE)).run(gray)]
    default = [r.reshape(r.shape[:2]) for r in ClassicalRestorer().run(gray)]
    assert not all(np.array_equal(a, b) for a, b in zip(legacy, default, strict=True))
    cfg = RTNConfig(name="tiny-q", scale=2, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2,
                    shuffle_channels=4, guided=True, head_channels=4, head_layers=1, guide=LEGACY_GUIDE)
    out = list(_engine(RTN(cfg).eval(), chunk=3, lookahead=1).run(gray))
    assert all(np.array_equal(o, r) for o, r in zip(out, legacy, strict=True))
    with pytest.raises(Exception, match="lacks"):
        list(_engine(RTN(replace(cfg, guide='{"no_such_option": 1}')).eval(), chunk=3).run(gray))


def test_engine_config_resolves_its_defaults_from_the_network() -> None:
    """None fields are chosen per network as documented; explicit values win; bad ones are refused."""
    from dataclasses import replace

    from oldfilm.errors import UsageError
    from oldfilm.models.presets import PRESETS

    fast = EngineConfig().resolved(PRESETS["fast"])
    assert (fast.tile, fast.flow_side, fast.tone_radius, fast.tone_sigma) == (1024, 320, 4, 16.0)
    paper = EngineConfig().resolved(PRESETS["rtn-paper"])
    assert (paper.tile, paper.flow_side, paper.tone_radius, paper.tone_sigma) == (768, 640, 4, 16.0)
    guided = EngineConfig().resolved(PRESETS["guided"])
    assert (guided.tone_radius, guided.tone_sigma) == (4, 0.0)
    quality = EngineConfig().resolved(PRESETS["quality"])
    assert (quality.tone_radius, quality.tone_sigma) == (-1, 0.0)
    mine = replace(EngineConfig(), tile=96, flow_side=0, tone_radius=2, tone_sigma=3.0)
    assert mine.resolved(PRESETS["quality"]) == mine
    with pytest.raises(UsageError, match="chunk must be"):
        EngineConfig(chunk=0)


def test_the_engine_leaves_the_callers_thread_count_alone() -> None:
    """The engine runs torch on its ``threads`` (1 here) only inside its network calls."""
    original = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = [torch.get_num_threads() for _ in _engine(_model(), chunk=2, lookahead=1).run(_pan(5, 32, 32))]
        assert seen == [2] * 5 and torch.get_num_threads() == 2  # between frames the caller's setting holds
    finally:
        torch.set_num_threads(original)


def test_restore_stream_refuses_an_unknown_rtn_option() -> None:
    from oldfilm.errors import UsageError
    from oldfilm.restore.api import restore_stream

    with pytest.raises(UsageError, match="bad option for the rtn method"):
        restore_stream(iter([]), "rtn", chunks=3)


def test_mirrored_flows_warp_the_mirrored_frame_as_the_flows_warp_the_frame() -> None:
    from oldfilm.flow import flow_warp
    from oldfilm.restore.engine import mirror, mirror_flows

    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 1, 12, 17, generator=g)
    flow = 3 * torch.randn(1, 2, 12, 17, generator=g)
    for m in ((False, True), (True, False), (True, True)):
        warped_mirror = flow_warp(mirror(img, m), mirror_flows(flow, m))
        torch.testing.assert_close(warped_mirror, mirror(flow_warp(img, flow), m), atol=1e-5, rtol=0)
    assert torch.equal(mirror_flows(flow, (False, False)), flow)


@pytest.mark.parametrize("ensemble", [2, 4])
def test_self_ensemble_is_the_mean_over_mirrored_films(ensemble: int) -> None:
    """The mean of the network's runs on the mirrored films, each mirrored back, streamed in chunks with a
    recurrent state per mirror; an identity network's output stays exact through padding."""
    from oldfilm.restore.engine import MIRRORS

    def zero_flow(current: np.ndarray, other: np.ndarray) -> np.ndarray:  # mirror-symmetric, so exact here
        return np.zeros((2, *current.shape[:2]), np.float32)

    frames = _pan(7, 48, 64)  # multiples of the network's: no padding, which a mirror would move to the far side
    model = _model(seed=3)
    cfg = {"threads": 1, "chunk": 3, "lookahead": 1, "scenes": False, "tone_radius": -1}  # tone: after the mean
    run = lambda fs, **kw: np.stack(list(RTNEngine(model, EngineConfig(**cfg, **kw), device="cpu",  # noqa: E731
                                                   flow=zero_flow).run(fs)))
    flip = lambda a, m: a[:, ::-1] if m[0] else a  # noqa: E731
    flop = lambda a, m: a[..., ::-1] if m[1] else a  # noqa: E731
    runs = [flop(flip(run([flop(flip(f[None], m), m)[0].copy() for f in frames]), m), m) for m in MIRRORS[ensemble]]
    expected = np.mean(runs, axis=0)
    assert np.abs(run(frames, ensemble=ensemble) - expected).max() < 1e-5
    assert np.abs(runs[0] - expected).max() > 1e-3  # the mirrors do differ: the mean is not one run
    ident = _model(identity=True)  # every mirror returns the input: the mean is exact
    gray = [(f * 255).astype(np.uint8) for f in _pan(7, 45, 61)]  # padded: the mirrors move the padding
    out = RTNEngine(ident, EngineConfig(**cfg, ensemble=ensemble), device="cpu").run(gray)
    assert all(np.array_equal(o, g) for o, g in zip(out, gray, strict=True))


def test_ensemble_must_be_a_known_mirror_set() -> None:
    from oldfilm.errors import UsageError

    with pytest.raises(UsageError, match="ensemble"):
        EngineConfig(ensemble=3)
