"""The ``oldfilm`` command. Thin: parse arguments → call the public API → one-line errors and exit codes
(2 for input/usage errors, 1 for runtime failures, 130 when interrupted; a traceback only with --debug).

It imports only public names: ``oldfilm``'s and those its subpackages export in their ``__init__``
(``oldfilm.io``, ``oldfilm.colorize``, ``oldfilm.degrade``, ``oldfilm.metrics``, ``oldfilm.bench``,
``oldfilm.train``, ``oldfilm.ui``, ``oldfilm.errors``)."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from oldfilm.errors import OldFilmError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Restore and colourise old films (after RTN, CVPR 2022).")
_state = {"debug": False, "quiet": False}
CODEC_HELP = ("auto | h264 | h264-444 | ffv1 | prores | prores4444 | dnxhr (files); png | tiff | dpx | exr "
              "(folders)")
"""The output codecs of restore, colorize and degrade (``oldfilm.io.encode``; a test keeps the two in step)."""
log = logging.getLogger("oldfilm")


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                              help="No progress bar or info; warnings still show.")] = False) -> None:
    _state["debug"], _state["quiet"] = debug, quiet
    # warnings (frames lost to damage, fields changed) stay on with --quiet: they say the output is not what
    # the user may assume, which a batch script must not miss
    logging.basicConfig(level=logging.WARNING, format="oldfilm: warning: %(message)s", stream=sys.stderr)


def _progress(desc: str) -> tuple[Callable[[int, int | None], None] | None, Callable[[], None]]:
    """A tqdm bar on stderr (fps and ETA) fed by ``progress(done, total)``; a no-op when --quiet."""
    if _state["quiet"]:
        return None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int | None) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, dynamic_ncols=True)
        bar["bar"].update(done - bar["bar"].n)

    return update, lambda: bar["bar"].close() if "bar" in bar else None


def _say(msg: str) -> None:
    if not _state["quiet"]:
        typer.echo(msg)


@app.command()
def info(src: Annotated[Path, typer.Argument(help="A video file or a folder of frames.")]) -> None:
    """Print what a video holds: size, fps, frame count, pixel format, rotation, audio, timecode, colour,
    fields (interlaced, telecined or progressive) and picture area (inside borders), found by looking at the
    first frames."""
    from oldfilm import probe
    from oldfilm.io import probe_fields, resolve_crop

    i = probe(src)
    fps = f"{float(i.fps):.3f} ({i.fps})"
    for key, value in [("path", i.path), ("size", f"{i.width}x{i.height}"), ("fps", fps),
                       ("time base", i.time_base), ("frames", "unknown" if i.frame_count is None else i.frame_count),
                       ("duration", f"{i.duration:.3f} s" if i.duration else "unknown"), ("codec", i.codec),
                       ("pixel format", i.pix_fmt), ("channels", i.channels), ("bit depth", i.bit_depth),
                       ("rotation", i.rotation), ("audio", "yes" if i.has_audio else "no"),
                       ("sample bits", "float" if i.source_bits == 32 else i.source_bits),
                       ("first frame", i.first_frame), ("timecode", i.timecode or "none"),
                       ("colour", i.colour.describe()), ("field tag", i.field_order),
                       ("fields", probe_fields(i).describe()),
                       ("picture area", resolve_crop("auto", i) or "whole frame (no borders found)")]:
        typer.echo(f"{key:>13}: {value}")


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="Input video file or frame folder.")],
    dst: Annotated[Path, typer.Argument(help="Output file (.mp4/.mkv/.mov) or folder (no suffix).")],
    method: Annotated[str, typer.Option(help="classical | rtn | none (no restoration: convert only)")]
    = "classical",
    preset: Annotated[str, typer.Option(help="RTN preset: auto | quality | guided | fast | rtn-paper")] = "auto",
    weights: Annotated[Path | None, typer.Option(help="RTN weights (.safetensors); default: shipped")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    start: Annotated[int, typer.Option(help="First frame (index).")] = 0,
    end: Annotated[int | None, typer.Option(help="Stop before this frame index.")] = None,
    codec: Annotated[str, typer.Option(help=CODEC_HELP)] = "auto",
    crf: Annotated[int, typer.Option(help="H.264 quality (lower is better; 17 ≈ visually lossless).")] = 17,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
    fields: Annotated[str, typer.Option(help="auto (as detected) | ivtc (undo 3:2 pulldown) | deinterlace | "
                                             "none")] = "auto",
    fps: Annotated[float | None, typer.Option(help="Retime to this rate: drops repeated frames if the "
                                                   "transfer has them, else slows the film down.")] = None,
    crop: Annotated[str | None, typer.Option(help="Restore only the picture area: auto (inside black or "
                                                  "plain borders) | WxH+X+Y; borders kept as they are.")]
    = None,
    colorize: Annotated[bool, typer.Option("--colorize", help="Also colour the film (needs --ref or "
                                                              "--exemplar), in the same pass.")] = False,
    ref: Annotated[list[Path] | None, typer.Option(help="With --colorize: a coloured keyframe (repeatable).")]
    = None,
    ref_frame: Annotated[list[int] | None, typer.Option(help="Frame number of each --ref, in order "
                                                             "(counted from --start).")] = None,
    exemplar: Annotated[Path | None, typer.Option(help="With --colorize: a colour photo of a similar scene.")]
    = None,
    resume: Annotated[bool, typer.Option(help="Restore in chunks kept in a hidden work folder beside DST; run "
                                              "the same command again to continue an interrupted run.")] = False,
    chunk_frames: Annotated[int, typer.Option(help="With --resume: frames per chunk at most.")] = 500,
    strict: Annotated[bool, typer.Option(help="Fail when a damaged input lost frames.")] = False,
    stabilize: Annotated[bool, typer.Option("--stabilize", help="Classical method: remove gate weave (the "
                                                                "picture moves against the frame edges).")] = False,
    grain: Annotated[str, typer.Option(help="Classical method: remove | keep (repair dust, scratches and "
                                            "flicker but leave the film's grain as it is).")] = "remove",
    ensemble: Annotated[int, typer.Option(help="RTN method: average the network over 1, 2 or 4 mirrored copies "
                                               "of the film (self-ensemble: steadier, less grain; N× the "
                                               "network's time).")] = 1,
) -> None:
    """Restore an old film: dust, scratches, blotches, noise, flicker (and colour it with --colorize)."""
    from oldfilm import restore as api_restore
    from oldfilm.errors import UsageError
    from oldfilm.restore.api import method_options

    if resume:
        if colorize or fps is not None or crop is not None:
            raise UsageError("--resume restores in chunks: without --colorize, --fps or --crop (run those apart)")
        _restore_resumable(src, dst, method=method, preset=preset, weights=weights, device=device, start=start,
                           end=end, fields=fields, codec=codec, crf=crf, overwrite=overwrite, strict=strict,
                           chunk_frames=chunk_frames,
                           **method_options(method, stabilize=stabilize, grain=grain, ensemble=ensemble))
        return

    colour = None
    if colorize:  # with --start, every --ref needs a --ref-frame: oldfilm.restore says so
        colour = {"refs": ref or [], "ref_frames": ref_frame, "exemplar": exemplar, "match_in": src}
    elif ref or ref_frame or exemplar:
        raise UsageError("--ref, --ref-frame and --exemplar need --colorize (or use oldfilm colorize)")
    update, close = _progress("restore")
    try:
        out = api_restore(src, dst, method=method, preset=preset, weights=weights, device=device, start=start,
                          end=end, codec=codec, crf=crf, overwrite=overwrite, progress=update, colorize=colour,
                          fields=fields, fps=fps, crop=crop, strict=strict, stabilize=stabilize, grain=grain,
                          ensemble=ensemble)
    finally:
        close()
    _say(f"wrote {out}")


def _restore_resumable(src: Path, dst: Path, **kwargs: Any) -> None:
    from oldfilm import restore_chunked

    scanned, close_scan = _progress("first pass")
    update, close = _progress("restore")
    try:
        r = restore_chunked(src, dst, progress=update, scan_progress=scanned, **kwargs)
    finally:
        close_scan()
        close()
    again = f"; {len(r.reused)} finished earlier were kept" if r.reused else ""
    _say(f"wrote {r.path} ({r.frames} frames, {r.chunks} chunks: {len(r.restored)} restored{again})")


@app.command()
def batch(
    src: Annotated[Path, typer.Argument(help="A folder of films, or a .csv/.json manifest (input, output, "
                                             "method, preset, weights, refs, ref_frames, exemplar).")],
    out_dir: Annotated[Path, typer.Argument(help="Folder for the restored films and batch-report.json/.csv.")],
    method: Annotated[str, typer.Option(help="classical | rtn | none (a manifest row may differ)")] = "classical",
    preset: Annotated[str, typer.Option(help="RTN preset: auto | guided | fast | rtn-paper")] = "auto",
    weights: Annotated[Path | None, typer.Option(help="RTN weights (.safetensors); default: shipped")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to run on (e.g. ray://head:10001 or "
                                                     "auto); default: a local Ray.")] = None,
    workers: Annotated[int | None, typer.Option(help="CPUs of the local Ray (default: all).")] = None,
    chunk_frames: Annotated[int, typer.Option(help="Frames per chunk (task) at most.")] = 500,
    codec: Annotated[str, typer.Option(help="auto | h264 | ffv1")] = "auto",
    crf: Annotated[int, typer.Option(help="H.264 quality (lower is better; 17 ≈ visually lossless).")] = 17,
    overwrite: Annotated[bool, typer.Option(help="Redo films whose output exists.")] = False,
    strict: Annotated[bool, typer.Option(help="A film that lost frames to damage fails.")] = False,
) -> None:
    """Restore many films on Ray (resumable: run it again to continue); writes a report. Exit 1 if a film failed."""
    from oldfilm import run_batch

    reports = run_batch(src, out_dir, method=method, preset=preset, weights=weights, address=address,
                        workers=workers, chunk_frames=chunk_frames, codec=codec, crf=crf, overwrite=overwrite,
                        strict=strict, progress=not _state["quiet"])
    failed = [r for r in reports if r.status == "failed"]
    _say(f"{len(reports) - len(failed)} of {len(reports)} films done; report in {out_dir / 'batch-report.json'}")
    if failed:
        first = failed[0].error if Path(failed[0].input).name in failed[0].error else \
            f"{Path(failed[0].input).name}: {failed[0].error}"
        typer.echo(f"oldfilm: error: {len(failed)} of {len(reports)} films failed (first: {first})", err=True)
        raise typer.Exit(1)


@app.command()
def colorize(
    src: Annotated[Path, typer.Argument(help="Black-and-white (or restored) video file or frame folder.")],
    dst: Annotated[Path, typer.Argument(help="Output file (.mp4/.mkv/.mov) or folder (no suffix).")],
    ref: Annotated[list[Path] | None, typer.Option(help="A coloured keyframe of the clip (repeatable).")] = None,
    ref_frame: Annotated[list[int] | None, typer.Option(help="Frame number of each --ref, in order; a --ref "
                                                             "without one is matched to the most similar "
                                                             "frame.")] = None,
    exemplar: Annotated[Path | None, typer.Option(help="A colour photo of a similar scene (not a frame of "
                                                       "the clip), transferred to each scene's start.")] = None,
    refine: Annotated[str, typer.Option(help="Learned refinement: auto | on | off")] = "auto",
    still: Annotated[bool, typer.Option("--still", help="Static camera: what did not move since the keyframe "
                                                        "keeps its colour exactly.")] = False,
    codec: Annotated[str, typer.Option(help=CODEC_HELP + " (h264 halves the chroma resolution; the others "
                                            "keep it)")] = "auto",
    crf: Annotated[int, typer.Option(help="H.264 quality (lower is better; 17 ≈ visually lossless).")] = 17,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Colour a black-and-white film from coloured keyframes (--ref) or a colour photo (--exemplar)."""
    from oldfilm import colorize as api_colorize
    from oldfilm.colorize import AdaptConfig, ColorizeConfig

    config = ColorizeConfig(refine=refine, adapt=AdaptConfig(still=1.0 if still else 0.0))
    update, close = _progress("colorize")
    try:
        report = api_colorize(src, dst, refs=ref or [], ref_frames=ref_frame, exemplar=exemplar,
                              config=config, codec=codec, crf=crf, overwrite=overwrite,
                              progress=update)
    finally:
        close()
    _say(f"wrote {report.path} ({report.frames} frames, {report.seconds:.1f} s)")


@app.command()
def degrade(
    src: Annotated[Path | None, typer.Argument(help="Clean input video file or frame folder.")] = None,
    dst: Annotated[Path | None, typer.Argument(help="Output file (.mp4/.mkv/.mov) or folder.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same damage.")] = 0,
    preset: Annotated[str, typer.Option(help="light | medium | heavy | paper (training)")] = "medium",
    mask_out: Annotated[Path | None, typer.Option(help="Folder for per-frame contaminant masks.")] = None,
    params_out: Annotated[Path | None, typer.Option(help="JSON file for the sampled parameters.")] = None,
    textures: Annotated[Path | None, typer.Option(help="Folder of real texture images to mix in.")] = None,
    preview: Annotated[Path | None, typer.Option(help="Render a PNG grid of examples instead.")] = None,
    codec: Annotated[str, typer.Option(help=CODEC_HELP)] = "auto",
    crf: Annotated[int, typer.Option(help="H.264 quality (lower is better; 17 ≈ visually lossless).")] = 17,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
) -> None:
    """Make a clean clip look like an old film: dust, scratches, grain, flicker, weave, fading (seeded)."""
    from oldfilm import degrade as api_degrade
    from oldfilm.degrade import render_preview
    from oldfilm.errors import UsageError

    if preview is not None:
        if src is not None or dst is not None:
            raise UsageError("--preview renders a grid of examples; give it without IN and OUT.")
        _say(f"wrote {render_preview(preview, seed, overwrite=overwrite)}")
        return
    if src is None or dst is None:
        raise UsageError("oldfilm degrade needs IN and OUT (or --preview FILE).")
    update, close = _progress("degrade")
    try:
        out = api_degrade(src, dst, seed=seed, preset=preset, mask_out=mask_out,
                                  params_out=params_out, textures=textures, codec=codec, crf=crf,
                                  overwrite=overwrite, progress=update)
    finally:
        close()
    _say(f"wrote {out}")


@app.command()
def metrics(
    out: Annotated[Path, typer.Argument(help="Restored video file or frame folder to score.")],
    ref: Annotated[Path | None, typer.Option(help="The clean video/folder (enables PSNR, SSIM).")] = None,
    noref_every: Annotated[int, typer.Option(help="NIQE/BRISQUE on one frame in N (0: skip).")] = 1,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score a video: PSNR, SSIM, PSNR-t (with --ref), warping error, flicker, NIQE, BRISQUE."""
    import json

    from oldfilm.metrics import evaluate_paths

    scores = evaluate_paths(out, ref, noref_every=noref_every).as_dict()
    if json_out:
        typer.echo(json.dumps(scores))
        return
    for key, value in scores.items():
        typer.echo(f"{key:>9}: {'–' if value is None else round(value, 4)}")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small set (< 5 min on 2 cores), not the full run.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for benchmark[-quick].md and its files.")] = Path("docs"),
    cache: Annotated[Path | None, typer.Option(help="Cache of the evaluation set.")] = None,
    methods: Annotated[str | None, typer.Option(help="Comma-separated method names (default: all).")] = None,
    weights: Annotated[list[Path] | None, typer.Option(help="Also benchmark RTN with this file.")] = None,
    ensemble: Annotated[list[int] | None, typer.Option(help="With --weights: RTN's self-ensemble sizes to run "
                                                            "(repeatable; default 1).")] = None,
    colorize: Annotated[bool, typer.Option("--colorize", help="The colourisation benchmark instead.")] = False,
    suite: Annotated[str, typer.Option(help="A named run instead: 'stress' (every evaluation clip, the "
                                            "independent damage, and the real 1906 film).")] = "",
) -> None:
    """Benchmark the restorers and baselines on the evaluation clip; writes a report."""
    if colorize:
        from oldfilm.bench import ColorBenchConfig, run_colorize_bench

        cfg = ColorBenchConfig(frames=24, modes=("first",)) if quick else ColorBenchConfig()
        cmd = "oldfilm bench --colorize" + (" --quick" if quick else "")
        _say(f"wrote {run_colorize_bench(out, cfg, say=_say, command=cmd)}")
        return
    from oldfilm.bench import run_bench

    names = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else ()
    path = run_bench(quick=quick, out_dir=out, cache=cache, methods=names, weights=tuple(weights or ()),
                     ensembles=tuple(ensemble or (1,)), say=_say, suite=suite)
    _say(f"wrote {path}")


@app.command()
def train(
    run_dir: Annotated[Path, typer.Argument(help="Run folder: config, checkpoint, logs (resumed if present).")],
    config: Annotated[str, typer.Option(help="A training preset (tiny, fast-cpu, fast-gpu) or a JSON file.")]
    = "fast-cpu",
    steps: Annotated[int | None, typer.Option(help="Override the number of steps.")] = None,
    init: Annotated[Path | None, typer.Option(help="Start a new run from these .safetensors weights "
                                                   "(fine-tuning).")] = None,
    export: Annotated[Path | None, typer.Option(help="Only write the run's EMA weights to this "
                                                     ".safetensors file.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Stop (with a checkpoint) after this many minutes; "
                                                       "run again to resume.")] = None,
) -> None:
    """Train the RTN network (or resume a run); for several processes use torchrun -m oldfilm.train."""
    from oldfilm.train import run_training

    out = run_training(config, run_dir, steps=steps, init=init, export=export, minutes=minutes)
    _say(f"wrote {out}")


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on; the default serves this machine only.")]
    = "127.0.0.1",
    work: Annotated[Path | None, typer.Option(help="Work folder: the only place the app writes "
                                                   "(default: ~/.cache/oldfilm/ui).")] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest upload accepted, in MiB.")] = 2048,
) -> None:
    """Start the local web app (open a film, before/after, colour, restore, download); needs oldfilm[ui]."""
    from oldfilm.errors import UsageError

    try:  # the optional extra: say what to install rather than fail mid-start
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as e:
        raise UsageError(f"the web app needs {e.name}: pip install 'oldfilm[ui]'") from None
    from oldfilm.io import cache_dir
    from oldfilm.ui import serve

    try:
        serve(work or cache_dir() / "ui", host=host, port=port, max_upload_mb=max_upload_mb)
    except KeyboardInterrupt:  # Ctrl-C is how the app is stopped (running jobs were cancelled, outputs dropped)
        _say("oldfilm ui: stopped")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turn errors into one line on stderr and an exit code."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    args = list(sys.argv[1:] if argv is None else argv)
    # global flags are accepted anywhere on the line, not only before the command
    for flag, key in (("--debug", "debug"), ("--quiet", "quiet"), ("-q", "quiet")):
        while flag in args and "--" not in args[: args.index(flag)]:
            args.remove(flag)
            _state[key] = True
    if _state["debug"]:
        args.insert(0, "--debug")
    if _state["quiet"]:
        args.insert(0, "--quiet")
    try:
        rc = app(args=args, standalone_mode=False)  # returns the code of a typer.Exit (130: interrupted)
        if rc == 130:
            raise KeyboardInterrupt
    except OldFilmError as e:
        if _state["debug"]:
            raise
        typer.echo(f"oldfilm: error: {e}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        typer.echo("oldfilm: interrupted; nothing was written", err=True)
        return 130
    except (typer.Exit, SystemExit) as e:
        return int(getattr(e, "exit_code", getattr(e, "code", 0)) or 0)
    except Exception as e:  # noqa: BLE001 - the one place unexpected errors become a line
        if hasattr(e, "show") and hasattr(e, "exit_code"):  # the argument parser's usage errors
            e.show()
            return int(e.exit_code)
        if _state["debug"]:
            raise
        typer.echo(f"oldfilm: error: {e.__class__.__name__}: {e} (run with --debug for details)", err=True)
        return 1
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
