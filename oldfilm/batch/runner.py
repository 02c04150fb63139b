"""``oldfilm batch``: many films on Ray. Each film is planned by one task (a sequential read: timestamps,
cuts, damage), its chunks are tasks (largest first across the batch, a few per CPU in flight), and one task
joins them with the audio. Tasks are retried when their worker dies (``max_retries``); a film whose task
fails is reported and does not stop the others. All files go through the filesystem (chunks in the hidden
work folder beside each output), so the paths must be visible to every node of a cluster; a rerun of the
same batch resumes from the chunks already made and skips finished films.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oldfilm.batch.chunked import (
    ChunkedResult,
    Settings,
    chunk_path,
    chunk_view,
    join_chunks,
    plan_chunks,
    restore_chunk_of,
)
from oldfilm.batch.manifest import FilmJob, load_jobs
from oldfilm.batch.plan import Chunk, FilmPlan, load_or_scan, work_dir
from oldfilm.errors import OldFilmError, OutputError, UsageError
from oldfilm.io.atomic import write_bytes_atomic

RETRIES = 3
"""Times a task is retried after its worker process (or node) died."""

Spent = tuple[float, float]
"""(wall-clock seconds, CPU seconds) a task took, or its start."""


@dataclass
class FilmReport:
    """One line of the batch report."""

    input: str
    output: str
    status: str = "pending"  # ok | failed | exists
    frames: int = 0
    lost_frames: int = 0
    lost_where: str = ""
    chunks: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0  # time the film's tasks (plan, chunks, join) ran, summed over workers
    cpu_seconds: float = 0.0  # CPU time those tasks used (less than seconds on a busy machine)
    fps: float = 0.0  # frames / seconds: one worker's throughput on this film
    flicker_in: float | None = None
    flicker_out: float | None = None
    error: str = ""


@dataclass
class _Film:
    job: FilmJob
    report: FilmReport
    settings: Settings
    plan: FilmPlan | None = None
    parts: list[Path] = field(default_factory=list)
    left: int = 0  # chunks not finished
    done_frames: int = 0


def run_batch(src: str | Path, out_dir: str | Path, *, method: str = "classical", preset: str = "auto",
              weights: str | Path | None = None, address: str | None = None, workers: int | None = None,
              chunk_frames: int = 500, codec: str = "auto", crf: int = 17, overwrite: bool = False,
              strict: bool = False, progress: bool = True,
              on_event: Callable[[str, FilmReport], None] | None = None) -> list[FilmReport]:
    """Restore every film of ``src`` (a folder or a CSV/JSON manifest, see ``manifest.py``) into
    ``out_dir`` on Ray: a local Ray with ``workers`` CPUs (None: all) unless ``address`` names a cluster (or
    Ray is already initialised). Writes ``batch-report.json`` and ``.csv`` in ``out_dir``; returns the
    reports. ``on_event(kind, report)`` is called as films finish ("ok", "failed", "exists"; before a
    finished film's work folder is removed)."""
    out_dir = Path(out_dir)
    jobs = load_jobs(src, out_dir, method, preset, weights)
    if chunk_frames < 1 or (workers is not None and workers < 1):
        raise UsageError(f"--chunk-frames and --workers must be ≥ 1, got {chunk_frames} and {workers}")
    if not out_dir.parent.is_dir():
        raise OutputError(f"{out_dir}: the folder {out_dir.parent} does not exist")
    out_dir.mkdir(exist_ok=True)
    for j in jobs:
        j.output.parent.mkdir(parents=True, exist_ok=True)  # a manifest's output may name a subfolder
    ray, started = _connect(address, workers)
    try:
        films = [_Film(j, FilmReport(str(j.input), str(j.output)),
                       Settings(j.method, j.preset, str(j.weights) if j.weights else None, max_frames=chunk_frames))
                 for j in jobs]
        _Scheduler(ray, films, codec=codec, crf=crf, overwrite=overwrite, strict=strict,
                   progress=progress, on_event=on_event).run()
    finally:
        if started:
            ray.shutdown()
    reports = [f.report for f in films]
    write_report(out_dir, reports)
    return reports


def _connect(address: str | None, workers: int | None) -> tuple[Any, bool]:
    try:
        import ray
    except ImportError:
        raise UsageError("oldfilm batch runs on Ray: pip install 'oldfilm[cluster]'") from None
    if ray.is_initialized():
        return ray, False
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    return ray, True


# -- tasks (run on Ray workers) ---------------------------------------------------------------------

def _one_thread() -> Spent:
    """One CPU per task: OpenCV's and torch's own thread pools would fight the other tasks for cores.
    Returns the start (wall clock, CPU time of this worker process)."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    return time.perf_counter(), time.process_time()


def _spent(t0: Spent) -> Spent:
    return time.perf_counter() - t0[0], time.process_time() - t0[1]


def _plan_task(src: str, work: str) -> tuple[FilmPlan, Spent]:
    t0 = _one_thread()
    return load_or_scan(src, Path(work)), _spent(t0)


def _chunk_task(src: str, out: str, chunk: Chunk, view: FilmPlan, settings: Settings) -> tuple[int, Spent]:
    t0 = _one_thread()
    if not Path(out).is_file():  # else finished by an earlier attempt
        restore_chunk_of(src, Path(out), chunk, view, settings)
    return chunk.frames, _spent(t0)


def _join_task(src: str, dst: str, plan: FilmPlan, parts: list[str], codec: str, crf: int,
               overwrite: bool) -> tuple[float | None, Spent]:
    t0 = _one_thread()
    _, flicker = join_chunks(src, Path(dst), plan, [Path(p) for p in parts], codec=codec, crf=crf,
                             overwrite=overwrite)
    return flicker, _spent(t0)


def _colour_task(job: FilmJob, codec: str, crf: int, overwrite: bool,
                 strict: bool) -> tuple[ChunkedResult, Spent]:
    """A film with colour keyframes, whole (colour propagates from its keyframes through the film)."""
    from oldfilm.api import restore
    from oldfilm.io.video import open_video

    t0 = _one_thread()
    colour = {"refs": list(job.refs), "ref_frames": list(job.ref_frames) or None, "exemplar": job.exemplar,
              "match_in": job.input}
    restore(job.input, job.output, method=job.method, preset=job.preset, weights=job.weights, codec=codec, crf=crf,
            overwrite=overwrite, colorize=colour, strict=strict)
    with open_video(job.output) as r:
        frames = sum(1 for _ in r)
    return ChunkedResult(job.output, frames, 1), _spent(t0)


class _Scheduler:
    """The driver loop: submit, wait, account, report progress."""

    def __init__(self, ray: Any, films: list[_Film], *, codec: str, crf: int, overwrite: bool, strict: bool,
                 progress: bool, on_event: Callable[[str, FilmReport], None] | None) -> None:
        self.ray, self.films = ray, films
        self.codec, self.crf, self.overwrite, self.strict = codec, crf, overwrite, strict
        self.on_event = on_event
        opts = {"max_retries": RETRIES, "retry_exceptions": False, "num_cpus": 1}
        self.plan = ray.remote(**opts)(_plan_task)
        self.chunk = ray.remote(**opts)(_chunk_task)
        self.join = ray.remote(**opts)(_join_task)
        self.colour = ray.remote(**opts)(_colour_task)
        self.pending: dict[Any, tuple[str, _Film, Chunk | None]] = {}
        self.queue: list[tuple[_Film, Chunk]] = []
        self.to_plan: list[_Film] = []
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.capacity = 2 * self.cpus
        from oldfilm.batch.progress import BatchProgress

        self.bar = BatchProgress(enabled=progress)

    def run(self) -> None:
        for f in self.films:
            if f.job.output.exists() and not self.overwrite:
                self._finish(f, "exists")
            elif f.job.colour:
                self._submit(self.colour.remote(f.job, self.codec, self.crf, self.overwrite, self.strict),
                             "colour", f)
            else:
                self.to_plan.append(f)
        self._fill()
        while self.pending:
            ready, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=1.0)
            for ref in ready:
                kind, film, chunk = self.pending.pop(ref)
                try:
                    value, (seconds, cpu) = self.ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a task's failure is the film's, reported
                    self._fail(film, e)
                    continue
                film.report.seconds += seconds
                film.report.cpu_seconds += cpu
                getattr(self, f"_on_{kind}")(film, value, chunk)
            self._fill()
        self.bar.close()

    def _submit(self, ref: Any, kind: str, film: _Film, chunk: Chunk | None = None) -> None:
        self.pending[ref] = (kind, film, chunk)

    def _fill(self) -> None:
        """Keep ``capacity`` chunk tasks in flight, the largest queued chunk first, and a first pass per CPU
        (so that chunks of the first films start while later films are still being read)."""
        while self.to_plan and sum(k == "plan" for k, _, _ in self.pending.values()) < self.cpus:
            f = self.to_plan.pop(0)
            self._submit(self.plan.remote(str(f.job.input), str(work_dir(f.job.output))), "plan", f)
        self.queue.sort(key=lambda fc: -fc[1].frames)
        while self.queue and sum(k == "chunk" for k, _, _ in self.pending.values()) < self.capacity:
            film, c = self.queue.pop(0)
            plan = film.plan
            assert plan is not None
            self._submit(self.chunk.remote(str(film.job.input), str(film.parts[c.index]), c,
                                           chunk_view(plan, c), film.settings), "chunk", film, c)

    def _on_plan(self, film: _Film, plan: FilmPlan, _: Chunk | None) -> None:
        film.plan = plan
        r = film.report
        r.frames, r.lost_frames, r.lost_where = plan.frames, plan.lost, plan.lost_message
        if not plan.frames:
            return self._fail(film, OldFilmError(f"{film.job.input}: no decodable video frames"))
        if plan.lost and self.strict:
            return self._fail(film, OldFilmError(f"{plan.lost} frame(s) lost to damage (--strict)"))
        chunks = plan_chunks(plan, film.settings)
        work = work_dir(film.job.output)
        film.parts = [chunk_path(work, plan, c, film.settings) for c in chunks]
        r.chunks = len(chunks)
        self.bar.add_film(film.job.input.name, plan.frames)
        for c, part in zip(chunks, film.parts, strict=True):
            if part.is_file():
                r.chunks_reused += 1
                self._count(film, c.frames)
            else:
                self.queue.append((film, c))
                film.left += 1
        if not film.left:
            self._join(film)

    def _on_chunk(self, film: _Film, frames: int, chunk: Chunk | None) -> None:
        if film.report.status == "failed":
            return
        film.left -= 1
        self._count(film, frames)
        if not film.left:
            self._join(film)

    def _on_join(self, film: _Film, flicker: float | None, _: Chunk | None) -> None:
        film.report.flicker_out = flicker
        if film.plan is not None and len(film.plan.means) > 1:
            from oldfilm.metrics.temporal import flicker_from_means

            film.report.flicker_in = flicker_from_means(film.plan.means)
        self._finish(film, "ok")
        shutil.rmtree(work_dir(film.job.output), ignore_errors=True)

    def _on_colour(self, film: _Film, result: ChunkedResult, _: Chunk | None) -> None:
        film.report.frames, film.report.chunks = result.frames, 1
        self.bar.add_film(film.job.input.name, result.frames)
        self._count(film, result.frames)
        self._finish(film, "ok")

    def _join(self, film: _Film) -> None:
        self._submit(self.join.remote(str(film.job.input), str(film.job.output), film.plan,
                                      [str(p) for p in film.parts], self.codec, self.crf, self.overwrite),
                     "join", film)

    def _count(self, film: _Film, frames: int) -> None:
        film.done_frames += frames
        self.bar.advance(film.job.input.name, frames)

    def _fail(self, film: _Film, e: BaseException) -> None:
        if film.report.status == "failed":
            return
        film.report.error = _error_text(e)
        self.queue = [(f, c) for f, c in self.queue if f is not film]
        for ref, (_, f, _) in list(self.pending.items()):
            if f is film:
                self.ray.cancel(ref)
        self._finish(film, "failed")

    def _finish(self, film: _Film, status: str) -> None:
        r = film.report
        r.status = status
        r.seconds, r.cpu_seconds = round(r.seconds, 3), round(r.cpu_seconds, 3)
        r.fps = round(r.frames / r.seconds, 2) if r.seconds and status == "ok" else 0.0
        self.bar.film_done(film.job.input.name, r)
        if self.on_event is not None:
            self.on_event(status, r)


def _error_text(e: BaseException) -> str:
    """One line: the task's own exception (Ray wraps it), else Ray's."""
    cause = getattr(e, "cause", None) or e
    text = str(cause).strip().splitlines()
    msg = text[0] if text else ""
    if isinstance(cause, OldFilmError):
        return msg
    return f"{type(cause).__name__}: {msg}" if msg else type(cause).__name__


def write_report(out_dir: Path, reports: list[FilmReport]) -> tuple[Path, Path]:
    """``batch-report.json`` and ``batch-report.csv`` in ``out_dir`` (atomically)."""
    rows = [asdict(r) for r in reports]
    jpath, cpath = out_dir / "batch-report.json", out_dir / "batch-report.csv"
    summary = {"films": len(rows), "ok": sum(r.status == "ok" for r in reports),
               "failed": sum(r.status == "failed" for r in reports),
               "frames": sum(r.frames for r in reports if r.status == "ok"), "results": rows}
    write_bytes_atomic(jpath, json.dumps(summary, indent=1).encode())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else list(FilmReport.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(cpath, buf.getvalue().encode())
    return jpath, cpath
