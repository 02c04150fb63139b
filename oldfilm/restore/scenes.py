"""Scene-cut detection, the one detector in the package (classical restorer, RTN engine, colouriser and
benchmarks all use it). Streaming: feed frames one by one, it says whether each starts a new scene.

A cut is declared when both the luma-histogram distance and the mean absolute luma difference between
consecutive frames jump well above their recent level (an adaptive threshold, so flicker and fast pans
do not trigger it, while a hard cut does).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from oldfilm.colorspace import rgb_to_luma


@dataclass
class SceneDetector:
    """Streaming hard-cut detector.

    Attributes:
        hist_threshold: minimum histogram (Bhattacharyya) distance for a cut, in [0, 1].
        ratio: a cut's frame difference must also exceed ``ratio`` × the median of the recent differences.
        min_diff: minimum mean absolute luma difference (0–1 scale) for a cut.
        history: how many recent differences form the adaptive level.
    """

    hist_threshold: float = 0.35
    ratio: float = 3.0
    min_diff: float = 0.08
    history: int = 12
    _prev_hist: np.ndarray | None = field(default=None, init=False, repr=False)
    _prev_small: np.ndarray | None = field(default=None, init=False, repr=False)
    _diffs: deque = field(default_factory=deque, init=False, repr=False)

    def reset(self) -> None:
        """Forget everything seen (start of a new stream)."""
        self._prev_hist, self._prev_small = None, None
        self._diffs.clear()

    def __call__(self, frame: np.ndarray) -> bool:
        """Feed the next frame; True when it starts a new scene (the first frame of a stream counts)."""
        luma = rgb_to_luma(frame)
        small = cv2.resize(luma, (64, 36), interpolation=cv2.INTER_AREA)
        hist = cv2.calcHist([small], [0], None, [32], [0.0, 1.0])
        hist = (hist / max(float(hist.sum()), 1e-6)).astype(np.float32)
        if self._prev_hist is None:
            self._prev_hist, self._prev_small = hist, small
            return True
        hdist = float(cv2.compareHist(self._prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA))
        diff = float(np.abs(small - self._prev_small).mean())
        level = float(np.median(self._diffs)) if self._diffs else 0.0
        cut = hdist >= self.hist_threshold and diff >= self.min_diff and diff >= self.ratio * level
        self._prev_hist, self._prev_small = hist, small
        if cut:
            self._diffs.clear()
        else:
            self._diffs.append(diff)
            if len(self._diffs) > self.history:
                self._diffs.popleft()
        return cut
