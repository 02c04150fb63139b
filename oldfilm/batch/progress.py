"""Terminal progress of a batch: one bar for the whole batch and one per film in progress (tqdm, on
stderr: frames, frames/s, ETA), and a line per finished film."""

from __future__ import annotations

import sys
from typing import Any


class BatchProgress:
    """Fed by the scheduler: ``add_film`` when a film's frame count is known, ``advance`` as chunks finish,
    ``film_done`` at the end of each film."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.total: Any = None
        self.films: dict[str, Any] = {}

    def _bar(self, desc: str, total: int, position: int) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, dynamic_ncols=True,
                    position=position, leave=position == 0)

    def add_film(self, name: str, frames: int) -> None:
        if not self.enabled:
            return
        if self.total is None:
            self.total = self._bar("batch", 0, 0)
        self.total.total = (self.total.total or 0) + frames
        self.total.refresh()
        self.films[name] = self._bar(name[:24], frames, len(self.films) + 1)

    def advance(self, name: str, frames: int) -> None:
        if not self.enabled:
            return
        if name in self.films:
            self.films[name].update(frames)
        if self.total is not None:
            self.total.update(frames)

    def film_done(self, name: str, report: Any) -> None:
        if not self.enabled:
            return
        bar = self.films.pop(name, None)
        if bar is not None:
            bar.close()
        from tqdm import tqdm

        if report.status == "ok":
            line = f"{name}: ok, {report.frames} frames, {report.seconds:.1f} s of work ({report.fps:.1f} frames/s)"
            if report.lost_frames:
                line += f"; {report.lost_frames} frame(s) lost to damage"
        elif report.status == "exists":
            line = f"{name}: output exists, skipped (--overwrite to redo)"
        else:
            line = f"{name}: FAILED: {report.error}"
        tqdm.write(line, file=sys.stderr)

    def close(self) -> None:
        for bar in self.films.values():
            bar.close()
        if self.total is not None:
            self.total.close()
