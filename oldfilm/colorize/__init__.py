"""Colourisation: colour one frame (or give a photo), propagate along the flow, refine (issue 8).

``colorize(src, dst, refs=..., ref_frames=..., exemplar=...)`` and ``colorize_stream(frames, ...)`` live in
``oldfilm.colorize.api``; they are loaded on first use so ``import oldfilm.colorize`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {"colorize": "api", "colorize_stream": "api", "ColorizeConfig": "api", "match_reference_frames": "api",
        "PropagateConfig": "propagate", "TransferConfig": "transfer", "transfer_colour": "transfer"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"oldfilm.colorize.{_API[name]}"), name)
    raise AttributeError(f"module 'oldfilm.colorize' has no attribute {name!r}")


__all__ = list(_API)
