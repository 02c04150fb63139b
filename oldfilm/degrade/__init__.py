"""Synthetic old-film degradation (RTN §3.3 and beyond): the training-pair generator and ``oldfilm degrade``.

Arrays (training, no file I/O)::

    from oldfilm.degrade import degrade_clip, PRESETS
    d = degrade_clip(frames, np.random.default_rng(seed), PRESETS["paper"])   # frames (T, H, W, C)
    d.frames, d.masks, d.params

Streams: ``FilmDegrader(cfg, rng, (H, W)).step(frame)`` or ``degrade_stream(frames)``; files: ``oldfilm.degrade(src,
dst)`` (``oldfilm.api``).
"""

from oldfilm.degrade.api import degrade_stream, render_preview
from oldfilm.degrade.params import FilmParams, FrameParams, LineScratch, sample_template
from oldfilm.degrade.pipeline import Degraded, FilmDegrader, degrade_clip
from oldfilm.degrade.presets import (
    PRESETS,
    ContaminantConfig,
    DegradeConfig,
    FilmConfig,
    QualityConfig,
    get_preset,
)

__all__ = ["degrade_stream", "render_preview", "degrade_clip", "Degraded",
           "FilmDegrader", "DegradeConfig", "ContaminantConfig",
           "QualityConfig", "FilmConfig", "PRESETS", "get_preset", "FilmParams",
           "FrameParams", "LineScratch", "sample_template"]
