"""The shot-adaptive parts of the colouriser and its bounded memory (small synthetic clips, CPU)."""

from __future__ import annotations

import numpy as np

from oldfilm.colorize.adapt import AdaptConfig, stillness, unsure
from oldfilm.colorize.api import ColorizeConfig, colorize_stream
from oldfilm.colorize.propagate import PropagateConfig
from tests.colorize.test_propagate import ab_of, gray, moving_square_clip

OFF = AdaptConfig(still=0.0)


def test_stillness_is_one_where_nothing_changed_and_zero_where_it_did() -> None:
    rng = np.random.default_rng(0)
    L = rng.uniform(20, 80, (40, 50)).astype(np.float32)
    moved = L.copy()
    moved[10:30, 10:30] = np.roll(L[10:30, 10:30], 3, axis=1)
    noisy = L + rng.normal(0, 0.5, L.shape).astype(np.float32)  # grain / compression: still counts as still
    s = stillness(noisy, L, AdaptConfig(still=1.0))
    assert s.min() > 0.9
    s = stillness(moved, L, AdaptConfig(still=1.0))
    assert s[14:26, 14:26].max() < 0.05 and s[:, 36:].min() > 0.99


def test_unsure_pulls_only_the_unconfident_chroma_towards_gray() -> None:
    ab = np.full((4, 4, 2), 30.0, np.float32)
    conf = np.zeros((4, 4), np.float32)
    conf[:2] = 1.0
    out = unsure(ab, conf, AdaptConfig(unsure=0.5))
    assert np.allclose(out[:2], 30.0) and np.allclose(out[2:], 15.0)
    assert unsure(ab, conf, AdaptConfig(unsure=0.0)) is ab


def test_a_still_background_keeps_the_key_colour_exactly_while_the_mover_keeps_its_own() -> None:
    clip, pos = moving_square_clip(n=12)
    on = ColorizeConfig(refine="off", adapt=AdaptConfig(still=1.0))
    off = ColorizeConfig(refine="off", adapt=OFF)
    out_on = list(colorize_stream(gray(clip), [clip[0]], [0], config=on))
    out_off = list(colorize_stream(gray(clip), [clip[0]], [0], config=off))
    (x, y), (x0, _) = pos[-1], pos[0]
    truth = ab_of(clip[-1])
    bg = (slice(2, 20), slice(4, 124))  # above the square's path: never moved
    err_on, err_off, err_first = (np.abs(ab_of(o)[bg] - truth[bg]).mean()
                                  for o in (out_on[-1], out_off[-1], out_on[1]))
    # copied exactly, not carried by a chain of warps (which drifts): no worse than the frame after the key
    # (the residue is rendering: gray luma is not L*, so ab drawn on it come back a little changed)
    assert err_on < err_first + 0.05 and err_off > err_on + 0.5
    inner = ab_of(out_on[-1])[y + 4:y + 28, x + 4:x + 28, 0].mean()
    assert inner > 40  # the moved square is still red: the still-copy left the mover to the flow
    assert x - x0 > 30


def test_colorize_stream_is_lazy_and_bounded() -> None:
    """Whatever the clip's length, the colouriser holds at most its look-behind window of frames: it pulls
    frames only as it yields them (a lag of at most ``window`` + 1)."""
    clip, _ = moving_square_clip(n=4)
    pulled = 0

    def frames():  # an endless-looking stream: 40 frames, never materialised as a list
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield gray(clip)[i % 4]

    cfg = ColorizeConfig(refine="off", propagate=PropagateConfig(window=5, max_side=64))
    lags = []
    n = 0
    for _ in colorize_stream(frames(), [clip[0]], [0], config=cfg):
        n += 1
        lags.append(pulled - n)
    assert n == 40 and max(lags) <= 6


def test_fill_reach_keeps_the_carried_colour_where_no_valid_pixel_is_near() -> None:
    """A wide hole (content that entered in a pan) is filled with gray by the guided fill alone; with
    ``fill_reach`` it keeps the colour the plain warp carried in, while holes near valid pixels still fill."""
    from oldfilm.colorize.propagate import fill_holes

    rng = np.random.default_rng(0)
    L = rng.uniform(30, 70, (32, 64)).astype(np.float32)
    ab = np.full((32, 64, 2), 20.0, np.float32)
    valid = np.ones((32, 64), np.float32)
    valid[:, 30:] = 0.0  # 34 px of hole: the far part is beyond the 6-px fill window
    far = (slice(None), slice(50, 64))
    off, _ = fill_holes(L, ab, valid, PropagateConfig(fill_reach=0.0))
    on, _ = fill_holes(L, ab, valid, PropagateConfig())  # the default reach
    assert np.abs(off[far]).mean() < 5 and np.abs(on[far] - 20.0).max() < 1e-3
    near = (slice(None), slice(30, 33))
    assert np.abs(on[near] - off[near]).max() < 1e-3  # near valid pixels: the fill, as before
