"""What the page shows, computed by the public API: frames, before/after on a short window, a colour preview,
metrics with the per-frame flicker series, and the methods this install can run."""

from __future__ import annotations

import base64
import functools
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from oldfilm.errors import InputError, UsageError
from oldfilm.ui.workspace import ColourRef, Video, write_json

log = logging.getLogger("oldfilm")

PREVIEW_RADIUS = 6
"""Frames each side of the chosen one that the before/after restores (the classical restorer's temporal
window is 4 frames either side at most; a few more give its deflicker context)."""
COLOUR_SPAN = 24
"""Frames from the keyframe (each way) that the colour preview propagates over."""
NOREF_SAMPLES = 30
"""NIQE/BRISQUE cost ~0.1 s a frame: metrics score about this many frames of a film."""


def options() -> dict[str, Any]:
    """Methods and RTN presets this install can run (an RTN preset only when its weights ship), codecs, demos."""
    from oldfilm.io.sources import CLIPS
    from oldfilm.models.presets import PRESETS
    from oldfilm.models.weights import shipped_path
    from oldfilm.ui.jobs import CODECS

    presets = [p for p in PRESETS if shipped_path(p).is_file()]
    return {"methods": ["classical"] + (["rtn"] if presets else []), "presets": presets, "codecs": list(CODECS),
            "demos": sorted(CLIPS), "preview_radius": PREVIEW_RADIUS}


def check_method(method: str, preset: str) -> None:
    """UsageError unless ``method`` (and for RTN ``preset``) is one ``options`` offers."""
    opts = options()
    if method not in opts["methods"]:
        why = " (no RTN weights ship with this install)" if method == "rtn" else ""
        raise UsageError(f"method {method!r} is not available{why}; choose from {', '.join(opts['methods'])}")
    if method == "rtn" and preset != "auto" and preset not in opts["presets"]:
        raise UsageError(f"no weights ship for the RTN preset {preset!r}")


def _display(frame: np.ndarray) -> np.ndarray:
    """Any frame (8/16-bit, gray/RGB, float) → (H, W, 3) uint8 BGR for encoding."""
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    elif frame.dtype != np.uint8:
        frame = (np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8)
    if frame.ndim == 2 or frame.shape[2] == 1:
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2BGR)


def png(frame: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", _display(frame))
    if not ok:
        raise InputError("could not encode the frame as PNG")
    return buf.tobytes()


def data_uri(frame: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(frame)).decode()


@functools.lru_cache(maxsize=16)
def _index(source: Path, mtime_ns: int, size: int) -> tuple[list[int], dict[int, int]] | None:
    """The film's frame timestamps and keyframe positions (``VideoReader.frame_index``), read once per film
    while it is unchanged: one pass over its packets, no decoding. Callers must not change them."""
    from oldfilm.io.video import open_video

    with open_video(source) as reader:
        return reader.frame_index()


def _frames(video: Video, start: int, end: int) -> list[np.ndarray]:
    """Frames [start, end) of the film, as reading it in order gives them: past its first frame by seeking
    to the keyframe before ``start`` (``frames_at``) when its frame timestamps are known, else (or when the
    seek fails, as on a damaged file) by decoding from the first frame."""
    from oldfilm.io.video import open_video

    index = None
    if start > 0 and video.source.exists():  # (a film gone missing is open_video's error to report)
        st = video.source.stat()
        index = _index(video.source, st.st_mtime_ns, st.st_size)
    # the packets number the frames as reading in order does when they are as many as the frames decoded, or
    # no more than the container's count (it counts the packets an edit list drops)
    stated = video.info.get("frame_count") == video.frames
    if index is not None and (len(index[0]) == video.frames or stated and len(index[0]) < video.frames):
        try:
            with open_video(video.source) as reader:
                return [arr for arr, _ in reader.frames_at(index[0][start:end], index[1])]
        except InputError as e:
            log.info("%s; reading from the first frame instead", e)
    with open_video(video.source) as reader:  # a fresh reader: a failed seek leaves one mid-film
        return [arr for arr, _ in reader.frames_with_pts(start, end)]


def _check_frame(video: Video, k: int) -> None:
    if not 0 <= k < video.frames:
        raise InputError(f"frame {k} is not in the film (0..{video.frames - 1})")


def frame(video: Video, k: int) -> np.ndarray:
    """Frame ``k`` of the film."""
    _check_frame(video, k)
    got = _frames(video, k, k + 1)
    if not got:
        raise InputError(f"frame {k} could not be decoded")
    return got[0]


def _window(video: Video, k: int, radius: int) -> tuple[int, list[np.ndarray]]:
    _check_frame(video, k)
    start = max(0, k - radius)
    frames = _frames(video, start, min(video.frames, k + radius + 1))
    if k - start >= len(frames):
        raise InputError(f"frame {k} could not be decoded")
    return start, frames


def before_after(video: Video, k: int, method: str, preset: str = "auto") -> dict[str, Any]:
    """Frame ``k`` before and after ``restore_stream`` on the frames within ``PREVIEW_RADIUS`` of it."""
    from oldfilm.restore import restore_stream

    check_method(method, preset)
    start, frames = _window(video, k, PREVIEW_RADIUS)
    t0 = time.perf_counter()
    restored = list(restore_stream(frames, method, preset=preset))
    seconds = time.perf_counter() - t0
    return {"frame": k, "window": [start, start + len(frames)], "seconds": round(seconds, 3), "method": method,
            "before": data_uri(frames[k - start]), "after": data_uri(restored[k - start])}


def colour_preview(video: Video, ref: ColourRef, k: int, count: int = 4) -> dict[str, Any]:
    """``colorize_stream`` from the reference over up to ``COLOUR_SPAN`` frames each side of its keyframe
    (of frame ``k`` for an exemplar); ``count`` frames spread over that window, coloured."""
    from oldfilm.colorize import colorize_stream

    centre = k if ref.frame is None else ref.frame
    start, frames = _window(video, centre, COLOUR_SPAN)
    kwargs = ref.colorize_kwargs()
    if ref.frame is not None:
        kwargs["ref_frames"] = [ref.frame - start]
    t0 = time.perf_counter()
    coloured = list(colorize_stream(frames, **kwargs))
    seconds = time.perf_counter() - t0
    picks = sorted({round(i) for i in np.linspace(0, len(coloured) - 1, max(count, 1))})
    return {"seconds": round(seconds, 3), "window": [start, start + len(frames)],
            "frames": [{"frame": start + i, "image": data_uri(coloured[i])} for i in picks]}


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def metrics(path: Path, frames: int, cache: Path) -> dict[str, Any]:
    """``oldfilm metrics`` without a reference (NIQE/BRISQUE on ~``NOREF_SAMPLES`` frames) and the per-frame
    flicker series of a film; kept in ``cache`` (a JSON file), since a film does not change."""
    from oldfilm.io.video import open_video
    from oldfilm.metrics import evaluate_paths, flicker_per_frame

    if cache.is_file():
        return json.loads(cache.read_text())
    every = max(1, math.ceil(frames / NOREF_SAMPLES))
    t0 = time.perf_counter()
    scores = {k: _finite(v) for k, v in evaluate_paths(path, noref_every=every).as_dict().items()}
    with open_video(path) as reader:
        series = flicker_per_frame(reader)
    result = {"scores": scores, "noref_every": every, "flicker_per_frame": [round(float(v), 6) for v in series],
              "seconds": round(time.perf_counter() - t0, 3)}
    write_json(cache, result)
    return result
