"""Persistent vertical line scratches: detect them and fill them in.

Temporal medians cannot remove a scratch that sits at the same screen column in every frame (the aligned
neighbours carry it too) — the defect RTN's users found it leaves behind. A line scratch is a thin
(≤ ``max_width`` px) bright or dark stripe that covers most rows of one column band and stays there from frame
to frame. Detection: a horizontal morphological top-hat (bright) and black-hat (dark) isolate structures
narrower than the structuring element — step edges and wide objects give nothing — then, per column, the
fraction of rows where that residue exceeds ``threshold``, smoothed over time (scratches stay put in screen
coordinates, scene content moves). Repair: on detected columns, pixels whose residue is significant are
replaced by interpolating across the band from its two sides, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class ScratchConfig:
    """Settings of the line-scratch remover.

    Attributes:
        max_width: widest line treated, pixels; wider stripes are left alone (they are content).
        threshold: minimum line contrast (luma, 0–1) for a row to count as showing the line.
        coverage: a column is a scratch when at least this fraction of its rows shows the line
            (after temporal smoothing) ...
        prominence: ... and that fraction exceeds the median of the surrounding columns' by this much
            (a line stands out from its neighbourhood; texture raises every column around it).
        persistence: weight of the previous frames' coverage in the running average (0 = per frame only).
        max_lines: at most this many scratches are repaired per frame (the strongest).
        profile_rows: length (rows) of the running median that estimates a scratch's profile.
    """

    max_width: int = 3
    threshold: float = 0.03
    coverage: float = 0.5
    prominence: float = 0.3
    persistence: float = 0.6
    max_lines: int = 8
    profile_rows: int = 31


def line_residue(luma: np.ndarray, max_width: int) -> tuple[np.ndarray, np.ndarray]:
    """(bright, dark) residues, each (H, W) ≥ 0: what horizontal opening/closing with a (2·max_width+1)-wide
    element removes — thin vertical structures only."""
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max_width + 1, 1))
    src = luma.astype(np.float32, copy=False)
    return cv2.morphologyEx(src, cv2.MORPH_TOPHAT, k), cv2.morphologyEx(src, cv2.MORPH_BLACKHAT, k)


@dataclass
class LineScratchRemover:
    """Streaming remover: call ``__call__(img, luma)`` per frame, ``reset()`` at scene cuts."""

    cfg: ScratchConfig = field(default_factory=ScratchConfig)
    _cover: np.ndarray | None = field(default=None, init=False, repr=False)

    def reset(self) -> None:
        self._cover = None

    def detect(self, luma: np.ndarray) -> list[tuple[int, int]]:
        """Column bands ``[(x0, x1), ...]`` (inclusive) holding scratches, strongest first.

        Bright and dark lines are found separately: beside a dark line the picture looks like a thin
        bright stripe, so mixing polarities would widen every band past ``max_width``.
        """
        cfg = self.cfg
        cover = np.stack([(res > cfg.threshold).mean(0) for res in line_residue(luma, cfg.max_width)])  # (2, W)
        if self._cover is None or self._cover.shape != cover.shape:
            self._cover = cover
        else:
            self._cover = cfg.persistence * self._cover + (1 - cfg.persistence) * cover
        r = 4 * cfg.max_width + 4
        padded = np.pad(self._cover, ((0, 0), (r, r)), mode="reflect")
        local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1, axis=1), axis=-1)
        hot = (self._cover >= cfg.coverage) & (self._cover - local >= cfg.prominence) & (cover >= 0.5 * cfg.coverage)
        edge = cfg.max_width + 1  # the morphology's border handling makes edge columns look like lines
        hot[:, :edge] = hot[:, -edge:] = False
        bands: list[tuple[int, int, float]] = []
        for polarity in range(2):
            x, w = 0, hot.shape[1]
            while x < w:
                if not hot[polarity, x]:
                    x += 1
                    continue
                x1 = x
                while x1 + 1 < w and hot[polarity, x1 + 1]:
                    x1 += 1
                if x1 - x + 1 <= cfg.max_width:
                    bands.append((x, x1, float(self._cover[polarity, x: x1 + 1].max())))
                x = x1 + 1
        bands.sort(key=lambda b: -b[2])
        return [(a, b) for a, b, _ in bands[: cfg.max_lines]]

    def __call__(self, img: np.ndarray, luma: np.ndarray) -> np.ndarray:
        """Remove detected scratches from ``img`` (H, W, C) float32; returns a new array (or ``img``).

        A scratch adds (or removes) light along its column, slowly varying with the row, on top of the
        picture. Its profile is estimated as the column's difference to the interpolated background,
        median-filtered along the column (the picture's own detail varies from row to row and averages out),
        and subtracted — so detail under a semi-transparent scratch survives.
        """
        bands = self.detect(luma)
        if not bands:
            return img
        out = img.copy()
        w = luma.shape[1]
        for x0, x1 in bands:
            left, right = max(x0 - 2, 0), min(x1 + 2, w - 1)
            if left == right:
                continue
            cols = np.arange(max(x0 - 1, 0), min(x1 + 2, w))
            t = ((cols - left) / (right - left)).astype(np.float32)[None, :, None]
            background = img[:, left: left + 1] * (1 - t) + img[:, right: right + 1] * t
            profile = _column_median(img[:, cols] - background, self.cfg.profile_rows)
            profile[np.abs(profile).max(-1) < 0.5 * self.cfg.threshold] = 0.0  # rows where the line is absent
            out[:, cols] = np.clip(img[:, cols] - profile, 0.0, 1.0)
        return out


def _column_median(x: np.ndarray, rows: int) -> np.ndarray:
    """Running median along axis 0 (rows) with an odd window of ``rows``, edges reflected. x: (H, N, C)."""
    r = min(rows // 2, max(x.shape[0] - 1, 0))
    if r == 0:
        return x.copy()
    padded = np.pad(x, ((r, r), (0, 0), (0, 0)), mode="reflect")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1, axis=0), axis=-1)
