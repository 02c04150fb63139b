"""One path from file to frames and back, for every command that writes a film (restore, colorize,
degrade): open the input, hand its frames to a stream stage, write what comes out with the input's
timestamps, audio and metadata, atomically, with progress.

Stages are plain stream functions — an iterator of (H, W, C) frames in, one frame per input out, in order
(``restore_stream``, ``colorize_stream``, ...) — so they neither see timestamps nor files: each frame's
timestamp waits here, in arrival order, until its output comes back.

Example::

    with Transcode(src, dst, window=Window(start=5)) as t:
        t.run(my_stage(t.frames()))
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from oldfilm.errors import InputError, UsageError
from oldfilm.io.info import VideoInfo
from oldfilm.io.video import VideoReader, VideoWriter, open_video

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``: called after each frame written (total None when unknown)."""


@dataclass(frozen=True)
class Window:
    """Which of the source's frames become the film's (``oldfilm.io.conform``).

    Attributes:
        start: first frame (index in the source).
        end: stop before this frame index (None: to the end).
        fields: "auto", "ivtc", "deinterlace" or "none" (``oldfilm.io.fields``).
        fps: retime to this rate (``oldfilm.io.speed``); None: keep.
    """

    start: int = 0
    end: int | None = None
    fields: str = "auto"
    fps: float | None = None

    def describe(self) -> str:
        """" in the range a..b" when a range was asked for, else ""."""
        return f" in the range {self.start}..{self.end}" if self.start or self.end is not None else ""


@dataclass(frozen=True)
class Output:
    """How the output is encoded (``oldfilm.io.video.VideoWriter``).

    Attributes:
        codec: "auto", "h264", "h264-444", "ffv1", "prores", "prores4444", "dnxhr" (files) or "png", "tiff",
            "dpx", "exr" (folders).
        crf: H.264 constant rate factor (17 ≈ visually lossless).
        overwrite: replace an existing output.
    """

    codec: str = "auto"
    crf: int = 17
    overwrite: bool = False


def writer_for(src: str | Path, dst: str | Path, info: VideoInfo, output: Output = Output(), *,
               keep_audio: bool = True, trim: bool = False) -> VideoWriter:
    """A ``VideoWriter`` for ``dst`` that copies ``src``'s audio and subtitles (when it has them and
    ``keep_audio``; ``trim``: cut them to the frames written)."""
    audio = src if (info.has_audio and not info.is_folder and keep_audio) else None
    return VideoWriter(dst, info, codec=output.codec, crf=output.crf, overwrite=output.overwrite,
                       audio_from=audio, trim_audio=trim)


class Transcode:
    """An open input and (on ``run``) output: ``frames()`` yields the input's frames, ``run(outputs)`` writes
    one output frame per input frame with that frame's timestamp.

    Args:
        src: the input video file or frame folder.
        dst: the output file or folder (written atomically: nothing is left unless ``run`` succeeds).
        window: frame range, fields and speed (``Window``); None: the source's frames as they are.
        channels: the output's channel count when the stage changes it (3 for colour), else None.
        output: the encoding.
        progress: ``progress(done, total)`` after each frame written.
        strict: a damaged input that lost frames is an ``InputError`` (else a warning).

    Attributes (once entered):
        film: the ``VideoInfo`` of the frames ``frames()`` yields (after the window).
        info: the ``VideoInfo`` the output is written with.
        total: the number of frames expected, when known.
    """

    def __init__(self, src: str | Path, dst: str | Path, *, window: Window | None = None,
                 channels: int | None = None, output: Output = Output(), progress: Progress | None = None,
                 strict: bool = False) -> None:
        if window is not None and (window.start < 0 or (window.end is not None and window.end <= window.start)):
            raise UsageError(f"bad frame range: start={window.start}, end={window.end}")
        self.src, self.dst, self.window, self.channels = src, dst, window, channels
        self.output, self.progress, self.strict = output, progress, strict
        self._stamps: deque[int | None] = deque()
        self._reader: VideoReader | None = None

    def __enter__(self) -> Transcode:
        from oldfilm.io.conform import conform

        reader = self._reader = open_video(self.src)
        try:
            total = reader.info.frame_count
            w = self.window
            if w is None:
                self._pairs: Iterable[tuple[np.ndarray, int | None]] = reader.frames_with_pts()
                self.film, self._keep_audio = reader.info, True
            else:
                if total is not None:
                    total = max(0, (min(total, w.end) if w.end is not None else total) - w.start)
                film = conform(reader, w.start, w.end, fields=w.fields, fps=w.fps)
                self._pairs, self.film, self._keep_audio = film.pairs, film.info, film.keep_audio
                if total is not None and film.info.frame_count and reader.info.frame_count:  # fewer: ivtc, --fps
                    total = total * film.info.frame_count // reader.info.frame_count
        except BaseException:
            reader.close()
            raise
        self.total = total
        self.info = self.film if self.channels is None else replace(self.film, channels=self.channels)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.close()

    def frames(self) -> Iterator[np.ndarray]:
        """The film's frames, in order (their timestamps are kept for ``run``)."""
        assert self._reader is not None, "use Transcode as a context manager"
        for arr, pts in self._pairs:
            self._stamps.append(pts)
            yield arr
        if self.strict and self._reader.losses:
            raise InputError(self._reader.describe_losses().split(";")[0] + " (--strict)")

    def run(self, outputs: Iterable[np.ndarray]) -> int:
        """Write ``outputs`` (one per frame of ``frames()``, in order) to the output; returns the number
        written. Raises ``InputError`` when the input gave no frames (and writes nothing)."""
        w = self.window
        trim = w is not None and (w.start > 0 or w.end is not None)
        with writer_for(self.src, self.dst, self.info, self.output, keep_audio=self._keep_audio,
                        trim=trim) as writer:
            for out in outputs:
                writer.write(out, self._stamps.popleft() if self._stamps else None)
                if self.progress is not None:
                    self.progress(writer.frames_written, self.total)
            if writer.frames_written == 0:
                raise InputError(f"{self.src}: no decodable video frames" + (w.describe() if w else ""))
            return writer.frames_written


def transcode(src: str | Path, dst: str | Path, stage: Callable[[Iterator[np.ndarray]], Iterable[np.ndarray]],
              **options: Any) -> int:
    """``stage`` (a stream of frames → a stream of as many frames) from ``src`` into ``dst``; ``options`` are
    ``Transcode``'s. Returns the number of frames written."""
    with Transcode(src, dst, **options) as t:
        return t.run(stage(t.frames()))
