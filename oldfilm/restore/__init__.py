"""Restoration stages: the classical restorer (``classical``), the RTN engine (``engine``), the scene-cut
detector (``scenes``); ``restore_stream`` (``api``) runs one on a stream of frames. The file-level
``oldfilm.restore`` (in ``oldfilm.api``) runs it on files. Loaded on first use."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {"restore_stream": "api", "best_method": "api", "best_preset": "api", "METHODS": "api",
        "ClassicalConfig": "classical", "SceneDetector": "scenes"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"oldfilm.restore.{_API[name]}"), name)
    raise AttributeError(f"module 'oldfilm.restore' has no attribute {name!r}")


__all__ = list(_API)
