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

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from oldfilm.errors import WeightsError
from oldfilm.flow.warp import flow_warp, resize_flow
from oldfilm.models.blocks import GatedAggregation
from oldfilm.models.rtn import residual_indicator
from oldfilm.threads import torch_threads

AB_SCALE = 100.0
CONFIG_KEY = "oldfilm.config"
FORMAT_KEY = "oldfilm.format"
FORMAT = "colorize-refine-1"
SHIPPED = Path(__file__).resolve().parent.parent / "weights" / "colorize-refine.safetensors"


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


def save_refiner(net: RefineNet, path: str | Path, extra_meta: dict[str, str] | None = None) -> Path:
    """Write the network to ``path`` (.safetensors) with its config in the metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    meta = {str(k): str(v) for k, v in (extra_meta or {}).items()}
    meta.update({CONFIG_KEY: json.dumps(net.cfg.to_dict()), FORMAT_KEY: FORMAT})
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)
    return path


def load_refiner(path: str | Path | None = None) -> RefineNet:
    """The refinement network from a safetensors file (default: the shipped one), in eval mode."""
    from safetensors import SafetensorError, safe_open

    path = Path(path) if path is not None else SHIPPED
    if not path.is_file():
        raise WeightsError(f"{path}: no colour-refinement weights there")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get(FORMAT_KEY) != FORMAT:
                raise WeightsError(f"{path}: not colour-refinement weights (format {meta.get(FORMAT_KEY)!r})")
            cfg = RefineConfig(**json.loads(meta[CONFIG_KEY]))
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise WeightsError(f"{path}: unreadable colour-refinement weights ({e.__class__.__name__})") from None
    net = RefineNet(cfg)
    try:
        net.load_state_dict(state)
    except RuntimeError:
        raise WeightsError(f"{path}: weights do not match the refinement network") from None
    return net.eval()


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
