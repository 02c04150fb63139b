"""Temporal PatchGAN discriminator (RTN's, after Free-Form Video Inpainting's T-PatchGAN) and hinge losses.

Convention: clips are (N, T, C, H, W) float in [0, 1]; the discriminator returns patch logits
(N, T, D, H/2^depth, W/2^depth), one per space-time patch.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.functional import relu
from torch.nn.utils.parametrizations import spectral_norm


class TemporalPatchGAN(nn.Module):
    """A stack of 3D convolutions (kernel 3×5×5, stride 1×2×2, spectral norm, LeakyReLU 0.2).

    Args:
        in_channels: channels of the frames (1 for luma).
        channels: width of the first layer; it doubles up to 4× (RTN: 64).
        depth: number of stride-2 layers (RTN: 6, the last without spectral norm or activation).

    Example:
        >>> import torch
        >>> d = TemporalPatchGAN(in_channels=1, channels=8, depth=3)
        >>> d(torch.rand(2, 3, 1, 64, 64)).shape
        torch.Size([2, 3, 32, 8, 8])
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, depth: int = 6) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"TemporalPatchGAN needs depth ≥ 2, got {depth}")
        layers: list[nn.Module] = []
        c_in = in_channels
        for i in range(depth):
            c_out = channels * min(2**i, 4)
            conv = nn.Conv3d(c_in, c_out, (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2), bias=i == depth - 1)
            if i < depth - 1:
                layers += [spectral_norm(conv), nn.LeakyReLU(0.2, inplace=True)]
            else:
                layers.append(conv)
            c_in = c_out
        self.conv = nn.Sequential(*layers)

    def forward(self, clips: Tensor) -> Tensor:
        if clips.dim() != 5:
            raise ValueError(f"TemporalPatchGAN expects (N, T, C, H, W), got {tuple(clips.shape)}")
        return self.conv(clips.transpose(1, 2)).transpose(1, 2)


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Discriminator hinge loss: mean(relu(1 − D(real))) + mean(relu(1 + D(fake)))."""
    return relu(1.0 - real_logits).mean() + relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """Generator hinge loss: −mean(D(fake))."""
    return -fake_logits.mean()
