"""RTN: the bidirectional recurrent transformer network of "Bringing Old Films Back to Life" (Wan et al.,
CVPR 2022), in BasicVSR's shape: flows come in once, a backward pass runs from the last frame to the first,
then a forward pass; each step warps the hidden state by ``flow_warp``, computes the ``residual_indicator``,
blends by ``GatedAggregation`` and restores by Swin groups; the two directions are fused and decoded to a
residual added to the input.

Convention:
    frames: (N, T, C, H, W) float32 in [0, 1], C = ``cfg.input_channels`` (1 = luma; 2 = luma and its
        classical restoration for a ``guided`` network); H, W multiples of ``cfg.multiple`` (the engine pads).
        Output: (N, T, ``cfg.in_channels``, H, W).
    flows_fwd[:, t]: flow from frame t+1 to frame t; flows_bwd[:, t]: flow from frame t to frame t+1; both
        (N, T−1, 2, h, w) in pixels at any resolution (resampled to the feature resolution here).
    cuts: T booleans, True where a frame starts a new scene (both passes reset there).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from oldfilm.flow.warp import flow_warp, resize_flow
from oldfilm.models.blocks import GatedAggregation, SwinRestoration
from oldfilm.models.head import QualityHead, evidence
from oldfilm.models.presets import RTNConfig


@dataclass
class PassState:
    """What the forward pass carries from one chunk of a stream into the next.

    Attributes:
        hidden: (N, C, h, w) hidden state after the last frame.
        luma: (N, 1, h, w) the last frame's luma at feature resolution (for the residual indicator).
        frame: (N, 1, H, W) the last frame's degraded luma at full resolution (the next frame's previous
            neighbour in a network with a full-resolution head), or None.
    """

    hidden: Tensor
    luma: Tensor
    frame: Tensor | None = None


class Branch(nn.Module):
    """One propagation direction: gated aggregation followed by Swin restoration (the paper's
    ``Forward_Aggregation`` + ``forward_resblocks``, or the backward pair). Both directions are instances."""

    def __init__(self, cfg: RTNConfig) -> None:
        super().__init__()
        self.aggregation = GatedAggregation(cfg.input_channels * cfg.scale**2, cfg.hidden)
        self.restoration = SwinRestoration(
            cfg.hidden, cfg.embed, cfg.groups, cfg.depth, cfg.heads, cfg.window, cfg.shift, cfg.mlp_ratio,
            down=cfg.down,
        )

    def forward(self, hidden: Tensor | None, frame: Tensor, residual: Tensor) -> Tensor:
        return self.restoration(self.aggregation(hidden, frame, residual))


def residual_indicator(prev_luma: Tensor, luma: Tensor, flow: Tensor) -> Tensor:
    """|previous frame warped to the current one − current frame| on luma: the paper's hint of where the
    frames disagree (defects, occlusions). prev_luma, luma: (N, 1, h, w); flow: (N, 2, h, w) current →
    previous; returns (N, 1, h, w)."""
    return (flow_warp(prev_luma, flow) - luma).abs()


def propagate(
    branch: Branch,
    frames: Sequence[Tensor],
    residuals: Sequence[Tensor],
    flows: Sequence[Tensor],
    starts: Sequence[bool],
    hidden: Tensor | None = None,
) -> Iterator[Tensor]:
    """One recurrent pass, in pass order (the backward pass hands its sequences in reversed).

    Args:
        branch: the direction's modules.
        frames: T tensors (N, F, h, w), the frames at feature resolution.
        residuals: T tensors (N, 1, h, w), ``residual_indicator`` of each step against the step before.
        flows: T tensors (N, 2, h, w), flow from step k to step k−1 (for k = 0: to ``hidden``'s frame).
        starts: T booleans; True where a step has no predecessor (first frame of a pass, or a scene cut).
        hidden: (N, C, h, w) state from before step 0, or None.

    Yields:
        (N, C, h, w) hidden state after each step.
    """
    for frame, residual, flow, start in zip(frames, residuals, flows, starts, strict=True):
        warped = None if start or hidden is None else flow_warp(hidden, flow)
        hidden = branch(warped, frame, residual)
        yield hidden


class Decoder(nn.Module):
    """Fuse the two directions and decode to a full-resolution residual added to the input frame (to the
    guide, for a ``guided`` network). (N, C, h, w) × 2 + input (N, Cin, H, W) → (N, in_channels, H, W).

    At scale 1 this is RTN's tail (fuse, ``tail`` convs, a last conv). At scale s > 1 the features are
    pixel-shuffled to ``shuffle_channels`` at full resolution and two small full-resolution convs, which
    also see the input frame, draw the residual (fine detail such as thin scratches lives there).
    """

    def __init__(self, cfg: RTNConfig) -> None:
        super().__init__()
        c, s, k = cfg.hidden, cfg.scale, cfg.shuffle_channels
        self.scale, self.out_channels = s, cfg.in_channels
        self.fuse = nn.Conv2d(2 * c, c, 3, padding=1)  # RTN: concate
        self.tail = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1) for _ in range(cfg.tail))
        self.conv_up: nn.Module | None = None
        self.conv_full: nn.Module | None = None
        self.head: QualityHead | None = None
        if cfg.head_channels:
            self.conv_up = nn.Conv2d(c, k * s * s, 3, padding=1)
            self.head = QualityHead(k, cfg.head_channels, cfg.head_layers, cfg.in_channels, cfg.head_highpass)
        elif s > 1 and k:
            self.conv_up = nn.Conv2d(c, k * s * s, 3, padding=1)
            self.conv_full = nn.Conv2d(k + cfg.input_channels, 2 * k, 3, padding=1)
            self.conv_last = nn.Conv2d(2 * k, cfg.in_channels, 3, padding=1)
        else:
            self.conv_last = nn.Conv2d(c, cfg.in_channels * s * s, 3, padding=1)
        if cfg.guided and self.head is None:  # start as the identity on the guide (the head does its own)
            nn.init.zeros_(self.conv_last.weight)
            nn.init.zeros_(self.conv_last.bias)

    def forward(self, backward: Tensor, forward: Tensor, frame: Tensor, ev: Tensor | None = None) -> Tensor:
        """``ev``: the head's evidence (``oldfilm.models.head.evidence``), needed when there is a head."""
        x = F.leaky_relu(self.fuse(torch.cat([backward, forward], dim=1)), 0.1)
        for conv in self.tail:
            x = F.leaky_relu(conv(x), 0.1)
        base = frame[:, -self.out_channels:]  # the frame, or the guide after it
        if self.head is not None:
            if ev is None:
                raise ValueError("RTN: a network with a full-resolution head needs its evidence")
            x = F.leaky_relu(F.pixel_shuffle(self.conv_up(x), self.scale), 0.1)
            return self.head(x, ev)
        if self.conv_up is None:
            return base + F.pixel_shuffle(self.conv_last(x), self.scale)
        x = F.leaky_relu(F.pixel_shuffle(self.conv_up(x), self.scale), 0.1)
        x = F.leaky_relu(self.conv_full(torch.cat([x, frame], dim=1)), 0.1)
        return base + self.conv_last(x)


class RTN(nn.Module):
    """The network. ``forward`` restores a whole clip; ``forward_chunk`` is one step of a stream (the
    engine's constant-memory path); both share ``propagate``. Output is not clamped."""

    FORMAT: ClassVar[str] = "rtn-1"  # the tag of its weights files (``oldfilm.models.weights``)
    CONFIG: ClassVar[type[RTNConfig]] = RTNConfig

    def __init__(self, cfg: RTNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backward_branch = Branch(cfg)
        self.forward_branch = Branch(cfg)
        self.decoder = Decoder(cfg)

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this."""
        return self.cfg.multiple

    def forward(
        self, frames: Tensor, flows_fwd: Tensor, flows_bwd: Tensor, cuts: Sequence[bool] | None = None
    ) -> Tensor:
        """Restore a whole clip: (N, T, C, H, W) → (N, T, C, H, W) (see the module docstring)."""
        n, t = frames.shape[:2]
        if flows_fwd.dim() != 5 or flows_fwd.shape[:3] != (n, t - 1, 2):
            raise ValueError(f"RTN: flows_fwd must be (N, T-1, 2, h, w) = ({n}, {t - 1}, 2, …), "
                             f"got {tuple(flows_fwd.shape)}")
        # forward_chunk wants flows_fwd[:, t] = frame t → t−1; frame 0 has no predecessor: any flow will do
        flows_fwd = torch.cat([flows_fwd[:, :1], flows_fwd], dim=1) if t > 1 else flows_fwd.new_zeros(
            n, 1, 2, *flows_fwd.shape[-2:])
        out, _ = self.forward_chunk(frames, flows_fwd, flows_bwd, cuts, keep=t, state=None)
        return out

    def forward_chunk(
        self,
        frames: Tensor,
        flows_fwd: Tensor,
        flows_bwd: Tensor,
        cuts: Sequence[bool] | None,
        keep: int,
        state: PassState | None,
    ) -> tuple[Tensor, PassState]:
        """Restore the first ``keep`` frames of a window; the rest are look-ahead for the backward pass.

        Args:
            frames: (N, T, C, H, W), T ≥ keep.
            flows_fwd: (N, keep, 2, h, w); [:, t] maps frame t to frame t−1, [:, 0] maps frame 0 to the
                frame ``state`` ended on (ignored without a state or when frame 0 starts a scene).
            flows_bwd: (N, T−1, 2, h, w); [:, t] maps frame t to frame t+1.
            cuts: T booleans (True: the frame starts a new scene), or None.
            keep: how many frames to restore.
            state: the forward state the previous chunk returned, or None at the start of a stream.

        Returns:
            (N, keep, C, H, W) restored frames, and the forward state after frame keep−1.
        """
        n, t, c, h, w = self._check(frames, flows_fwd, flows_bwd, keep)
        cuts = [False] * t if cuts is None else [bool(x) for x in cuts]
        if len(cuts) != t:
            raise ValueError(f"RTN: {len(cuts)} cut flags for {t} frames")
        s = self.cfg.scale
        size = (h // s, w // s)
        flat = frames.reshape(n * t, c, h, w)
        feat = F.pixel_unshuffle(flat, s).view(n, t, c * s * s, *size)
        luma = (F.avg_pool2d(flat[:, :1], s) if s > 1 else flat[:, :1]).view(n, t, 1, *size)
        ff = resize_flow(flows_fwd.reshape(-1, 2, *flows_fwd.shape[-2:]), size).view(n, keep, 2, *size)
        zero = luma.new_zeros(n, 1, *size)
        fb, res_b = [], [zero]
        if t > 1:
            fb = resize_flow(flows_bwd.reshape(-1, 2, *flows_bwd.shape[-2:]), size).view(n, t - 1, 2, *size)
            res_b = list(residual_indicator(luma[:, 1:].flatten(0, 1), luma[:, :-1].flatten(0, 1),
                                            fb.flatten(0, 1)).view(n, t - 1, 1, *size).unbind(1)) + [zero]

        # backward pass over all T frames, from the last; the look-ahead frames' states are dropped
        order = range(t - 1, -1, -1)
        starts_b = [i == t - 1 or cuts[i + 1] for i in order]
        flows_b = [fb[:, i] if i < t - 1 else zero.expand(n, 2, *size) for i in order]
        backward = [None] * keep
        steps = propagate(self.backward_branch, [feat[:, i] for i in order], [res_b[i] for i in order],
                          flows_b, starts_b)
        for i, hidden in zip(order, steps, strict=True):
            if i < keep:
                backward[i] = hidden

        # forward pass over the kept frames, from the carried state; decode as we go
        first = state.luma.unsqueeze(1) if state is not None else luma[:, :1]
        prev = torch.cat([first, luma[:, : keep - 1]], dim=1)
        res_f = residual_indicator(prev.flatten(0, 1), luma[:, :keep].flatten(0, 1), ff.flatten(0, 1))
        res_f = res_f.view(n, keep, 1, *size)
        starts_f = [cuts[i] or (i == 0 and state is None) for i in range(keep)]
        steps = propagate(self.forward_branch, feat[:, :keep].unbind(1), res_f.unbind(1), ff.unbind(1),
                          starts_f, hidden=state.hidden if state is not None else None)
        neighbours = self._neighbours(frames, flows_fwd, flows_bwd, cuts, keep, state)
        out = []
        for i, hidden in enumerate(steps):
            ev = evidence(frames[:, i], *neighbours(i)) if self.decoder.head is not None else None
            out.append(self.decoder(backward[i], hidden, frames[:, i], ev))
            backward[i] = None  # free as we go
        last = frames[:, keep - 1, :1].clone() if self.decoder.head is not None else None
        return torch.stack(out, dim=1), PassState(hidden=hidden, luma=luma[:, keep - 1].clone(), frame=last)

    def _neighbours(self, frames: Tensor, flows_fwd: Tensor, flows_bwd: Tensor, cuts: list[bool], keep: int,
                    state: PassState | None):  # noqa: ANN202
        """A function of i → (previous, next) degraded luma warped onto kept frame i at full resolution (None
        across a cut or where no neighbour exists), for the full-resolution head."""
        n, t, _, h, w = frames.shape
        if self.decoder.head is None:
            return lambda i: (None, None)
        ff = resize_flow(flows_fwd.reshape(-1, 2, *flows_fwd.shape[-2:]), (h, w)).view(n, keep, 2, h, w)
        fb = (resize_flow(flows_bwd.reshape(-1, 2, *flows_bwd.shape[-2:]), (h, w)).view(n, t - 1, 2, h, w)
              if t > 1 else None)

        def at(i: int) -> tuple[Tensor | None, Tensor | None]:
            prev = None
            if not cuts[i]:
                src = frames[:, i - 1, :1] if i > 0 else (state.frame if state is not None else None)
                prev = None if src is None else flow_warp(src, ff[:, i])
            nxt = None
            if fb is not None and i + 1 < t and not cuts[i + 1]:
                nxt = flow_warp(frames[:, i + 1, :1], fb[:, i])
            return prev, nxt

        return at

    def _check(self, frames: Tensor, flows_fwd: Tensor, flows_bwd: Tensor, keep: int) -> tuple[int, ...]:
        if frames.dim() != 5:
            raise ValueError(f"RTN expects frames (N, T, C, H, W), got {tuple(frames.shape)}")
        n, t, c, h, w = frames.shape
        m = self.multiple
        if c != self.cfg.input_channels:
            raise ValueError(f"RTN ({self.cfg.name}) expects {self.cfg.input_channels} channel(s), got {c}")
        if h % m or w % m:
            raise ValueError(f"RTN ({self.cfg.name}) needs H, W multiples of {m}, got {h}×{w}; pad first")
        if not 1 <= keep <= t:
            raise ValueError(f"RTN: keep={keep} must be in [1, T={t}]")
        if flows_bwd.dim() != 5 or flows_bwd.shape[:3] != (n, t - 1, 2):
            raise ValueError(f"RTN: flows_bwd must be (N, T-1, 2, h, w) = ({n}, {t - 1}, 2, …), "
                             f"got {tuple(flows_bwd.shape)}")
        if flows_fwd.dim() != 5 or flows_fwd.shape[:3] != (n, keep, 2):
            raise ValueError(f"RTN: flows_fwd must be (N, keep, 2, h, w) = ({n}, {keep}, 2, …), "
                             f"got {tuple(flows_fwd.shape)}")
        return n, t, c, h, w
