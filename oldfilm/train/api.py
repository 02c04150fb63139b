"""What the CLI and ``python -m oldfilm.train`` call."""

from __future__ import annotations

from pathlib import Path

from oldfilm.train.config import load_config, with_overrides


def run_training(config: str | Path, run_dir: str | Path, *, steps: int | None = None, stop_at: int | None = None,
                 init: str | Path | None = None, export: str | Path | None = None,
                 minutes: float | None = None) -> Path:
    """Train (resuming from ``run_dir`` when it holds a checkpoint) with ``config`` (a ``TRAIN_PRESETS``
    name or a JSON file); ``init``: a .safetensors file a new run starts from (fine-tuning); with ``export``,
    only write the run's EMA weights there; ``minutes``: stop (with a checkpoint) after this much wall time.
    Returns the run folder or the exported file."""
    from oldfilm.train.loop import export_weights, train

    if export is not None:
        return export_weights(run_dir, export)
    cfg = with_overrides(load_config(config), init=str(init) if init else None)
    train(cfg, run_dir, stop_at=stop_at, minutes=minutes, steps=steps)
    return Path(run_dir)
