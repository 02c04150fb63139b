"""``restore_stream()``: the restore stage, on in-memory frame iterators (what the file-level
``oldfilm.restore``, benchmarks and tests call); ``best_method``/``best_preset``: what this install can run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from oldfilm.errors import UsageError

log = logging.getLogger("oldfilm")

METHODS = ("classical", "rtn", "none")


SHIPPED_ORDER = ("quality", "guided", "fast")
"""RTN presets in order of preference (measured on ``oldfilm bench``) when their weights ship."""


def best_preset() -> str | None:
    """The best RTN preset whose weights ship in this install (``SHIPPED_ORDER``), or None."""
    from oldfilm.models.weights import shipped_path

    return next((p for p in SHIPPED_ORDER if shipped_path(p).is_file()), None)


def best_method() -> str:
    """The best method this install can run: "rtn" once weights for an RTN preset ship, else "classical"."""
    return "rtn" if best_preset() else "classical"


GRAIN_MODES = ("remove", "keep")


def method_options(method: str, *, stabilize: bool = False, grain: str = "remove", ensemble: int = 1
                   ) -> dict[str, Any]:
    """The ``restore_stream`` options behind the user-facing switches (``oldfilm restore``, ``--resume`` too),
    checked against the method they belong to: ``stabilize`` and ``grain`` (classical: "keep" =
    ``classical.KEEP_GRAIN``), ``ensemble`` (rtn: ``EngineConfig.ensemble``)."""
    from oldfilm.restore.classical import KEEP_GRAIN

    if grain not in GRAIN_MODES:
        raise UsageError(f"grain must be one of {', '.join(GRAIN_MODES)}, not {grain!r}")
    if (stabilize or grain != "remove") and method != "classical":
        raise UsageError("--stabilize and --grain are options of the classical method")
    if ensemble != 1 and method != "rtn":
        raise UsageError("the self-ensemble (--ensemble) is an option of the rtn method")
    options: dict[str, Any] = {"stabilize": True} if stabilize else {}
    if grain == "keep":
        options.update(KEEP_GRAIN)
    if ensemble != 1:
        options["ensemble"] = ensemble
    return options


def _preset(preset: str) -> str:
    """"auto" → the best shipped preset ("fast" when none ships: its missing weights are then reported)."""
    return (best_preset() or "fast") if preset == "auto" else preset


def restore_stream(frames: Iterable[np.ndarray], method: str = "classical", *, preset: str = "auto",
                   weights: str | Path | None = None, device: str = "auto", **options: Any) -> Iterator[np.ndarray]:
    """Restore a stream of (H, W, C) frames; yields one restored frame per input, in order.

    Args:
        method: "classical" (scratches, deflicker, motion-compensated median, denoise), "rtn" (the learned
            network) or "none" (frames passed through: for converting formats, fields and speed).
        preset: the RTN preset ("quality", "guided", "fast" or "rtn-paper"; "auto": the best one shipped).
        weights: a .safetensors file for RTN; None uses the weights shipped in the package.
        device: "auto", "cpu" or "cuda" (RTN only).
        options: fields of ``ClassicalConfig`` (classical) or ``EngineConfig`` (rtn).
    """
    if method == "none":
        return iter(frames)
    if method == "classical":
        from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer

        try:
            cfg = ClassicalConfig(**options)
        except TypeError as e:
            raise UsageError(f"bad option for the classical method: {e}") from None
        return ClassicalRestorer(cfg).run(frames)
    if method == "rtn":
        from oldfilm.restore.engine import EngineConfig, build_engine

        try:
            config = EngineConfig(**options)
        except TypeError as e:
            raise UsageError(f"bad option for the rtn method: {e}") from None
        return build_engine(preset=_preset(preset), weights=weights, device=device, config=config).run(frames)
    raise UsageError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
