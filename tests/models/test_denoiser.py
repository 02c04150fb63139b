"""The learned spatial denoiser: any frame size, brightness-invariant and homogeneous (bias-free), the identity
when its last layer is zero, and its weights round-trip through safetensors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oldfilm.errors import WeightsError
from oldfilm.models.denoiser import Denoiser, DenoiserConfig
from oldfilm.models.weights import load_weights, save_weights

SMALL = DenoiserConfig(channels=8, depth=4)


def _net() -> Denoiser:
    torch.manual_seed(0)
    return Denoiser(SMALL).eval()


@pytest.mark.parametrize("size", [(17, 23), (32, 32)])
def test_keeps_the_frame_size(size: tuple[int, int]) -> None:
    x = torch.rand(2, 1, *size)
    assert _net()(x, torch.tensor([0.01, 0.02])).shape == x.shape


def test_brightness_shifts_the_output_alike_and_scaling_scales_it() -> None:
    """No additive constant anywhere: what it removes depends on the detail and the noise level only, and
    scales with them (so it cannot put a fixed texture where there is nothing to remove)."""
    net, x, s = _net(), torch.rand(1, 1, 24, 30), torch.tensor([0.03])
    with torch.no_grad():
        base = net(x, s)
        assert torch.allclose(net(x + 0.2, s), base + 0.2, atol=1e-5)
        assert torch.allclose(net(0.5 * x, 0.5 * s), 0.5 * base, atol=1e-5)
        assert not torch.allclose(base, x, atol=1e-3)  # an untrained, non-zero network does change the frame


def test_a_zero_last_layer_is_the_identity() -> None:
    net, x = _net(), torch.rand(1, 1, 20, 20)
    with torch.no_grad():
        net.body[-1].weight.zero_()
        assert torch.equal(net(x, torch.tensor([0.05])), x)


def test_weights_round_trip(tmp_path: Path) -> None:
    net = _net()
    path = save_weights(net, tmp_path / "d.safetensors")
    back = load_weights(path, Denoiser)
    assert back.cfg == SMALL
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(back(x, torch.tensor([0.02])), net(x, torch.tensor([0.02])))
    with pytest.raises(WeightsError, match="not 'rtn"):
        from oldfilm.models.rtn import RTN
        load_weights(path, RTN)


def test_detail_sigma_keeps_only_the_fine_part_of_the_change() -> None:
    torch.manual_seed(1)
    x, s = torch.rand(1, 1, 64, 64), torch.tensor([0.05])
    free = Denoiser(SMALL).eval()
    fine = Denoiser(DenoiserConfig(channels=8, depth=4, detail_sigma=2.0)).eval()
    fine.load_state_dict(free.state_dict())
    with torch.no_grad():
        coarse = [torch.nn.functional.avg_pool2d(net(x, s) - x, 16).abs().mean() for net in (free, fine)]
        assert not torch.equal(fine(x, s), free(x, s))
    assert coarse[1] < 0.1 * coarse[0]  # what is left of the change averages out over 16×16 blocks
