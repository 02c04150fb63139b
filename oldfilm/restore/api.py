"""``restore()``: a video file or frame folder in, a restored one out, streaming, atomically.

``restore_stream()`` is the same on in-memory frame iterators (what benchmarks and tests call).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from oldfilm.errors import InputError, UsageError

log = logging.getLogger("oldfilm")

METHODS = ("classical", "rtn", "none")


SHIPPED_ORDER = ("quality", "guided", "fast")
"""RTN presets in order of preference (measured on ``oldfilm bench``) when their weights ship."""


def best_preset() -> str | None:
    """The best RTN preset whose weights ship in this install (``SHIPPED_ORDER``), or None."""
    from oldfilm.models.weights import shipped_path

    return next((p for p in SHIPPED_ORDER if shipped_path(p).is_file()), None)


def best_method() -> str:
    """The best method this install can run: "rtn" once weights for an RTN preset ship, else "classical"."""
    return "rtn" if best_preset() else "classical"


def _preset(preset: str) -> str:
    """"auto" → the best shipped preset ("fast" when none ships: its missing weights are then reported)."""
    return (best_preset() or "fast") if preset == "auto" else preset


def restore_stream(frames: Iterable[np.ndarray], method: str = "classical", *, preset: str = "auto",
                   weights: str | Path | None = None, device: str = "auto", **options: Any) -> Iterator[np.ndarray]:
    """Restore a stream of (H, W, C) frames; yields one restored frame per input, in order.

    Args:
        method: "classical" (scratches, deflicker, motion-compensated median, denoise), "rtn" (the learned
            network) or "none" (frames passed through: for converting formats, fields and speed).
        preset: the RTN preset ("quality", "guided", "fast" or "rtn-paper"; "auto": the best one shipped).
        weights: a .safetensors file for RTN; None uses the weights shipped in the package.
        device: "auto", "cpu" or "cuda" (RTN only).
        options: fields of ``ClassicalConfig`` (classical) or ``EngineConfig`` (rtn).
    """
    if method == "none":
        return iter(frames)
    if method == "classical":
        from oldfilm.restore.classical import ClassicalConfig, ClassicalRestorer

        try:
            cfg = ClassicalConfig(**options)
        except TypeError as e:
            raise UsageError(f"bad option for the classical method: {e}") from None
        return ClassicalRestorer(cfg).run(frames)
    if method == "rtn":
        from oldfilm.restore.engine import EngineConfig, build_engine

        try:
            config = EngineConfig(**options)
        except TypeError as e:
            raise UsageError(f"bad option for the rtn method: {e}") from None
        return build_engine(preset=_preset(preset), weights=weights, device=device, config=config).run(frames)
    raise UsageError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def restore(src: str | Path, dst: str | Path, *, method: str = "classical", preset: str = "auto",
            weights: str | Path | None = None, device: str = "auto", start: int = 0, end: int | None = None,
            codec: str = "auto", crf: int = 17, overwrite: bool = False,
            progress: Callable[[int, int | None], None] | None = None,
            colorize: dict[str, Any] | None = None, fields: str = "auto", fps: float | None = None,
            crop: str | None = None, strict: bool = False,
            stabilize: bool = False) -> Path:
    """Restore ``src`` (video file or frame folder) into ``dst``; returns ``dst``.

    Keeps size, fps, per-frame timestamps and the audio/subtitle streams (copied, trimmed to
    ``start``/``end`` frames), timecode, colour tags, rotation and sample depth. ``fields`` ("auto", "ivtc",
    "deinterlace", "none"), ``fps`` (retime) and ``crop`` ("auto" or "WxH+X+Y": restore only the picture
    area) are ``oldfilm.io.conform`` and ``oldfilm.io.crop``'s. ``colorize`` (keyword arguments of
    ``oldfilm.colorize.colorize_stream``) colours the restored frames in the same pass. ``progress(done,
    total)`` is called after each frame. Frames a damaged input lost are reported on stderr (the survivors
    keep their timestamps); ``strict`` makes any loss an ``InputError``.
    Nothing is left at ``dst`` unless the whole run succeeds.
    """
    from oldfilm.io.conform import conform
    from oldfilm.io.crop import resolve_crop, restore_within
    from oldfilm.io.video import VideoWriter, open_video

    if start < 0 or (end is not None and end <= start):
        raise UsageError(f"bad frame range: start={start}, end={end}")
    if stabilize and method != "classical":
        raise UsageError("stabilisation (--stabilize) is an option of the classical method")
    with open_video(src) as reader:
        total = reader.info.frame_count
        if total is not None:
            total = max(0, (min(total, end) if end is not None else total) - start)
        film = conform(reader, start, end, fields=fields, fps=fps)
        info = film.info
        if total is not None and info.frame_count and reader.info.frame_count:  # fewer after ivtc or --fps
            total = total * info.frame_count // reader.info.frame_count
        stamps: deque[int | None] = deque()

        def frames() -> Iterator[np.ndarray]:
            for arr, pts in film.pairs:
                stamps.append(pts)
                yield arr
            if strict and reader.losses:
                raise InputError(reader.describe_losses().split(";")[0] + " (--strict)")

        box = resolve_crop(crop, info, start)
        options = {"stabilize": True} if stabilize else {}
        stream = restore_within(frames(), box, lambda fs: restore_stream(fs, method, preset=preset, weights=weights,
                                                                         device=device, **options))
        if colorize is not None:
            from oldfilm.colorize.api import colorize_stream

            stream = colorize_stream(stream, **colorize)
            info = _as_colour(info)
        audio = src if (info.has_audio and not info.is_folder and film.keep_audio) else None
        trim = start > 0 or end is not None
        with VideoWriter(dst, info, codec=codec, crf=crf, overwrite=overwrite, audio_from=audio,
                         trim_audio=trim) as writer:
            for out in stream:
                writer.write(out, stamps.popleft() if stamps else None)
                if progress is not None:
                    progress(writer.frames_written, total)
            if writer.frames_written == 0:
                raise InputError(f"{src}: no decodable video frames"
                                 + (f" in the range {start}..{end}" if start or end is not None else ""))
    return Path(dst)


def _as_colour(info: Any) -> Any:
    from dataclasses import replace

    return replace(info, channels=3)
