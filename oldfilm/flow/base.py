"""The ``FlowEstimator`` protocol: anything that maps two gray frames to a flow field.

A learned estimator (RAFT, …) plugs in by implementing ``__call__``; nothing else in the package cares.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FlowEstimator(Protocol):
    """Estimate flow from ``current`` to ``other``.

    Convention:
        ``current``, ``other``: (H, W) float32 luma in [0, 1] (or uint8).
        returns (2, H, W) float32 (dx, dy) in pixels: current pixel (x, y) is at (x+dx, y+dy) in ``other``.
    """

    def __call__(self, current: np.ndarray, other: np.ndarray) -> np.ndarray: ...
