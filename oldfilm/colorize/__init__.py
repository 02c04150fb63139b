"""Colourisation: colour one frame (or give a photo), propagate along the flow, refine (issue 8).

``colorize_stream(frames, refs=..., ref_frames=..., exemplar=...)`` lives in ``oldfilm.colorize.api`` (the
file-level ``oldfilm.colorize(src, dst, ...)`` in ``oldfilm.api``); names are loaded on first use so
``import oldfilm.colorize`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {"colorize_stream": "api", "AdaptConfig": "adapt", "ColorizeConfig": "api", "match_reference_frames": "api",
        "PropagateConfig": "propagate", "TransferConfig": "transfer", "transfer_colour": "transfer"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"oldfilm.colorize.{_API[name]}"), name)
    raise AttributeError(f"module 'oldfilm.colorize' has no attribute {name!r}")


__all__ = list(_API)
