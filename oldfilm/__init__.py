"""oldfilm — restore and colourise old films (after RTN, Wan et al., CVPR 2022).

Public API (imports are lazy: ``import oldfilm`` stays light; the file-level functions live in
``oldfilm.api``, their stream stages in ``oldfilm.restore``, ``oldfilm.colorize`` and ``oldfilm.degrade``):
    restore(src, dst, ...)      restore a video file or image folder, streaming (colour it in the same pass)
    degrade(src, dst, ...)      make a clean clip look like an old film
    colorize(src, dst, ...)     colour a black-and-white clip from reference frames
    load_model(name_or_file)    an RTN network with its weights
    restore_chunked(src, dst)   restore in resumable chunks (``oldfilm restore --resume``)
    run_batch(src, out_dir)     restore many films on Ray (``oldfilm batch``)
"""

from __future__ import annotations

import os
import sys
import types
from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# torch's OpenMP threads spin while waiting; on a busy machine that made the RTN engine 3-4× slower with 2
# threads than with 1 (benchmarks/speed.py). Passive waiting costs little when idle. Must precede `import torch`.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_API = {
    "restore": "oldfilm.api",
    "degrade": "oldfilm.api",
    "colorize": "oldfilm.api",
    "ColorizeReport": "oldfilm.api",
    "load_model": "oldfilm.models.weights",
    "probe": "oldfilm.io.probe",
    "restore_chunked": "oldfilm.batch.chunked",
    "run_batch": "oldfilm.batch.runner",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'oldfilm' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``oldfilm.restore`` is both a subpackage and a public function: importing the subpackage must not
    replace the function (the import system sets a parent attribute per submodule), so that is ignored."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
__all__ = list(_API)
