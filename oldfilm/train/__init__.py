"""Training of the RTN network: corpus (``corpus``), clip sampling and synthetic camera motion (``data``,
``motion``), losses (``losses``), the loop with exact resume, EMA and DDP (``loop``), validation on the
evaluation clip (``validate``), run configs (``config``). Entry points: ``oldfilm train`` and
``python -m oldfilm.train`` (also under ``torchrun``). The colour refinement network's trainer: ``refine``
(``python -m oldfilm.train.refine RUN_DIR``)."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``run_training`` (``oldfilm train``), loaded on first use (torch is heavy)."""
    if name == "run_training":
        from oldfilm.train.api import run_training

        return run_training
    raise AttributeError(f"module 'oldfilm.train' has no attribute {name!r}")


__all__ = ["run_training"]
