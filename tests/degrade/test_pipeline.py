"""The degradation pipeline: determinism, ranges, masks, persistent scratches, streaming == clip."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass

import numpy as np
import pytest

from oldfilm.degrade import (
    PRESETS,
    ContaminantConfig,
    DegradeConfig,
    FilmConfig,
    FilmDegrader,
    QualityConfig,
    degrade_clip,
    get_preset,
    sample_template,
)
from oldfilm.errors import InputError, UsageError

QUALITY_OFF = QualityConfig(noise_prob=0, blur_prob=0, resample_prob=0, jpeg_prob=0, jitter_prob=0)
FILM_OFF = FilmConfig(flicker_prob=0, grain_prob=0, weave_prob=0, vignette_prob=0, fade_prob=0, bw_prob=0)
NO_DIRT = dict(dust_rate=(0.0, 0.0), scratch_rate=(0.0, 0.0), hair_rate=(0.0, 0.0), blotch_rate=(0.0, 0.0),
               crack_rate=(0.0, 0.0), emulsion_rate=(0.0, 0.0), line_prob=0.0)


def _clip(t: int = 5, h: int = 48, w: int = 64, c: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 216, (h, w + 2 * t, c), dtype=np.uint8)
    return np.stack([base[:, 2 * i:2 * i + w] for i in range(t)])


def _contaminants_only(**kw: object) -> DegradeConfig:
    return DegradeConfig(contaminants=ContaminantConfig(prob=1.0, **kw), quality=QUALITY_OFF, film=FILM_OFF)


@pytest.mark.parametrize("preset", ["paper", "heavy"])
def test_same_seed_same_output(preset: str) -> None:
    clip = _clip()
    a = degrade_clip(clip, np.random.default_rng(5), PRESETS[preset])
    b = degrade_clip(clip, np.random.default_rng(5), PRESETS[preset])
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.masks, b.masks)
    assert json.dumps(a.params) == json.dumps(b.params)
    c = degrade_clip(clip, np.random.default_rng(6), PRESETS[preset])
    assert not np.array_equal(a.frames, c.frames)


def test_streaming_equals_clip() -> None:
    clip = _clip(t=6)
    d = degrade_clip(clip, np.random.default_rng(11), PRESETS["heavy"])
    deg = FilmDegrader(PRESETS["heavy"], np.random.default_rng(11), clip.shape[1:3])
    for i, frame in enumerate(clip):
        out, mask, params = deg.step(frame)
        assert np.array_equal(out, d.frames[i]) and np.array_equal(mask, d.masks[i])
        assert asdict(params) == d.params["frames"][i]


@pytest.mark.parametrize("c,dtype", [(1, np.uint8), (3, np.uint8), (1, np.float32), (3, np.float32),
                                     (3, np.uint16)])
def test_shapes_dtypes_and_json(c: int, dtype: type) -> None:
    clip = _clip(t=3, c=c)
    if dtype == np.float32:
        clip = clip.astype(np.float32) / 255.0
    elif dtype == np.uint16:
        clip = clip.astype(np.uint16) * 257
    d = degrade_clip(clip, np.random.default_rng(2), PRESETS["heavy"])
    assert d.frames.shape == clip.shape and d.frames.dtype == clip.dtype
    assert d.masks.shape == clip.shape[:3] and d.masks.dtype == bool
    if dtype == np.float32:
        assert 0.0 <= d.frames.min() and d.frames.max() <= 1.0
    assert len(d.params["frames"]) == 3
    json.dumps(d.params)


def _check_in_range(value: object, rng_: tuple, name: str) -> None:
    if value is None:
        return
    lo, hi = rng_
    assert lo - 1e-9 <= value <= hi + 1e-9, f"{name}={value} outside {rng_}"


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_parameter_stays_in_its_range(preset: str) -> None:
    cfg = PRESETS[preset]
    q, f, c = cfg.quality, cfg.film, cfg.contaminants
    for seed in range(300):
        t = sample_template(cfg, np.random.default_rng(seed), (64, 96))
        _check_in_range(t.noise_sigma, q.noise_sigma, "noise_sigma")
        for s in t.blur_sigma or ():
            _check_in_range(s, q.blur_sigma, "blur_sigma")
        _check_in_range(t.resample_scale, q.resample_scale, "resample_scale")
        _check_in_range(t.jpeg_quality, q.jpeg_quality, "jpeg_quality")
        _check_in_range(t.brightness, q.brightness, "brightness")
        _check_in_range(t.contrast, q.contrast, "contrast")
        for name in ("flicker", "grain_strength", "grain_size", "weave_shift", "weave_rotation", "vignette",
                     "fade", "bw_tint"):
            _check_in_range(getattr(t, name), getattr(f, name), name)
        for name in ("dust", "scratch", "hair", "blotch", "crack", "emulsion"):
            rate = getattr(t, f"{name}_rate")
            assert rate == 0.0 or getattr(c, f"{name}_rate")[0] <= rate <= getattr(c, f"{name}_rate")[1]
        assert t.line_count == 0 or c.line_count[0] <= t.line_count <= c.line_count[1]
        for line in t.lines:
            _check_in_range(line.width, c.line_width, "line.width")
            _check_in_range(line.intensity, c.line_intensity, "line.intensity")
            _check_in_range(abs(line.drift), c.line_drift, "line.drift")
            _check_in_range(line.opacity, c.opacity, "line.opacity")
            _check_in_range(line.life, c.line_life, "line.life")
        assert not (t.monochrome and t.fade is not None)
    # per-frame perturbations stay inside the ranges too
    for seed in range(40):
        deg = FilmDegrader(cfg, np.random.default_rng(seed), (24, 24))
        for _ in range(6):
            p = deg.step(np.full((24, 24, 3), 128, np.uint8))[2]
            _check_in_range(p.noise_sigma, q.noise_sigma, "frame noise_sigma")
            for s in p.blur_sigma or ():
                _check_in_range(s, q.blur_sigma, "frame blur_sigma")
            _check_in_range(p.jpeg_quality, q.jpeg_quality, "frame jpeg_quality")
            _check_in_range(p.brightness, q.brightness, "frame brightness")
            _check_in_range(p.contrast, q.contrast, "frame contrast")
            _check_in_range(p.grain_strength, f.grain_strength, "frame grain_strength")


def test_probabilities_are_honoured() -> None:
    cfg = PRESETS["paper"]
    templates = [sample_template(cfg, np.random.default_rng(s), (32, 32)) for s in range(400)]
    noisy = np.mean([t.noise is not None for t in templates])
    lined = np.mean([t.line_count > 0 for t in templates])
    assert abs(noisy - cfg.quality.noise_prob) < 0.08 and abs(lined - cfg.contaminants.line_prob) < 0.08


def test_masks_cover_where_frames_changed() -> None:
    cfg = _contaminants_only(dust_rate=(20.0, 20.0), scratch_rate=(1.0, 1.0), hair_rate=(0.5, 0.5),
                             blotch_rate=(0.5, 0.5), crack_rate=(0.5, 0.5), emulsion_rate=(0.5, 0.5),
                             line_prob=1.0)
    clip = np.full((6, 96, 128, 3), 128, np.uint8)
    for seed in range(3):
        d = degrade_clip(clip, np.random.default_rng(seed), cfg)
        changed = np.abs(d.frames.astype(int) - clip).max(-1) > 1
        assert changed.any()
        assert not (changed & ~d.masks).any(), "a changed pixel lies outside the mask"
        assert (changed & d.masks).sum() >= 0.9 * d.masks.sum(), "the mask marks many unchanged pixels"


def test_transient_dust_does_not_stay() -> None:
    cfg = _contaminants_only(**{**NO_DIRT, "dust_rate": (30.0, 30.0)}, dust_persist_prob=0.0)
    d = degrade_clip(np.full((4, 96, 96, 1), 128, np.uint8), np.random.default_rng(0), cfg)
    overlap = (d.masks[1:] & d.masks[:-1]).sum() / max(d.masks[1:].sum(), 1)
    assert overlap < 0.2


def test_persistent_scratches_stay_near_their_column() -> None:
    cfg = _contaminants_only(**{**NO_DIRT, "line_prob": 1.0}, line_count=(1, 1), line_intermittent_prob=0.0,
                             line_life=(100, 100), line_width=(1.0, 2.0), line_intensity=(0.5, 0.6))
    for seed in range(5):
        d = degrade_clip(np.full((12, 128, 128, 1), 128, np.uint8), np.random.default_rng(seed), cfg)
        line = d.params["template"]["lines"][0]
        top, bottom = (int(v * 128) for v in line["extent"])
        rows = d.masks[:, top:bottom]
        assert rows.any(axis=(1, 2)).all(), "the scratch vanished in some frame"
        centres = [np.average(np.arange(128), weights=m.sum(0)) for m in rows]
        assert max(abs(c - centres[0]) for c in centres) <= 5.0
        xs = [f["lines"][0][0] for f in d.params["frames"]]
        assert max(xs) - min(xs) <= 5.0
        assert abs(centres[0] - xs[0]) <= 1.5


def test_line_scratches_are_replaced_in_long_streams() -> None:
    cfg = _contaminants_only(**{**NO_DIRT, "line_prob": 1.0}, line_count=(1, 1), line_life=(3, 3))
    deg = FilmDegrader(cfg, np.random.default_rng(0), (32, 32))
    born = [len(deg.step(np.zeros((32, 32, 1), np.uint8))[2].new_lines) for _ in range(120)]
    assert sum(born) >= 2


def test_user_textures_are_mixed_in() -> None:
    tex = np.zeros((64, 64), np.uint8)
    tex[:, 30:34] = 255
    cfg = _contaminants_only(**{**NO_DIRT, "scratch_rate": (3.0, 3.0)}, real_texture_prob=1.0)
    d = degrade_clip(np.full((3, 64, 64, 3), 128, np.uint8), np.random.default_rng(0), cfg, textures=[tex])
    assert d.masks.any()


def test_template_replay() -> None:
    clip = _clip(t=2)
    d = degrade_clip(clip, np.random.default_rng(3), PRESETS["medium"])
    template = sample_template(PRESETS["medium"], np.random.default_rng(3), clip.shape[1:3])
    assert asdict(template) == d.params["template"]
    deg = FilmDegrader(PRESETS["medium"], np.random.default_rng(99), clip.shape[1:3], template=template)
    assert deg.template is template


def test_invalid_inputs_raise_one_clear_error() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InputError):
        degrade_clip(np.zeros((16, 16, 3), np.uint8), rng)
    with pytest.raises(InputError):
        degrade_clip(np.zeros((2, 16, 16, 4), np.uint8), rng)
    with pytest.raises(InputError):
        degrade_clip(np.zeros((2, 4, 4, 3), np.uint8), rng)
    deg = FilmDegrader(DegradeConfig(), rng, (16, 16))
    with pytest.raises(InputError, match="shape"):
        deg.step(np.zeros((16, 17, 3), np.uint8))
    with pytest.raises(InputError):
        deg.step(np.zeros((16, 16, 3), np.int32))


def test_config_validation_and_presets() -> None:
    with pytest.raises(UsageError, match="range"):
        DegradeConfig(quality=QualityConfig(noise_sigma=(50.0, 5.0)))
    with pytest.raises(UsageError, match="probability"):
        DegradeConfig(film=FilmConfig(grain_prob=1.5))
    with pytest.raises(UsageError, match="light"):
        get_preset("antique")
    assert set(PRESETS) >= {"light", "medium", "heavy"}
    assert PRESETS["paper"] == DegradeConfig()
    paper = DegradeConfig().quality
    assert paper.noise_sigma == (5.0, 50.0) and paper.jpeg_quality == (40, 100)
    assert paper.brightness == (0.8, 1.2) and paper.contrast == (0.9, 1.0)
    assert DegradeConfig().contaminants.opacity == (0.6, 1.0)


def test_every_config_field_has_a_docstring() -> None:
    import ast
    import inspect

    from oldfilm.degrade import presets

    tree = ast.parse(inspect.getsource(presets))
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            body = node.body
            for i, stmt in enumerate(body):
                if isinstance(stmt, ast.AnnAssign):
                    nxt = body[i + 1] if i + 1 < len(body) else None
                    assert isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant), \
                        f"{node.name}.{stmt.target.id} has no docstring"
    assert all(is_dataclass(v) for v in PRESETS.values())


def test_lingering_dust_lives_up_to_three_frames() -> None:
    flat = np.full((5, 96, 96, 1), 128, np.uint8)
    only_dust = {**NO_DIRT, "dust_rate": (20.0, 20.0)}
    two = degrade_clip(flat, np.random.default_rng(0), _contaminants_only(**only_dust, dust_persist_prob=1.0))
    three = degrade_clip(flat, np.random.default_rng(0),
                         _contaminants_only(**only_dust, dust_persist_prob=1.0, dust_life_max=3))
    m2, m3 = two.masks, three.masks
    triple2, triple3 = ((m[0] & m[1] & m[2]).sum() / m[0].sum() for m in (m2, m3))
    assert triple2 < 0.1  # only where new specks happen to fall on old ones
    assert triple3 > 0.3 and triple3 > 4 * triple2  # about half the specks stay a third frame


def test_local_flicker_varies_across_the_frame_and_breathes() -> None:
    flat = np.full((6, 64, 96, 1), 128, np.uint8)
    film = FilmConfig(flicker_prob=0, grain_prob=0, weave_prob=0, vignette_prob=0, fade_prob=0, bw_prob=0,
                      local_flicker_prob=1.0, local_flicker=(0.06, 0.06))
    cfg = DegradeConfig(contaminants=ContaminantConfig(prob=0.0, line_prob=0.0), quality=QUALITY_OFF, film=film)
    out = degrade_clip(flat, np.random.default_rng(3), cfg).frames[..., 0].astype(np.float32)
    assert out[0].std() > 2.0  # the gain field moves the flat grey by several levels across the frame
    assert np.abs(np.diff(out[0], axis=1)).max() <= 2.0  # smoothly (a step of at most 2 levels)
    change = np.abs(np.diff(out, axis=0)).mean()
    assert 0.3 < change < out[0].std()  # it breathes from frame to frame, less than it varies in space
    plain = DegradeConfig(contaminants=cfg.contaminants, quality=QUALITY_OFF,
                                         film=FilmConfig(flicker_prob=0, grain_prob=0, weave_prob=0,
                                                         vignette_prob=0, fade_prob=0, bw_prob=0))
    assert np.all(degrade_clip(flat, np.random.default_rng(3), plain).frames == 128)
    assert PRESETS["transfer"].film.local_flicker_prob > 0 and plain.film.local_flicker_prob == 0
