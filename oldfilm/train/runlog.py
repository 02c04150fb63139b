"""A run folder's CSV logs (``log.csv``, ``val.csv``): appended row by row, cut back on resume; and the
metadata a run writes into every weights file it saves."""

from __future__ import annotations

import csv
from pathlib import Path


def weights_meta(run: str, step: int, weights: str = "ema", **more: str) -> dict[str, str]:
    """The safetensors metadata of a run's weights (snapshots, ``best.safetensors``, exports): the run, its step,
    which weights ("ema" or "raw"), and ``more`` as ``oldfilm.train.<key>`` entries."""
    meta = {"oldfilm.train.run": run, "oldfilm.train.step": str(step), "oldfilm.train.weights": weights}
    return meta | {f"oldfilm.train.{k}": v for k, v in more.items()}


def truncate_csv(path: Path, step: int) -> None:
    """Drop the rows logged after ``step`` (by a run interrupted after its last checkpoint)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and any(int(r["step"]) > step for r in rows):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(r for r in rows if int(r["step"]) <= step)


def append_csv(path: Path, fieldnames: tuple[str, ...], row: dict[str, float]) -> None:
    """Append ``row``; a file begun with fewer columns (an older version's run) keeps its header."""
    new = not path.exists()
    if not new:
        with open(path, newline="") as f:
            header = next(csv.reader(f), None)
        if header:
            fieldnames = tuple(header)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fieldnames, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
