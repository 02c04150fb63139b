"""oldfilm — restore and colourise old films (after RTN, Wan et al., CVPR 2022).

Public API (imports are lazy: ``import oldfilm`` stays light):
    restore(src, dst, ...)      restore a video file or image folder, streaming
    degrade(src, dst, ...)      make a clean clip look like an old film
    colorize(src, dst, ...)     colour a black-and-white clip from reference frames
    load_model(name_or_file)    an RTN network with its weights
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "restore": "oldfilm.restore.api",
    "degrade": "oldfilm.degrade.api",
    "colorize": "oldfilm.colorize.api",
    "load_model": "oldfilm.models.weights",
    "probe": "oldfilm.io.probe",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'oldfilm' has no attribute {name!r}")


__all__ = list(_API)
