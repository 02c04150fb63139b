from __future__ import annotations

import pytest
import torch

from oldfilm.flow import resize_flow


def test_uniform_flow_scales_with_the_size() -> None:
    flow = torch.stack([torch.full((32, 48), 2.0), torch.full((32, 48), 1.0)]).unsqueeze(0)
    out = resize_flow(flow, (8, 12))
    assert out.shape == (1, 2, 8, 12)
    torch.testing.assert_close(out[0, 0], torch.full((8, 12), 0.5))
    torch.testing.assert_close(out[0, 1], torch.full((8, 12), 0.25))
    assert resize_flow(flow, (32, 48)) is flow


def test_box_resamples_a_region() -> None:
    h0 = w0 = 40
    xs = torch.arange(w0, dtype=torch.float32).expand(h0, w0)
    flow = torch.stack([xs, torch.zeros(h0, w0)]).unsqueeze(0)  # dx = x (a linear field)
    out = resize_flow(flow, (40, 40), box=(0.0, 10.0, 40.0, 30.0))  # x in [10, 30) → 40 px: 2× finer
    j = torch.arange(40, dtype=torch.float32)
    expected = 2.0 * (10.0 + (j + 0.5) * 0.5 - 0.5)  # value at the source position, in output pixels
    torch.testing.assert_close(out[0, 0, 5], expected)
    whole = resize_flow(flow, (20, 20), box=(0.0, 0.0, 40.0, 40.0))
    torch.testing.assert_close(whole, resize_flow(flow, (20, 20)))
    with pytest.raises(ValueError, match="N,2,H,W"):
        resize_flow(torch.zeros(1, 3, 4, 4), (2, 2))
