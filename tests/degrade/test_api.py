"""``oldfilm degrade``: file round trip through the CLI, determinism, atomic outputs, the preview grid."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from oldfilm.api import degrade
from oldfilm.cli import main
from oldfilm.degrade.api import degrade_stream, render_preview
from oldfilm.io.video import open_video
from tests.clips import moving_clip, write_clip


def _read(path: Path) -> np.ndarray:
    with open_video(path) as r:
        return np.stack(list(r))


@pytest.fixture
def clip_file(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "in.mkv", moving_clip(t=6, h=48, w=64, channels=3), codec="ffv1")


def test_cli_round_trip(tmp_path: Path, clip_file: Path) -> None:
    src = _read(clip_file)
    dst, masks, params = tmp_path / "out.mkv", tmp_path / "masks", tmp_path / "params.json"
    rc = main(["-q", "degrade", str(clip_file), str(dst), "--seed", "3", "--preset", "heavy",
               "--mask-out", str(masks), "--params-out", str(params), "--codec", "ffv1"])
    assert rc == 0
    out = _read(dst)
    assert out.shape == src.shape and not np.array_equal(out, src)
    pngs = sorted(masks.glob("*.png"))
    assert len(pngs) == 6
    m = cv2.imread(str(pngs[0]), cv2.IMREAD_UNCHANGED)
    assert m.shape == (48, 64) and set(np.unique(m)) <= {0, 255}
    p = json.loads(params.read_text())
    assert p["seed"] == 3 and p["preset"] == "heavy" and len(p["frames"]) == 6
    assert p["template"]["height"] == 48 and "quality" in p["config"]
    # the same seed gives the same file (lossless codec); the outputs are not overwritten silently
    dst2 = tmp_path / "again.mkv"
    assert main(["-q", "degrade", str(clip_file), str(dst2), "--seed", "3", "--preset", "heavy",
                 "--codec", "ffv1"]) == 0
    assert np.array_equal(_read(dst2), out)
    assert main(["-q", "degrade", str(clip_file), str(dst), "--seed", "4"]) == 2
    assert np.array_equal(_read(dst), out)


def test_file_api_matches_stream_api(tmp_path: Path, clip_file: Path) -> None:
    dst = tmp_path / "frames"
    degrade(clip_file, dst, seed=1, preset="medium", codec="png")
    got = _read(dst)
    want = np.stack([f for f, _, _ in degrade_stream(_read(clip_file), seed=1, preset="medium")])
    assert np.array_equal(got, want)


def test_failure_leaves_nothing_behind(tmp_path: Path, clip_file: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "keep.txt").write_text("x")
    dst, params = tmp_path / "out.mkv", tmp_path / "p.json"
    rc = main(["-q", "degrade", str(clip_file), str(dst), "--mask-out", str(masks),
               "--params-out", str(params)])
    assert rc == 2
    assert not dst.exists() and not params.exists() and (masks / "keep.txt").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_cli_usage_errors(tmp_path: Path, clip_file: Path) -> None:
    assert main(["-q", "degrade", str(clip_file), str(tmp_path / "o.mkv"), "--preset", "antique"]) == 2
    assert main(["-q", "degrade", str(clip_file)]) == 2
    assert main(["-q", "degrade", str(clip_file), str(tmp_path / "o.mkv"), "--preview", "g.png"]) == 2
    assert main(["-q", "degrade", str(tmp_path / "missing.mkv"), str(tmp_path / "o.mkv")]) == 2
    assert main(["-q", "degrade", str(clip_file), str(tmp_path / "o.mkv"), "--textures",
                 str(tmp_path / "nope")]) == 2
    assert not (tmp_path / "o.mkv").exists()


def test_textures_folder(tmp_path: Path, clip_file: Path) -> None:
    folder = tmp_path / "tex"
    folder.mkdir()
    img = np.full((80, 120, 3), 250, np.uint8)
    cv2.line(img, (5, 5), (110, 70), (0, 0, 0), 2)
    cv2.imwrite(str(folder / "scratch.png"), img)
    out = degrade(clip_file, tmp_path / "o", seed=0, preset="heavy", textures=folder, codec="png")
    assert len(list(out.glob("*.png"))) == 6


def test_preview_grid(tmp_path: Path) -> None:
    path = tmp_path / "grid.png"
    render_preview(path, seed=0, presets=("light", "heavy"), tile=64)
    grid = cv2.imread(str(path))
    assert grid.shape[0] == 3 * (64 + 4) + 4 and grid.shape[1] > 6 * 64
    rc = main(["-q", "degrade", "--preview", str(path)])
    assert rc == 2  # exists: not overwritten without --overwrite
    assert main(["-q", "degrade", "--preview", str(path), "--overwrite"]) == 0
