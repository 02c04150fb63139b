"""Learned refinement of propagated colour: a small recurrent network reads L, the propagated ab and its
confidence, and predicts a correction of ab — filling disocclusions, taming drift and pulling uncertain
colours towards what the luminance suggests.

Shape: an encoder at 1, 1/2 and 1/4 of the work resolution; at 1/4 the paper's ``GatedAggregation`` blends
the hidden state (warped from the previous frame by ``flow_warp``) with the current frame's features,
steered by the ``residual_indicator`` on L; residual blocks; a decoder with skips back to the work
resolution predicts Δab (its last layer starts at zero, so an untrained net is the identity).

Convention:
    L: (N, 1, h, w) L*/100; ab: (N, 2, h, w) a*, b* / 100 (``AB_SCALE``); conf: (N, 1, h, w) in [0, 1];
    flow: (N, 2, h, w) from the current frame to the previous one, in work-resolution pixels.
    h, w: any size (padded to a multiple of 4 inside).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from oldfilm.errors import WeightsError
from oldfilm.flow.warp import flow_warp, resize_flow
from oldfilm.models.blocks import GatedAggregation
from oldfilm.models.rtn import residual_indicator
from oldfilm.models.weights import load_weights, shipped_path, verify_shipped
from oldfilm.threads import torch_threads

AB_SCALE = 100.0
SHIPPED = shipped_path("colorize-refine")


@dataclass(frozen=True)
class RefineConfig:
    """Size of the refinement network.

    Attributes:
        width: channels at full work resolution (×1.5 at 1/2, ×2 at 1/4).
        blocks: residual blocks after the gated aggregation, at 1/4 resolution.
    """

    width: int = 16
    blocks: int = 3

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RefineConfig:
        """Build from a dict; unknown keys raise ``ValueError`` naming them."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown refinement config fields: {', '.join(unknown)}")
        return cls(**d)


class _ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.2))


def _act(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.2)


class RefineNet(nn.Module):
    """One recurrent step: (L, ab, conf, flow to previous, hidden, previous L) → (refined ab, hidden)."""

    FORMAT: ClassVar[str] = "colorize-refine-1"  # the tag of its weights files (``oldfilm.models.weights``)
    CONFIG: ClassVar[type[RefineConfig]] = RefineConfig

    def __init__(self, cfg: RefineConfig = RefineConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        c0, c1, c2 = cfg.width, cfg.width * 3 // 2, cfg.width * 2
        self.enc0 = nn.Conv2d(4, c0, 3, padding=1)
        self.enc1 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.enc2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.aggregation = GatedAggregation(c2, c2)
        self.body = nn.Sequential(*[_ResBlock(c2) for _ in range(cfg.blocks)])
        self.dec1 = nn.Conv2d(c2 + c1, c1, 3, padding=1)
        self.dec0 = nn.Conv2d(c1 + c0, c0, 3, padding=1)
        self.head = nn.Conv2d(c0, 2, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, L: Tensor, ab: Tensor, conf: Tensor, flow: Tensor | None = None,
                hidden: Tensor | None = None, prev_L: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Refine one frame. ``flow``/``hidden``/``prev_L`` are None at a scene start.

        Returns:
            ab: (N, 2, h, w) refined ab (same scale as the input), hidden: (N, 2·width, h4, w4) state.
        """
        h, w = L.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        x = F.pad(torch.cat([L, ab, conf], 1), (0, pw, 0, ph), mode="replicate")
        e0 = _act(self.enc0(x))
        e1 = _act(self.enc1(e0))
        e2 = _act(self.enc2(e1))
        q = e2.shape[-2:]
        L4 = F.interpolate(F.pad(L, (0, pw, 0, ph), mode="replicate"), size=q, mode="area")
        if hidden is None or flow is None or prev_L is None:
            agg = self.aggregation(None, e2, torch.zeros_like(L4))
        else:
            f4 = resize_flow(F.pad(flow, (0, pw, 0, ph), mode="replicate"), q)
            prev4 = F.interpolate(F.pad(prev_L, (0, pw, 0, ph), mode="replicate"), size=q, mode="area")
            agg = self.aggregation(flow_warp(hidden, f4), e2, residual_indicator(prev4, L4, f4))
        hid = self.body(agg)
        d1 = _act(self.dec1(torch.cat([F.interpolate(hid, size=e1.shape[-2:], mode="bilinear",
                                                     align_corners=False), e1], 1)))
        d0 = _act(self.dec0(torch.cat([F.interpolate(d1, size=e0.shape[-2:], mode="bilinear",
                                                     align_corners=False), e0], 1)))
        delta = self.head(d0)[..., :h, :w]
        return ab + delta, hid


def load_refiner(path: str | Path | None = None) -> RefineNet:
    """The refinement network from a .safetensors file (written by ``oldfilm.models.weights.save_weights``;
    default: the shipped one, checked against its SHA-256), in eval mode."""
    if path is None:
        if not SHIPPED.is_file():
            raise WeightsError("no colour-refinement weights are shipped; pass a .safetensors file (weights=...)")
        path = verify_shipped(SHIPPED)
    return load_weights(path, RefineNet)


class Refiner:
    """Streaming wrapper: feed work-resolution maps frame by frame (numpy), get refined ab back.

    Args:
        net: the network (see ``load_refiner``).
        threads: torch threads while a frame is refined (0: leave torch's setting); the caller's are back after.
    """

    def __init__(self, net: RefineNet, threads: int = 0) -> None:
        self.net = net.eval()
        self.threads = threads
        self._hidden: Tensor | None = None
        self._prev_L: Tensor | None = None

    def reset(self) -> None:
        """Forget the carried state (a scene cut)."""
        self._hidden, self._prev_L = None, None

    @torch.inference_mode()
    def __call__(self, L: np.ndarray, ab: np.ndarray, conf: np.ndarray, flow_prev: np.ndarray | None) -> np.ndarray:
        """(h, w) L*, (h, w, 2) ab, (h, w) confidence, (2, h, w) flow to the previous frame or None (scene
        start) → (h, w, 2) refined ab."""
        with torch_threads(self.threads):
            return self._refine(L, ab, conf, flow_prev)

    def _refine(self, L: np.ndarray, ab: np.ndarray, conf: np.ndarray, flow_prev: np.ndarray | None) -> np.ndarray:
        t_L = torch.from_numpy(np.ascontiguousarray(L, np.float32) / 100.0)[None, None]
        t_ab = torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1), np.float32) / AB_SCALE)[None]
        t_c = torch.from_numpy(np.ascontiguousarray(conf, np.float32))[None, None]
        if flow_prev is None:
            self.reset()
        flow = None if flow_prev is None else torch.from_numpy(np.ascontiguousarray(flow_prev, np.float32))[None]
        out, self._hidden = self.net(t_L, t_ab, t_c, flow, self._hidden, self._prev_L)
        self._prev_L = t_L
        return out[0].permute(1, 2, 0).numpy() * AB_SCALE
