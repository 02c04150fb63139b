"""Validation on the evaluation clip (``bikes``, never a training source): a few frames, centre-cropped,
degraded with fixed seeds per preset, restored through the inference engine (same flows, padding and
chunking as ``oldfilm restore``), scored on luma by PSNR, SSIM and E_warp. ``Validator`` is the trainer's
(``val.csv``, ``best.safetensors``); ``python -m oldfilm.train.validate`` scores weight files after the fact.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma
from oldfilm.degrade.pipeline import degrade_clip
from oldfilm.degrade.presets import PRESETS as DEGRADE_PRESETS
from oldfilm.train.config import VAL_WINDOWS, TrainConfig
from oldfilm.train.runlog import append_csv, weights_meta

if TYPE_CHECKING:
    from oldfilm.models.rtn import RTN

VAL_CLIP = "bikes"

@dataclass(frozen=True)
class ValClip:
    """One validation clip: ``degraded`` and ``clean`` (T, H, W) uint8 luma of evaluation clip ``clip``."""

    preset: str
    degraded: np.ndarray
    clean: np.ndarray
    clip: str = VAL_CLIP


def build_val_set(frames: int, size: tuple[int, int], presets: tuple[str, ...], seed: int = 1234,
                  start: int = 0, windows: tuple[tuple[str, int], ...] = ()) -> list[ValClip]:
    """``frames`` frames of each (clip, first frame) of ``windows`` (none: bikes from ``start``), centre-cropped
    to ``size`` (H, W), degraded once per preset with ``default_rng([seed, i])`` (``[seed, j, i]`` for the
    j-th window of several)."""
    from oldfilm.io.sources import packaged_clip
    from oldfilm.io.video import open_video

    out = []
    for j, (name, first) in enumerate(windows or ((VAL_CLIP, start),)):
        with open_video(packaged_clip(name)) as reader:
            rgb = np.stack([centre_crop(img, size) for img, _ in reader.frames_with_pts(first, first + frames)])
        clean = from_float(np.stack([rgb_to_luma(f) for f in rgb]), np.uint8)
        for i, preset in enumerate(presets):
            rng = np.random.default_rng([seed, j, i] if windows else [seed, i])
            deg = degrade_clip(rgb, rng, DEGRADE_PRESETS[preset]).frames
            out.append(ValClip(preset, from_float(np.stack([rgb_to_luma(f) for f in deg]), np.uint8), clean, name))
    return out


def save_val_set(clips: list[ValClip], path: Path) -> None:
    """Keep the validation clips beside the run, so a resumed run scores the very same frames even if the
    degradation code changed in between."""
    arrays = {f"{c.clip}/{c.preset}/{k}": getattr(c, k) for c in clips for k in ("degraded", "clean")}
    np.savez_compressed(path, **arrays)


def load_val_set(path: Path) -> list[ValClip]:
    """The clips ``save_val_set`` wrote (or an older run's ``preset/…`` file: bikes only)."""
    with np.load(path) as z:
        keys = list(dict.fromkeys(k.rsplit("/", 1)[0] for k in z.files))
        return [ValClip(k.split("/")[-1], z[f"{k}/degraded"], z[f"{k}/clean"],
                        k.split("/")[0] if "/" in k else VAL_CLIP) for k in keys]


def per_preset(scores: dict[tuple[str, str], dict[str, float]]) -> dict[str, dict[str, float]]:
    """(clip, preset) → scores, averaged over clips per preset (every metric's plain mean)."""
    out: dict[str, list[dict[str, float]]] = {}
    for (_, preset), s in scores.items():
        out.setdefault(preset, []).append(s)
    return {p: {k: float(np.mean([s[k] for s in ss])) for k in ss[0]} for p, ss in out.items()}


def score(restored: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """Mean PSNR, SSIM over frames, E_warp (flow on the clean clip) and PSNR-t (PSNR after one gain and offset
    for the clip: restoration apart from the exposure guess) of (T, H, W) uint8 luma."""
    from oldfilm.metrics import ewarp, psnr, ssim, tone_aligned_psnr, tone_moments

    return {
        "psnr": float(np.mean([psnr(a, b) for a, b in zip(restored, clean, strict=True)])),
        "psnr_tone": tone_aligned_psnr(np.stack([tone_moments(a, b) for a, b in zip(restored, clean, strict=True)])),
        "ssim": float(np.mean([ssim(a, b) for a, b in zip(restored, clean, strict=True)])),
        "ewarp": float(ewarp(list(restored), list(clean))),
    }


def validate_model(model, clips: list[ValClip], threads: int = 0, by_clip: bool = False) -> dict:  # noqa: ANN001
    """Scores of an ``RTN`` (any device) per preset (mean over the clips), through ``RTNEngine``; with
    ``by_clip``, per (clip, preset)."""
    from oldfilm.restore.engine import EngineConfig, RTNEngine

    device = next(model.parameters()).device
    engine = RTNEngine(model, EngineConfig(scenes=False, threads=threads or None), device=device)
    scores = {(c.clip, c.preset): score(np.stack(list(engine.run(list(c.degraded)))), c.clean) for c in clips}
    return scores if by_clip else per_preset(scores)


def validate_baselines(clips: list[ValClip], by_clip: bool = False) -> dict:
    """Scores of the degraded input ("input") and of the classical restorer ("classical") per preset (mean
    over the clips); with ``by_clip``, per (clip, preset)."""
    from oldfilm.restore.api import restore_stream

    out: dict[str, dict[tuple[str, str], dict[str, float]]] = {"input": {}, "classical": {}}
    for c in clips:
        out["input"][c.clip, c.preset] = score(c.degraded, c.clean)
        restored = np.stack([f.reshape(f.shape[:2]) for f in restore_stream(list(c.degraded), "classical")])
        out["classical"][c.clip, c.preset] = score(restored, c.clean)
    return out if by_clip else {m: per_preset(s) for m, s in out.items()}


def centre_crop(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The centre (H, W) = ``size`` of an image (each side at most the image's)."""
    h, w = img.shape[:2]
    th, tw = min(size[0], h), min(size[1], w)
    y, x = (h - th) // 2, (w - tw) // 2
    return img[y: y + th, x: x + tw]


class Validator:
    """Validation of the EMA weights on the evaluation clip → ``val.csv`` and ``curve.png``; the EMA weights
    with the best mean PSNR-t gain over the classical restorer so far → ``best.safetensors`` (runs peak
    early on the CPU: the last weights are not always the best).

    PSNR-t, not PSNR, picks them: the validation clips' exposure is drawn at random, and PSNR rewards
    a network's lucky global contrast change (docs/model-card.md, session 4)."""

    FIELDS = ("step", "method", "preset", "psnr", "ssim", "ewarp", "psnr_tone")

    def __init__(self, cfg: TrainConfig, run_dir: Path) -> None:
        self.cfg, self.run_dir = cfg, run_dir
        cached = run_dir / "val_set.npz"
        if cached.exists():
            self.clips = load_val_set(cached)
        else:
            self.clips = build_val_set(cfg.val_frames, cfg.val_size, cfg.val_presets, start=cfg.val_start,
                                       windows=cfg.val_windows)
            save_val_set(self.clips, cached)
        path = run_dir / "val.csv"
        if not path.exists():
            for method, per in validate_baselines(self.clips).items():
                for preset, s in per.items():
                    append_csv(path, self.FIELDS, {"step": 0, "method": method, "preset": preset, **s})
        self.reference, self.best = self._read(path)

    @staticmethod
    def _read(path: Path) -> tuple[dict[str, float], float]:
        """The classical restorer's PSNR-t per preset and the best mean gain of a validated step so far."""
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("psnr_tone")]
        ref = {r["preset"]: float(r["psnr_tone"]) for r in rows if r["method"] == "classical"}
        steps: dict[str, dict[str, float]] = {}
        for r in rows:
            if r["method"] == "rtn":
                steps.setdefault(r["step"], {})[r["preset"]] = float(r["psnr_tone"])
        gains = [g for g in (Validator._gain(per, ref) for per in steps.values()) if g is not None]
        return ref, max(gains, default=-math.inf)

    @staticmethod
    def _gain(psnr_tone: dict[str, float], ref: dict[str, float]) -> float | None:
        """Mean PSNR-t gain over the classical restorer across presets (None without a reference for each)."""
        if not ref or any(p not in ref for p in psnr_tone):
            return None
        return float(np.mean([v - ref[p] for p, v in psnr_tone.items()]))

    def __call__(self, ema: RTN, step: int) -> None:
        from oldfilm.models.weights import save_weights
        from oldfilm.train.plot import draw_curves

        scores = validate_model(ema, self.clips, self.cfg.threads)
        for preset, s in scores.items():
            append_csv(self.run_dir / "val.csv", self.FIELDS, {"step": step, "method": "rtn", "preset": preset, **s})
        gain = self._gain({p: s["psnr_tone"] for p, s in scores.items()}, self.reference)
        if gain is not None and gain > self.best:
            self.best = gain
            save_weights(ema, self.run_dir / "best.safetensors",
                         extra_meta=weights_meta(self.cfg.name, step, val_gain=f"{gain:.4f}"))
        ema.train(False)
        draw_curves(self.run_dir)


def main(argv: list[str] | None = None) -> int:
    """``python -m oldfilm.train.validate W.safetensors ... (--val-set FILE | --several FILE)``: score weight
    files (a GPU slice's snapshots, say) on a run's validation clips (``--val-set``, a run's val_set.npz) or
    on the several-clip set (``--several``: ``VAL_WINDOWS``, built into FILE on first use). One CSV row per
    file, clip and preset, then the mean over clips per preset (clip "mean", what the trainer's ``val.csv``
    holds), the classical restorer's rows first."""
    import argparse
    import csv
    import sys

    from oldfilm.models.weights import load_model

    ap = argparse.ArgumentParser(prog="python -m oldfilm.train.validate", description=main.__doc__)
    ap.add_argument("weights", nargs="*", help=".safetensors files")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--val-set", help="a val_set.npz written by a training run")
    src.add_argument("--several", help="the several-clip validation set's file (built if missing)")
    ap.add_argument("--frames", type=int, default=24, help="with --several, when the set is built: frames per clip")
    ap.add_argument("--no-baseline", action="store_true", help="skip the classical restorer's rows")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.val_set:
        clips = load_val_set(Path(args.val_set))
    elif Path(args.several).exists():
        clips = load_val_set(Path(args.several))
    else:
        defaults = TrainConfig()  # the trainer's crop and presets
        clips = build_val_set(args.frames, defaults.val_size, defaults.val_presets, windows=VAL_WINDOWS)
        save_val_set(clips, Path(args.several))
    out = csv.writer(sys.stdout)
    out.writerow(["weights", "clip", "preset", "psnr", "psnr_tone", "ssim", "ewarp"])

    def write(name: str, scores: dict[tuple[str, str], dict[str, float]]) -> None:
        rows = [*scores.items(), *((("mean", p), s) for p, s in per_preset(scores).items())]
        for (clip, preset), s in rows:
            out.writerow([name, clip, preset, *(f"{s[k]:.4f}" for k in ("psnr", "psnr_tone", "ssim", "ewarp"))])
        sys.stdout.flush()

    if not args.no_baseline:
        write("classical", validate_baselines(clips, by_clip=True)["classical"])
    for w in args.weights:
        write(w, validate_model(load_model(w), clips, args.threads, by_clip=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
