"""Frame folders and single images: PNG/TIFF/JPEG/BMP/DPX/EXR, 8- to 16-bit, gray or RGB, sorted naturally.

OpenCV reads and writes BGR; this module converts once, so everything outside it sees RGB. DPX and EXR
go through PyAV (``oldfilm.io.sequences``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from oldfilm.errors import InputError, OutputError
from oldfilm.io import sequences
from oldfilm.io.info import MAX_PIXELS, VideoInfo

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".dpx", ".exr")
FOLDER_FPS = Fraction(25)


def _natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files in ``folder``, naturally sorted (frame2 before frame10)."""
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")),
                   key=_natural_key)
    if not files:
        raise InputError(f"{folder}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def read_image(path: str | Path) -> np.ndarray:
    """One image → (H, W, C) RGB (C = 1 or 3), uint8 or uint16; alpha dropped."""
    path = Path(path)
    if path.suffix.lower() in sequences.CODEC_SUFFIXES:
        return sequences.read_coded_image(path)[0]
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InputError(f"{path}: not an image OpenCV can read")
    if img.dtype not in (np.uint8, np.uint16):
        if np.issubdtype(img.dtype, np.floating):
            img = np.clip(img * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
        else:
            raise InputError(f"{path}: unsupported sample type {img.dtype}")
    if img.ndim == 2:
        return img[..., None]
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    raise InputError(f"{path}: unsupported channel count {img.shape[2]}")


def write_image(path: Path, frame: np.ndarray) -> None:
    """(H, W, C) RGB uint8/uint16 → image file (format from the suffix)."""
    img = frame[..., 0] if frame.shape[2] == 1 else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), img):
        raise OutputError(f"{path}: could not write the image")


def probe_folder(folder: Path, files: list[Path]) -> VideoInfo:
    """A ``VideoInfo`` for a frame folder, from its first image (one tick per frame; 25 fps unless a DPX
    header says otherwise); the first frame number and a DPX timecode are kept."""
    first = read_image(files[0])
    extras = {"source_bits": first.dtype.itemsize * 8, **sequences.probe_sequence_extras(files[0])}
    fps = extras.pop("fps", None) or FOLDER_FPS
    bits = extras["source_bits"]
    suffix = files[0].suffix.lower()
    h, w, c = first.shape
    if w * h > MAX_PIXELS:
        raise InputError(f"{files[0]}: frame size {w}x{h} is larger than the supported {MAX_PIXELS} pixels")
    return VideoInfo(
        path=folder, width=w, height=h, fps=fps, time_base=1 / fps, frame_count=len(files),
        duration=len(files) / float(fps), rotation=0,
        pix_fmt=f"{suffix[1:]}-{'gray' if c == 1 else 'rgb'}{'f' if suffix == '.exr' else ''}{bits}",
        channels=c, bit_depth=16 if first.dtype == np.uint16 else 8, codec="image", has_audio=False, is_folder=True,
        **extras,
    )


def read_folder(files: list[Path], info: VideoInfo) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(frame, index)``; every frame must match the first one's size."""
    for i, f in enumerate(files):
        img = read_image(f)
        if img.shape[:2] != (info.height, info.width):
            raise InputError(f"{f}: size {img.shape[1]}x{img.shape[0]} differs from the first frame's "
                             f"{info.width}x{info.height}")
        if img.shape[2] != info.channels:
            img = _match_channels(img, info.channels)
        target = np.uint16 if info.bit_depth == 16 else np.uint8
        if img.dtype != target:
            img = (img.astype(np.uint16) * 257) if target == np.uint16 else (img >> 8).astype(np.uint8)
        yield img, i


def _match_channels(img: np.ndarray, channels: int) -> np.ndarray:
    if channels == 3:
        return np.repeat(img, 3, axis=2)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None]
