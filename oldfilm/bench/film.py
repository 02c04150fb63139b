"""The real film of the stress run: every method restores the first frames of a genuinely old film
(``oldfilm.io.sources.REAL_FILMS``: the 1906 Calais film, frames 0–143 only — the rest is held out and never
cached) and is scored without reference: NIQE, BRISQUE, the flicker index (std of the frame-to-frame change
of mean luma) and the warping error with flow on the output itself. A before/after strip shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma
from oldfilm.metrics.clip import evaluate_clip

Frames = list[np.ndarray]


@dataclass(frozen=True)
class FilmRun:
    """What the report shows of the real film.

    Attributes:
        name: the film (``REAL_FILMS`` key).
        frames: frames restored and scored (0 … frames-1).
        rows: one ``Result`` per method (variant "film", group = ``name``); ``identity`` is the input.
        strip: image (gray or RGB), input above, our restorer's output below, a few frames across.
        strip_frames: which frames the strip shows.
    """

    name: str
    frames: int
    rows: list
    strip: np.ndarray
    strip_frames: tuple[int, ...]


def film_frames(name: str, count: int) -> Frames:
    """The film's first ``count`` frames as 1-channel luma (it is a black-and-white film)."""
    from oldfilm.io.sources import packaged_clip
    from oldfilm.io.video import open_video

    out: Frames = []
    with open_video(packaged_clip(name)) as reader:
        for f in reader:
            if len(out) >= count:
                break
            out.append(from_float(rgb_to_luma(f), np.uint8)[..., None])
    return out


def before_after(before: Frames, after: Frames, picks: Sequence[int], scale: int = 2,
                 labels: tuple[str, str] = ("input", "restored")) -> np.ndarray:
    """Strip: ``before[picks]`` in the top row, ``after[picks]`` below, each frame ``scale``× (cubic); (H, W)
    gray when every frame is 1-channel (a smaller PNG), else (H, W, 3) RGB."""
    rows = []
    for frames, label in zip((before, after), labels, strict=True):
        tiles = []
        for i in picks:
            f = frames[i]
            big = cv2.resize(f, (f.shape[1] * scale, f.shape[0] * scale), interpolation=cv2.INTER_CUBIC)
            big = big.reshape(big.shape[0], big.shape[1], -1)
            big = np.repeat(big, 3, axis=2) if big.shape[2] == 1 else big
            tiles.append(np.pad(big, ((2, 2), (2, 2), (0, 0))))
        row = np.concatenate(tiles, axis=1)
        band = np.zeros((22, row.shape[1], 3), np.uint8)
        cv2.putText(band, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(np.concatenate([band, row], axis=0))
    strip = np.concatenate(rows, axis=0)
    gray = all(f.shape[-1] == 1 for f in (*before, *after) if f.ndim == 3)
    return strip[..., 0] if gray else strip


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def run_film(methods: Sequence, count: int, noref_every: int, say: Callable[[str], None] = print,
             name: str | None = None, ours: str = "oldfilm-classical") -> FilmRun:
    """Restore the film's first ``count`` frames with every method and score them without reference."""
    from oldfilm.bench.measure import Result, measure
    from oldfilm.io.sources import REAL_FILMS

    name = name or REAL_FILMS[0]
    frames = film_frames(name, count)
    rows, outputs = [], {}
    for method in methods:
        out, seconds, peak = measure(method.run, list(frames))
        scores = evaluate_clip(out, None, noref_every)
        row = Result("film", name, method.name)
        row.add(scores, seconds, peak)
        rows.append(row)
        outputs[method.name] = out
        say(f"{name} frames 0–{len(frames) - 1} {method.name:26s} NIQE {_num(scores.niqe)}  BRISQUE "
            f"{_num(scores.brisque)}  flicker {_num(scores.flicker, 4)}")
    picks = tuple(int(round(x)) for x in np.linspace(0, len(frames) - 1, 6)[1:-1])
    after = outputs.get(ours, frames)
    return FilmRun(name, len(frames), rows, before_after(frames, after, picks), picks)
