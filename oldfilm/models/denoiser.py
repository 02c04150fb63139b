"""A small learned spatial denoiser for the classical restorer (issue 14, item 4): what is left of grain and
noise after the motion-compensated temporal average, removed by a network in place of non-local means.

FFDNet's layout (Zhang et al. 2018): the frame is pixel-unshuffled by 2 (four half-resolution sub-images, so
the network costs a quarter per pixel and sees twice as far), given a noise-level map as one more channel —
here the noise the classical restorer measured as left after its temporal average, the same number it sets
non-local means' filter strength from — and the network draws the noise, which is subtracted.

Bias-free, as Mohan et al. (ICLR 2020, "Robust and interpretable blind image denoising via bias-free CNNs")
found that removing every additive constant makes a denoiser generalise to noise levels and contrasts it
was not trained on: the network is then homogeneous (scaling the frame's detail and the noise map scales its
output), so it cannot add a fixed texture where there is nothing to remove. It sees the frame with its local
mean removed (a 9×9 box), so brightness alone never changes what it does.

Convention: luma (N, 1, H, W) float32 in [0, 1], any H and W (padded by reflection to even sizes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class DenoiserConfig:
    """Size of the denoiser.

    Attributes:
        channels: feature channels of every hidden layer (at half resolution).
        depth: 3×3 convolutions in all (receptive field 2·(2·depth + 1) pixels at full resolution).
        detail_sigma: when > 0, only the part of its change finer than a Gaussian of this sigma (pixels) is
            kept: the network then cannot move a region's brightness (on the benches, its coarser changes
            cost 0.1 dB of PSNR-t; session 10 of docs/model-card.md). Set at export; not trained with.
        name: a label kept in the weights file.
    """

    channels: int = 32
    depth: int = 8
    detail_sigma: float = 0.0
    name: str = "denoiser"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DenoiserConfig:
        """Build from a dict; unknown keys raise ``ValueError`` naming them."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown denoiser config keys: {unknown}")
        return cls(**d)


class Denoiser(nn.Module):
    """``forward(luma, sigma)`` → the denoised luma (same shape)."""

    FORMAT: ClassVar[str] = "denoiser-1"  # the tag of its weights files (``oldfilm.models.weights``)
    CONFIG: ClassVar[type[DenoiserConfig]] = DenoiserConfig

    def __init__(self, cfg: DenoiserConfig = DenoiserConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        layers: list[nn.Module] = [nn.Conv2d(5, c, 3, padding=1, bias=False), nn.ReLU(inplace=True)]
        for _ in range(cfg.depth - 2):
            layers += [nn.Conv2d(c, c, 3, padding=1, bias=False), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(c, 4, 3, padding=1, bias=False))
        self.body = nn.Sequential(*layers)

    def forward(self, luma: Tensor, sigma: Tensor) -> Tensor:
        """``luma`` (N, 1, H, W); ``sigma`` (N,) the noise level to remove, on luma's 0–1 scale."""
        h, w = luma.shape[-2:]
        x = F.pad(luma, (0, w % 2, 0, h % 2), mode="replicate")
        detail = x - F.avg_pool2d(F.pad(x, (4, 4, 4, 4), mode="replicate"), 9, stride=1)
        sub = F.pixel_unshuffle(detail, 2)
        noise_map = sigma.view(-1, 1, 1, 1).expand(-1, 1, *sub.shape[-2:])
        noise = F.pixel_shuffle(self.body(torch.cat([sub, noise_map], 1)), 2)
        if self.cfg.detail_sigma > 0:
            noise = noise - _gaussian(noise, self.cfg.detail_sigma)
        return (x - noise)[..., :h, :w]


def _gaussian(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (N, 1, H, W), edges replicated (3-sigma kernel)."""
    r = max(1, int(3 * sigma + 0.5))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
