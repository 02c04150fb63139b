"""flow_warp / warp_image / DISFlow / consistency_mask behave as the convention says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oldfilm.flow import DISFlow, consistency_mask, flow_warp, warp_image
from tests.clips import moving_clip


def test_zero_flow_is_identity() -> None:
    x = torch.rand(2, 3, 9, 7)
    assert torch.allclose(flow_warp(x, torch.zeros(2, 2, 9, 7)), x, atol=1e-6)
    img = np.random.default_rng(0).random((9, 7, 3)).astype(np.float32)
    assert np.allclose(warp_image(img, np.zeros((2, 9, 7), np.float32)), img, atol=1e-6)


def test_known_shift_moves_content() -> None:
    x = torch.zeros(1, 1, 8, 10)
    x[0, 0, 4, 6] = 1.0
    flow = torch.zeros(1, 2, 8, 10)
    flow[:, 0] = 2.0  # current pixel (x, y) is at (x + 2, y) in the other frame
    out = flow_warp(x, flow)
    assert out[0, 0, 4, 4] == 1.0 and out.sum() == 1.0
    assert np.allclose(warp_image(x[0, 0].numpy(), flow[0].numpy()), out[0, 0].numpy())


def test_flow_warp_gradients_and_errors() -> None:
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    flow = (torch.rand(1, 2, 5, 6, dtype=torch.float64) - 0.5).requires_grad_()
    assert torch.autograd.gradcheck(flow_warp, (x, flow), eps=1e-6, atol=1e-4)
    with pytest.raises(ValueError, match="flow_warp expects"):
        flow_warp(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 4, 4))


def test_dis_recovers_a_pan_and_consistency_marks_it_visible() -> None:
    clip = moving_clip(t=2, h=96, w=128, step=3)[..., 0].astype(np.float32) / 255
    est = DISFlow("medium")
    fw, bw = est(clip[0], clip[1]), est(clip[1], clip[0])
    inner = (slice(10, -10), slice(10, -10))
    assert abs(np.median(fw[0][inner]) + 3) < 0.3 and abs(np.median(fw[1][inner])) < 0.3  # content moves left
    warped = warp_image(clip[1], fw)
    assert np.abs(warped - clip[0])[inner].mean() < 0.02
    assert consistency_mask(fw, bw)[inner].mean() > 0.9


def test_tiny_frames_get_zero_flow_instead_of_crashing_dis() -> None:
    """OpenCV's DIS segfaulted on 12×40 frames: below MIN_SIDE pixels the flow is zero (run in a child
    process, so a crash fails the test instead of killing the suite)."""
    import subprocess
    import sys

    code = ("import numpy as np; from oldfilm.flow import DISFlow; r = np.random.default_rng(0); "
            "a, b = r.random((12, 40), np.float32), r.random((12, 40), np.float32); "
            "f = [DISFlow(preset=p, max_side=0)(a, b) for p in ('ultrafast', 'fast', 'medium') for _ in range(3)]; "
            "assert all(x.shape == (2, 12, 40) and not x.any() for x in f); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-500:]


def test_flow_warp_of_bf16_features_samples_at_fp32_positions() -> None:
    import torch

    from oldfilm.flow.warp import flow_warp

    x = torch.linspace(0, 1, 640).view(1, 1, 1, 640).expand(1, 1, 4, 640).contiguous()
    flow = torch.full((1, 2, 4, 640), 0.0)
    flow[:, 0] = 0.3  # a sub-pixel shift a bf16 grid cannot hold near the right edge
    exact = flow_warp(x, flow)
    half = flow_warp(x.bfloat16(), flow)
    assert half.dtype == torch.bfloat16
    # only the output's own rounding to bf16 is left (< 2^-8 relative), not a grid off by up to 1.25 px
    assert float((half.float() - exact).abs().max()) < 1.0 / 256
