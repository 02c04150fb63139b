"""Files in and out: PyAV reader and writer (``video``), ``VideoInfo`` (``info``), frame folders and image
sequences (``images``, ``sequences``), codecs and metadata (``encode``, ``meta``, ``remux``), fields, speed
and picture area (``fields``, ``speed``, ``crop``, ``conform``), the one file-to-file path every command
uses (``transcode``), atomic outputs (``atomic``) and the packaged footage (``sources``).

The names below are what the command line and the web app use; they are loaded on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {"probe": "probe", "probe_fields": "fields", "resolve_crop": "crop", "cache_dir": "sources",
        "VideoInfo": "info"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"oldfilm.io.{_API[name]}"), name)
    raise AttributeError(f"module 'oldfilm.io' has no attribute {name!r}")


__all__ = list(_API)
