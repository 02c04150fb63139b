"""The training corpus: the training sources of shared/DATA.md, decoded once into a small local cache.

Videos (``CLIPS`` entries whose role is "train") are decoded, resized to ``max_side`` and stored as
``(T, H, W, 3)`` uint8 ``.npy`` files; photographs (scikit-image's ``skimage/data`` and scikit-learn's
``china.jpg``/``flower.jpg``, the latter taken from the wheel without importing scikit-learn) are stored
as ``(H, W, 3)`` uint8 ``.npy`` files and turned into clips at sampling time (``oldfilm.train.motion``); more
photographs come from Debian packages (``DEB_PHOTOS``).
Evaluation clips are refused here, so they cannot reach a training batch.

Layout: ``<cache>/corpus/{videos,stills}/<name>.npy`` plus ``manifest.json``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from oldfilm.errors import InputError

log = logging.getLogger("oldfilm.train")

TRAIN_VIDEOS = ("bigbuckbunny", "city", "office")
"""Packaged clips (``oldfilm.io.sources.CLIPS`` keys) used for training; all have role "train"."""

SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
    "gravel.png", "hubble_deep_field.jpg", "moon.png", "motorcycle_left.png", "page.png", "rocket.jpg",
    "text.png", "clock_motion.png", "horse.png",
)
"""Photographs (and a few scanned documents) shipped in ``skimage/data``."""

DEB_PHOTOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "opencv-doc=4.6.0+dfsg-12": ("usr/share/doc/opencv-doc/examples/data", (
        "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png", "box_in_scene.png",
        "building.jpg", "butterfly.jpg", "chicky_512.png", "fruits.jpg", "graf1.png", "home.jpg", "leuvenA.jpg",
        "messi5.jpg", "orange.jpg", "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg")),
    "mate-backgrounds=1.26.0-1": ("usr/share/backgrounds/mate/nature", (
        "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg", "LadyBird.jpg",
        "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg")),
}
"""Photographs in Debian packages (session 8: more content, as shared/DATA.md invites): OpenCV's sample photos
(its cartoons, renders, charts and chessboards left out, and ``stuff.jpg`` too: a pen and a coin on a table,
too close to the ``motion`` evaluation clip) and MATE's nature wallpapers. package pin → (folder, files)."""

CORPUS_VERSION = 2
"""Bumped when sources are added: a cached corpus of an older version is completed on first use."""

SKLEARN_PACKAGE = "scikit-learn"
SKLEARN_PHOTOS = ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg")


@dataclass(frozen=True)
class Corpus:
    """The cached corpus in memory.

    Attributes:
        videos: name → (T, H, W, 3) uint8 frames (memory-mapped).
        stills: name → (H, W, 3) uint8 photographs.
    """

    videos: dict[str, np.ndarray]
    stills: dict[str, np.ndarray]


def corpus_dir() -> Path:
    """``<oldfilm cache>/corpus``."""
    from oldfilm.io.sources import cache_dir

    return cache_dir() / "corpus"


def build_corpus(root: Path | None = None, max_side: int = 480, stills: bool = True) -> Path:
    """Decode the training sources into ``root`` (default ``corpus_dir()``); existing files are kept.

    Args:
        root: output folder.
        max_side: frames and photos are downscaled so that their longer side is at most this.
        stills: also collect photographs (scikit-image, scikit-learn).

    Returns:
        ``root``, with ``manifest.json`` listing what it holds.
    """
    from oldfilm.io.sources import CLIPS, packaged_clip

    root = Path(root) if root is not None else corpus_dir()
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "stills").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"videos": {}, "stills": {}}
    for name in TRAIN_VIDEOS:
        if CLIPS[name].role != "train":
            raise InputError(f"{name} is an evaluation clip and never goes into the training corpus")
        dest = root / "videos" / f"{name}.npy"
        if not dest.exists():
            _save(dest, _decode_video(packaged_clip(name), max_side))
        manifest["videos"][name] = list(np.load(dest, mmap_mode="r").shape)
    if stills:
        for name, img in _photos():
            dest = root / "stills" / f"{name}.npy"
            if not dest.exists():
                _save(dest, _fit(img, max_side))
        for p in sorted((root / "stills").glob("*.npy")):
            manifest["stills"][p.stem] = list(np.load(p, mmap_mode="r").shape)
    manifest["version"] = CORPUS_VERSION
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return root


def save_corpus(root: Path, videos: dict[str, np.ndarray], stills: dict[str, np.ndarray]) -> Path:
    """Write arrays in the corpus layout (what ``build_corpus`` produces; tests use it for synthetic
    corpora). videos: name → (T, H, W, 3) uint8; stills: name → (H, W, 3) uint8."""
    root = Path(root)
    manifest: dict[str, dict[str, list[int]]] = {"videos": {}, "stills": {}}
    for kind, items in (("videos", videos), ("stills", stills)):
        (root / kind).mkdir(parents=True, exist_ok=True)
        for name, arr in items.items():
            _save(root / kind / f"{name}.npy", np.ascontiguousarray(arr, dtype=np.uint8))
            manifest[kind][name] = list(arr.shape)
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return root


def load_corpus(root: Path | None = None) -> Corpus:
    """The corpus under ``root`` (built on first use)."""
    default = root is None
    root = Path(root) if root is not None else corpus_dir()
    if not (root / "manifest.json").exists():
        build_corpus(root)
    manifest = json.loads((root / "manifest.json").read_text())
    if default and manifest.get("version", 1) < CORPUS_VERSION:  # sources added since the cache was made
        build_corpus(root)
        manifest = json.loads((root / "manifest.json").read_text())
    videos = {n: np.load(root / "videos" / f"{n}.npy", mmap_mode="r") for n in manifest["videos"]}
    still = {n: np.load(root / "stills" / f"{n}.npy") for n in manifest["stills"]}
    if not videos and not still:
        raise InputError(f"the training corpus at {root} is empty")
    return Corpus(videos=videos, stills=still)


def _save(dest: Path, arr: np.ndarray) -> None:
    part = dest.with_name(dest.stem + ".part.npy")
    np.save(part, arr)
    part.replace(dest)


def _fit(img: np.ndarray, max_side: int) -> np.ndarray:
    """(H, W[, C]) any dtype → (H', W', 3) uint8 with the longer side ≤ ``max_side``."""
    if img.dtype != np.uint8:
        img = cv2.normalize(img.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        img = img[..., None]
    img = img[..., :3]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    h, w = img.shape[:2]
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


def _decode_video(path: Path, max_side: int) -> np.ndarray:
    from oldfilm.io.video import open_video

    with open_video(path) as reader:
        return np.stack([_fit(f, max_side) for f in reader])


def _photos() -> list[tuple[str, np.ndarray]]:
    """(name, RGB image) of every available training photograph."""
    out: list[tuple[str, np.ndarray]] = []
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.submodule_search_locations:
        data = Path(list(spec.submodule_search_locations)[0]) / "data"
        for name in SKIMAGE_PHOTOS:
            img = cv2.imread(str(data / name), cv2.IMREAD_UNCHANGED)
            if img is not None:
                out.append((f"skimage-{Path(name).stem}", _rgb(img)))
    else:
        log.warning("scikit-image is not installed: its photographs are left out of the corpus")
    out += _sklearn_photos()
    out += _deb_photos()
    return out


def deb_photo_dirs() -> dict[str, Path]:
    """``DEB_PHOTOS`` package → the folder ``<cache>/sources/<package name>-photos/`` holding its files (kept
    there like the packaged clips, so that a GPU machine without registries gets them in its bundle:
    scripts/device_bundle.sh); a package whose files are not all there yet is downloaded once into a temporary
    folder. A package that cannot be downloaded is left out with a warning."""
    import shutil

    from oldfilm.io.sources import PackagedClip, cache_dir, fetch_deb

    dirs = {}
    for package, (folder, names) in DEB_PHOTOS.items():
        kept = cache_dir() / "sources" / f"{package.partition('=')[0]}-photos"
        if not all((kept / n).is_file() for n in names):
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    found = fetch_deb(PackagedClip(package, folder, "train", "deb"), Path(tmp))
                except InputError as e:
                    log.warning("%s: its photographs are left out of the corpus", e)
                    continue
                part = kept.with_name(kept.name + ".part")
                shutil.rmtree(part, ignore_errors=True)
                part.mkdir(parents=True)
                for n in names:
                    if (found / n).is_file():
                        shutil.copy2(found / n, part / n)
                shutil.rmtree(kept, ignore_errors=True)
                part.rename(kept)
        dirs[package] = kept
    return dirs


def _deb_photos() -> list[tuple[str, np.ndarray]]:
    """(name, RGB image) of the ``DEB_PHOTOS`` (``deb_photo_dirs``)."""
    out: list[tuple[str, np.ndarray]] = []
    for package, kept in deb_photo_dirs().items():
        for name in DEB_PHOTOS[package][1]:
            img = cv2.imread(str(kept / name), cv2.IMREAD_COLOR)
            if img is not None:
                out.append((f"{package.partition('=')[0]}-{Path(name).stem}", _rgb(img)))
    return out


def _rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] >= 3:
        return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
    return img


def _sklearn_photos() -> list[tuple[str, np.ndarray]]:
    """china.jpg and flower.jpg from the scikit-learn wheel (downloaded with pip, opened as a zip)."""
    spec = importlib.util.find_spec("sklearn")
    files: dict[str, bytes] = {}
    if spec is not None and spec.submodule_search_locations:
        base = Path(list(spec.submodule_search_locations)[0]).parent
        files = {m: (base / m).read_bytes() for m in SKLEARN_PHOTOS if (base / m).exists()}
    if not files:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp,
                   SKLEARN_PACKAGE]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if proc.returncode != 0 or not wheels:
                log.warning("could not download %s: its photographs are left out of the corpus", SKLEARN_PACKAGE)
                return []
            with zipfile.ZipFile(wheels[0]) as zf:
                files = {m: zf.read(n) for m in SKLEARN_PHOTOS for n in zf.namelist() if n.endswith(m)}
    out = []
    for member, data in files.items():
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is not None:
            out.append((f"sklearn-{Path(member).stem}", _rgb(img)))
    return out
