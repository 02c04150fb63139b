"""``degrade_stream()``: the degrade stage — a clean video's frames in, frames that look like an old film
out, streaming, seeded (the file-level ``oldfilm.degrade`` runs it on files, with ``mask_writer`` and
``ParamsWriter`` for its side outputs). Also ``load_textures()`` (``--textures DIR``) and
``render_preview()`` (the README's example grid). The array API for training is
``oldfilm.degrade.degrade_clip``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from oldfilm.degrade.params import FrameParams
from oldfilm.degrade.pipeline import FilmDegrader
from oldfilm.degrade.presets import DegradeConfig, get_preset
from oldfilm.degrade.textures import texture_from_image
from oldfilm.errors import InputError


def load_textures(folder: str | Path) -> list[np.ndarray]:
    """Every image in ``folder`` as a contaminant texture (uint8 (h, w), bright defect on dark)."""
    from oldfilm.io.images import list_images, read_image

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: the textures folder does not exist or is not a folder.")
    return [texture_from_image(read_image(p)) for p in list_images(folder)]


def degrade_config(preset: str, config: DegradeConfig | None) -> DegradeConfig:
    """``config``, or the named preset when None."""
    return config if config is not None else get_preset(preset)


def degrade_stream(frames: Iterable[np.ndarray], *, seed: int = 0, preset: str = "medium",
                   config: DegradeConfig | None = None, textures: Iterable[np.ndarray] = (),
                   ) -> Iterator[tuple[np.ndarray, np.ndarray, FrameParams]]:
    """Degrade a stream of (H, W, C) frames of one video; yields (frame, mask (H, W) bool, FrameParams).

    The degrader (and its template) is created from the first frame's size; ``seed`` makes it repeatable.
    """
    cfg, tex = degrade_config(preset, config), list(textures)
    deg: FilmDegrader | None = None
    for frame in frames:
        if deg is None:
            deg = FilmDegrader(cfg, np.random.default_rng(seed), frame.shape[:2], textures=tex)
        yield deg.step(frame)


class _NoWriter:
    """Stands in for an output that was not asked for."""

    def write(self, *_: Any) -> None:
        pass

    def __enter__(self) -> _NoWriter:
        return self

    def __exit__(self, *_: object) -> None:
        pass


def mask_writer(mask_out: str | Path | None, info: Any, overwrite: bool) -> Any:
    """A PNG folder writer for the per-frame contaminant masks at ``mask_out`` (None: one that drops them)."""
    if mask_out is None:
        return _NoWriter()
    from oldfilm.io.video import VideoWriter

    return VideoWriter(mask_out, replace(info, channels=1, bit_depth=8), codec="png", overwrite=overwrite)


class ParamsWriter:
    """Streams the parameters JSON ({..., "frames": [...]}) into an atomic temporary, frame by frame."""

    def __init__(self, atomic: Any) -> None:
        self._fh = open(atomic.tmp, "w", encoding="utf-8") if atomic is not None else None  # noqa: SIM115
        self._n = 0

    def header(self, head: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(head)[:-1] + ', "frames": [\n')

    def frame(self, params: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write((",\n" if self._n else "") + json.dumps(params))
            self._n += 1

    def __enter__(self) -> ParamsWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._fh is not None:
            if exc_type is None:
                self._fh.write("\n]}\n")
            self._fh.close()


# ---------------------------------------------------------------- preview grid


def _photos() -> list[np.ndarray]:
    """Two 512×512 photos (grey, colour) from scikit-image, or procedural stand-ins without it."""
    try:
        import skimage.data as data
    except ImportError:
        return [_procedural_scene(gray=True), _procedural_scene(gray=False)]
    return [data.camera()[..., None], data.astronaut()]


def _procedural_scene(gray: bool, size: int = 512) -> np.ndarray:
    """A stand-in photo: sky gradient, ground, a few shapes and stripes (uint8, (size, size, 1 or 3))."""
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = np.linspace([200, 210, 235], [120, 150, 200], size)[:, None, :].astype(np.uint8)
    img[size * 2 // 3:] = (90, 110, 60)
    cv2.circle(img, (size * 3 // 4, size // 4), size // 10, (250, 230, 170), -1, cv2.LINE_AA)
    cv2.rectangle(img, (size // 6, size // 3), (size // 2, size * 3 // 4), (150, 70, 60), -1)
    for x in range(size // 6, size // 2, 24):
        cv2.line(img, (x, size // 3), (x, size * 3 // 4), (90, 40, 30), 3, cv2.LINE_AA)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None] if gray else img


def _pan_clip(photo: np.ndarray, frames: int, size: int) -> np.ndarray:
    """A slow diagonal pan across ``photo``: (frames, size, size, C) uint8."""
    crop = int(min(photo.shape[:2]) * 0.75)
    out = []
    for t in range(frames):
        y = x = 4 * t
        tile = cv2.resize(photo[y:y + crop, x:x + crop], (size, size), interpolation=cv2.INTER_AREA)
        out.append(tile.reshape(size, size, photo.shape[2]))
    return np.stack(out)


def render_preview(path: str | Path, seed: int = 0, *, presets: Sequence[str] = ("light", "medium", "heavy"),
                   tile: int = 256, overwrite: bool = False) -> Path:
    """Write a PNG grid of examples: rows clean + one per preset; columns frames 0, 3, 6 of a seven-frame
    pan over a grey and a colour photo (so persistent scratches and flicker show across a row)."""
    from oldfilm.io.atomic import check_output, write_bytes_atomic

    path = Path(path)
    check_output(path, [], overwrite)
    shown = (0, 3, 6)
    clips = [_pan_clip(p, 7, tile) for p in _photos()]
    rows = [("clean", [c[t] for c in clips for t in shown])]
    for r, name in enumerate(presets):
        cfg = get_preset(name)
        tiles = []
        for k, clip in enumerate(clips):
            deg = FilmDegrader(cfg, np.random.default_rng([seed, r, k]), (tile, tile))
            out = [deg.step(f)[0] for f in clip]
            tiles += [out[t] for t in shown]
        rows.append((name, tiles))
    gap, label_w = 4, 112
    width = label_w + len(rows[0][1]) * (tile + gap) + 2 * gap
    grid = np.full((len(rows) * (tile + gap) + gap, width, 3), 24, np.uint8)
    for i, (name, tiles) in enumerate(rows):
        y = gap + i * (tile + gap)
        cv2.putText(grid, name, (10, y + tile // 2 + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (235, 235, 235), 2,
                    cv2.LINE_AA)
        for j, t in enumerate(tiles):
            x = label_w + j * (tile + gap) + (gap if j >= len(shown) else 0)
            grid[y:y + tile, x:x + tile] = t if t.shape[2] == 3 else np.repeat(t, 3, axis=2)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise InputError("could not encode the preview grid as PNG.")
    write_bytes_atomic(path, buf.tobytes())
    return path


__all__ = ["degrade_stream", "degrade_config", "load_textures", "mask_writer", "ParamsWriter", "render_preview"]
