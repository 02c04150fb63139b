from __future__ import annotations

import pytest
import torch

from oldfilm.models.presets import PRESETS, RTNConfig
from oldfilm.models.rtn import RTN, residual_indicator

from .conftest import TINY, TINY_PAPER


def _clip(t: int = 3, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(1, t, 1, size, size, generator=g)
    flows_fwd = torch.randn(1, t - 1, 2, size, size, generator=g)
    flows_bwd = torch.randn(1, t - 1, 2, size, size, generator=g)
    return frames, flows_fwd, flows_bwd


def _model(cfg: RTNConfig = TINY, seed: int = 0) -> RTN:
    torch.manual_seed(seed)
    return RTN(cfg).eval()


@pytest.mark.parametrize("cfg", [TINY, TINY_PAPER], ids=lambda c: c.name)
def test_whole_clip_shapes(cfg: RTNConfig) -> None:
    frames, ff, fb = _clip()
    with torch.inference_mode():
        out = _model(cfg)(frames, ff, fb)
        one = _model(cfg)(frames[:, :1], ff[:, :0], fb[:, :0])
    assert out.shape == frames.shape and one.shape == (1, 1, 1, 64, 64)
    assert torch.isfinite(out).all()


def test_flows_at_any_resolution_and_size_errors() -> None:
    frames, ff, fb = _clip()
    model = _model()
    with torch.inference_mode():
        out = model(frames, ff[..., ::4, ::4] / 4, fb[..., ::4, ::4] / 4)  # flows at the feature resolution
        assert out.shape == frames.shape
        with pytest.raises(ValueError, match="multiples of 16"):
            model(frames[..., :60, :], ff, fb)
        with pytest.raises(ValueError, match="flows_bwd"):
            model(frames, ff, fb[:, :1])
        with pytest.raises(ValueError, match="channel"):
            model(frames.repeat(1, 1, 3, 1, 1), ff, fb)


def test_residual_indicator_follows_the_flow() -> None:
    prev = torch.zeros(1, 1, 8, 8)
    prev[..., 3] = 1.0  # a vertical line at x = 3 in the previous frame …
    cur = torch.zeros(1, 1, 8, 8)
    cur[..., 4] = 1.0  # … has moved to x = 4
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0] = -1.0  # current pixel x is at x − 1 in the previous frame
    assert residual_indicator(prev, cur, flow).abs().max() == 0
    assert residual_indicator(prev, cur, torch.zeros_like(flow)).sum() == 16  # without flow: two lines differ


def test_streaming_chunks_match_the_whole_clip() -> None:
    """Chunks with the forward state carried (and a look-ahead reaching the end) equal one whole pass."""
    t = 7
    frames, ff, fb = _clip(t)
    model = _model()
    with torch.inference_mode():
        whole = model(frames, ff, fb)
        outs, state, a = [], None, 0
        for keep in (3, 3, 1):
            flows_fwd = torch.cat([ff[:, :1] if a == 0 else ff[:, a - 1 : a], ff[:, a : a + keep - 1]], 1)
            out, state = model.forward_chunk(frames[:, a:], flows_fwd, fb[:, a:], None, keep, state)
            outs.append(out)
            a += keep
    torch.testing.assert_close(torch.cat(outs, 1), whole, atol=1e-5, rtol=1e-4)


def test_lookahead_error_fades_with_the_memory() -> None:
    """The backward pass of a chunk sees only L frames ahead. When the recurrent memory fades (gates pinned
    near 0.12), each extra look-ahead frame shrinks the gap to the whole clip; reaching the end closes it."""
    t = 10
    frames, ff, fb = _clip(t)
    model = _model()
    for branch in (model.backward_branch, model.forward_branch):
        torch.nn.init.zeros_(branch.aggregation.gate_conv2.weight)
        torch.nn.init.constant_(branch.aggregation.gate_conv2.bias, -2.0)
    errors = []
    with torch.inference_mode():
        whole = model(frames, ff, fb)
        for lookahead in (0, 1, 2, 6):
            end = 4 + lookahead
            flows_fwd = torch.cat([ff[:, :1], ff[:, :3]], 1)
            out, _ = model.forward_chunk(frames[:, :end], flows_fwd, fb[:, : end - 1], None, 4, None)
            errors.append((out - whole[:, :4]).abs().max().item())
    assert errors[0] > 3 * errors[1] > 9 * errors[2] and errors[3] < 1e-5


def test_scene_cut_resets_both_directions() -> None:
    t = 6
    frames, ff, fb = _clip(t)
    other = frames.clone()
    other[:, :3] = torch.rand(1, 3, 1, 64, 64, generator=torch.Generator().manual_seed(9))
    cuts = [True, False, False, True, False, False]
    model = _model()
    with torch.inference_mode():
        a = model(frames, ff, fb, cuts)
        b = model(other, ff, fb, cuts)
        alone = model(frames[:, 3:], ff[:, 3:], fb[:, 3:])
        no_cut = model(frames, ff, fb)
    torch.testing.assert_close(a[:, 3:], b[:, 3:], atol=1e-6, rtol=0)  # after the cut: no memory of before
    torch.testing.assert_close(a[:, 3:], alone, atol=1e-6, rtol=0)
    assert (a[:, 3:] - no_cut[:, 3:]).abs().max() > 1e-4


def test_gradients_reach_both_directions() -> None:
    frames, ff, fb = _clip()
    model = RTN(TINY)
    model(frames, ff, fb).mean().backward()
    for name in ("backward_branch", "forward_branch", "decoder"):
        grads = [p.grad for n, p in model.named_parameters() if n.startswith(name)]
        assert all(g is not None for g in grads), name


def test_presets_are_frozen_and_named() -> None:
    assert set(PRESETS) == {"fast", "guided", "quality", "rtn-paper"}
    assert PRESETS["guided"] == RTNConfig(**{**PRESETS["fast"].to_dict(), "name": "guided", "guided": True})
    paper = PRESETS["rtn-paper"]
    assert (paper.hidden, paper.embed, paper.groups, paper.depth, paper.window, paper.shift, paper.heads,
            paper.mlp_ratio, paper.down) == (16, 64, 3, 2, 8, 4, 4, 2.0, 2)
    with pytest.raises(AttributeError):
        paper.hidden = 8  # type: ignore[misc]
    assert RTNConfig.from_dict(paper.to_dict()) == paper
    with pytest.raises(ValueError, match="bogus"):
        RTNConfig.from_dict({**paper.to_dict(), "bogus": 1})
    assert PRESETS["fast"].multiple == 32 and paper.multiple == 16
    quality = PRESETS["quality"]
    assert RTNConfig.from_dict(quality.to_dict()) == quality and quality.multiple == 16


def test_guided_network_starts_as_its_guide_and_learns_a_residual() -> None:
    """A guided network takes (frame, classical restoration) and returns one channel; untrained it returns
    the guide exactly (its last layer starts at zero), yet gradients reach that layer."""
    from dataclasses import replace

    cfg = replace(TINY, name="tiny-guided", guided=True)
    assert cfg.input_channels == 2
    frames, ff, fb = _clip()
    guide = torch.rand_like(frames)
    x = torch.cat([frames, guide], dim=2)
    model = _model(cfg).train()
    out = model(x, ff, fb)
    assert out.shape == frames.shape
    torch.testing.assert_close(out, guide)
    (out - frames).square().mean().backward()
    assert model.decoder.conv_last.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="expects 2 channel"):
        model(frames, ff, fb)
