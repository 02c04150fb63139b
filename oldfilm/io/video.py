"""Streaming video I/O through PyAV (FFmpeg): frames in one at a time, frames out one at a time.

Reader: any container FFmpeg reads, or a folder of images. Frames are numpy (H, W, C) RGB, C = 1 (gray) or
3, uint8 — or uint16 for sources deeper than 8 bits. Rotation metadata is applied, alpha dropped.
Writer: H.264 (CRF), FFV1 (lossless, archival), ProRes, DNxHR (``oldfilm.io.encode``) or an image folder
(PNG/TIFF/DPX/EXR); keeps fps and per-frame timestamps (VFR too), timecode, colour tags, rotation and
sample depth, copies audio and subtitle streams from a source without re-encoding, and writes atomically.
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
from oldfilm.io import encode, images, sequences
from oldfilm.io.atomic import AtomicPath, check_output
from oldfilm.io.info import MAX_PIXELS, VideoInfo, info_for  # noqa: F401 - info_for: its old home
from oldfilm.io.meta import ColourTags, timecode_add, timecode_from

log = logging.getLogger("oldfilm")

_GRAY_FMTS = ("gray", "ya8", "gray10le", "gray12le", "gray16le", "gray16be", "ya16le", "ya16be", "gray9le",
              "gray14le", "monow", "monob")


def _bit_depth(fmt: Any) -> int:
    try:
        return max(c.bits for c in fmt.components)
    except (AttributeError, ValueError):
        return 8


@dataclass(frozen=True)
class FrameLoss:
    """Frames a damaged source lost: ``count`` frames after output frame ``after`` (-1: before the first),
    whose timestamps would have followed ``pts`` (the last survivor's, in ``VideoInfo.time_base`` units)."""

    after: int
    pts: int
    count: int


class VideoReader:
    """Iterate over the frames of a video file or image folder, one at a time.

    Use as a context manager; ``iter(reader)`` yields numpy frames, ``reader.frames_with_pts()`` yields
    ``(frame, pts)`` pairs (pts in ``info.time_base`` units). ``bad_packets`` counts undecodable packets;
    after a read, ``losses`` lists the frames a damaged file lost (``FrameLoss``), ``frames_lost`` their sum.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.bad_packets = 0
        self.losses: list[FrameLoss] = []
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
        # crop exactly to the coded picture: FFmpeg otherwise crops only to aligned offsets, and a Theora film
        # whose picture starts 4 px in (the 1906 Calais film: 214 px shown of 218 coded) decoded 218 px wide
        self._stream.codec_context.options = {"flags": "unaligned"}
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
            source_bits=_bit_depth(fmt) if fmt is not None else 8, colour=ColourTags.of(cc),
            timecode=timecode_from(s.metadata, self._container.metadata, *(d.metadata for d in
                                                                            self._container.streams.data)),
            field_order=_FIELD_ORDERS.get(int(cc.field_order or 0), "unknown"),
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
        index, last_pts, dropped = 0, None, 0
        self.losses = []
        step = self._frame_step()
        try:
            for packet in self._container.demux(self._stream):
                # the container counts the packets an edit list drops (motion.mov: 243 counted, 242 shown)
                dropped += bool(packet.is_discard and packet.size)
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
                        if step and last_pts is not None and pts - last_pts > 1.5 * step:
                            self.losses.append(FrameLoss(index - start - 1, last_pts,
                                                         round((pts - last_pts) / step) - 1))
                        last_pts = pts
                        yield self._to_array(frame), pts
                    index += 1
        except av.error.FFmpegError as e:
            self.bad_packets += 1
            log.warning("%s: stopped reading at frame %d: %s", self.path, index, e)
        finally:
            if self.bad_packets:
                log.warning("%s: %d packet(s) could not be decoded and were skipped", self.path, self.bad_packets)
        self._settle_losses(index + dropped, start, end, last_pts)
        if self.losses:
            log.warning("%s", self.describe_losses())

    def _frame_step(self) -> int:
        """The nominal frame duration in time-base ticks (0 when unknown)."""
        fps, tb = self.info.fps, self.info.time_base
        return round(1 / (fps * tb)) if fps and tb else 0

    def _settle_losses(self, decoded: int, start: int, end: int | None, last_pts: int | None) -> None:
        """Reconcile the timestamp gaps with the container's frame count after a read to the end: a count
        that matches means a variable frame rate, not a loss; frames missing beyond the gaps were lost at the
        end. Without a count, gaps count only when packets failed to decode (else they may be VFR)."""
        reached_end = end is None or decoded < end
        count = self.info.frame_count
        if count is None or not reached_end or start:
            if count is None and not self.bad_packets:
                self.losses = []
            return
        missing = count - decoded
        if missing <= 0:
            self.losses = []
            return
        gaps = sum(g.count for g in self.losses)
        if gaps < missing:
            self.losses.append(FrameLoss(decoded - start - 1, last_pts if last_pts is not None else 0,
                                         missing - gaps))
        while gaps > missing:  # a damaged stream's odd timestamps overstate the gaps: the count decides
            last = self.losses.pop()
            if last.count > gaps - missing:
                self.losses.append(FrameLoss(last.after, last.pts, last.count - (gaps - missing)))
            gaps -= min(last.count, gaps - missing)

    @property
    def frames_lost(self) -> int:
        return sum(g.count for g in self.losses)

    def describe_losses(self) -> str:
        """One line: how many frames were lost and where (empty when none)."""
        if not self.losses:
            return ""
        tb = self.info.time_base
        where = ", ".join(f"{g.count} after frame {g.after} (t={float(g.pts * tb):.2f} s)" if g.after >= 0
                          else f"{g.count} at the start" for g in self.losses[:5])
        more = f" and {len(self.losses) - 5} more places" if len(self.losses) > 5 else ""
        return (f"{self.path}: {self.frames_lost} frame(s) lost to damage: {where}{more}; the survivors keep "
                "their timestamps (picture and sound stay in sync)")

    def frames_at(self, stamps: list[int], keys: dict[int, int] | None = None) -> Iterator[tuple[np.ndarray, int]]:
        """Yield ``(frame, pts)`` for exactly the frames whose (``frames_with_pts``) timestamps are
        ``stamps`` (increasing), seeking to the keyframe before the first instead of decoding from the start
        (aiming further back when the seek lands past it, as in MPEG program streams, or on frames an open
        GOP shows before its keyframe). ``keys`` (from ``frame_index``): frames count only from a keyframe
        whose packet has the timestamp a read in order gave it (a demuxer may guess them otherwise after a
        seek). Raises ``InputError`` when one of them cannot be decoded this way (a damaged file: read it in
        order with ``frames_with_pts`` instead)."""
        if not stamps:
            return
        if self._container is None:  # a folder: the pts is the index
            for i, p in enumerate(stamps):
                yield next(images.read_folder([self._files[p]], self.info))[0], stamps[i]
            return
        want, k, back, step = stamps, 0, 0, self._frame_step() or 1
        while True:
            target = max(0, want[0] - back * step)
            after = self._after_seek(target, keys)
            for frame, pts, keyed in after:
                if pts < want[k]:
                    continue
                if k == 0 and (pts > want[0] or not keyed):
                    break  # landed past the first stamp, or before a (trusted) keyframe is shown: aim further back
                if pts != want[k]:
                    raise InputError(f"{self.path}: frame at pts {want[k]} not found after seeking")
                yield self._to_array(frame), pts
                k += 1
                if k == len(want):
                    return
            else:
                if k:
                    raise InputError(f"{self.path}: {len(want) - k} frame(s) from pts {want[k]} not found after "
                                     "seeking")
            after.close()
            if target == 0:
                raise InputError(f"{self.path}: frame at pts {want[0]} not found after seeking")
            back = max(16, back * 16)

    def _after_seek(self, target: int, keys: dict[int, int] | None) -> Iterator[tuple[av.VideoFrame, int, bool]]:
        """``(frame, pts, keyed)`` for the frames decoded after seeking to the keyframe at or before
        ``target``; ``keyed``: a key frame (whose packet ``keys`` trusts) has been shown by then. InputError at
        a packet that does not decode."""
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        last, keyed, trusted = None, False, set()
        for packet in self._container.demux(self._stream):
            if packet.is_keyframe and (keys is None or keys.get(packet.pos) == packet.pts):
                trusted.add(packet.pts)
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:  # a read in order drops its frame: the stamps after it would shift
                raise InputError(f"{self.path}: a packet after pts {last} could not be decoded") from None
            for frame in decoded:
                pts = frame.pts if frame.pts is not None else (last + 1 if last is not None else 0)
                if last is not None and pts <= last:
                    pts = last + 1
                last, keyed = pts, keyed or (frame.key_frame and frame.pts in trusted)
                yield frame, pts, keyed

    def frame_index(self) -> tuple[list[int], dict[int, int]] | None:
        """What ``frames_at`` needs to find frames by number, read from the packets (decoding only up to the
        first frame): every frame's timestamp in ``frames_with_pts`` order (frame index → pts), and each
        keyframe packet's byte position → pts. None when the packets cannot tell (one without a timestamp
        or a position, two with one timestamp, a corrupt one, a read error, a first frame the decoder drops)."""
        if self._container is None:
            return list(range(len(self._files))), {}
        stamps: list[int] = []
        keys: dict[int, int] = {}
        first = None
        try:
            with av.open(str(self.path), metadata_errors="ignore") as c:  # a second demux: this one's stays put
                for packet in c.demux(c.streams[self._stream.index]):
                    if packet.pts is None and packet.size == 0:
                        continue  # the end-of-stream flush
                    if packet.pts is None or packet.size == 0 or packet.is_corrupt:
                        return None
                    if first is None:
                        first = next((f.pts for f in packet.decode()), None)
                    if packet.is_discard:
                        continue  # its frame is dropped by the decoder (an edit list starting past it)
                    stamps.append(packet.pts)
                    if packet.is_keyframe:
                        if packet.pos is None or packet.pos < 0:
                            return None
                        keys[packet.pos] = packet.pts
        except av.error.FFmpegError:
            return None
        stamps.sort()
        if not stamps or first != stamps[0] or len(set(stamps)) != len(stamps):
            return None
        return stamps, keys

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


_FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}
CODECS = ("auto", *encode.FILE_CODECS, *encode.FOLDER_CODECS)


class VideoWriter:
    """Stream frames into a video file or image folder, atomically.

    Args:
        path: the output. A path with no suffix, or an existing folder, means an image folder.
        info: the source's ``VideoInfo`` (fps, time base, size); frames must have its width and height.
        codec: "auto" (H.264 for files, PNG for folders), "h264" (4:2:0 chroma), "h264-444" (full-resolution
            chroma, for colour output), "ffv1" (lossless, keeps the depth and gray), "prores" (422 HQ),
            "prores4444", "dnxhr" (HQX, 10-bit), or "png", "tiff", "dpx", "exr" (folders, named from
            ``info.first_frame`` on).
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
        self.folder = self.path.suffix == "" or self.path.is_dir() or codec in encode.FOLDER_CODECS
        if codec == "auto":
            codec = "png" if self.folder else "h264"
        if self.folder != (codec in encode.FOLDER_CODECS):
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
        try:
            self._stream = encode.add_video_stream(self._container, self.codec, self.info, crf)
        except (OutputError, ValueError, av.error.FFmpegError) as e:
            self._container.close()
            self._atomic.discard()
            raise OutputError(str(e) if isinstance(e, OutputError) else f"{self.path}: {self.codec}: {e}") from None

    def write(self, frame: np.ndarray, pts: int | None = None) -> None:
        """Append one (H, W, C) frame; ``pts`` in the source time base (None: evenly spaced at fps)."""
        if frame.ndim == 2:
            frame = frame[..., None]
        if frame.shape[:2] != (self.info.height, self.info.width):
            raise OutputError(f"frame of size {frame.shape[1]}x{frame.shape[0]} written to a "
                              f"{self.info.width}x{self.info.height} output")
        if self.folder:
            self._write_image(frame)
            self._count += 1
            return
        if pts is None:
            pts = round(self._count / (self.info.fps * self.info.time_base))
        if self._count == 0:
            self._pts0 = pts
            if self._audio_from is not None:  # streams must be added before the first packet is muxed
                from oldfilm.io.remux import StreamCopier

                self._copy = StreamCopier(self._audio_from, self._container, float(pts * self.info.time_base))
        vf = encode.to_video_frame(frame, self._stream, self.info)
        vf.pts = pts - self._pts0
        vf.time_base = self.info.time_base
        for packet in self._stream.encode(vf):
            self._container.mux(packet)
        self._t_last = float(vf.pts * self.info.time_base)
        if self._copy is not None:
            self._copy.feed_until(self._t_last)
        self._count += 1

    def _write_image(self, frame: np.ndarray) -> None:
        """One frame of a folder output, numbered on from the source's first frame number."""
        target = self._atomic.tmp / f"{self.info.first_frame + self._count:06d}.{self.codec}"
        if self.codec in ("png", "tiff"):
            images.write_image(target, frame)
            return
        bits = sequences.output_bits(self.codec, self.info, frame)
        tc = timecode_add(self.info.timecode, self._count, self.info.fps)
        target.write_bytes(sequences.encode_image(frame, self.codec, bits, tc, self.info.fps,
                                                  self.info.dpx_transfer))

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
