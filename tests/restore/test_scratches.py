"""Persistent vertical line scratches are found and removed; edges and wide stripes are left alone."""

from __future__ import annotations

import numpy as np
import pytest

from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer
from oldfilm.restore.scratches import LineScratchRemover, ScratchConfig
from tests.clips import moving_clip, psnr


def _scratched(clean: np.ndarray, lines: list[tuple[int, int, float]]) -> np.ndarray:
    """Add lines (x, width, offset on the 0–255 scale) at fixed columns in every frame."""
    out = clean.astype(np.float32)
    for x, w, offset in lines:
        out[:, :, x: x + w] += offset
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lines", [[(30, 1, 70.0)], [(20, 2, -60.0), (61, 3, 50.0)]])
def test_lines_are_detected_where_they_are(lines: list[tuple[int, int, float]]) -> None:
    clip = _scratched(moving_clip(t=6, h=64, w=96), lines)
    rem = LineScratchRemover()
    for frame in clip:
        bands = rem.detect(frame[..., 0].astype(np.float32) / 255)
    found = sorted(bands)
    assert len(found) == len(lines)
    for (x0, x1), (x, w, _) in zip(found, sorted(lines), strict=True):
        assert abs(x0 - x) <= 1 and abs(x1 - (x + w - 1)) <= 1


def test_removal_restores_the_picture_under_a_translucent_line() -> None:
    clean = moving_clip(t=8, h=64, w=96, channels=3)
    dirty = _scratched(clean, [(40, 2, 45.0)])
    cfg = ClassicalConfig(deflicker=False, denoise_strength=0, sharpen=0.0)
    out = np.stack(list(ClassicalRestorer(cfg).run(dirty)))
    band = (slice(None), slice(None), slice(38, 44))
    assert psnr(out[band], clean[band]) > psnr(dirty[band], clean[band]) + 10
    assert psnr(out[band], clean[band]) > 35  # the texture under the line survives, not just a smear


def test_edges_and_wide_stripes_are_not_scratches() -> None:
    h, w = 64, 96
    frame = np.zeros((h, w), np.float32)
    frame[:, 48:] = 0.8  # a vertical step edge over the full height
    frame[:, 10:20] = 0.6  # a stripe wider than max_width
    rem = LineScratchRemover(ScratchConfig())
    for _ in range(5):
        assert rem.detect(frame) == []
    img = frame[..., None]
    assert np.array_equal(rem(img, frame), img)


def test_moving_thin_content_is_not_persistent() -> None:
    rem = LineScratchRemover()
    counts = []
    for t in range(10):  # a thin line that moves 6 px per frame, like a pole in a pan
        frame = np.full((64, 96), 0.3, np.float32)
        frame[:, 10 + 6 * t] = 0.9
        counts.append(len(rem.detect(frame)))
    assert sum(counts[3:]) == 0
