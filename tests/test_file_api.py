"""The file-level API (``oldfilm.api``) over ``oldfilm.io.transcode``: stages chain as streams, the
usage rules that span stages live in the API, timestamps and progress travel through one path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import oldfilm
from oldfilm.cli import main
from oldfilm.colorize import ColorizeConfig, colorize_stream
from oldfilm.errors import UsageError
from oldfilm.io.images import write_image
from oldfilm.io.transcode import Output, Window, transcode
from oldfilm.io.video import open_video
from oldfilm.restore import restore_stream
from tests.clips import add_dust, moving_clip, texture, write_clip


def _read(path: Path) -> np.ndarray:
    with open_video(path) as r:
        return np.stack(list(r))


def _gray_clip_and_key(tmp_path: Path) -> tuple[Path, Path]:
    frames = add_dust(moving_clip(t=6, h=48, w=64, channels=1))
    src = tmp_path / "clip"
    src.mkdir()
    for i, f in enumerate(frames):
        write_image(src / f"{i:03d}.png", f)
    key = texture(48, 64, np.random.default_rng(3), channels=3)
    write_image(tmp_path / "key.png", key)
    return src, tmp_path / "key.png"


def test_restore_with_colour_is_the_restore_stream_piped_into_the_colour_stream(tmp_path: Path) -> None:
    src, key = _gray_clip_and_key(tmp_path)
    config = ColorizeConfig(refine="off")
    dst = oldfilm.restore(src, tmp_path / "out", codec="png",
                          colorize={"refs": [key], "ref_frames": [0], "config": config})
    got = _read(dst)
    want = np.stack(list(colorize_stream(restore_stream(_read(src), "classical"), [key], [0], config=config)))
    assert got.shape == (6, 48, 64, 3) and np.array_equal(got, want)


def test_with_start_every_reference_needs_its_frame_number(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src, key = _gray_clip_and_key(tmp_path)
    dst = tmp_path / "out"
    with pytest.raises(UsageError, match="--ref-frame for every --ref"):
        oldfilm.restore(src, dst, start=2, colorize={"refs": [key]})
    assert main(["restore", str(src), str(dst), "--start", "2", "--colorize", "--ref", str(key)]) == 2
    assert "--ref-frame for every --ref" in capsys.readouterr().err
    assert not dst.exists()


def test_transcode_carries_timestamps_and_reports_progress(tmp_path: Path) -> None:
    stamps = [0, 40, 90, 120, 200, 240, 300, 330]  # a variable frame rate (ms)
    src = write_clip(tmp_path / "in.mkv", moving_clip(t=8, h=32, w=48, channels=3), codec="ffv1", pts=stamps)
    known = oldfilm.probe(src).frame_count  # Matroska does not say: then the total is unknown
    seen: list[tuple[int, int | None]] = []

    def late(frames):  # a stage that holds frames back, as the restorers do: stamps must still match
        held = []
        for f in frames:
            held.append(255 - f)
            if len(held) > 3:
                yield held.pop(0)
        yield from held

    n = transcode(src, tmp_path / "out.mkv", late, window=Window(start=2, end=7), output=Output("ffv1"),
                  progress=lambda done, total: seen.append((done, total)))
    assert n == 5 and seen == [(k, None if known is None else 5) for k in range(1, 6)]
    with open_video(src) as r:
        want = list(r.frames_with_pts(2, 7))
    with open_video(tmp_path / "out.mkv") as r:
        got = list(r.frames_with_pts())
    pts = [p for _, p in want]
    assert len({b - a for a, b in zip(pts, pts[1:], strict=False)}) > 1  # the spacing varies
    assert [p for _, p in got] == [p - pts[0] for p in pts]  # the output starts at 0, spacing kept
    assert all(np.array_equal(g, 255 - w) for (g, _), (w, _) in zip(got, want, strict=True))


def test_restore_with_a_self_ensemble_is_the_rtn_stream_with_that_option(tmp_path: Path) -> None:
    import torch

    from oldfilm.models.presets import RTNConfig
    from oldfilm.models.rtn import RTN
    from oldfilm.models.weights import save_weights

    torch.manual_seed(0)
    weights = save_weights(RTN(RTNConfig(name="tiny", scale=4, hidden=8, embed=8, heads=2, groups=1, depth=2,
                                         window=4, shift=2)), tmp_path / "tiny.safetensors")
    src, _ = _gray_clip_and_key(tmp_path)
    dst = oldfilm.restore(src, tmp_path / "out", codec="png", method="rtn", weights=weights, ensemble=2)
    want = np.stack(list(restore_stream(_read(src), "rtn", weights=weights, ensemble=2)))
    assert np.array_equal(_read(dst), want)
    assert not np.array_equal(want, np.stack(list(restore_stream(_read(src), "rtn", weights=weights))))
    with pytest.raises(UsageError, match="ensemble"):
        oldfilm.restore(src, tmp_path / "cl", codec="png", ensemble=2)
    rc = main(["restore", str(src), str(tmp_path / "x"), "--codec", "png", "--ensemble", "3", "--method", "rtn",
               "--weights", str(weights), "-q"])
    assert rc != 0 and not (tmp_path / "x").exists()


def test_restore_keeping_grain_is_the_classical_stream_with_keep_grain_also_when_resumable(tmp_path: Path) -> None:
    from oldfilm.restore.classical import KEEP_GRAIN

    src, _ = _gray_clip_and_key(tmp_path)
    dst = oldfilm.restore(src, tmp_path / "out", codec="png", grain="keep")
    want = np.stack(list(restore_stream(_read(src), "classical", **KEEP_GRAIN)))
    assert np.array_equal(_read(dst), want)
    assert not np.array_equal(want, np.stack(list(restore_stream(_read(src), "classical"))))
    # --resume restores in chunks through another path: the option must reach the restorer there too
    assert main(["restore", str(src), str(tmp_path / "res.mkv"), "--codec", "ffv1", "--grain", "keep", "--resume",
                 "-q"]) == 0
    assert np.array_equal(_read(tmp_path / "res.mkv"), want)
    assert main(["restore", str(src), str(tmp_path / "stab.mkv"), "--codec", "ffv1", "--stabilize", "--resume",
                 "-q"]) == 0  # --stabilize was dropped on this path before the options had one home
    stabilized = np.stack(list(restore_stream(_read(src), "classical", stabilize=True)))
    assert np.array_equal(_read(tmp_path / "stab.mkv"), stabilized)
    assert not np.array_equal(stabilized, np.stack(list(restore_stream(_read(src), "classical"))))
    for bad in (dict(grain="keep", method="rtn"), dict(grain="some"), dict(stabilize=True, method="none")):
        with pytest.raises(UsageError, match="grain|stabilize"):
            oldfilm.restore(src, tmp_path / "bad", codec="png", **bad)
    assert not (tmp_path / "bad").exists()
