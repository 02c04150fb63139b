"""``oldfilm bench --colorize``: colourisation on the evaluation clips of ``shared/DATA.md`` (bikes, diver,
motion, balle, lego — never trained or tuned on). A short window of each clip is read (downscaled), cut into
shots, every shot turned gray and given in colour at its first frame (mode ``first``) or at its first and
last frames (mode ``first-last``); each method colours the rest, scored against the true colours.

Methods (built-in baselines and ours):
    copy-key    every frame takes the ab of its nearest given frame (L from the frame)
    flow-only   a plain DIS flow chain carries the key's ab frame to frame; with two keys, a forward and a
                backward chain blended linearly by distance
    ours        ``oldfilm.colorize.colorize_stream``

Metrics, over the frames that were not given: RGB PSNR (mean of per-frame values), mean CIEDE2000 ΔE, and
colour flicker: the mean Euclidean error of the frame-to-frame change of ab, ‖(ab_t − ab_t−1) −
(ab*_t − ab*_t−1)‖, against the true clip's change — 0 when the output's chroma changes exactly as the true
one does, higher for both jitter and colour that lags behind motion. Frame-weighted over the shots of a
clip; the mean over clips is unweighted (each clip counts once).

The same harness scores the training clips (``TRAIN``; a ``@start`` picks the first frame, a ``!dark`` or
``!pan`` makes low light or a fast pan of it, see ``condition``): where the colouriser is tuned, never on the
evaluation clips.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from oldfilm.colorize.api import ColorizeConfig, colorize_stream, frame_lightness
from oldfilm.colorize.chroma import lab_to_rgb_keep_l
from oldfilm.colorspace import from_float, rgb_to_lab
from oldfilm.flow import DISFlow, warp_image
from oldfilm.metrics.colour import delta_e
from oldfilm.metrics.fullref import psnr
from oldfilm.restore.scenes import SceneDetector

Frames = list[np.ndarray]
Keys = dict[int, np.ndarray]
Method = Callable[[Frames, Keys], Frames]
METRICS = ("psnr", "delta_e", "flicker")
MODES = ("first", "first-last")
EVAL = ("bikes", "diver", "motion", "balle", "lego")
TRAIN = ("bigbuckbunny", "city", "city@96!dark+jpeg", "bigbuckbunny@64!pan", "city@48!shake+jpeg")


@dataclass(frozen=True)
class ColorBenchConfig:
    """What the colourisation benchmark runs.

    Attributes:
        clips: packaged clip names (``oldfilm.io.sources.CLIPS``), each optionally ``name@start``.
        frames: frames read per clip (from ``start``).
        max_side: frames are downscaled so the longer side is at most this (0: full size).
        modes: ``first`` and/or ``first-last`` (which frames of a shot are given in colour).
        min_shot: shots shorter than this are left out.
        cut_ratio: scene-cut residual ratio used to split a window into shots (``SceneDetector.ratio``).
        methods: which of ``METHODS`` to run.
    """

    clips: tuple[str, ...] = EVAL
    frames: int = 48
    max_side: int = 320
    modes: tuple[str, ...] = MODES
    min_shot: int = 8
    cut_ratio: float = 3.5
    methods: tuple[str, ...] = ("copy-key", "flow-only", "ours")


def _compose(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    return from_float(lab_to_rgb_keep_l(L, ab), np.uint8)


def copy_key(gray: Frames, keys: Keys) -> Frames:
    """Every frame gets the ab of its nearest key (ties: the earlier)."""
    abs_ = {k: rgb_to_lab(v)[..., 1:] for k, v in keys.items()}
    out = []
    for i, g in enumerate(gray):
        if i in keys:
            out.append(keys[i])
            continue
        k = min(abs_, key=lambda k: (abs(k - i), k))
        out.append(_compose(frame_lightness(g), abs_[k]))
    return out


def _chain(Ls: list[np.ndarray], ab0: np.ndarray, flow: DISFlow) -> list[np.ndarray]:
    """ab carried from Ls[0] along a plain DIS chain to every later frame."""
    out = [ab0]
    for prev, cur in zip(Ls[:-1], Ls[1:], strict=True):
        out.append(warp_image(out[-1], flow(cur / 100.0, prev / 100.0)))
    return out


def flow_only(gray: Frames, keys: Keys) -> Frames:
    """A plain DIS flow chain from the first key forwards; with a key at the last frame too, a second chain
    backwards, the two blended linearly by distance."""
    flow = DISFlow("medium", max_side=640)
    Ls = [frame_lightness(g) for g in gray]
    n = len(gray)
    fwd = _chain(Ls, rgb_to_lab(keys[0])[..., 1:], flow)
    if n - 1 in keys and n > 1:
        bwd = _chain(Ls[::-1], rgb_to_lab(keys[n - 1])[..., 1:], flow)[::-1]
        abs_ = [(1 - i / (n - 1)) * f + (i / (n - 1)) * b for i, (f, b) in enumerate(zip(fwd, bwd, strict=True))]
    else:
        abs_ = fwd
    return [keys[i] if i in keys else _compose(L, ab) for i, (L, ab) in enumerate(zip(Ls, abs_, strict=True))]


def ours(gray: Frames, keys: Keys, config: ColorizeConfig = ColorizeConfig()) -> Frames:
    idx = sorted(keys)
    return list(colorize_stream(gray, [keys[i] for i in idx], idx, config=config))


METHODS: dict[str, Method] = {"copy-key": copy_key, "flow-only": flow_only, "ours": ours}


def condition(frames: Frames, how: str) -> Frames:
    """Shooting conditions made from a training window (tuning only), ``+``-separated: ``dark`` (low light:
    a third of the light, sensor noise), ``pan`` (a fast pan: a half-wide crop sweeping across the frame, so
    content enters every frame), ``shake`` (handheld: an 80 % crop jittering by a few pixels per frame),
    ``static`` (a static camera: the window's first frame, grain, and a live patch of the clip moving
    across it like a person), ``haze`` (fog, faded stock or murky water: low contrast, a blue-green cast,
    soft focus, noise), ``jpeg`` (every frame JPEG-compressed at quality 40, as MJPEG footage)."""
    rng = np.random.default_rng(0)
    for part in how.split("+"):
        h, w = frames[0].shape[:2]
        if part == "dark":
            frames = [np.clip(f * 0.33 + rng.normal(0.0, 2.0, f.shape), 0, 255).astype(np.uint8) for f in frames]
        elif part == "pan":
            cw = 2 * round(0.25 * w)
            xs = np.linspace(0, w - cw, len(frames)).round().astype(int)
            frames = [np.ascontiguousarray(f[:, x:x + cw]) for f, x in zip(frames, xs, strict=True)]
        elif part == "shake":
            ch, cw = 2 * round(0.4 * h), 2 * round(0.4 * w)
            pos = np.cumsum(rng.normal(0.0, 3.0, (len(frames), 2)), 0) * 0.5 + rng.normal(0.0, 2.0, (len(frames), 2))
            ys = np.clip(np.round(pos[:, 0] + (h - ch) / 2), 0, h - ch).astype(int)
            xs = np.clip(np.round(pos[:, 1] + (w - cw) / 2), 0, w - cw).astype(int)
            frames = [np.ascontiguousarray(f[y:y + ch, x:x + cw]) for f, y, x in zip(frames, ys, xs, strict=True)]
        elif part == "static":
            ph, pw = h // 3, w // 4
            ys = np.linspace(h // 6, h - ph - h // 6, len(frames)).round().astype(int)
            xs = np.linspace(0, w - pw, len(frames)).round().astype(int)
            out = []
            for f, y, x in zip(frames, ys, xs, strict=True):
                g = frames[0].copy()
                g[y:y + ph, x:x + pw] = f[h // 3:h // 3 + ph, (w - pw) // 2:(w - pw) // 2 + pw]
                out.append(np.clip(g + rng.normal(0.0, 1.0, g.shape), 0, 255).astype(np.uint8))
            frames = out
        elif part == "haze":
            cast = np.array([0.55, 0.9, 1.0], np.float32)
            frames = [np.clip(cv2.GaussianBlur(f.astype(np.float32), (0, 0), 1.2) * 0.35 * cast + 50 * cast
                              + rng.normal(0.0, 1.5, f.shape), 0, 255).astype(np.uint8) for f in frames]
        elif part == "jpeg":
            q = [cv2.IMWRITE_JPEG_QUALITY, 40]
            frames = [cv2.imdecode(cv2.imencode(".jpg", f, q)[1], cv2.IMREAD_UNCHANGED) for f in frames]
        else:
            raise ValueError(f"unknown condition {part!r} (dark, pan, shake, static, haze, jpeg)")
    return frames


def load_window(spec: str, frames: int, max_side: int) -> Frames:
    """``name[@start][!condition]`` → ``frames`` RGB uint8 frames of the packaged clip, downscaled to
    ``max_side`` (and made dark or panning, see ``condition``)."""
    from oldfilm.io.sources import packaged_clip
    from oldfilm.io.video import open_video

    spec, _, how = spec.partition("!")
    name, _, start = spec.partition("@")
    first = int(start or 0)
    out: Frames = []
    with open_video(packaged_clip(name)) as reader:
        for i, f in enumerate(reader):
            if i < first:
                continue
            if len(out) >= frames:
                break
            f = f if f.shape[2] == 3 else np.repeat(f, 3, 2)
            f = (f >> 8).astype(np.uint8) if f.dtype == np.uint16 else f
            h, w = f.shape[:2]
            if max_side and max(h, w) > max_side:
                s = max_side / max(h, w)
                f = cv2.resize(f, (2 * round(w * s / 2), 2 * round(h * s / 2)), interpolation=cv2.INTER_AREA)
            out.append(np.ascontiguousarray(f))
    return condition(out, how) if how else out


def split_shots(frames: Frames, cfg: ColorBenchConfig) -> list[tuple[int, int]]:
    """[start, end) of every shot of at least ``min_shot`` frames."""
    det = SceneDetector(ratio=cfg.cut_ratio)
    cuts = [i for i, f in enumerate(frames) if det(f)] + [len(frames)]
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=False) if b - a >= cfg.min_shot]


def given(n: int, mode: str) -> list[int]:
    """The frames of an n-frame shot given in colour."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    return [0] if mode == "first" or n < 2 else [0, n - 1]


def chroma_flicker(out: Frames, truth: Frames) -> list[float]:
    """Per consecutive pair: mean ‖Δab_out − Δab_true‖ (Δ: frame-to-frame change)."""
    ab_o = [rgb_to_lab(f)[..., 1:] for f in out]
    ab_t = [rgb_to_lab(f)[..., 1:] for f in truth]
    return [float(np.sqrt((((o1 - o0) - (t1 - t0)) ** 2).sum(-1)).mean())
            for o0, o1, t0, t1 in zip(ab_o[:-1], ab_o[1:], ab_t[:-1], ab_t[1:], strict=True)]


def score(out: Frames, truth: Frames, keys: list[int]) -> dict[str, float]:
    """Metrics of one shot over the frames not given; flicker over every consecutive pair."""
    idx = [i for i in range(len(truth)) if i not in keys]
    return {"psnr": float(np.mean([psnr(out[i], truth[i], "rgb") for i in idx])),
            "delta_e": float(np.mean([delta_e(out[i], truth[i]) for i in idx])),
            "flicker": float(np.mean(chroma_flicker(out, truth)))}


Rows = list[tuple[int, dict[str, float]]]


def _wmean(rows: Rows) -> dict[str, float]:
    n = sum(w for w, _ in rows)
    return {k: sum(w * r[k] for w, r in rows) / max(n, 1) for k in METRICS}


def evaluate(cfg: ColorBenchConfig = ColorBenchConfig(), config: ColorizeConfig = ColorizeConfig(),
             say: Callable[[str], None] = print, extra: dict[str, Method] | None = None) -> dict:
    """Run every method on every clip and mode. Returns {"per_clip": {mode: {method: {clip: metrics}}},
    "mean": {mode: {method: metrics}}, "shots": {clip: [[a, b], ...]}, "seconds": {method: s per frame}}."""
    methods = dict(METHODS) | (extra or {})
    names = tuple(cfg.methods) + tuple(extra or ())
    per: dict[str, dict[str, dict[str, Rows]]] = {m: {n: {} for n in names} for m in cfg.modes}
    shots_of: dict[str, list[tuple[int, int]]] = {}
    seconds = dict.fromkeys(names, 0.0)
    n_done = 0
    for spec in cfg.clips:
        clip = load_window(spec, cfg.frames, cfg.max_side)
        shots_of[spec] = split_shots(clip, cfg)
        for a, b in shots_of[spec]:
            truth = clip[a:b]
            gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None] for f in truth]
            for mode in cfg.modes:
                keys = given(b - a, mode)
                kd = {k: truth[k] for k in keys}
                for name in names:
                    t0 = time.time()
                    fn = methods[name]
                    out = ours(gray, kd, config) if name == "ours" else fn(gray, kd)
                    seconds[name] += time.time() - t0
                    s = score(out, truth, keys)
                    per[mode][name].setdefault(spec, []).append((b - a - len(keys), s))
                    say(f"{spec} {a}-{b} {mode} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()))
                n_done += b - a
    per_clip = {mode: {n: {c: _wmean(r) for c, r in per[mode][n].items()} for n in names} for mode in cfg.modes}
    mean = {mode: {n: {k: float(np.mean([v[k] for v in per_clip[mode][n].values()])) for k in METRICS}
                   for n in names} for mode in cfg.modes}
    return {"per_clip": per_clip, "mean": mean, "shots": shots_of,
            "seconds": {n: s / max(n_done, 1) for n, s in seconds.items()}}


def verdict(res: dict, mode: str) -> list[str]:
    """The issue's criteria for ``ours`` in one mode, as lines of text."""
    mean, per = res["mean"][mode], res["per_clip"][mode]
    best = max(mean["flow-only"]["psnr"], mean["copy-key"]["psnr"])
    lines = [f"- mean gain over the better baseline: {mean['ours']['psnr'] - best:+.2f} dB (target ≥ +1.0)"]
    worst = min((per["ours"][c]["psnr"] - max(per["flow-only"][c]["psnr"], per["copy-key"][c]["psnr"]), c)
                for c in per["ours"])
    lines.append(f"- worst clip against the better baseline there: {worst[0]:+.2f} dB ({worst[1]}; target ≥ −0.3)")
    lines.append(f"- colour flicker {mean['ours']['flicker']:.3f} vs flow-only {mean['flow-only']['flicker']:.3f} "
                 "(target: no higher)")
    return lines


def markdown(res: dict, cfg: ColorBenchConfig, elapsed: float, command: str) -> str:
    """The report: per mode, a per-clip table and the mean, then the verdict."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    shots = "; ".join(f"{c}: " + ", ".join(f"{a}–{b - 1}" for a, b in s) for c, s in res["shots"].items())
    lines = ["# Colourisation benchmark", "",
             f"Clips {', '.join(cfg.clips)}: the first {cfg.frames} frames of each (after `@start`), longer side "
             f"downscaled to {cfg.max_side} px, cut into shots ({shots}); every shot turned gray and given in "
             "colour at its first frame (`first`) or its first and last frames (`first-last`). PSNR on RGB, "
             "ΔE00, colour flicker = mean ‖Δab_out − Δab_true‖ between consecutive frames (lower is better).", "",
             f"Command: `{command}`; {when}; {platform.machine()} CPU, {_cores()} cores shared with other jobs; "
             f"run in {elapsed / 60:.1f} min.", ""]
    for mode in cfg.modes:
        per, mean = res["per_clip"][mode], res["mean"][mode]
        names = list(per)
        clips = list(next(iter(per.values())))
        lines += [f"## Mode `{mode}`", "", "PSNR (dB) ↑ per clip, then the mean's PSNR / ΔE00 / flicker:", "",
                  "| method | " + " | ".join(clips) + " | **mean PSNR** | ΔE00 ↓ | flicker ↓ |",
                  "|---" * (len(clips) + 4) + "|"]
        for n in names:
            lines.append(f"| {n} | " + " | ".join(f"{per[n][c]['psnr']:.2f}" for c in clips)
                         + f" | **{mean[n]['psnr']:.2f}** | {mean[n]['delta_e']:.2f} | {mean[n]['flicker']:.3f} |")
        lines += ["", "ΔE00 / flicker per clip:", "", "| method | " + " | ".join(clips) + " |",
                  "|---" * (len(clips) + 1) + "|"]
        for n in names:
            lines.append(f"| {n} | " + " | ".join(f"{per[n][c]['delta_e']:.2f} / {per[n][c]['flicker']:.2f}"
                                                   for c in clips) + " |")
        if {"ours", "flow-only", "copy-key"} <= set(names):
            lines += [""] + verdict(res, mode)
        lines.append("")
    lines += ["Seconds per frame (all clips, both modes; machine shared): "
              + ", ".join(f"{n} {s:.3f}" for n, s in res["seconds"].items()), ""]
    return "\n".join(lines)


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def run_colorize_bench(out_dir: str | Path = "docs", cfg: ColorBenchConfig = ColorBenchConfig(),
                       config: ColorizeConfig = ColorizeConfig(), say: Callable[[str], None] = print,
                       command: str = "oldfilm bench --colorize") -> Path:
    """Run the benchmark; writes ``out_dir/benchmark-colorize.md`` and
    ``out_dir/benchmark-colorize/results.json``. Returns the markdown path."""
    from oldfilm.io.atomic import write_bytes_atomic

    t0 = time.time()
    res = evaluate(cfg, config, say)
    out_dir = Path(out_dir)
    (out_dir / "benchmark-colorize").mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out_dir / "benchmark-colorize" / "results.json",
                       json.dumps({"config": asdict(cfg), **res}, indent=1).encode())
    md = out_dir / "benchmark-colorize.md"
    write_bytes_atomic(md, markdown(res, cfg, time.time() - t0, command).encode())
    return md
