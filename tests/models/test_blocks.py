from __future__ import annotations

import pytest
import torch

from oldfilm.models.blocks import (
    GatedAggregation,
    ResidualSwinGroup,
    SwinBlock,
    SwinRestoration,
    WindowAttention,
    edge_masks,
    shift_mask,
    window_partition,
    window_reverse,
)


def test_gated_aggregation_is_the_papers_formula() -> None:
    torch.manual_seed(0)
    agg = GatedAggregation(frame_channels=1, channels=8)
    hidden, frame, residual = torch.randn(2, 8, 16, 16), torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    latent = agg.project(frame)
    x = torch.sigmoid(agg.gate_conv2(torch.nn.functional.leaky_relu(
        agg.gate_conv1(torch.cat([hidden, latent, residual], 1)), 0.2)))
    torch.testing.assert_close(agg.gate(hidden, frame, residual), x)
    torch.testing.assert_close(agg(hidden, frame, residual), x * hidden + (1 - x) * latent)
    assert x.shape == (2, 1, 16, 16) and 0 < x.min() and x.max() < 1


def test_gated_aggregation_hand_made_gates() -> None:
    """A gate forced to 1 keeps the hidden state, forced to 0 takes the frame; no hidden → latent."""
    agg = GatedAggregation(frame_channels=1, channels=2)
    with torch.no_grad():
        agg.project.weight.zero_()
        agg.project.weight[:, 0, 1, 1] = torch.tensor([2.0, -1.0])  # latent = (2·frame, −frame)
        agg.project.bias.zero_()
        agg.gate_conv2.weight.zero_()
    hidden = torch.full((1, 2, 4, 4), 5.0)
    frame = torch.full((1, 1, 4, 4), 0.5)
    residual = torch.zeros(1, 1, 4, 4)
    latent = torch.cat([torch.full((1, 1, 4, 4), 1.0), torch.full((1, 1, 4, 4), -0.5)], 1)
    with torch.no_grad():
        agg.gate_conv2.bias.fill_(40.0)
    torch.testing.assert_close(agg(hidden, frame, residual), hidden)
    with torch.no_grad():
        agg.gate_conv2.bias.fill_(-40.0)
    torch.testing.assert_close(agg(hidden, frame, residual), latent)
    with torch.no_grad():
        agg.gate_conv2.bias.fill_(0.0)  # x = ½
    torch.testing.assert_close(agg(hidden, frame, residual), (hidden + latent) / 2)
    torch.testing.assert_close(agg(None, frame, residual), latent)


def test_gated_aggregation_rejects_odd_channels() -> None:
    with pytest.raises(ValueError, match="even"):
        GatedAggregation(1, 7)


def test_window_partition_round_trip_and_mask() -> None:
    x = torch.randn(2, 8, 12, 3)
    win = window_partition(x, 4)
    assert win.shape == (2 * 2 * 3, 16, 3)
    torch.testing.assert_close(window_reverse(win, 4, 2, 8, 12), x)
    mask = shift_mask(8, 12, 4, 2, torch.device("cpu"))
    assert mask.shape == (6, 16, 16)
    assert (mask[0] == 0).all()  # the top-left window is not wrapped
    assert (mask[-1] < 0).any() and (mask.diagonal(dim1=1, dim2=2) == 0).all()


def _reference_swin_block(block: SwinBlock, x: torch.Tensor) -> torch.Tensor:
    """Textbook Swin: roll, partition, attention + relative bias + the full shift mask, reverse, roll back."""
    n, h, w, c = x.shape
    ws, s, heads = block.window, block.shift, block.attn.heads
    y = torch.roll(block.norm1(x), (-s, -s), (1, 2))
    win = window_partition(y, ws)
    q, k, v = block.attn.qkv(win).view(win.shape[0], ws * ws, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) * (c // heads) ** -0.5 + block.attn.relative_position_bias()
    mask = shift_mask(h, w, ws, s, x.device).repeat(n, 1, 1).unsqueeze(1)
    out = ((logits + mask).softmax(-1) @ v).transpose(1, 2).reshape(win.shape[0], ws * ws, c)
    y = torch.roll(window_reverse(block.attn.proj(out), ws, n, h, w), (s, s), (1, 2))
    x = x + y
    return x + block.mlp(block.norm2(x))


def test_shifted_block_matches_the_textbook_full_mask() -> None:
    torch.manual_seed(0)
    block = SwinBlock(dim=8, heads=2, window=4, shift=2, mlp_ratio=2.0)
    with torch.no_grad():
        block.attn.relative_position_bias_table.normal_()
    x = torch.randn(2, 12, 16, 8)
    torch.testing.assert_close(block(x), _reference_swin_block(block, x), atol=1e-5, rtol=1e-4)
    full = shift_mask(12, 16, 4, 2, torch.device("cpu")).view(3, 4, 16, 16)
    rows, cols = edge_masks(12, 16, 4, 2, torch.device("cpu"))
    assert (full[:-1, :-1] == 0).all()
    assert torch.equal(full[-1], rows) and torch.equal(full[:-1, -1], cols)


def test_window_attention_bias_and_gradients() -> None:
    torch.manual_seed(0)
    attn = WindowAttention(dim=4, window=2, heads=2).double()
    assert attn.relative_position_bias().shape == (2, 4, 4)
    x = torch.randn(3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: attn(t), (x,))
    with pytest.raises(ValueError, match="divisible"):
        WindowAttention(dim=5, window=2, heads=2)


def test_swin_block_shapes_and_shift_gradients() -> None:
    torch.manual_seed(0)
    block = SwinBlock(dim=4, heads=2, window=2, shift=1, mlp_ratio=2.0).double()
    x = torch.randn(1, 4, 4, 4, dtype=torch.float64, requires_grad=True)
    assert block(x).shape == x.shape
    assert torch.autograd.gradcheck(block, (x,))
    with pytest.raises(ValueError, match="multiple of the window"):
        block(torch.randn(1, 5, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="shift"):
        SwinBlock(4, 2, window=2, shift=2, mlp_ratio=2.0)


def test_residual_group_and_restoration_shapes() -> None:
    x = torch.randn(2, 8, 16, 16)
    assert ResidualSwinGroup(8, depth=2, heads=2, window=4, shift=2, mlp_ratio=2.0)(x).shape == x.shape
    for embed, down in ((8, 1), (16, 1), (16, 2)):
        net = SwinRestoration(8, embed, groups=2, depth=2, heads=2, window=4, shift=2, mlp_ratio=2.0,
                              down=down)
        assert net(x).shape == x.shape
    with pytest.raises(ValueError, match="down"):
        SwinRestoration(8, 8, 1, 2, 2, 4, 2, 2.0, down=4)


def test_channels_last_gives_the_same_result() -> None:
    torch.manual_seed(0)
    net = SwinRestoration(8, 16, groups=1, depth=2, heads=2, window=4, shift=2, mlp_ratio=2.0, down=2).eval()
    x = torch.randn(1, 8, 16, 16)
    with torch.inference_mode():
        ref = net(x)
        out = net.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)
