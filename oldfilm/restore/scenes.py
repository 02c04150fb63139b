"""Scene-cut detection, the one detector in the package (classical restorer, RTN engine, colouriser and
benchmarks all use it). Streaming: feed frames one by one, it says whether each starts a new scene.

Within a shot, motion explains most of the change from one frame to the next; across a cut it explains
nothing. So each frame is compared with the previous one *after motion compensation* (DIS flow on small,
contrast-normalised luma — flicker and fades change tone, not structure), and a cut is declared when that
residual jumps well above its recent level. Fast pans raise the level and do not trigger it; noise raises
the level too. Checked on splices of the training clips: see tests/restore/test_classical.py.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from oldfilm.colorspace import rgb_to_luma
from oldfilm.flow.dis import DISFlow
from oldfilm.flow.warp import warp_image
from oldfilm.imgops import fit_size


@dataclass
class SceneDetector:
    """Streaming hard-cut detector.

    Attributes:
        ratio: a cut's motion-compensated residual must exceed ``ratio`` × the median of the recent ones.
        min_residual: ... and this absolute level (mean absolute difference of contrast-normalised luma).
        first_residual: with no history yet (second frame of a scene), the residual needed for a cut.
        history: how many recent residuals form the adaptive level.
        size: frames are compared with their longer side scaled to this many pixels.
    """

    ratio: float = 4.5
    min_residual: float = 0.15
    first_residual: float = 0.6
    history: int = 8
    size: int = 160
    _prev: np.ndarray | None = field(default=None, init=False, repr=False)
    _levels: deque = field(default_factory=deque, init=False, repr=False)
    _flow: DISFlow = field(default_factory=lambda: DISFlow("ultrafast", max_side=0), init=False, repr=False)

    def reset(self) -> None:
        """Forget everything seen (start of a new stream)."""
        self._prev = None
        self._levels.clear()

    def residual(self, small: np.ndarray) -> float:
        """Mean |previous frame warped onto ``small`` − ``small``| (both contrast-normalised)."""
        warped = warp_image(self._prev, self._flow(small, self._prev))
        return float(np.abs(warped - small).mean())

    def __call__(self, frame: np.ndarray) -> bool:
        """Feed the next frame; True when it starts a new scene (the first frame of a stream counts)."""
        luma = rgb_to_luma(frame)
        # at least 8 px, for a valid resize (DISFlow itself gives zero motion under its MIN_SIDE)
        h, w = fit_size(*luma.shape, self.size)
        small = cv2.resize(luma, (max(8, w), max(8, h)), interpolation=cv2.INTER_AREA)
        small = (small - small.mean()) / (small.std() + 0.02)
        if self._prev is None or self._prev.shape != small.shape:
            self._prev = small
            return True
        res = self.residual(small)
        self._prev = small
        if self._levels:
            cut = res >= self.min_residual and res >= self.ratio * float(np.median(self._levels))
        else:
            cut = res >= self.first_residual
        if cut:
            self._levels.clear()
        else:
            self._levels.append(res)
            if len(self._levels) > self.history:
                self._levels.popleft()
        return cut
