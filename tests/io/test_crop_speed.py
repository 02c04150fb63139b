"""Active picture area (--crop) and silent-film speed (--fps)."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import pytest

import oldfilm
from oldfilm.cli import main
from oldfilm.errors import UsageError
from oldfilm.io.crop import Box, detect_crop, parse_box, restore_within
from oldfilm.io.speed import repeat_share
from oldfilm.io.video import open_video
from tests.clips import add_dust, moving_clip, write_clip
from tests.io.test_fields import write_ffv1


def _letterboxed(t: int = 8) -> np.ndarray:
    """A dusty moving picture 64 lines high inside noisy near-black bars (12 lines above, 14 below)."""
    pic = add_dust(moving_clip(t=t, h=64, w=96, channels=3))
    rng = np.random.default_rng(3)
    top = rng.integers(10, 20, (t, 12, 96, 3), dtype=np.uint8)
    bottom = rng.integers(10, 20, (t, 14, 96, 3), dtype=np.uint8)
    return np.concatenate([top, pic, bottom], axis=1)


def test_letterbox_is_found_and_its_bars_stay_untouched(tmp_path: Path, capsys) -> None:
    frames = _letterboxed()
    assert detect_crop(iter(frames)) == Box(0, 12, 96, 64)
    src = write_ffv1(tmp_path / "lb.mkv", frames, 24)
    assert main(["info", str(src)]) == 0
    assert "picture area: 96x64+0+12" in capsys.readouterr().out
    dst = oldfilm.restore(src, tmp_path / "out.mkv", method="classical", codec="ffv1", crop="auto")
    with open_video(dst) as r:
        out = np.stack(list(r))
    assert np.array_equal(out[:, :12], frames[:, :12]) and np.array_equal(out[:, 76:], frames[:, 76:])
    assert not np.array_equal(out[:, 12:76], frames[:, 12:76])  # the picture itself was restored


def test_plain_borders_and_dark_scenes() -> None:
    pic = moving_clip(t=4, h=40, w=60, channels=1)
    framed = np.full((4, 48, 80, 1), 200, np.uint8)  # a plain light surround (scanner overscan)
    framed[:, 4:44, 10:70] = pic
    assert detect_crop(iter(framed)) == Box(10, 4, 60, 40)
    dark = (moving_clip(t=4, h=48, w=80, channels=1) // 12).astype(np.uint8)  # a dark scene, no bars
    assert detect_crop(iter(dark)) is None


def test_explicit_box_and_bad_boxes() -> None:
    assert parse_box("64x40+8+4", 80, 48) == Box(8, 4, 64, 40)
    with pytest.raises(UsageError, match="does not fit"):
        parse_box("64x40+20+4", 80, 48)
    with pytest.raises(UsageError, match="WxH"):
        parse_box("wide", 80, 48)
    frames = [np.full((6, 8, 1), i, np.uint8) for i in range(3)]
    out = list(restore_within(iter(frames), Box(2, 1, 4, 3), lambda fs: (f + 100 for f in fs)))
    assert [int(o[2, 3, 0]) for o in out] == [100, 101, 102] and [int(o[0, 0, 0]) for o in out] == [0, 1, 2]


def test_repeated_frames_of_a_transfer_are_dropped(tmp_path: Path, caplog) -> None:
    film = moving_clip(t=18, h=48, w=64, channels=3, step=3)  # 18 fps shot
    shown = np.stack([film[i * 3 // 4] for i in range(24)])  # shown at 24: one frame in four repeated
    src = write_clip(tmp_path / "t.mkv", shown, fps=24, codec="ffv1", audio=True)
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        dst = oldfilm.restore(src, tmp_path / "o.mkv", method="none", codec="ffv1", fps=18)
    assert "dropping 1 in every 4 frames" in caplog.text
    with av.open(str(dst)) as c:
        assert c.streams.video[0].average_rate == 18 and len(c.streams.audio) == 1
    with open_video(dst) as r:
        assert np.array_equal(np.stack(list(r)), film)


def test_retiming_without_repeats_slows_the_film_and_drops_audio(tmp_path: Path, caplog) -> None:
    film = moving_clip(t=12, h=32, w=48, channels=3)
    src = write_clip(tmp_path / "t.mkv", film, fps=24, codec="ffv1", audio=True)
    with caplog.at_level(logging.WARNING, logger="oldfilm"):
        dst = oldfilm.restore(src, tmp_path / "o.mkv", method="none", codec="ffv1", fps=16)
    assert "audio is dropped" in caplog.text
    with av.open(str(dst)) as c:
        s = c.streams.video[0]
        assert s.average_rate == 16 and not c.streams.audio
        assert abs(float(c.duration / av.time_base) - 12 / 16) < 0.1
    with open_video(dst) as r:
        assert np.array_equal(np.stack(list(r)), film)


def test_repeat_share_ignores_still_stretches() -> None:
    moving, still = 0.05, 0.0
    assert repeat_share([float("inf")] + [still] * 12, 4) is None
    assert repeat_share([float("inf")] + [moving, still, moving, moving] * 3, 4) == 0.25
    assert repeat_share([float("inf")] + [still] * 4 + [moving] * 8, 4) == 0.0
