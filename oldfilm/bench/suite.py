"""``oldfilm bench``: build the evaluation set, run every method on it, score, and write the report.

The evaluation set is cut from the evaluation clips of shared/DATA.md (``oldfilm.io.sources.EVAL_CLIPS``,
never used in training): fixed windows (the full run's two 48-frame windows of ``bikes.mp4`` each contain a
hard cut, at frames 76 and 187, which the restorers must handle), as gray (luma) and colour variants, each
degraded with ``oldfilm.degrade`` presets light/medium/heavy, or (``STRESS``, ``oldfilm bench --suite
stress``) with the independent damage of ``oldfilm.bench.stress`` on a window of every evaluation clip, from
fixed seeds, and cached on disk as ``.npz``. The stress run also restores the real 1906 film
(``REAL_FILMS``, frames 0–143) and scores it without reference (``bench.film``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from oldfilm.bench.config import FULL, QUICK, STRESS, STRESS_TRAIN, STRESS_WINDOWS, SUITES, BenchConfig, Window
from oldfilm.bench.measure import Frames, Result, measure
from oldfilm.colorspace import from_float, rgb_to_luma
from oldfilm.errors import InputError
from oldfilm.flow import DISFlow
from oldfilm.metrics.clip import evaluate_clip

__all__ = ["FULL", "QUICK", "STRESS", "STRESS_TRAIN", "STRESS_WINDOWS", "SUITES", "BenchConfig", "Window", "Frames",
           "Result", "measure", "run_bench", "eval_pair", "machine", "cpu_name", "mean_rows", "MemoFlow"]


class MemoFlow:
    """A flow estimator that remembers its answers, so the reference clip's flow is computed once for all
    methods (E_warp estimates flow on the clean frames only)."""

    def __init__(self) -> None:
        self._flow = DISFlow(preset="medium")
        self._memo: dict[tuple[bytes, bytes], np.ndarray] = {}

    def __call__(self, current: np.ndarray, other: np.ndarray) -> np.ndarray:
        key = (hashlib.blake2b(current.tobytes(), digest_size=16).digest(),
               hashlib.blake2b(other.tobytes(), digest_size=16).digest())
        if key not in self._memo:
            self._memo[key] = self._flow(current, other)
        return self._memo[key]


def downscale(frame: np.ndarray, max_side: int) -> np.ndarray:
    """(H, W, C) frame with its longer side reduced to ``max_side`` (area interpolation); 0: unchanged."""
    h, w = frame.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return frame
    s = max_side / max(h, w)
    return cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA).reshape(
        round(h * s), round(w * s), frame.shape[2])


def _clean_window(window: Window) -> np.ndarray:
    """(T, H, W, C) uint8 frames of ``window`` from its clip."""
    from oldfilm.io.sources import packaged_clip
    from oldfilm.io.video import open_video

    frames = []
    with open_video(packaged_clip(window.clip)) as reader:
        for i, f in enumerate(reader):
            if i >= window.start + window.frames:
                break
            if i >= window.start:
                f = f if window.colour else from_float(rgb_to_luma(f), np.uint8)[..., None]
                frames.append(downscale(f, window.max_side))
    if len(frames) != window.frames:
        raise InputError(f"{window.clip} has no frames {window.start}–{window.start + window.frames - 1}.")
    return np.stack(frames)


def _degrade(clean: np.ndarray, preset: str, rng: np.random.Generator) -> np.ndarray:
    """Damage a clean clip with a preset of ``oldfilm.degrade``, or "stress" (``oldfilm.bench.stress``)."""
    if preset == "stress":
        from oldfilm.bench.stress import stress_clip

        return stress_clip(clean, rng)
    from oldfilm.degrade.pipeline import degrade_clip
    from oldfilm.degrade.presets import get_preset

    return degrade_clip(clean, rng, get_preset(preset)).frames


def eval_pair(window: Window, preset: str, seed: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(clean, degraded) (T, H, W, C) uint8 clips of one window and preset, cached in ``cache``."""
    from oldfilm.bench import stress
    from oldfilm.degrade.pipeline import degrade_clip
    from oldfilm.degrade.presets import get_preset

    size = f"-{window.max_side}" if window.max_side else ""
    key = f"{window.clip}-{window.variant}-{window.start}-{window.frames}{size}-{preset}-{seed}"
    # a changed preset or degradation code invalidates the cache
    if preset == "stress":
        h = hashlib.sha256(repr(stress.STRESS).encode() + Path(stress.__file__).read_bytes())
    else:
        h = hashlib.sha256(repr(get_preset(preset)).encode())
        for src in sorted(Path(degrade_clip.__code__.co_filename).parent.glob("*.py")):
            h.update(src.read_bytes())
    digest = h.hexdigest()[:10]
    path = cache / f"{key}-{digest}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["clean"], z["degraded"]
    clean = _clean_window(window)
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    degraded = _degrade(clean, preset, rng)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, clean=clean, degraded=degraded)
    tmp.replace(path)
    return clean, degraded


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> str:
    """One line naming the machine the numbers come from (benchmarks/ scripts print it too)."""
    cores = os.cpu_count() or 0
    return f"{cores}-core CPU ({cpu_name()}), {platform.system()}, Python {platform.python_version()}"


def run_bench(
    quick: bool = False,
    out_dir: str | Path = "docs",
    cache: str | Path | None = None,
    config: BenchConfig | None = None,
    methods: Sequence[str] = (),
    weights: Sequence[str | Path] = (),
    say: Callable[[str], None] = print,
    suite: str = "",
    ensembles: Sequence[int] = (1,),
) -> Path:
    """Run the benchmark; writes ``benchmark[-quick].md`` in ``out_dir`` and the CSV, JSON, contact sheet
    and bar plot in ``out_dir/benchmark[-quick]/``; returns the markdown path.

    ``suite`` names a configuration of ``SUITES`` ("stress": ``benchmark-stress.md``); ``config`` overrides
    ``QUICK``/``FULL``/``suite`` (tests use a tiny one); ``methods`` keeps only the named methods;
    each of ``weights`` (.safetensors RTN files) adds a method ``rtn:<file stem>`` per size N of
    ``ensembles`` (the engine's self-ensemble; ``rtn:<file stem>+mirrorN`` for N > 1)."""
    from oldfilm.bench.baselines import Method, MethodUnavailable, default_methods, oldfilm_method
    from oldfilm.bench.report import write_report
    from oldfilm.io.sources import cache_dir

    if suite and suite not in SUITES:
        raise InputError(f"unknown benchmark suite {suite!r}; choose from {', '.join(SUITES)}.")
    cfg = config or (SUITES[suite] if suite else QUICK if quick else FULL)
    if methods:
        cfg = replace(cfg, methods=tuple(methods))
    cache_path = Path(cache) if cache else cache_dir() / "bench"
    chosen = default_methods()
    for w in weights:
        if not Path(w).is_file():
            raise InputError(f"weights file {w} does not exist.")
        for n in ensembles:
            name = f"rtn:{Path(w).stem}" + (f"+mirror{n}" if n > 1 else "")
            label = f"ours: RTN with weights `{Path(w).name}`" + (f", mean over {n} mirrored copies" if n > 1 else "")
            chosen.append(Method(name, label, oldfilm_method("rtn", weights=w, ensemble=n)))
            if cfg.methods:
                cfg = replace(cfg, methods=(*cfg.methods, name))
    if cfg.methods:
        unknown = set(cfg.methods) - {m.name for m in chosen}
        if unknown:
            raise InputError(f"unknown benchmark method(s): {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(m.name for m in chosen)}.")
        chosen = [m for m in chosen if m.name in cfg.methods]
    started = time.perf_counter()
    results: dict[tuple[str, str, str], Result] = {}
    skipped: dict[str, str] = {}
    crops: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for window in cfg.windows:
        flow = MemoFlow()
        clean, _ = eval_pair(window, cfg.presets[0], cfg.seed, cache_path)
        scores = evaluate_clip(list(clean), list(clean), cfg.noref_every, estimator=flow)
        group = window.clip if cfg.by_clip else "-"
        row = results.setdefault((window.variant, group, "clean"), Result(window.variant, group, "clean"))
        row.add(scores, 0.0, None)
        for preset in cfg.presets:
            clean, degraded = eval_pair(window, preset, cfg.seed, cache_path)
            group = window.clip if cfg.by_clip else preset
            mid = len(clean) // 2
            sheet = crops.setdefault((window.variant, group), {"clean": clean[mid]})
            for method in chosen:
                if method.name in skipped:
                    continue
                try:
                    out, seconds, peak = measure(method.run, list(degraded))
                except MethodUnavailable as e:
                    skipped[method.name] = str(e)
                    say(f"skipping {method.name}: {e}")
                    continue
                scores = evaluate_clip(out, list(clean), cfg.noref_every, estimator=flow)
                row = results.setdefault((window.variant, group, method.name),
                                         Result(window.variant, group, method.name))
                row.add(scores, seconds, peak)
                sheet.setdefault(method.name, out[mid])
                say(f"{window.clip} {window.variant} {window.start}+{window.frames} {preset:6s} {method.name:26s} "
                    f"PSNR {scores.psnr:6.2f}  PSNR-t {scores.psnr_tone:6.2f}  E_warp {scores.ewarp:.4f}  "
                    f"{seconds / len(out):.3f} s/frame")
    rows = list(results.values())
    if cfg.by_clip:
        rows += mean_rows(rows)
    film = None
    if cfg.film_frames:
        from oldfilm.bench.film import run_film

        film = run_film([m for m in chosen if m.name not in skipped], cfg.film_frames, cfg.noref_every, say)
    elapsed = time.perf_counter() - started
    return write_report(Path(out_dir), cfg, rows, chosen, skipped, crops, elapsed, machine(), say, film=film)


def mean_rows(rows: Sequence[Result]) -> list[Result]:
    """One row per (variant, method): each metric's plain mean over the clips' rows (group "mean")."""
    keys = ("psnr", "ssim", "ewarp", "flicker", "niqe", "brisque", "psnr_tone", "sec_per_frame", "peak_mib")
    out: dict[tuple[str, str], Result] = {}
    for variant, method in dict.fromkeys((r.variant, r.method) for r in rows):
        same = [r for r in rows if r.variant == variant and r.method == method]
        mean = Result(variant, "mean", method, frames=sum(r.frames for r in same))
        for key in keys:
            values = [getattr(r, key) for r in same if getattr(r, key) is not None]
            setattr(mean, key, float(np.mean(values)) if values else None)
        out[(variant, method)] = mean
    return list(out.values())
