"""Training losses: Charbonnier reconstruction, temporal consistency, VGG19 perceptual (only with weights
the user supplies: none can be downloaded here) and the hinge GAN terms of the temporal PatchGAN.

Convention: clips (N, T, C, H, W) float in [0, 1]; flows_fwd (N, T-1, 2, H, W) with [:, t] mapping frame
t+1 to frame t (``oldfilm.train.data``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from oldfilm.errors import WeightsError
from oldfilm.flow.warp import flow_warp, resize_flow


def charbonnier(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """mean(sqrt((pred − target)² + eps²)); L1 when eps = 0."""
    if eps == 0:
        return (pred - target).abs().mean()
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


def clip_gain_db(pred: Tensor, guide: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """Per clip, 10·log10(MSE(guide, target) / MSE(pred, target)): the PSNR gain of ``pred`` over the guide.
    Tensors (N, T, C, H, W) → (N,)."""
    mse = lambda a: ((a - target) ** 2).flatten(1).mean(dim=1) + eps  # noqa: E731
    return 10.0 * torch.log10(mse(guide) / mse(pred))


def match_means(pred: Tensor, target: Tensor) -> Tensor:
    """``pred`` (N, T, C, H, W) shifted so each frame's mean equals ``target``'s: a loss on the result is blind
    to exposure, which a clip cannot tell (``LossConfig.tone_invariant``)."""
    return pred - (pred - target).mean(dim=(-3, -2, -1), keepdim=True)


def match_clip_affine(pred: Tensor, target: Tensor, eps: float = 1e-6) -> Tensor:
    """``pred`` (N, T, C, H, W) mapped by the one gain and offset per clip (least squares) that best fit
    ``target``: a loss on the result is blind to the clip's exposure and global contrast, not to anything
    else (``LossConfig.clip_affine``; the benchmark's PSNR-t aligns the same way). Gradients flow through the
    fit, so the network gains nothing by changing either."""
    p, t = pred.flatten(1), target.flatten(1)
    pm, tm = p.mean(1, keepdim=True), t.mean(1, keepdim=True)
    gain = ((p - pm) * (t - tm)).mean(1, keepdim=True) / (((p - pm) ** 2).mean(1, keepdim=True) + eps)
    return ((p - pm) * gain + tm).view_as(pred)


def ssim(pred: Tensor, target: Tensor, sigma: float = 1.5, data_range: float = 1.0) -> Tensor:
    """Mean SSIM of (N, T, C, H, W) clips, frame by frame and channel by channel, with the usual 11-tap
    Gaussian window (σ 1.5), K1 0.01, K2 0.03, over the valid region (what ``skimage.metrics.
    structural_similarity(gaussian_weights=True, use_sample_covariance=False)`` computes). Written here: it
    must be differentiable and run on the training device; no differentiable SSIM is among our dependencies
    and this is a dozen lines. Returns a scalar."""
    radius = int(3.5 * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=pred.dtype, device=pred.device)
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    g = g / g.sum()
    p = pred.reshape(-1, 1, *pred.shape[-2:])
    t = target.reshape(-1, 1, *target.shape[-2:]).to(pred.dtype)

    def blur(a: Tensor) -> Tensor:  # separable valid convolution
        return F.conv2d(F.conv2d(a, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))

    mp, mt = blur(p), blur(t)
    vp, vt, cov = blur(p * p) - mp * mp, blur(t * t) - mt * mt, blur(p * t) - mp * mt
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mp * mt + c1) * (2 * cov + c2)) / ((mp * mp + mt * mt + c1) * (vp + vt + c2))
    return s.mean()


def temporal_consistency(pred: Tensor, target: Tensor, flows_fwd: Tensor, eps: float = 1e-3) -> Tensor:
    """Charbonnier distance between the output's and the target's frame-to-frame change, both measured
    after warping frame t onto frame t+1 by the same flow (so flow errors largely cancel; what is left is
    flicker and crawling the output adds or fails to remove).

    pred, target: (N, T, C, H, W); flows_fwd: (N, T−1, 2, h, w) (resized to H×W). Returns a scalar."""
    n, t, c, h, w = pred.shape
    if t < 2:
        return pred.new_zeros(())
    flows = flows_fwd.reshape(-1, 2, *flows_fwd.shape[-2:]).to(pred.dtype)
    flows = resize_flow(flows, (h, w))
    prev_p = flow_warp(pred[:, :-1].reshape(-1, c, h, w), flows)
    prev_t = flow_warp(target[:, :-1].reshape(-1, c, h, w), flows)
    change_p = pred[:, 1:].reshape(-1, c, h, w) - prev_p
    change_t = target[:, 1:].reshape(-1, c, h, w) - prev_t
    return charbonnier(change_p, change_t, eps)


_VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
_VGG_LAYERS = {3: 0.1, 8: 0.1, 17: 1.0, 26: 1.0, 35: 1.0}
"""Indices (in torchvision's ``vgg19().features``) of relu1_2, relu2_2, relu3_4, relu4_4, relu5_4 and their
weights (BasicSR's perceptual loss)."""


class VGG19Features(nn.Module):
    """torchvision's VGG19 ``features`` layout (same parameter names), frozen; returns the activations at
    ``_VGG_LAYERS``. Input (N, 1 or 3, H, W) in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in _VGG19:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU(inplace=False)]
                c = int(v)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _VGG_LAYERS:
                out.append(x)
            if i >= max(_VGG_LAYERS):
                break
        return out


def load_vgg19(path: str | Path) -> VGG19Features:
    """A ``VGG19Features`` with weights from a user-supplied safetensors file (keys ``features.N.weight``/
    ``.bias``, as torchvision's ``vgg19`` state dict; other keys are ignored)."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file() or path.suffix != ".safetensors":
        raise WeightsError(f"VGG19 weights must be a .safetensors file; {str(path)!r} is not one")
    state = {k: v for k, v in load_file(str(path)).items() if k.startswith("features.")}
    net = VGG19Features()
    own = {k for k in net.state_dict() if k.startswith("features.")}
    if set(state) != own:
        raise WeightsError(f"{path.name} is not a VGG19 (expected torchvision's features.N.weight/bias keys)")
    net.load_state_dict(state, strict=False)
    return net.eval()


def perceptual(vgg: VGG19Features, pred: Tensor, target: Tensor) -> Tensor:
    """Weighted L1 between VGG19 activations of the frames of ``pred`` and ``target`` (N, T, C, H, W)."""
    p = vgg(pred.flatten(0, 1))
    with torch.no_grad():
        t = vgg(target.flatten(0, 1))
    weights = list(_VGG_LAYERS.values())
    return sum(w * F.l1_loss(a, b) for w, a, b in zip(weights, p, t, strict=True))  # type: ignore[return-value]
