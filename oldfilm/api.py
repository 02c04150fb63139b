"""The file-level API: ``restore``, ``colorize`` and ``degrade`` a video file or frame folder into another.

Each opens the input through ``oldfilm.io.transcode`` (frames with their timestamps in; a writer with the
audio, timecode and metadata out, atomic, with progress) and chains stream stages between the two:
``restore(..., colorize=...)`` is the restore stream piped into the colour stream, so ``oldfilm.restore``
and ``oldfilm.colorize`` (the subpackages) never import each other. Usage rules that concern more than one
stage live here too (the CLI and the web app only report them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from oldfilm.errors import UsageError
from oldfilm.io.transcode import Output, Progress, Transcode, Window

if TYPE_CHECKING:
    from oldfilm.colorize.api import ColorizeConfig
    from oldfilm.degrade.presets import DegradeConfig

Image = np.ndarray | str | Path


def check_colour_refs(colour: dict[str, Any], start: int) -> None:
    """With a start frame, every reference needs its frame number: a reference without one is matched
    against the whole clip, from its frame 0, so its number would not count from ``start``."""
    refs, ref_frames = colour.get("refs") or [], colour.get("ref_frames") or []
    if start and len(ref_frames) < len(refs):
        raise UsageError("with --start, give a --ref-frame for every --ref")


def restore(src: str | Path, dst: str | Path, *, method: str = "classical", preset: str = "auto",
            weights: str | Path | None = None, device: str = "auto", start: int = 0, end: int | None = None,
            codec: str = "auto", crf: int = 17, overwrite: bool = False, progress: Progress | None = None,
            colorize: dict[str, Any] | None = None, fields: str = "auto", fps: float | None = None,
            crop: str | None = None, strict: bool = False, stabilize: bool = False, grain: str = "remove",
            ensemble: int = 1) -> Path:
    """Restore ``src`` (video file or frame folder) into ``dst``; returns ``dst``.

    Keeps size, fps, per-frame timestamps and the audio/subtitle streams (copied, trimmed to
    ``start``/``end`` frames), timecode, colour tags, rotation and sample depth. ``method``, ``preset``,
    ``weights`` and ``device`` are ``restore_stream``'s. ``fields`` ("auto", "ivtc", "deinterlace", "none"),
    ``fps`` (retime) and ``crop`` ("auto" or "WxH+X+Y": restore only the picture area) are
    ``oldfilm.io.conform`` and ``oldfilm.io.crop``'s. ``colorize`` (keyword arguments of
    ``oldfilm.colorize.colorize_stream``) colours the restored frames in the same pass (with ``start``,
    every reference needs its frame number). ``progress(done, total)`` is called after each frame. Frames
    a damaged input lost are reported on stderr (the survivors keep their timestamps); ``strict`` makes any
    loss an ``InputError``. ``stabilize``, ``grain`` (classical) and ``ensemble`` (rtn) are the methods'
    options (``restore.api.method_options``). Nothing is left at ``dst`` unless the whole run succeeds.
    """
    from oldfilm.io.crop import resolve_crop, restore_within
    from oldfilm.restore.api import method_options, restore_stream

    options = method_options(method, stabilize=stabilize, grain=grain, ensemble=ensemble)
    if colorize is not None:
        check_colour_refs(colorize, start)
    with Transcode(src, dst, window=Window(start, end, fields, fps), channels=3 if colorize is not None else None,
                   output=Output(codec, crf, overwrite), progress=progress, strict=strict) as t:
        box = resolve_crop(crop, t.film, start)
        stream = restore_within(t.frames(), box, lambda fs: restore_stream(fs, method, preset=preset,
                                                                         weights=weights, device=device,
                                                                         **options))
        if colorize is not None:
            from oldfilm.colorize.api import colorize_stream

            stream = colorize_stream(stream, **colorize)
        t.run(stream)
    return Path(dst)


@dataclass(frozen=True)
class ColorizeReport:
    """What ``colorize`` did: output path, frames written, wall seconds."""

    path: Path
    frames: int
    seconds: float


def colorize(src: str | Path, dst: str | Path, *, refs: Sequence[Image] = (),
             ref_frames: Sequence[int | None] | None = None, exemplar: Image | None = None,
             config: ColorizeConfig | None = None, codec: str = "auto", crf: int = 17,
             overwrite: bool = False, progress: Progress | None = None) -> ColorizeReport:
    """Colour the clip ``src`` (video file or frame folder) into ``dst``, streaming and atomically; keeps fps,
    timestamps and audio. ``config``: a ``ColorizeConfig`` (None: the defaults); see
    ``oldfilm.colorize.colorize_stream`` for the references."""
    from oldfilm.colorize.api import ColorizeConfig, colorize_stream

    t0 = time.time()
    with Transcode(src, dst, channels=3, output=Output(codec, crf, overwrite), progress=progress) as t:
        n = t.run(colorize_stream(t.frames(), refs, ref_frames, exemplar=exemplar,
                                  config=config if config is not None else ColorizeConfig(), match_in=src))
    return ColorizeReport(Path(dst), n, time.time() - t0)


def degrade(src: str | Path, dst: str | Path, *, seed: int = 0, preset: str = "medium",
            config: DegradeConfig | None = None,
            mask_out: str | Path | None = None, params_out: str | Path | None = None,
            textures: str | Path | None = None, codec: str = "auto", crf: int = 17, overwrite: bool = False,
            progress: Progress | None = None) -> Path:
    """Degrade ``src`` (video file or frame folder) into ``dst``; returns ``dst``.

    Args:
        seed: the same seed, preset and input give the same output.
        preset: "light", "medium", "heavy" or "paper" (the training distribution); ``config`` (a
            ``DegradeConfig``) overrides it.
        mask_out: a folder for the per-frame contaminant masks (PNG, 255 where contaminated).
        params_out: a JSON file with the config, the video's template and every frame's parameters.
        textures: a folder of real texture images mixed in with the procedural contaminants.
        codec, crf: the output encoding (see ``oldfilm.io.video.VideoWriter``); "ffv1" is lossless.
        progress: ``progress(done, total)`` after each frame.

    Keeps size, fps, timestamps and audio. Outputs are atomic: nothing is left behind unless all succeed.
    """
    from contextlib import ExitStack

    from oldfilm.degrade.api import ParamsWriter, degrade_config, load_textures, mask_writer
    from oldfilm.degrade.pipeline import FilmDegrader
    from oldfilm.io.atomic import AtomicPath, check_output

    cfg = degrade_config(preset, config)
    if seed < 0:
        raise UsageError(f"the seed must be a non-negative integer, got {seed}.")
    tex = load_textures(textures) if textures is not None else []
    params_file = Path(params_out) if params_out is not None else None
    if params_file is not None:
        check_output(params_file, [Path(src), Path(dst)], overwrite)
    with Transcode(src, dst, output=Output(codec, crf, overwrite), progress=progress) as t:
        info = t.info
        deg = FilmDegrader(cfg, np.random.default_rng(seed), (info.height, info.width), textures=tex)
        atomic = AtomicPath(params_file, overwrite=overwrite) if params_file is not None else None
        try:
            with ExitStack() as stack:  # each output is entered once it exists: a failure aborts them all
                masks = stack.enter_context(mask_writer(mask_out, info, overwrite))
                params = stack.enter_context(ParamsWriter(atomic))
                params.header({"seed": seed, "preset": None if config is not None else preset,
                               "config": asdict(cfg), "template": asdict(deg.template)})

                def stage(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
                    for frame in frames:
                        out, mask, frame_params = deg.step(frame)
                        masks.write(mask.astype(np.uint8)[..., None] * np.uint8(255))
                        params.frame(asdict(frame_params))
                        yield out

                t.run(stage(t.frames()))
        except BaseException:
            if atomic is not None:
                atomic.discard()
            raise
    if atomic is not None:
        atomic.commit()
    return Path(dst)


__all__ = ["restore", "colorize", "degrade", "ColorizeReport", "check_colour_refs"]
