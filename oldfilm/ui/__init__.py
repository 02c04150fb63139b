"""``oldfilm ui``: a local web app over the public API (needs ``pip install 'oldfilm[ui]'``).

A Starlette app (``server.py``) with a plain HTML/JS page (``static/``), the work folder (``workspace.py``:
videos, keyframes, nothing written elsewhere), background jobs (``jobs.py``: restore / colour a whole film,
progress, cancel) and the quick views (``views.py``: frames, before/after on a window, colour preview,
metrics). No restoration logic lives here: every pixel comes from ``oldfilm.restore``, ``restore_stream``,
``oldfilm.colorize`` and ``oldfilm.metrics``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def create_app(work: str | Path, **options: Any) -> Any:
    """The ASGI app serving ``work`` (see ``oldfilm.ui.server.create_app``)."""
    from oldfilm.ui.server import create_app as _create

    return _create(Path(work), **options)


def serve(work: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **options: Any) -> None:
    """Serve the app on ``host:port`` until stopped (Ctrl-C); prints the local address."""
    from oldfilm.ui.server import serve as _serve

    _serve(Path(work), host=host, port=port, **options)
