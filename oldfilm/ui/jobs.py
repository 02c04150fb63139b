"""Background jobs: restore (optionally + colour) or colour a whole film, one at a time, in a worker thread.

A job lives in ``jobs/<id>/`` of the work folder: ``job.json`` (its state, rewritten as it runs, so jobs
are found again after a reload or a restart), the colour reference it was given, and its output once
finished. The output is written by ``oldfilm.restore`` / ``oldfilm.colorize``, atomically: cancelling makes
the progress callback raise, the writer then discards its hidden temporary, and nothing half-written is
left. A job that was running when the server stopped is marked "interrupted" on the next start.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oldfilm.errors import OldFilmError, UsageError
from oldfilm.ui.workspace import ColourRef, Video, Workspace, check_id, new_id, write_json

log = logging.getLogger("oldfilm")

KINDS = ("restore", "colorize")
CODECS = {"h264": ".mp4", "ffv1": ".mkv"}
ACTIVE = ("queued", "running")


class Cancelled(Exception):
    """Raised inside a job's progress callback once the job is cancelled."""


@dataclass
class Job:
    """One job's record (what ``job.json`` holds). ``done``/``total`` count frames written."""

    id: str
    video: str
    name: str
    kind: str
    params: dict[str, Any]
    output: str
    state: str = "queued"
    done: int = 0
    total: int | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    message: str = ""

    def eta(self) -> float | None:
        """Seconds left, from the mean time per frame so far."""
        if self.state != "running" or not self.done or not self.total or self.started is None:
            return None
        return (time.time() - self.started) / self.done * max(self.total - self.done, 0)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "eta": self.eta()}


class JobManager:
    """Queue, run, cancel and remember jobs of one work folder."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self._jobs: dict[str, Job] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._load()
        self._worker = threading.Thread(target=self._work, name="oldfilm-ui-jobs", daemon=True)
        self._worker.start()

    def _dir(self, jid: str) -> Path:
        return self.ws.root / "jobs" / check_id(jid, "job")

    def _load(self) -> None:
        for meta in (self.ws.root / "jobs").glob("*/job.json"):
            try:
                job = Job(**json.loads(meta.read_text()))
            except (ValueError, TypeError):
                log.warning("%s: unreadable job record, ignored", meta)
                continue
            if job.state in ACTIVE:  # the server stopped under it: its writer's temporary may be left
                job.state, job.message = "interrupted", "the server stopped before the job finished"
                for tmp in meta.parent.glob(".*oldfilm-partial*"):
                    shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
                write_json(meta, asdict(job))
            self._jobs[job.id] = job

    # -- public --------------------------------------------------------------------------------------------
    def submit(self, video: Video, kind: str, *, method: str = "classical", preset: str = "auto",
               codec: str = "h264", colour: bool = False) -> Job:
        """Queue a job on ``video``: "restore" (``colour``: and colour it in the same pass) or "colorize"."""
        if kind not in KINDS:
            raise UsageError(f"unknown job kind {kind!r}")
        if codec not in CODECS:
            raise UsageError(f"unknown codec {codec!r}; choose from {', '.join(CODECS)}")
        ref = self.ws.colour(video.id) if (colour or kind == "colorize") else None
        if (colour or kind == "colorize") and ref is None:
            raise UsageError("colouring needs a colour reference: upload a coloured keyframe or an exemplar first")
        jid = new_id()
        folder = self._dir(jid)
        folder.mkdir()
        params: dict[str, Any] = {"method": method, "preset": preset, "codec": codec, "colour": ref is not None}
        if ref is not None:  # the job keeps its own copy: a later keyframe does not change a queued job
            shutil.copyfile(ref.path, folder / "reference.png")
            params["ref_frame"] = ref.frame
        stem = Path(video.name).stem.replace(" ", "_") or "film"
        suffix = "colour" if kind == "colorize" else ("restored-colour" if ref else "restored")
        job = Job(jid, video.id, video.name, kind, params, f"{stem}-{suffix}{CODECS[codec]}")
        with self._lock:
            self._jobs[jid] = job
            self._cancel[jid] = threading.Event()
            self._save(job)
        self._queue.put(jid)
        return job

    def get(self, jid: str) -> Job:
        with self._lock:
            job = self._jobs.get(check_id(jid, "job"))
            if job is None:
                raise UsageError(f"unknown job {jid!r}")
            return job

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def output(self, jid: str) -> Path:
        """The finished output of job ``jid``."""
        job = self.get(jid)
        if job.state != "done":
            raise UsageError(f"job {jid} has no output (it is {job.state})")
        return self._dir(jid) / job.output

    def cancel(self, jid: str) -> Job:
        """Stop a queued or running job; whatever it had written is removed."""
        job = self.get(jid)
        with self._lock:
            if job.state in ACTIVE:
                self._cancel[jid].set()
                if job.state == "queued":
                    self._finish(job, "cancelled", "cancelled before it started")
        return job

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what runs, stop the worker (at server shutdown)."""
        for job in self.jobs():
            if job.state in ACTIVE:
                self.cancel(job.id)
        self._queue.put(None)
        self._worker.join(timeout)

    # -- the worker ----------------------------------------------------------------------------------------
    def _save(self, job: Job) -> None:
        write_json(self._dir(job.id) / "job.json", asdict(job))

    def _finish(self, job: Job, state: str, message: str = "") -> None:
        job.state, job.message, job.finished = state, message, time.time()
        self._save(job)

    def _work(self) -> None:
        while (jid := self._queue.get()) is not None:
            job = self.get(jid)
            with self._lock:
                if job.state != "queued":
                    continue
                job.state, job.started = "running", time.time()
                self._save(job)
            try:
                self._run(job, self._cancel[jid])
                state, message = "done", ""
            except Cancelled:
                state, message = "cancelled", "cancelled; nothing was kept"
            except OldFilmError as e:
                state, message = "failed", str(e)
            except Exception as e:  # noqa: BLE001 - a failed job is shown in the page, the server goes on
                log.exception("job %s failed", jid)
                state, message = "failed", f"{e.__class__.__name__}: {e}"
            with self._lock:
                self._finish(job, state, message)

    def report(self, job: Job, cancel: threading.Event, done: int, total: int | None) -> None:
        """The progress callback of a running job: raises ``Cancelled`` once the job is cancelled."""
        if cancel.is_set():
            raise Cancelled
        last = job.done
        job.done, job.total = done, total
        if done == 1 or done // 25 != last // 25:  # the record on disk is refreshed every 25 frames
            with self._lock:
                self._save(job)

    def _run(self, job: Job, cancel: threading.Event) -> None:
        import oldfilm

        video = self.ws.video(job.video)
        folder = self._dir(job.id)
        out, p = folder / job.output, job.params
        colour = ColourRef(folder / "reference.png", p.get("ref_frame")).colorize_kwargs() if p["colour"] else None

        def progress(done: int, total: int | None) -> None:
            self.report(job, cancel, done, total)

        if job.kind == "restore":
            oldfilm.restore(video.source, out, method=p["method"], preset=p["preset"], codec=p["codec"],
                            progress=progress, colorize=colour and {**colour, "match_in": video.source})
        else:
            oldfilm.colorize(video.source, out, **(colour or {}), codec=p["codec"], progress=progress)
