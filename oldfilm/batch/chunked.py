"""Restore a film chunk by chunk, each to a lossless FFV1 intermediate in a hidden work folder beside the
output, then join them with the source's audio into the output (atomically). Chunks are named by a key of
everything that decides their pixels (input signature, frame range and context, cut flags, method, preset,
weights, options, code version), so a rerun of the same command reuses the finished ones and a changed
setting redoes only what it affects; the output's codec and CRF affect only the join."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from oldfilm.batch.plan import (
    Chunk,
    FilmPlan,
    clean_partials,
    code_version,
    context,
    digest,
    full_work,
    input_signature,
    load_or_scan,
    split,
    work_dir,
)
from oldfilm.errors import InputError, OutputError, UsageError
from oldfilm.io.atomic import check_output
from oldfilm.io.conform import conform
from oldfilm.io.transcode import Output, writer_for
from oldfilm.io.video import VideoWriter, open_video

log = logging.getLogger("oldfilm")


@dataclass(frozen=True)
class Settings:
    """What decides a chunk's pixels.

    Attributes:
        method: "classical" or "rtn".
        preset: RTN preset ("auto": the best shipped).
        weights: RTN weights file (None: shipped).
        device: "auto", "cpu" or "cuda".
        options: ``ClassicalConfig`` or ``EngineConfig`` fields, as (name, value) pairs.
        max_frames: output frames per chunk at most.
    """

    method: str = "classical"
    preset: str = "auto"
    weights: str | None = None
    device: str = "auto"
    options: tuple[tuple[str, Any], ...] = ()
    max_frames: int = 500

    def key_material(self) -> list[Any]:
        weights = [self.weights, input_signature(self.weights)] if self.weights else None
        return [self.method, self.preset, weights, sorted(self.options), code_version()]


@dataclass
class ChunkedResult:
    """What ``restore_chunked`` did."""

    path: Path
    frames: int
    chunks: int
    reused: list[int] = field(default_factory=list)  # chunk indices finished by an earlier run
    restored: list[int] = field(default_factory=list)  # chunk indices restored by this run
    lost: int = 0
    lost_message: str = ""
    seconds: float = 0.0
    flicker_in: float | None = None
    flicker_out: float | None = None


def chunk_key(plan: FilmPlan, chunk: Chunk, settings: Settings) -> str:
    a, b = chunk.first, chunk.stop
    return digest([plan.signature, plan.start, plan.fields, chunk.start, chunk.end, chunk.lead, chunk.tail,
                   plan.pts[a:b], plan.cuts[a:b], settings.key_material()])


def chunk_path(work: Path, plan: FilmPlan, chunk: Chunk, settings: Settings) -> Path:
    return work / f"c{chunk.start:08d}-{chunk_key(plan, chunk, settings)}.mkv"


def plan_chunks(plan: FilmPlan, settings: Settings) -> list[Chunk]:
    lead, tail = context(settings.method, dict(settings.options))
    return split(plan.cuts, settings.max_frames, lead, tail)


def chunk_view(plan: FilmPlan, chunk: Chunk) -> FilmPlan:
    """The plan cut down to what restoring ``chunk`` needs (its frames' pts and cuts): what a task ships."""
    return replace(plan, pts=plan.pts[chunk.first: chunk.stop], cuts=plan.cuts[chunk.first: chunk.stop],
                   means=[], losses=[])


def restore_chunk(src: str | Path, out: Path, chunk: Chunk, plan: FilmPlan, settings: Settings) -> int:
    """Restore one chunk of the film ``plan`` describes into ``out`` (FFV1 .mkv, written atomically).
    Returns the number of frames written."""
    return restore_chunk_of(src, out, chunk, chunk_view(plan, chunk), settings)


def restore_chunk_of(src: str | Path, out: Path, chunk: Chunk, view: FilmPlan, settings: Settings) -> int:
    """``restore_chunk`` given ``chunk_view(plan, chunk)``."""
    for seek in (True, False) if view.direct else (False,):
        try:
            return _restore_chunk(src, out, chunk, view, settings, seek)
        except _SeekFailed:
            continue  # a damaged or odd stream: decode from the start instead
    raise AssertionError("unreachable")


class _SeekFailed(Exception):
    pass


def _restore_chunk(src: str | Path, out: Path, chunk: Chunk, view: FilmPlan, settings: Settings,
                   seek: bool) -> int:
    from oldfilm.restore.api import restore_stream

    pts, cuts = view.pts, view.cuts
    with open_video(src) as reader:
        def frames() -> Iterator[np.ndarray]:
            if seek:
                try:
                    for arr, _ in reader.frames_at([int(p) for p in pts if p is not None]):
                        yield arr
                except InputError as e:
                    raise _SeekFailed(str(e)) from None
                return
            # in order, as the whole run reads it (conform: range, fields), from the film's first frame
            for i, (arr, _) in enumerate(conform(reader, view.start, view.end, fields=view.fields).pairs):
                if i >= chunk.first:
                    yield arr
                if i + 1 >= chunk.stop:
                    return
            raise InputError(f"{src}: changed since it was planned (fewer frames than {chunk.stop})")

        opts = dict(settings.options)
        if settings.method == "classical":
            from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer

            prime = max(0, chunk.lead - full_work("classical", opts))  # warm-up of the ingest stage only
            stream = ClassicalRestorer(ClassicalConfig(**opts)).run(frames(), cuts=cuts, prime=prime)
        else:
            prime = 0
            stream = restore_stream(frames(), settings.method, preset=settings.preset,
                                    weights=settings.weights, device=settings.device, **opts)
        with VideoWriter(out, reader.info, codec="ffv1", overwrite=True) as writer:
            for k, img in enumerate(stream, prime):
                if chunk.lead <= k < chunk.lead + chunk.frames:
                    writer.write(img, pts[k])
            if writer.frames_written != chunk.frames:
                raise OutputError(f"{src}: chunk {chunk.index} gave {writer.frames_written} of "
                                  f"{chunk.frames} frames")
    return chunk.frames


def join_chunks(src: str | Path, dst: Path, plan: FilmPlan, parts: list[Path], *, codec: str = "auto",
                crf: int = 17, overwrite: bool = False) -> tuple[int, float | None]:
    """Write the chunks' frames, with the plan's timestamps and the source's audio, into ``dst``
    (atomically). Returns (frames, flicker index of the output)."""
    from oldfilm.colorspace import rgb_to_luma
    from oldfilm.metrics.temporal import flicker_from_means

    with open_video(src) as reader:
        info = conform(reader, plan.start, plan.end, fields=plan.fields).info  # what the whole run writes
    trim = plan.start > 0 or plan.end is not None
    means: list[float] = []
    with writer_for(src, dst, info, Output(codec, crf, overwrite), trim=trim) as writer:
        i = 0
        for part in parts:
            with open_video(part) as r:
                for arr in r:
                    writer.write(arr, plan.pts[i])
                    means.append(float(rgb_to_luma(arr).mean()))
                    i += 1
        if i != plan.frames:
            raise OutputError(f"{dst}: the chunks hold {i} frames, the film {plan.frames}")
    return i, (flicker_from_means(np.asarray(means)) if len(means) > 1 else None)


def check_strict(plan: FilmPlan, strict: bool) -> None:
    """Warn about lost frames; with ``strict`` refuse to go on."""
    if not plan.lost:
        return
    if strict:
        raise InputError(f"{plan.lost_message.split(';')[0]} (--strict)")
    log.warning("%s", plan.lost_message)


def restore_chunked(src: str | Path, dst: str | Path, *, method: str = "classical", preset: str = "auto",
                    weights: str | Path | None = None, device: str = "auto", chunk_frames: int = 500,
                    start: int = 0, end: int | None = None, fields: str = "auto", codec: str = "auto",
                    crf: int = 17, overwrite: bool = False, strict: bool = False,
                    progress: Callable[[int, int | None], None] | None = None,
                    scan_progress: Callable[[int, int | None], None] | None = None, keep_work: bool = False,
                    **options: Any) -> ChunkedResult:
    """Restore ``src`` into ``dst`` chunk by chunk (at most ``chunk_frames`` each) in this process,
    resuming from the chunks a killed or interrupted run of the same command left in the work folder
    (``plan.work_dir(dst)``). The output appears only when all is done; the work folder is then removed
    (unless ``keep_work``). ``scan_progress`` follows the first pass (``plan.scan_film``), ``progress`` the
    chunks. Other arguments as ``oldfilm.restore``; ``options`` as ``restore_stream``'s."""
    t0 = time.perf_counter()
    from oldfilm.restore.api import METHODS

    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if chunk_frames < 1:
        raise UsageError(f"chunk_frames must be ≥ 1, got {chunk_frames}")
    settings = Settings(method, preset, str(weights) if weights else None, device,
                        tuple(sorted(options.items())), chunk_frames)
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise InputError(f"{src}: no such file or folder")
    check_output(dst, [src], overwrite)
    if dst.suffix == "" or dst.is_dir():
        raise OutputError(f"{dst}: --resume writes a video file (.mkv/.mp4/.mov), not a frame folder")
    work = work_dir(dst)
    work.mkdir(exist_ok=True)
    clean_partials(work)
    plan = load_or_scan(src, work, start, end, fields, scan_progress)
    if not plan.frames:
        raise InputError(f"{src}: no decodable video frames")
    check_strict(plan, strict)
    chunks = plan_chunks(plan, settings)
    result = ChunkedResult(dst, plan.frames, len(chunks), lost=plan.lost, lost_message=plan.lost_message)
    parts = [chunk_path(work, plan, c, settings) for c in chunks]
    done = 0
    for c, part in zip(chunks, parts, strict=True):
        if part.is_file():
            result.reused.append(c.index)
        else:
            restore_chunk(src, part, c, plan, settings)
            result.restored.append(c.index)
        done += c.frames
        if progress is not None:
            progress(done, plan.frames)
    _, result.flicker_out = join_chunks(src, dst, plan, parts, codec=codec, crf=crf, overwrite=overwrite)
    if len(plan.means) > 1:
        from oldfilm.metrics.temporal import flicker_from_means

        result.flicker_in = flicker_from_means(np.asarray(plan.means))
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.perf_counter() - t0
    return result
