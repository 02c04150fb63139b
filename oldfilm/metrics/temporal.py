"""Temporal metrics: warping error E_warp (Lai et al., ECCV 2018) and a flicker index.

Convention:
    ``frames`` / ``ref_frames`` are iterables of numpy ``(H, W[, C])`` images (uint8/uint16 or float in
    [0, 1]), consumed as streams: only the previous frame is held. Results are on the [0, 1] scale.
    Frames are compared on luma unless both the output and the reference frames have three channels
    (then RGB), as in ``oldfilm.metrics.fullref``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest

import numpy as np

from oldfilm.colorspace import rgb_to_luma
from oldfilm.errors import InputError
from oldfilm.flow import DISFlow, FlowEstimator, consistency_mask, warp_image
from oldfilm.metrics.fullref import prepare_pair


def paired_frames(frames: Iterable[np.ndarray], ref_frames: Iterable[np.ndarray] | None):
    """Yield (frame, ref) with ref = frame when there is no reference; lengths must agree."""
    if ref_frames is None:
        for f in frames:
            yield f, f
        return
    for f, r in zip_longest(frames, ref_frames):
        if f is None or r is None:
            raise InputError("the restored and the reference sequences have different numbers of frames.")
        yield f, r


def _inside(flow: np.ndarray) -> np.ndarray:
    """(2, H, W) flow → (H, W) bool: True where the flow lands inside the frame."""
    _, h, w = flow.shape
    x = np.arange(w, dtype=np.float32)[None, :] + flow[0]
    y = np.arange(h, dtype=np.float32)[:, None] + flow[1]
    return (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


class WarpingError:
    """Streaming warping error: feed (output, reference) frames in order, one pair at a time.

    Flow t→t-1 (and t-1→t, for the occlusion mask) is estimated on the clean reference frames; output t-1
    is warped onto output t; pixels that fail the forward-backward consistency check or flow out of the
    frame are masked; the error is the mean absolute (``norm="l1"``, the default) or squared (``"l2"``, Lai
    et al.'s original) difference on the visible pixels.
    """

    def __init__(self, estimator: FlowEstimator | None = None, norm: str = "l1"):
        if norm not in ("l1", "l2"):
            raise InputError(f"unknown warping-error norm {norm!r}; choose l1 or l2.")
        self.estimator = estimator or DISFlow(preset="medium")
        self.norm = norm
        self._prev_out: np.ndarray | None = None
        self._prev_ref: np.ndarray | None = None

    def add(self, out: np.ndarray, ref: np.ndarray) -> float | None:
        """Feed frame t; returns the error of pair (t-1, t), or None for the first frame."""
        cur_out, _ = prepare_pair(out, ref)
        ref_luma = rgb_to_luma(ref)
        err = None
        if self._prev_out is not None:
            if cur_out.shape != self._prev_out.shape:
                before, now = self._prev_out.shape, cur_out.shape
                raise InputError(f"frame size changed inside the sequence: {before} → {now}.")
            fw = self.estimator(ref_luma, self._prev_ref)  # t → t-1
            bw = self.estimator(self._prev_ref, ref_luma)  # t-1 → t
            visible = consistency_mask(fw, bw) & _inside(fw)
            warped = warp_image(self._prev_out.astype(np.float32), fw).reshape(cur_out.shape)
            residual = cur_out - warped
            diff = (np.abs(residual) if self.norm == "l1" else residual**2).mean(axis=2)
            err = float(diff[visible].mean()) if visible.any() else 0.0
        self._prev_out, self._prev_ref = cur_out, ref_luma
        return err


def ewarp_per_frame(
    frames: Iterable[np.ndarray],
    ref_frames: Iterable[np.ndarray] | None = None,
    estimator: FlowEstimator | None = None,
    norm: str = "l1",
) -> list[float]:
    """Warping error of each consecutive pair (t-1, t), t = 1 … T-1 (see ``WarpingError``); flow on
    ``ref_frames``, or on ``frames`` themselves when there is no reference."""
    acc = WarpingError(estimator, norm)
    errors = [acc.add(out, ref) for out, ref in paired_frames(frames, ref_frames)]
    return [e for e in errors if e is not None]


def ewarp(
    frames: Iterable[np.ndarray],
    ref_frames: Iterable[np.ndarray] | None = None,
    estimator: FlowEstimator | None = None,
    norm: str = "l1",
) -> float:
    """Mean warping error over all consecutive pairs (0.0 for a static, unchanged clip); see
    ``ewarp_per_frame``. Needs at least two frames."""
    errors = ewarp_per_frame(frames, ref_frames, estimator, norm)
    if not errors:
        raise InputError("the warping error needs at least two frames.")
    return float(np.mean(errors))


def flicker(frames: Iterable[np.ndarray], ref_frames: Iterable[np.ndarray] | None = None) -> float:
    """Flicker index: standard deviation over t of the change of mean luma from frame t-1 to t.

    With ``ref_frames`` the reference's own change is subtracted first, so brightness changes that are in
    the scene (a cloud, a fade) do not count and only added flicker does. 0.0 for a steady clip.
    """
    pairs = paired_frames(frames, ref_frames)
    means = [(float(rgb_to_luma(f).mean()), float(rgb_to_luma(r).mean())) for f, r in pairs]
    m = np.asarray(means, dtype=np.float64).reshape(-1, 2)
    return flicker_from_means(m[:, 0], m[:, 1] if ref_frames is not None else None)


def flicker_per_frame(frames: Iterable[np.ndarray]) -> np.ndarray:
    """The change of mean luma from frame t-1 to t, t = 1..T-1, (T-1,) float64 on the [0, 1] scale: the series
    whose standard deviation is ``flicker`` (for plots of where a clip flickers)."""
    return np.diff(np.asarray([float(rgb_to_luma(f).mean()) for f in frames], dtype=np.float64))


def flicker_from_means(means: np.ndarray, ref_means: np.ndarray | None = None) -> float:
    """``flicker`` from per-frame mean luma values (T,) of the output and, optionally, the reference."""
    if len(means) < 2:
        raise InputError("the flicker index needs at least two frames.")
    d = np.diff(np.asarray(means, dtype=np.float64))
    if ref_means is not None:
        d = d - np.diff(np.asarray(ref_means, dtype=np.float64))
    return float(np.std(d))
