"""Warping by flow — ``flow_warp`` (torch, for networks) and ``warp_image`` (numpy, for classical code) are
the same operation: sample the other frame at (x + dx, y + dy), bilinear, border padding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # torch is imported on first use: the classical path never needs it
    import torch


def flow_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``x`` where ``flow`` points (bilinear, border padding, align_corners=True).

    Convention:
        x: (N, C, H, W) — the *other* frame or its features.
        flow: (N, 2, H, W) pixels (dx, dy), current pixel → position in ``x``.
        returns (N, C, H, W): ``x`` aligned to the current frame.

    Example:
        >>> import torch
        >>> x = torch.arange(16.).view(1, 1, 4, 4)
        >>> torch.equal(flow_warp(x, torch.zeros(1, 2, 4, 4)), x)
        True
    """
    import torch
    import torch.nn.functional as F

    if x.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow_warp expects x (N,C,H,W) and flow (N,2,H,W), got {tuple(x.shape)}, {tuple(flow.shape)}")
    if x.shape[0] != flow.shape[0] or x.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"flow_warp: x {tuple(x.shape)} and flow {tuple(flow.shape)} differ in batch or size")
    n, _, h, w = x.shape
    ys = torch.arange(h, device=x.device, dtype=flow.dtype)
    xs = torch.arange(w, device=x.device, dtype=flow.dtype)
    gx = xs.view(1, 1, w) + flow[:, 0]
    gy = ys.view(1, h, 1) + flow[:, 1]
    # normalise to [-1, 1] (align_corners=True: -1 and 1 are the centres of the corner pixels)
    gx = 2.0 * gx / max(w - 1, 1) - 1.0
    gy = 2.0 * gy / max(h - 1, 1) - 1.0
    grid = torch.stack((gx, gy), dim=-1)
    if x.dtype in (torch.bfloat16, torch.float16):
        # under CUDA autocast the features are bf16; a bf16 grid has 8 bits of mantissa, which puts a sample
        # up to 1.25 px off on a 640-px-wide frame: sample in fp32 and hand back the features' type
        return F.grid_sample(x.float(), grid.float(), mode="bilinear", padding_mode="border",
                             align_corners=True).to(x.dtype)
    grid = grid.to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def resize_flow(
    flow: torch.Tensor, size: tuple[int, int], box: tuple[float, float, float, float] | None = None
) -> torch.Tensor:
    """Resample a flow field to ``size`` and rescale its vectors to the new pixel units (bilinear, border).

    Convention:
        flow: (N, 2, h0, w0) pixels (dx, dy) at its own resolution.
        size: (h, w) of the result.
        box: (y0, x0, y1, x1) region of ``flow`` to resample, in its pixel-edge coordinates (floats; a
            tile of a larger frame); None is the whole field.
        returns (N, 2, h, w) in pixels of the result.

    Example:
        >>> import torch
        >>> resize_flow(torch.ones(1, 2, 4, 4), (8, 8)).mean().item()
        2.0
    """
    import torch
    import torch.nn.functional as F

    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"resize_flow expects flow (N,2,H,W), got {tuple(flow.shape)}")
    n, _, h0, w0 = flow.shape
    h, w = size
    y0, x0, y1, x1 = box if box is not None else (0.0, 0.0, float(h0), float(w0))
    if box is None and (h, w) == (h0, w0):
        return flow
    sx, sy = w / (x1 - x0), h / (y1 - y0)
    if box is None:
        out = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    else:  # sample at the centres of the output pixels, mapped into the box (align_corners=False units)
        xs = x0 + (torch.arange(w, device=flow.device, dtype=flow.dtype) + 0.5) / sx
        ys = y0 + (torch.arange(h, device=flow.device, dtype=flow.dtype) + 0.5) / sy
        gx = (2.0 * xs / w0 - 1.0).view(1, 1, w).expand(n, h, w)
        gy = (2.0 * ys / h0 - 1.0).view(1, h, 1).expand(n, h, w)
        grid = torch.stack((gx, gy), dim=-1)
        out = F.grid_sample(flow, grid, mode="bilinear", padding_mode="border", align_corners=False)
    scale = torch.tensor([sx, sy], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
    return out * scale


def warp_image(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """numpy twin of ``flow_warp``: (H, W[, C]) image sampled at (x+dx, y+dy); flow is (2, H, W)."""
    h, w = img.shape[:2]
    if flow.shape != (2, h, w):
        raise ValueError(f"warp_image: flow {flow.shape} does not match image {img.shape[:2]}")
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = gx + flow[0]
    map_y = gy + flow[1]
    out = cv2.remap(img, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(img.shape)


def consistency_mask(flow_fw: np.ndarray, flow_bw: np.ndarray, alpha: float = 0.01, beta: float = 0.5) -> np.ndarray:
    """Forward-backward consistency (Sundaram et al. 2010, as in Lai et al. 2018): (H, W) bool, True where
    visible. ``flow_fw`` maps current→other, ``flow_bw`` maps other→current."""
    bw_at_fw = warp_image(np.ascontiguousarray(flow_bw.transpose(1, 2, 0)), flow_fw).transpose(2, 0, 1)
    diff = ((flow_fw + bw_at_fw) ** 2).sum(0)
    mag = (flow_fw**2).sum(0) + (bw_at_fw**2).sum(0)
    return diff <= alpha * mag + beta
