from __future__ import annotations

import numpy as np
import pytest

from oldfilm.restore.tiling import TileBlender, blend_weights, pad_frame, padded_size, tile_boxes


def test_pad_frame_reflects_and_edges() -> None:
    img = np.arange(35, dtype=np.float32).reshape(5, 7)
    out = pad_frame(img, 4)
    assert out.shape == (8, 8) and np.array_equal(out[:5, :7], img)
    assert np.array_equal(out[5, :7], img[3])  # reflect
    tiny = pad_frame(img[:2, :2], 8)  # too small to reflect: edge
    assert tiny.shape == (8, 8) and tiny[7, 7] == img[1, 1]
    assert pad_frame(img[:4, :4, None], 4).shape == (4, 4, 1)
    assert padded_size(368, 640, 32) == (384, 640)


@pytest.mark.parametrize(
    "h,w,tile,overlap", [(384, 640, 2000, 64), (2176, 3840, 1024, 64), (96, 160, 64, 16)]
)
def test_tiles_cover_the_frame_with_overlap(h: int, w: int, tile: int, overlap: int) -> None:
    boxes = tile_boxes(h, w, tile, overlap, 32 if h > 100 else 16)
    cover = np.zeros((h, w), int)
    for y0, x0, y1, x1 in boxes:
        assert y1 - y0 <= tile and x1 - x0 <= tile and y0 % 16 == 0 and x0 % 16 == 0
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    if len(boxes) > 1:
        xs = sorted({b[1] for b in boxes})
        widths = boxes[0][3] - boxes[0][1]
        assert all(b - a <= widths - overlap for a, b in zip(xs[:-1], xs[1:], strict=True))
    with pytest.raises(ValueError, match="multiple"):
        tile_boxes(100, 100, 64, 8, 32)


def test_blending_is_seamless() -> None:
    h, w = 96, 160
    boxes = tile_boxes(h, w, 64, 16, 16)
    truth = np.random.default_rng(0).random((2, h, w, 3)).astype(np.float32)
    blender = TileBlender(truth.shape, 16)
    for y0, x0, y1, x1 in boxes:
        blender.add((y0, x0, y1, x1), truth[:, y0:y1, x0:x1])
    np.testing.assert_allclose(blender.result(), truth, rtol=1e-5, atol=1e-6)
    wgt = blend_weights(boxes[0], h, w, 16)
    assert wgt[0, 0] == 1 and wgt[-1, -1] < 0.1  # frame border full weight, interior edge ramps
