"""Streaming video I/O through PyAV (FFmpeg): frames in one at a time, frames out one at a time.

Reader: any container FFmpeg reads, or a folder of images. Frames are numpy (H, W, C) RGB, C = 1 (gray) or
3, uint8 — or uint16 for sources deeper than 8 bits. Rotation metadata is applied, alpha dropped.
Writer: H.264 (CRF), FFV1 (lossless, archival) or an image folder; keeps fps and per-frame timestamps (VFR
too), copies audio and subtitle streams from a source without re-encoding, and writes atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from oldfilm.errors import InputError, OutputError
from oldfilm.io import images
from oldfilm.io.atomic import AtomicPath, check_output

log = logging.getLogger("oldfilm")

MAX_PIXELS = 8192 * 8192  # refuse frames above 67 Mpx (8K DCI is 35 Mpx) rather than exhaust memory
_GRAY_FMTS = ("gray", "ya8", "gray10le", "gray12le", "gray16le", "gray16be", "ya16le", "ya16be", "gray9le",
              "gray14le", "monow", "monob")


@dataclass(frozen=True)
class VideoInfo:
    """What a probe knows of a video or frame folder.

    Attributes:
        path: the source.
        width, height: frame size as displayed (after rotation).
        fps: average frame rate (a Fraction); 25 for image folders unless told otherwise.
        time_base: unit of the frames' timestamps.
        frame_count: number of frames when the container says so (or counted for folders), else None.
        duration: seconds, when known.
        rotation: display rotation in degrees (counter-clockwise) applied to decoded frames.
        pix_fmt: FFmpeg pixel format of the source ("gray16le", "yuv420p", "png-rgb48", ...).
        channels: 1 for gray sources, 3 otherwise.
        bit_depth: 8 or 16 — the dtype frames are yielded in.
        codec: the source video codec name ("image" for folders).
        has_audio: whether an audio stream exists (it is copied to the output).
        is_folder: a folder of images.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frame_count: int | None
    duration: float | None
    rotation: int
    pix_fmt: str
    channels: int
    bit_depth: int
    codec: str
    has_audio: bool
    is_folder: bool = False


def info_for(frame: np.ndarray, fps: Fraction | int = 25, path: str | Path = "<memory>") -> VideoInfo:
    """A ``VideoInfo`` for frames made in memory (to write them with ``VideoWriter``): size, channels and
    bit depth from ``frame``, constant ``fps``, one tick per frame."""
    fps = Fraction(fps)
    h, w = frame.shape[:2]
    c = 1 if frame.ndim == 2 else frame.shape[2]
    return VideoInfo(path=Path(path), width=w, height=h, fps=fps, time_base=1 / fps, frame_count=None,
                     duration=None, rotation=0, pix_fmt="memory", channels=c,
                     bit_depth=16 if frame.dtype == np.uint16 else 8, codec="none", has_audio=False)


def _bit_depth(fmt: Any) -> int:
    try:
        return max(c.bits for c in fmt.components)
    except (AttributeError, ValueError):
        return 8


class VideoReader:
    """Iterate over the frames of a video file or image folder, one at a time.

    Use as a context manager; ``iter(reader)`` yields numpy frames, ``reader.frames_with_pts()`` yields
    ``(frame, pts)`` pairs (pts in ``info.time_base`` units). ``bad_packets`` counts undecodable packets.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.bad_packets = 0
        self._container: Any = None
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file or folder")
        if self.path.is_dir():
            self._files = images.list_images(self.path)
            self.info = images.probe_folder(self.path, self._files)
            return
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, UnicodeDecodeError) as e:
            raise InputError(f"{self.path}: not a video FFmpeg can read ({e.__class__.__name__})") from None
        streams = self._container.streams.video
        if not streams:
            self.close()
            raise InputError(f"{self.path}: contains no video stream")
        self._stream = streams[0]
        self._stream.thread_type = "AUTO"
        self.info = self._probe_stream()

    def _probe_stream(self) -> VideoInfo:
        s, cc = self._stream, self._stream.codec_context
        w, h = cc.width, cc.height
        if w <= 0 or h <= 0:
            raise InputError(f"{self.path}: video stream has no frame size (corrupt or unsupported)")
        if w * h > MAX_PIXELS:
            raise InputError(f"{self.path}: frame size {w}x{h} is larger than the supported {MAX_PIXELS} pixels")
        fmt = cc.format
        pix = fmt.name if fmt is not None else "unknown"
        rotation = self._rotation()
        if rotation % 180:
            w, h = h, w
        fps = s.average_rate or s.guessed_rate or Fraction(25)
        duration = float(s.duration * s.time_base) if s.duration and s.time_base else None
        if duration is None and self._container.duration:
            duration = self._container.duration / av.time_base
        count = s.frames or None
        return VideoInfo(
            path=self.path, width=w, height=h, fps=Fraction(fps), time_base=Fraction(s.time_base or Fraction(1, 90000)),
            frame_count=count, duration=duration, rotation=rotation, pix_fmt=pix,
            channels=1 if pix.startswith(_GRAY_FMTS) else 3,
            bit_depth=16 if fmt is not None and _bit_depth(fmt) > 8 else 8,
            codec=cc.name, has_audio=bool(self._container.streams.audio),
        )

    def _rotation(self) -> int:
        """Display rotation in degrees CCW: the first frame's display matrix (a second, throw-away demux,
        so streaming starts at frame 0), else the legacy 'rotate' tag."""
        tag = self._stream.metadata.get("rotate")
        if tag is not None:
            try:
                return (-int(tag)) % 360
            except ValueError:
                return 0
        try:
            with av.open(str(self.path), metadata_errors="ignore") as c:
                for frame in c.decode(video=0):
                    return round(getattr(frame, "rotation", 0) or 0) % 360
        except av.error.FFmpegError:
            return 0
        return 0

    def _to_array(self, frame: av.VideoFrame) -> np.ndarray:
        """Decoded frame → (H, W, C) numpy in the reader's dtype and channel count, rotation applied."""
        if self.info.channels == 1:
            arr = frame.to_ndarray(format="gray16le" if self.info.bit_depth == 16 else "gray")[..., None]
        else:
            arr = frame.to_ndarray(format="rgb48le" if self.info.bit_depth == 16 else "rgb24")
        rot = self.info.rotation
        if rot:
            arr = np.ascontiguousarray(np.rot90(arr, k=round(rot / 90) % 4))
        return arr

    def frames_with_pts(self, start: int = 0, end: int | None = None) -> Iterator[tuple[np.ndarray, int]]:
        """Yield ``(frame, pts)`` for frame indices in [start, end). Undecodable packets are skipped and
        counted in ``bad_packets`` (a warning is logged at the end)."""
        if self._container is None:
            for i, (arr, pts) in enumerate(images.read_folder(self._files, self.info)):
                if end is not None and i >= end:
                    return
                if i >= start:
                    yield arr, pts
            return
        index, last_pts = 0, None
        try:
            for packet in self._container.demux(self._stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    self.bad_packets += 1
                    continue
                for frame in decoded:
                    if end is not None and index >= end:
                        return
                    if index >= start:
                        pts = frame.pts if frame.pts is not None else (last_pts + 1 if last_pts is not None else 0)
                        if last_pts is not None and pts <= last_pts:
                            pts = last_pts + 1  # keep timestamps strictly increasing for the muxer
                        last_pts = pts
                        yield self._to_array(frame), pts
                    index += 1
        except av.error.FFmpegError as e:
            self.bad_packets += 1
            log.warning("%s: stopped reading at frame %d: %s", self.path, index, e)
        finally:
            if self.bad_packets:
                log.warning("%s: %d packet(s) could not be decoded and were skipped", self.path, self.bad_packets)

    def __iter__(self) -> Iterator[np.ndarray]:
        for arr, _ in self.frames_with_pts():
            yield arr

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | Path) -> VideoReader:
    """Open a video file or an image folder for streaming reading (see ``VideoReader``)."""
    return VideoReader(path)


CODECS = ("auto", "h264", "h264-444", "ffv1", "png", "tiff")


class VideoWriter:
    """Stream frames into a video file or image folder, atomically.

    Args:
        path: the output. A path with no suffix, or an existing folder, means an image folder.
        info: the source's ``VideoInfo`` (fps, time base, size); frames must have its width and height.
        codec: "auto" (H.264 for files, PNG for folders), "h264" (4:2:0 chroma), "h264-444" (full-resolution
            chroma, for colour output), "ffv1" (lossless, keeps 16-bit and gray),
            "png" or "tiff" (folders).
        crf: H.264 constant rate factor; 17 is visually lossless.
        overwrite: replace an existing output.
        audio_from: copy audio and subtitle streams from this file (no re-encode); None for none. They are
            aligned to the first written frame's timestamp.
        trim_audio: stop the copied streams at the end of the last written frame (for frame ranges).
    """

    def __init__(self, path: str | Path, info: VideoInfo, *, codec: str = "auto", crf: int = 17,
                 overwrite: bool = False, audio_from: str | Path | None = None, trim_audio: bool = False):
        if codec not in CODECS:
            raise OutputError(f"unknown codec {codec!r}; choose from {', '.join(CODECS)}")
        self.path = Path(path)
        self.info = info
        sources = [info.path] + ([Path(audio_from)] if audio_from else [])
        check_output(self.path, sources, overwrite)
        self.folder = self.path.suffix == "" or self.path.is_dir() or codec in ("png", "tiff")
        if codec == "auto":
            codec = "png" if self.folder else "h264"
        if self.folder != (codec in ("png", "tiff")):
            raise OutputError(f"{self.path}: codec {codec} needs {'a folder' if self.folder else 'a file'} output")
        self.codec = codec
        self._atomic = AtomicPath(self.path, overwrite=overwrite, folder=self.folder)
        self._count = 0
        self._container: Any = None
        self._copy: Any = None
        self._audio_from = Path(audio_from) if audio_from else None
        self._trim_audio = trim_audio
        if not self.folder:
            self._open_container(crf)

    def _open_container(self, crf: int) -> None:
        try:
            self._container = av.open(str(self._atomic.tmp), "w", format=_container_format(self.path))
        except av.error.FFmpegError as e:
            self._atomic.discard()
            raise OutputError(f"{self.path}: cannot create this kind of file ({e})") from None
        rate = self.info.fps.limit_denominator(1001 * 1000) if self.info.fps else Fraction(25)
        name = "libx264" if self.codec.startswith("h264") else "ffv1"
        s = self._container.add_stream(name, rate=rate)
        s.width, s.height = self.info.width, self.info.height
        s.time_base = self.info.time_base
        s.codec_context.time_base = self.info.time_base
        if self.codec.startswith("h264"):
            odd = self.info.width % 2 or self.info.height % 2
            s.pix_fmt = "yuv444p" if odd or self.codec == "h264-444" else "yuv420p"
            s.options = {"crf": str(crf), "preset": "medium"}
        else:
            s.pix_fmt = _ffv1_format(self.info)
            s.options = {"level": "3", "g": "1", "slicecrc": "1"}
        s.thread_type = "AUTO"
        self._stream = s

    def write(self, frame: np.ndarray, pts: int | None = None) -> None:
        """Append one (H, W, C) frame; ``pts`` in the source time base (None: evenly spaced at fps)."""
        if frame.ndim == 2:
            frame = frame[..., None]
        if frame.shape[:2] != (self.info.height, self.info.width):
            raise OutputError(f"frame of size {frame.shape[1]}x{frame.shape[0]} written to a "
                              f"{self.info.width}x{self.info.height} output")
        if self.folder:
            images.write_image(self._atomic.tmp / f"{self._count:06d}.{self.codec}", frame)
            self._count += 1
            return
        if pts is None:
            pts = round(self._count / (self.info.fps * self.info.time_base))
        if self._count == 0:
            self._pts0 = pts
            if self._audio_from is not None:  # streams must be added before the first packet is muxed
                from oldfilm.io.remux import StreamCopier

                self._copy = StreamCopier(self._audio_from, self._container, float(pts * self.info.time_base))
        vf = _to_video_frame(frame, self.codec == "ffv1")
        vf.pts = pts - self._pts0
        vf.time_base = self.info.time_base
        for packet in self._stream.encode(vf):
            self._container.mux(packet)
        self._t_last = float(vf.pts * self.info.time_base)
        if self._copy is not None:
            self._copy.feed_until(self._t_last)
        self._count += 1

    @property
    def frames_written(self) -> int:
        return self._count

    def close(self) -> None:
        """Flush the encoder, copy the remaining audio, and move the output into place."""
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            if self._copy is not None:
                self._copy.feed_until(self._t_last + float(1 / self.info.fps) if self._trim_audio else None)
                self._copy.close()
            self._container.close()
            self._container = None
        if self._count == 0:
            self._atomic.discard()
            raise OutputError(f"{self.path}: no frames were written, so no output was created")
        self._atomic.commit()

    def abort(self) -> None:
        """Drop everything written so far; the target is left as it was."""
        if self._copy is not None:
            self._copy.close()
        if self._container is not None:
            try:
                self._container.close()
            except av.error.FFmpegError:
                pass
            self._container = None
        self._atomic.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _container_format(path: Path) -> str | None:
    return {".mkv": "matroska", ".mp4": "mp4", ".mov": "mov", ".avi": "avi", ".nut": "nut"}.get(path.suffix.lower())


def _ffv1_format(info: VideoInfo) -> str:
    if info.channels == 1:
        return "gray16le" if info.bit_depth == 16 else "gray"
    return "gbrp16le" if info.bit_depth == 16 else "bgr0"


def _to_video_frame(frame: np.ndarray, lossless: bool) -> av.VideoFrame:
    """numpy (H, W, C) → av.VideoFrame in a format the encoder converts from without loss where possible."""
    gray = frame.shape[2] == 1
    if frame.dtype == np.uint16:
        if lossless:
            if gray:
                return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[..., 0]), format="gray16le")
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb48le")
        frame = (frame >> 8).astype(np.uint8)
    elif frame.dtype != np.uint8:
        frame = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if gray:
        if lossless:
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[..., 0]), format="gray")
        frame = np.repeat(frame, 3, axis=2)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
