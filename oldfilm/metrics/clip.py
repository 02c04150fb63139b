"""Score a whole clip in one streaming pass: full-reference, temporal and no-reference metrics together.

``evaluate_clip`` works on frame iterables (numpy ``(H, W[, C])``); ``evaluate_paths`` opens videos or
image folders (what ``oldfilm metrics OUT --ref CLEAN`` calls).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from oldfilm.colorspace import rgb_to_luma
from oldfilm.errors import InputError
from oldfilm.flow import FlowEstimator
from oldfilm.metrics.fullref import psnr, ssim, tone_aligned_psnr, tone_moments
from oldfilm.metrics.noref import brisque, niqe
from oldfilm.metrics.temporal import WarpingError, flicker_from_means, paired_frames


@dataclass(frozen=True)
class ClipScores:
    """Metrics of one clip; ``None`` where a metric does not apply (no reference, frames too small).

    Attributes:
        frames: number of frames scored.
        psnr: mean per-frame PSNR in dB against the reference (higher is better).
        ssim: mean per-frame SSIM against the reference (higher is better).
        ewarp: mean warping error, [0, 1] scale (lower is better); flow on the reference when given.
        flicker: flicker index, [0, 1] luma scale (lower is better); relative to the reference when given.
        niqe: mean NIQE over the sampled frames (lower is better).
        brisque: mean BRISQUE over the sampled frames (lower is better).
        psnr_tone: mean per-frame PSNR after the best single gain and offset for the whole clip
            (``tone_aligned_psnr``: a wrong global exposure forgiven, everything else counted).
    """

    frames: int
    psnr: float | None
    ssim: float | None
    ewarp: float | None
    flicker: float | None
    niqe: float | None
    brisque: float | None
    psnr_tone: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain dict (for JSON/CSV)."""
        return asdict(self)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def evaluate_clip(
    frames: Iterable[np.ndarray],
    ref_frames: Iterable[np.ndarray] | None = None,
    noref_every: int = 1,
    estimator: FlowEstimator | None = None,
    space: str = "auto",
) -> ClipScores:
    """All metrics of ``frames`` (against ``ref_frames`` when given) in one pass over both streams.

    ``noref_every`` scores NIQE/BRISQUE on every k-th frame only (they cost ~0.1 s per frame); 0 skips
    them. ``space`` is the full-reference colour space (``"auto"``, ``"luma"``, ``"rgb"``).
    """
    if noref_every < 0:
        raise InputError(f"noref_every must be 0 or more, got {noref_every}.")
    has_ref = ref_frames is not None
    warp = WarpingError(estimator)
    p, s, w, n, b, means, ref_means, tone = [], [], [], [], [], [], [], []
    count = 0
    for i, (out, ref) in enumerate(paired_frames(frames, ref_frames)):
        count += 1
        if has_ref:
            p.append(psnr(out, ref, space))
            s.append(ssim(out, ref, space))
            tone.append(tone_moments(out, ref, space))
        err = warp.add(out, ref)
        if err is not None:
            w.append(err)
        means.append(float(rgb_to_luma(out).mean()))
        ref_means.append(float(rgb_to_luma(ref).mean()))
        if noref_every and i % noref_every == 0:
            try:
                scores = niqe(out), brisque(out)
            except InputError:  # too small or too flat for the no-reference models: not scored
                continue
            n.append(scores[0])
            b.append(scores[1])
    if count == 0:
        raise InputError("there are no frames to score.")
    flick = None
    if count > 1:
        flick = flicker_from_means(np.array(means), np.array(ref_means) if has_ref else None)
    psnr_mean = _mean(p)
    if psnr_mean is not None and any(math.isinf(v) for v in p):
        psnr_mean = math.inf
    return ClipScores(
        frames=count,
        psnr=psnr_mean,
        ssim=_mean(s),
        ewarp=_mean(w),
        flicker=flick,
        niqe=_mean(n),
        brisque=_mean(b),
        psnr_tone=tone_aligned_psnr(np.stack(tone)) if tone else None,
    )


def evaluate_paths(out: str | Path, ref: str | Path | None = None, noref_every: int = 1) -> ClipScores:
    """``evaluate_clip`` on a video file or image folder, against a clean one when ``ref`` is given."""
    from oldfilm.io.video import open_video

    with open_video(out) as r_out:
        if ref is None:
            return evaluate_clip(iter(r_out), None, noref_every)
        with open_video(ref) as r_ref:
            a, b = r_out.info, r_ref.info
            if (a.width, a.height) != (b.width, b.height):
                raise InputError(f"{out} is {a.width}×{a.height} but the reference {ref} is "
                                 f"{b.width}×{b.height}.")
            return evaluate_clip(iter(r_out), iter(r_ref), noref_every)
