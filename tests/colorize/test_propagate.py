"""Colour propagation: the issue's properties on small synthetic clips (CPU, a few seconds in all)."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from oldfilm.colorize.adapt import AdaptConfig
from oldfilm.colorize.api import ColorizeConfig, colorize_stream, frame_lightness, match_reference_frames
from oldfilm.colorize.propagate import PropagateConfig, Propagated, Propagator, carry
from oldfilm.colorspace import rgb_to_lab, to_float

CFG = ColorizeConfig(refine="off")


def texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8 colourful, smooth-ish texture (blurred noise per channel)."""
    rng = np.random.default_rng(seed)
    img = rng.random((h // 4, w // 4, 3)).astype(np.float32)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    img = (img - img.min()) / (img.max() - img.min())
    return (img * 200 + 30).astype(np.uint8)


def gray(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) colour → (T, H, W, 1) uint8 luma."""
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None] for f in frames])


def ab_of(img: np.ndarray) -> np.ndarray:
    return rgb_to_lab(img)[..., 1:]


def test_zero_motion_reproduces_keyframe_colours() -> None:
    key = texture(48, 64, 0)
    frames = gray(np.stack([key] * 6))
    out = list(colorize_stream(frames, [key], [0], config=CFG))
    assert len(out) == 6 and out[0].shape == (48, 64, 3) and out[0].dtype == np.uint8
    for o in out:
        assert np.abs(ab_of(o) - ab_of(key)).mean() < 2.0  # ab within quantisation of the keyframe


def test_lightness_is_preserved() -> None:
    key = texture(40, 56, 1)
    frames = to_float(gray(np.stack([key] * 3))[..., 0])[..., None]  # float32 (T, H, W, 1)
    out = list(colorize_stream(frames, [key], [0], config=CFG))
    assert out[1].dtype == np.float32
    for f, o in zip(frames, out, strict=True):
        np.testing.assert_allclose(rgb_to_lab(o)[..., 0], frame_lightness(f), atol=0.5)
        assert np.abs(rgb_to_lab(o)[..., 0] - frame_lightness(f)).mean() < 0.15


def fine_texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) float32 texture with fine detail (what flow needs to see motion boundaries)."""
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.random((h // 2, w // 2, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return (img - img.min()) / (img.max() - img.min()) * 200 + 30


def moving_square_clip(n: int = 10, step: int = 3, s: int = 32) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Blue-green textured background, a red textured square moving right by ``step`` px per frame."""
    h, w = 96, 128
    bg = fine_texture(h, w, 2)
    bg[..., 0] *= 0.3  # little red in the background
    sq = fine_texture(s, s, 3)
    sq[..., 1:] *= 0.2  # a red object
    sq[..., 0] = np.clip(sq[..., 0] * 1.2 + 40, 0, 255)
    frames, pos = [], []
    for t in range(n):
        img = bg.copy()
        x, y = 8 + step * t, (h - s) // 2
        img[y:y + s, x:x + s] = sq
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
        pos.append((x, y))
    return np.stack(frames), pos


def test_colours_follow_a_moving_object() -> None:
    clip, pos = moving_square_clip()
    out = list(colorize_stream(gray(clip), [clip[0]], [0], config=CFG))
    a_out = np.stack([ab_of(o)[..., 0] for o in out])
    (x, y), (x0, y0) = pos[-1], pos[0]
    inner = a_out[-1, y + 4:y + 28, x + 4:x + 28].mean()
    assert inner > 40  # the square, 27 px from where it started, is still red (a* of the key ≈ 60)
    vacated = a_out[-1, y0 + 4:y0 + 28, x0 + 2:x - 2].mean()  # background it uncovered on the way
    background = ab_of(clip[-1])[y0 + 4:y0 + 28, x0 + 2:x - 2, 0].mean()
    assert background < 0 and vacated < 0.5 * inner  # the trail it leaves is faint (flow-only: ≈ inner)


def test_a_scene_cut_stops_propagation(caplog: pytest.LogCaptureFixture) -> None:
    a, b = texture(48, 64, 4), (texture(48, 64, 5) // 3).astype(np.uint8)  # a darker, different scene
    clip = np.stack([a] * 4 + [b] * 4)
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        out = list(colorize_stream(gray(clip), [a], [0], config=CFG))
    assert np.abs(ab_of(out[2]) - ab_of(a)).mean() < 2.0
    for o in out[4:]:  # the second scene has no reference: gray, and a warning says so
        assert np.abs(ab_of(o)).max() < 1.0
    assert any("no colour reference" in r.getMessage() for r in caplog.records)


def test_several_keyframes_blend_by_distance() -> None:
    base = texture(40, 48, 6)
    warm = np.clip(base.astype(int) + [60, 0, -60], 0, 255).astype(np.uint8)
    cool = np.clip(base.astype(int) + [-60, 0, 60], 0, 255).astype(np.uint8)
    n = 9
    frames = gray(np.stack([base] * n))
    out = list(colorize_stream(frames, [warm, cool], [0, n - 1], config=CFG))
    b_mean = [float(ab_of(o)[..., 1].mean()) for o in out]  # b*: + warm (yellow), − cool (blue)
    assert b_mean[0] == pytest.approx(float(ab_of(warm)[..., 1].mean()), abs=1.0)
    assert b_mean[-1] == pytest.approx(float(ab_of(cool)[..., 1].mean()), abs=1.0)
    assert all(x > y for x, y in zip(b_mean, b_mean[1:], strict=False))  # a monotone blend in between
    mid = b_mean[n // 2]
    assert b_mean[-1] + 5 < mid < b_mean[0] - 5


def test_a_keyframe_after_the_frames_colours_them_backwards() -> None:
    key = texture(40, 48, 7)
    out = list(colorize_stream(gray(np.stack([key] * 6)), [key], [5], config=CFG))
    for o in out:
        assert np.abs(ab_of(o) - ab_of(key)).mean() < 2.0


def test_buffer_is_bounded_by_the_window() -> None:
    prop = Propagator(PropagateConfig(window=4, max_side=32))
    L = np.full((24, 32), 50.0, np.float32)
    emitted = []
    for i in range(12):
        emitted += prop.push(i, L, cut=i == 0)
        assert len(prop._buf) <= 4
    emitted += prop.finish()
    assert [p.index for p in emitted] == list(range(12))


def test_reference_without_frame_number_is_matched() -> None:
    frames = [texture(36, 64, s) for s in (10, 11, 12, 13)]
    assert match_reference_frames(gray(np.stack(frames)), [frames[2], frames[0]]) == [2, 0]


def test_exemplar_mode_colours_every_scene(caplog: pytest.LogCaptureFixture) -> None:
    from .test_parts import regions  # the bands whose colour goes with their brightness

    exemplar = regions(60, 90, (0, 1, 2), 0)  # a photo, not a frame of the clip
    scene_a = regions(48, 64, (2, 0, 1, 0), 1)
    scene_b = regions(48, 64, (1, 1, 2, 0), 2)  # another shot: its histogram differs, a cut
    clip = np.stack([scene_a] * 3 + [scene_b] * 3)
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        out = list(colorize_stream(gray(clip), exemplar=exemplar, config=CFG))
    assert not any("no colour reference" in r.getMessage() for r in caplog.records)
    for o, truth in zip(out, clip, strict=True):
        err = np.abs(ab_of(o) - ab_of(truth)).mean()
        assert err < 0.35 * np.abs(ab_of(truth)).mean()


def test_colour_prior_colours_new_content_like_the_key() -> None:
    """A pan reveals more of a red textured surface the keyframe showed on its left: the flow has nothing to
    carry into it (it enters at the frame edge), the prior matches its texture to the key's red one."""
    rng = np.random.default_rng(3)
    h, w, n, step = 48, 96, 30, 2
    world = np.empty((h, w + n * step, 3), np.float32)
    red = np.stack([0.55 + 0.35 * rng.random((h, world.shape[1])), np.full((h, world.shape[1]), 0.12),
                    np.full((h, world.shape[1]), 0.1)], -1)
    red = cv2.GaussianBlur(red, (0, 0), 0.6)
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    blue = np.stack([np.broadcast_to(0.2 + 0.1 * yy, (h, 52)), np.broadcast_to(0.3 + 0.1 * yy, (h, 52)),
                     np.full((h, 52), 0.8)], -1)
    world[:] = red
    world[:, 48:100] = blue
    clip = (np.stack([world[:, step * t: step * t + w] for t in range(n)]) * 255).astype(np.uint8)
    frames = gray(clip)
    with_prior = list(colorize_stream(frames, [clip[0]], [0], config=CFG))[-1]
    without = list(colorize_stream(frames, [clip[0]], [0], config=ColorizeConfig(refine="off", prior=0.0)))[-1]
    region = (slice(8, 40), slice(64, 92))  # red texture that entered after the keyframe
    b_true, b_with, b_without = (ab_of(x)[region][..., 1].mean() for x in (clip[-1], with_prior, without))
    assert b_true > 20  # red: b* well above 0 (the blue surface has b* far below 0)
    assert b_with - b_without > 5.0
    assert abs(b_with - b_true) < abs(b_without - b_true)


def occluded_patch_clip(n: int = 26) -> np.ndarray:
    """A still, grainy, blue-green textured scene with a red textured patch; a textured gray bar slides
    across the patch (frames 7–15), hiding it completely for a while, and leaves: the patch is seen again."""
    h, w = 64, 96
    scene = fine_texture(h, w, 8)
    scene[..., 0] *= 0.3
    patch = fine_texture(24, 24, 9)
    patch[..., 1:] *= 0.2
    patch[..., 0] = np.clip(patch[..., 0] * 1.2 + 40, 0, 255)
    scene[20:44, 36:60] = patch
    bar = fine_texture(h, 30, 10).mean(-1, keepdims=True).repeat(3, -1)  # gray: no colour to carry
    rng = np.random.default_rng(11)
    frames = []
    for t in range(n):
        img = scene + rng.normal(0.0, 3.0, scene.shape)  # grain: a still shot still changes a little
        x = -30 + 6 * (t - 2) if t >= 2 else -100
        lo, hi = max(x, 0), min(x + 30, w)
        if hi > lo:
            img[:, lo:hi] = bar[:, lo - x:hi - x]
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(frames)


def test_direct_match_restores_colours_of_a_region_seen_again() -> None:
    """Behind the bar the flow chain loses the patch's colour (it fills from the bar's neighbours); once the
    bar has gone, the direct match to the keyframe finds the patch again and brings its red back."""
    clip = occluded_patch_clip()
    assert np.abs(clip[-1].astype(int) - clip[0]).mean() < 4  # the bar has left the frame
    frames = gray(clip)
    still_off = AdaptConfig(still=0.0)  # the still-copy would find the patch again too (its own test)
    off = ColorizeConfig(refine="off", prior=0.0, smooth=0.0, propagate=PropagateConfig(direct=0.0),
                         adapt=still_off)
    on = ColorizeConfig(refine="off", prior=0.0, smooth=0.0, adapt=still_off)
    patch = (slice(24, 40), slice(40, 56))
    out_off = list(colorize_stream(frames, [clip[0]], [0], config=off))
    out_on = list(colorize_stream(frames, [clip[0]], [0], config=on))
    a_key, a_off, a_on = (ab_of(o)[patch][..., 0].mean() for o in (out_on[0], out_off[-1], out_on[-1]))
    assert a_key > 40  # red (as rendered: the key's ab at this L)
    assert a_key - a_off > 30  # the chain alone has lost it (a* < 0: the scene's blue-green)
    assert abs(a_on - a_key) < 5  # the direct match has it back


def test_carry_averages_along_the_flow_only_where_the_frames_agree() -> None:
    h, w = 6, 10
    L = np.zeros((h, w), np.float32)
    flow = np.zeros((2, h, w), np.float32)
    flow[0] = 1.0  # every pixel was one to the right in the previous frame
    agree = np.ones((h, w), np.float32)
    agree[:, :4] = 0.0  # ... but there the frames disagree (an occlusion)
    p = Propagated(1, L, L, None, None, flow, agree)
    last = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    fresh = np.zeros((h, w), np.float32)
    out = carry(fresh, last, p, 0.5)
    np.testing.assert_allclose(out[:, :4], 0.0)
    np.testing.assert_allclose(out[:, 4:-1], 0.5 * (np.arange(4, w - 1) + 1.0)[None].repeat(h, 0), atol=1e-5)
    assert carry(fresh, None, p, 0.5) is fresh  # nothing to carry at a scene start
