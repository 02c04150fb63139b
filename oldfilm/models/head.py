"""The full-resolution head of a guided network (``RTNConfig.head_channels > 0``): where the classical guide's
remaining error lives (residual grain, small dust, thin scratches, smoothed detail), at the pixel.

It sees the recurrent features (pixel-shuffled to full resolution) beside the evidence a denoiser needs to do
the right amount, all computed here from what the network is given so that the engine and the trainer
cannot prepare it differently:

- the degraded luma and the guide, and their difference (what the classical stages removed);
- a local noise-level map: the RMS of that difference over a 5×5 window (FFDNet's noise map, estimated
  per pixel from the classical restorer's own decision instead of given by the user);
- the two neighbouring degraded frames, warped onto the current one by the flows, minus the guide: the
  independent looks at the same scene that temporal denoising averages (zero where no neighbour exists);
- the dirt evidence: how far the frame lies outside both aligned neighbours (a RemoveDirt-style outlier
  score, large on dust and blotches, small on grain).

It draws a residual r and a gate g and returns ``guide + sigmoid(g) · r`` with the frame's mean of that gated
residual removed (with ``highpass``, its local mean instead: only detail finer than that reaches the
output): the head restores defects and detail and never moves a frame's exposure, which no network
can know from a clip (a first run without that darkened a night street by 2.5–5 levels, varying from frame to
frame: flicker that cost 1.2 dB PSNR-t). The last layer starts at zero and the gate starts mostly closed, so
an untrained head returns the guide exactly and "leave it as the guide has it" is the easy answer.

Convention: every tensor (N, C, H, W) float32 at full resolution; luma is channel 0 of a frame, the guide
its last ``out_channels`` channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EVIDENCE_CHANNELS = 7
"""Channels of ``evidence``: degraded, guide, degraded − guide, noise map, two warped neighbours − guide,
dirt score."""

GATE_BIAS = -2.0
"""Initial gate logit: sigmoid(−2) ≈ 0.12 of a residual passes until training opens the gate."""


def evidence(frame: Tensor, prev: Tensor | None, nxt: Tensor | None) -> Tensor:
    """The head's evidence channels for one frame (see the module docstring).

    Args:
        frame: (N, 2, H, W) degraded luma and guide.
        prev, nxt: (N, 1, H, W) the previous / next degraded luma warped onto this frame, or None.

    Returns:
        (N, ``EVIDENCE_CHANNELS``, H, W).
    """
    lq, guide = frame[:, :1], frame[:, -1:]
    diff = lq - guide
    noise = F.avg_pool2d(diff * diff, 5, stride=1, padding=2, count_include_pad=False).clamp_min(1e-8).sqrt()
    zero = torch.zeros_like(lq)
    dp = zero if prev is None else prev - guide
    dn = zero if nxt is None else nxt - guide
    if prev is None or nxt is None:
        dirt = zero
    else:  # how far outside [min, max] of the aligned neighbours the frame lies
        lo, hi = torch.minimum(prev, nxt), torch.maximum(prev, nxt)
        dirt = F.relu(lq - hi) + F.relu(lo - lq)
    return torch.cat([lq, guide, diff, noise, dp, dn, dirt], dim=1)


class QualityHead(nn.Module):
    """Full-resolution convolutions on [shuffled features, evidence] → gated residual on the guide.

    Args:
        feature_channels: channels of the pixel-shuffled recurrent features.
        channels: width of the head.
        layers: 3×3 conv layers before the output layer (≥ 1).
        out_channels: channels restored (1: luma).
        highpass: box side (pixels) of the local mean removed from the residual (twice: ≈ a Gaussian of
            sigma ≈ 0.4·side); 0: only the frame mean is removed.
    """

    def __init__(self, feature_channels: int, channels: int, layers: int, out_channels: int = 1,
                 highpass: int = 0) -> None:
        super().__init__()
        if highpass < 0 or (highpass and highpass % 2 == 0):
            raise ValueError(f"head highpass must be 0 or an odd box side, got {highpass}")
        self.out_channels, self.highpass = out_channels, highpass
        widths = [feature_channels + EVIDENCE_CHANNELS] + [channels] * layers
        self.body = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths[:-1], widths[1:],
                                                                                   strict=True))
        self.last = nn.Conv2d(channels, 2 * out_channels, 3, padding=1)  # residual, gate logit
        nn.init.zeros_(self.last.weight)
        nn.init.zeros_(self.last.bias)
        with torch.no_grad():
            self.last.bias[out_channels:] = GATE_BIAS

    def forward(self, features: Tensor, ev: Tensor) -> Tensor:
        """features (N, F, H, W), ev (N, EVIDENCE_CHANNELS, H, W) → (N, out_channels, H, W) restored."""
        x = torch.cat([features, ev], dim=1)
        for conv in self.body:
            x = F.leaky_relu(conv(x), 0.1)
        r, g = self.last(x).split(self.out_channels, dim=1)
        residual = torch.sigmoid(g) * r
        if self.highpass:  # its local mean is zero, and so is the frame's (but for the edges: no offset is
            return ev[:, 1:2] + residual - local_mean(residual, self.highpass)  # spread over the whole frame)
        return ev[:, 1:2] + residual - residual.mean(dim=(2, 3), keepdim=True)


def local_mean(x: Tensor, side: int) -> Tensor:
    """A box filter of odd ``side`` applied twice (edges replicated): a cheap near-Gaussian blur of
    (N, C, H, W) ``x`` that keeps its shape."""
    p = side // 2
    for _ in range(2):
        x = F.avg_pool2d(F.pad(x, (p, p, p, p), mode="replicate"), side, stride=1)
    return x
