"""Silent-film speed: ``--fps N``.

A film shot at 16–20 fps reaches us either with frames repeated to fill a video rate (18 fps shown at 24
repeats one frame in four) or frame for frame at the wrong rate (it runs fast). Repeats found in the
first frames mean the first: in each cycle the most repeated frames are dropped, the duration stays and so
does the audio. Otherwise the frames are re-timed to N fps: every frame kept, the film runs longer, and the
audio, no longer in step, is dropped with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from itertools import chain, islice
from typing import Any

import cv2
import numpy as np

from oldfilm.errors import UsageError
from oldfilm.io.meta import timecode_rescale
from oldfilm.io.video import VideoInfo

log = logging.getLogger("oldfilm")

REPEAT = 0.004
"""Largest mean absolute difference (fraction of full scale, on a small gray copy) between a frame and
the one before it for it to count as a repeat (compression noise of a repeated frame is well below it)."""


def _thumb(frame: np.ndarray) -> np.ndarray:
    """A small float gray copy (≤ 64 pixels wide) in [0, 1] for comparing frames."""
    scale = 65535.0 if frame.dtype == np.uint16 else 255.0
    g = frame.astype(np.float32).mean(axis=2) / scale
    w = min(64, g.shape[1])
    return cv2.resize(g, (w, max(1, round(g.shape[0] * w / g.shape[1]))), interpolation=cv2.INTER_AREA)


def differences(frames: list[np.ndarray]) -> list[float]:
    """Mean absolute difference of each frame to the one before (the first: infinity)."""
    thumbs = [_thumb(f) for f in frames]
    return [float("inf")] + [float(np.abs(a - b).mean()) for a, b in zip(thumbs[1:], thumbs, strict=False)]


def cycle(src_fps: Fraction, target: Fraction) -> tuple[int, int]:
    """(frames kept, cycle length): 24 → 18 fps keeps 3 in 4."""
    r = (target / src_fps).limit_denominator(12)
    return r.numerator, r.denominator


def drop_repeats(pairs: Iterator[tuple[np.ndarray, Any]], keep: int, length: int) -> Iterator[np.ndarray]:
    """In each cycle of ``length`` frames keep ``keep``: those least like the frame before them."""
    prev: np.ndarray | None = None
    while True:
        group = [f for f, _ in islice(pairs, length)]
        if not group:
            return
        thumbs = ([prev] if prev is not None else []) + [_thumb(f) for f in group]
        diffs = [float("inf")] * (1 if prev is None else 0) + [
            float(np.abs(a - b).mean()) for a, b in zip(thumbs[1:], thumbs, strict=False)]
        n_keep = max(1, round(len(group) * keep / length))
        kept = sorted(np.argsort(diffs, kind="stable")[::-1][:n_keep])
        prev = thumbs[-1]
        for i in kept:
            yield group[i]


def repeat_share(diffs: list[float], length: int) -> float | None:
    """Share of repeated frames in the cycles (``length`` frames) where something moves; None when every
    cycle is still (a still picture repeats itself whatever the transfer did)."""
    rep = [d <= REPEAT for d in diffs[1:]]
    cycles = [rep[i:i + length] for i in range(0, len(rep) - length + 1, length)]
    moving = [c for c in cycles if not all(c)]
    if not moving:
        return None
    return sum(sum(c) for c in moving) / sum(len(c) for c in moving)


def retime(pairs: Iterator[tuple[np.ndarray, Any]], info: VideoInfo, target: Fraction
           ) -> tuple[Iterator[tuple[np.ndarray, Any]], VideoInfo, bool]:
    """The stream at ``target`` fps: (pairs, info, whether the audio still fits)."""
    if target <= 0:
        raise UsageError(f"--fps {target}: must be positive")
    keep, length = cycle(info.fps, target)
    out = replace(info, fps=target, time_base=1 / target, timecode=timecode_rescale(info.timecode, info.fps, target))
    if keep < length:
        head = list(islice(pairs, min(24, max(8, 3 * length))))
        share = repeat_share(differences([f for f, _ in head]), length)
        if share is None or share >= 0.6 * (length - keep) / length:
            why = ("the first frames are still, so repeats cannot be told from stillness; assuming a transfer with "
                   "repeats" if share is None else f"{share:.0%} of the moving first frames repeat the one before")
            log.warning("%s: %s; dropping %d in every %d frames for %s fps", info.path, why, length - keep, length,
                        target)
            count = None if info.frame_count is None else info.frame_count * keep // length
            frames = drop_repeats(chain(head, pairs), keep, length)
            return ((f, None) for f in frames), replace(out, frame_count=count), True
        pairs = chain(head, pairs)
    if target == info.fps:
        return pairs, info, True
    if info.has_audio:
        log.warning("%s: no repeated frames to drop; every frame is re-timed from %s to %s fps, so the film "
                    "runs %.2fx as long and its audio is dropped", info.path, info.fps, target,
                    float(info.fps / target))
    duration = None if info.frame_count is None else info.frame_count / float(target)
    return ((f, None) for f, _ in pairs), replace(out, duration=duration), False
