"""A network's inputs, prepared in one place: the RTN engine (frame by frame, on a film) and the trainer
(clip by clip, on degraded crops, ``oldfilm.train.data``) both call these, so that what a network is
trained on and what it is given at inference cannot drift apart.

Convention:
    frames: numpy (H, W), (H, W, 1) or (H, W, 3) RGB, uint8/uint16 or float in [0, 1].
    channels: float32 in [0, 1]: (H, W) luma for a luma network, (H, W, 3) RGB for an RGB one
        (``RTNConfig.in_channels``); a guided network's (``RTNConfig.guided``) guide's channels come after
        the frame's: (H, W, 2) or (H, W, 6).
    clip channels: (T, C, H, W) float32, as ``RTN.forward`` takes them (batched).
    flows: (2, h, w) float32, DIS on luma (at the flow scale ``flow_frame`` gives); a frame's ``to_prev``
        maps it to the previous frame (the network's forward flow), ``to_next`` to the next (backward).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from oldfilm.colorspace import rgb_to_luma, to_float
from oldfilm.flow import DISFlow, FlowEstimator
from oldfilm.imgops import shrink

FLOW_PRESET = "fast"
"""The default DIS preset of a network's flows (``RTNConfig.flow_preset``'s default; a network pins its own,
and the engine and the trainer both use that)."""


def flow_estimator(preset: str = FLOW_PRESET) -> DISFlow:
    """The flow estimator of a network's inputs: OpenCV DIS at the size it is given (``flow_frame`` scales)."""
    return DISFlow(preset=preset, max_side=0)


def frame_channels(img: np.ndarray, in_channels: int) -> np.ndarray:
    """A frame as a network's channels: (H, W) float32 luma (``in_channels`` 1), or (H, W, 3) float32 RGB
    (3; a gray frame's luma repeated)."""
    if in_channels != 3:
        return rgb_to_luma(img)
    rgb = to_float(img)
    net = np.repeat(rgb[..., :1], 3, axis=2) if rgb.ndim == 3 and rgb.shape[2] == 1 else rgb
    return np.repeat(net[..., None], 3, axis=2) if net.ndim == 2 else net


def network_frame(img: np.ndarray, guide: np.ndarray | None, in_channels: int) -> np.ndarray:
    """A frame's network input: its channels, then (a guided network) its guide's: (H, W[, C]) float32."""
    net = frame_channels(img, in_channels)
    if guide is None:
        return net
    return np.dstack([net, frame_channels(guide, in_channels)])


def clip_channels(frames: Sequence[np.ndarray], guides: Sequence[np.ndarray] | None,
                  in_channels: int) -> np.ndarray:
    """A clip's network input (``network_frame`` of each frame and its guide) → (T, C, H, W) float32."""
    per = [network_frame(f, None if guides is None else guides[t], in_channels) for t, f in enumerate(frames)]
    x = np.stack(per)
    return np.ascontiguousarray(x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2), dtype=np.float32)


def classical_guides(frames: Iterable[np.ndarray], options: str = "",
                     cuts: Iterator[bool] | None = None) -> Iterator[np.ndarray]:
    """A guided network's guides: the classical restoration of ``frames`` (streaming, one per frame, in
    order) with the network's ``RTNConfig.guide`` options (JSON; empty: the defaults); ``cuts``: the
    frames' scene-cut flags when the caller has them (the restorer then does not detect its own)."""
    from oldfilm.restore.classical import ClassicalRestorer, guide_config

    return ClassicalRestorer(guide_config(options)).run(frames, cuts=cuts)


def flow_frame(luma: np.ndarray, flow_side: int) -> np.ndarray:
    """The (h, w) luma flows are computed on: ``luma`` with its longer side at most ``flow_side`` (0: as
    it is)."""
    return shrink(luma, flow_side)


def neighbour_flows(flow: FlowEstimator, prev: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flows between two neighbouring ``flow_frame``s → (``cur``'s to_prev, ``prev``'s to_next)."""
    return flow(cur, prev), flow(prev, cur)


def clip_flows(luma: np.ndarray, flow: FlowEstimator) -> tuple[np.ndarray, np.ndarray]:
    """Flows between the neighbouring frames of a (T, H, W) luma clip (``neighbour_flows`` of each pair).

    Returns:
        flows_fwd (T-1, 2, H, W): [t] maps frame t+1 to frame t (frame t+1's to_prev);
        flows_bwd (T-1, 2, H, W): [t] maps frame t to frame t+1 (frame t's to_next).
    """
    pairs = [neighbour_flows(flow, luma[t], luma[t + 1]) for t in range(len(luma) - 1)]
    h, w = luma.shape[1:]
    empty = np.zeros((0, 2, h, w), np.float32)
    if not pairs:
        return empty, empty.copy()
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
