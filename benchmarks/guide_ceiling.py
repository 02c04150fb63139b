"""How much of the classical guide's remaining error simple learned stages could take (issue 14): three
ceilings and probes, on training footage only, each in PSNR-t gain over the classical restorer (the guide).

    python benchmarks/guide_ceiling.py select  [--suite presets-train] [--frames 12]
    python benchmarks/guide_ceiling.py sharpen [--draws 600] [--jobs 2]
    python benchmarks/guide_ceiling.py linear  [--draws 600] [--jobs 2]
    python benchmarks/guide_ceiling.py selfsup [--draws 150] [--jobs 2]

- ``select``: on each window of a suite, the classical restorer with six option sets (the defaults, no
  denoising, temporal only, stronger, unsharpened, sharpened 1.0) and the degraded clip. Each candidate's
  PSNR-t; the *oracle* that picks, per B×B block, the candidate closest to the clean frame (a bound, clean
  frame in hand); and the oracle that picks one unsharp-mask amount and sigma per clip.
- ``sharpen``: can that per-clip amount be predicted? Ridge and k-NN regressors from 23 image statistics
  (band energies of the guide and of the degraded clip, gradient percentiles, Laplacian kurtosis, motion,
  size) to the PSNR-t gain of each (amount, sigma), trained on random draws and scored leaving each source
  out and by random 5-fold cross-validation; and, as a bound on what a blur estimate is worth, k-NN on the
  blur the damage drew (known in the draws, not in a film).
- ``linear``: a RAISR-style hashed linear refinement: per pixel, the guide's 7×7 patch (mean removed) and the
  5×5 patch of degraded − guide, 216 buckets by gradient angle, strength, coherence and local noise, one
  least-squares filter per bucket (each frame weighted equally in dB). Scored on held-out draws from the
  same sources and leaving each source out.
- ``selfsup``: can the film itself choose, with no training at all (so nothing to overfit to a source)?
  Frame-to-frame self-supervision (Ehret et al. 2019): among the sharpening grid and six denoising option
  sets, the candidate closest to degraded frames t+3 and t+4 aligned onto frame t (their noise is not in
  the causal restorer's frame t; flicker fitted per frame, dirt and occlusions masked), against the per-clip
  oracle.

Draws (``draws``): random windows of the training videos and photographs in camera motion, 12 frames (8 for
``linear``), 160–480 px, made gray and damaged with the bench's light / medium / heavy presets exactly as the
bench damages its windows (a seed no training run uses). Hand-written least squares and k-NN (numpy):
scikit-learn is not a dependency and these are a few lines each.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from oldfilm.bench.config import SUITES
from oldfilm.bench.suite import eval_pair
from oldfilm.io.sources import cache_dir
from oldfilm.metrics.fullref import tone_aligned_psnr, tone_fit, tone_moments
from oldfilm.restore.api import restore_stream
from oldfilm.restore.classical import sharpen
from oldfilm.train.corpus import Corpus, load_corpus

PRESETS = ("light", "medium", "heavy")
CANDIDATES: dict[str, dict[str, float]] = {
    "default": {}, "no-denoise": {"denoise_strength": 0.0, "spatial_denoise": 0.0},
    "temporal-only": {"spatial_denoise": 0.0}, "stronger": {"spatial_denoise": 2.0, "noise_factor": 4.5},
    "sharpen-0": {"sharpen": 0.0}, "sharpen-1": {"sharpen": 1.0}}
AMOUNTS = (0.0, 0.15, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
SIGMAS = (0.7, 1.0, 1.5, 2.0)
GRID = [(a, s) for s in SIGMAS for a in AMOUNTS]
DEFAULT_CELL = GRID.index((0.3, 1.0))  # the classical restorer's defaults
SEED = 31337  # a seed no training run uses


def classical(degraded: np.ndarray, **options: float) -> np.ndarray:
    """(T, H, W) float64 luma of the classical restoration of (T, H, W, 1) uint8 frames."""
    out = restore_stream(iter(degraded), "classical", **options)
    return np.stack([np.asarray(f, np.float64).reshape(degraded.shape[1:3]) / 255.0 for f in out])


def psnr_t(x: np.ndarray, y: np.ndarray) -> float:
    """The bench's PSNR-t of (T, H, W) clips in [0, 1]."""
    return tone_aligned_psnr(np.stack([tone_moments(a, b) for a, b in zip(x, y, strict=True)]))


def tone_aligned(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(T, H, W) ``x`` after the gain and offset onto ``y`` that PSNR-t forgives."""
    g, o = tone_fit(np.stack([tone_moments(a, b) for a, b in zip(x, y, strict=True)]))
    return g * x + o


def block_oracle(cands: np.ndarray, clean: np.ndarray, block: int) -> np.ndarray:
    """Per block of each frame, the candidate (K, T, H, W) with the least squared error; the edges that no
    whole block covers keep candidate 0."""
    _, t, h, w = cands.shape
    hb, wb = h // block * block, w // block * block
    err = ((cands[:, :, :hb, :wb] - clean[:, :hb, :wb]) ** 2).reshape(len(cands), t, hb // block, block,
                                                                       wb // block, block).sum((3, 5))
    pick = np.repeat(np.repeat(err.argmin(0), block, 1), block, 2)
    out = cands[0].copy()
    out[:, :hb, :wb] = np.take_along_axis(cands[:, :, :hb, :wb], pick[None], 0)[0]
    return out


def sharpen_gains(base: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """PSNR-t of the unsharpened restoration ``base`` sharpened by each (amount, sigma) of ``GRID``, minus that
    of the defaults (the classical restorer's last stage, ``classical.sharpen``)."""
    scores = np.array([psnr_t(np.stack([sharpen(f[..., None], a, s)[..., 0] for f in base]), clean)
                       for a, s in GRID])
    return scores - scores[DEFAULT_CELL]


def run_select(suite: str, frames: int) -> None:
    cfg = SUITES[suite]
    windows = [replace(w, frames=frames) if frames else w for w in cfg.windows]
    names = [*CANDIDATES, "degraded"]
    rows: dict[str, list[dict[str, float]]] = {p: [] for p in cfg.presets}
    for preset in cfg.presets:
        for w in windows:
            clean_u8, degraded = eval_pair(w, preset, cfg.seed, cache_dir() / "bench")
            clean = clean_u8[..., 0] / 255.0
            outs = {k: classical(degraded, **o) for k, o in CANDIDATES.items()}
            outs["degraded"] = degraded[..., 0] / 255.0
            row = {k: psnr_t(v, clean) for k, v in outs.items()}
            cands = np.stack([tone_aligned(outs[k], clean) for k in names])
            for b in (8, 16, 32):
                row[f"block oracle {b}"] = psnr_t(block_oracle(cands, clean, b), clean)
            row["per-clip sharpen oracle"] = row["default"] + float(sharpen_gains(outs["sharpen-0"], clean).max())
            rows[preset].append(row)
            print(f"{preset:7s} {w.clip}-{w.start}: " + " ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    keys = list(rows[cfg.presets[0]][0])
    print(f"\nmean PSNR-t over {len(windows)} windows ({suite}, {frames or 'all'} frames); gain over the defaults")
    print(f"{'':26s}" + "".join(f"{p:>16s}" for p in cfg.presets) + f"{'mean':>16s}")
    for k in keys:
        means = [float(np.mean([r[k] for r in rows[p]])) for p in cfg.presets]
        gains = [float(np.mean([r[k] - r["default"] for r in rows[p]])) for p in cfg.presets]
        print(f"{k:26s}" + "".join(f"{m:9.2f} ({g:+.2f})" for m, g in zip(means, gains, strict=True))
              + f"{np.mean(gains):+16.2f}")


@functools.cache
def _corpus() -> Corpus:
    """The training corpus, loaded once per worker process (its photographs are read into memory)."""
    return load_corpus()


def draw(seed: int, index: int, frames: int) -> tuple[str, str, np.ndarray, np.ndarray, np.ndarray]:
    """(source, preset, clean, degraded, blur): one random gray window of the training corpus, damaged by the
    bench's procedure; (T, H, W, 1) uint8; blur: what the damage drew for the whole clip (mean Gaussian sigma,
    0 when not blurred; resampling scale, 1 when not resampled)."""
    from oldfilm.colorspace import from_float, rgb_to_luma
    from oldfilm.degrade.pipeline import degrade_clip
    from oldfilm.degrade.presets import get_preset
    from oldfilm.train.motion import camera_motion_clip

    corpus = _corpus()
    rng = np.random.default_rng([seed, index])
    if rng.random() < 0.3:
        name = sorted(corpus.stills)[rng.integers(len(corpus.stills))]
        img = corpus.stills[name]
        m = min(img.shape[:2])
        clip = camera_motion_clip(img, frames, int(rng.integers(min(160, m - 41), m - 40)), rng)
    else:
        name = sorted(corpus.videos)[rng.integers(len(corpus.videos))]
        v = corpus.videos[name]
        n, h, w = v.shape[:3]
        s0 = int(rng.integers(0, n - frames))
        hh, ww = int(rng.integers(min(h, 192), h + 1)), int(rng.integers(min(w, 256), w + 1))
        y, x = int(rng.integers(0, h - hh + 1)), int(rng.integers(0, w - ww + 1))
        clip = np.asarray(v[s0:s0 + frames, y:y + hh, x:x + ww])
    gray = np.stack([from_float(rgb_to_luma(f), np.uint8)[..., None] for f in clip])
    preset = PRESETS[index % len(PRESETS)]
    damaged = degrade_clip(gray, rng, get_preset(preset))
    template = damaged.params["template"]
    blur = np.array([float(np.mean(template["blur_sigma"] or 0.0)), float(template["resample_scale"] or 1.0)])
    return name, preset, gray, damaged.frames, blur


def source_of(name: str) -> str:
    return name if name in ("city", "bigbuckbunny", "office") else "photographs"


def _sharpen_row(index: int) -> tuple[str, str, np.ndarray, np.ndarray, np.ndarray]:
    name, preset, clean, degraded, blur = draw(SEED, index, 12)
    base = classical(degraded, sharpen=0.0)
    features = image_features(base, degraded[..., 0] / 255.0)
    return source_of(name), preset, features, sharpen_gains(base, clean[..., 0] / 255.0), blur


def _bands(x: np.ndarray) -> list[float]:
    """Log energy of four difference-of-Gaussian bands (sigma 0–0.5–1–2–4) relative to the variance."""
    v = []
    for f in x[::3]:
        levels = [f] + [cv2.GaussianBlur(f, (0, 0), s) for s in (0.5, 1, 2, 4)]
        v.append([np.mean((levels[i] - levels[i + 1]) ** 2) for i in range(4)] + [f.var()])
    m = np.mean(v, 0)
    return list(np.log(m[:4] + 1e-10) - np.log(m[4] + 1e-10))


def image_features(base: np.ndarray, degraded: np.ndarray) -> np.ndarray:
    """23 statistics of an unsharpened restoration and its degraded clip (T, H, W) in [0, 1]."""
    fb, fd = _bands(base), _bands(degraded)
    grad = np.abs(np.diff(base, axis=2))
    pct = np.percentile(grad, [50, 90, 99]) / (base.std() + 1e-6)
    lap = np.stack([cv2.Laplacian(f, cv2.CV_64F) for f in base[::3]]).ravel()
    kurt = np.mean(lap ** 4) / (np.mean(lap ** 2) ** 2 + 1e-12)
    motion = np.log(np.mean((degraded[1:] - degraded[:-1]) ** 2) + 1e-8)
    return np.array(fb + fd + [b - d for b, d in zip(fb, fd, strict=True)] + list(np.log(pct + 1e-6))
                    + [np.log(kurt), motion, np.log(min(base.shape[1:]))])


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> Callable[[np.ndarray], np.ndarray]:
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.c_[(x - mu) / sd, np.ones(len(x))]
    reg = lam * np.eye(z.shape[1])
    reg[-1, -1] = 0.0  # the intercept is not shrunk
    w = np.linalg.solve(z.T @ z + reg, z.T @ y)
    return lambda q: np.c_[(q - mu) / sd, np.ones(len(q))] @ w


def _knn(x: np.ndarray, y: np.ndarray, k: int) -> Callable[[np.ndarray], np.ndarray]:
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd

    def predict(q: np.ndarray) -> np.ndarray:
        dist = ((((q - mu) / sd)[:, None] - z[None]) ** 2).sum(-1)
        return y[np.argsort(dist, 1)[:, :k]].mean(1)
    return predict


def run_sharpen(n: int, jobs: int) -> None:
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(_sharpen_row, range(n)))
    src = np.array([r[0] for r in rows])
    pre = np.array([r[1] for r in rows])
    x, y, blur = (np.stack([r[i] for r in rows]) for i in (2, 3, 4))
    folds = {"leave a source out": src,
             "random 5-fold": np.random.default_rng(0).integers(0, 5, len(y)).astype(str)}
    fits: dict[str, Callable[..., Callable[[np.ndarray], np.ndarray]]] = {
        "ridge 10": lambda a, b: _ridge(a, b, 10.0), "ridge 100": lambda a, b: _ridge(a, b, 100.0),
        "k-NN 30": lambda a, b: _knn(a, b, 30),
        "best fixed cell": lambda a, b: lambda q: np.tile(b.mean(0), (len(q), 1))}
    print(f"{n} draws ({', '.join(f'{s} {int((src == s).sum())}' for s in sorted(set(src)))}); PSNR-t gain over the "
          f"defaults' sharpening, {' / '.join(PRESETS)} / mean")
    print(f"  {'per-clip oracle':48s}" + fmt([float(y[pre == p].max(1).mean()) for p in PRESETS]))
    # the last two rows: what knowing the damage's blur would be worth (k-NN on the drawn sigma and resampling)
    runs = [(fold_name, fit_name, fit, x) for fold_name in folds for fit_name, fit in fits.items()]
    runs += [(fold_name, "k-NN 30 on the drawn blur", fits["k-NN 30"], blur) for fold_name in folds]
    for fold_name, fit_name, fit, inputs in runs:
        fold = folds[fold_name]
        got = np.zeros(len(y))
        for f in sorted(set(fold)):
            te = fold == f
            pred = fit(inputs[~te], y[~te])(inputs[te])
            got[te] = y[te][np.arange(int(te.sum())), pred.argmax(1)]
        print(f"  {fit_name + ', ' + fold_name:48s}" + fmt([float(got[pre == p].mean()) for p in PRESETS]))


LAGS = (3, 4)  # beyond the restorer's radius (2): frame t+k's noise is not in the restoration of frame t


def future_targets(base: np.ndarray, degraded: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Noise2Noise targets for frames of a restoration ``base`` (T, H, W): degraded frame t+k (k in ``LAGS``)
    aligned onto frame t by DIS flow between the restored frames, its tone fitted per frame onto base t (the
    flicker), with a mask of pixels that are visible, flow-consistent and not dirt. Its noise, dust and
    flicker are independent of what the causal restorer made of frame t, so the restoration closest to it is,
    in expectation, the one closest to the clean frame as the damage blurred it."""
    from oldfilm.flow.dis import DISFlow
    from oldfilm.flow.warp import consistency_mask, warp_image

    flow = DISFlow("medium", 0)
    t_len, h, w = base.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = []
    for k in LAGS:
        for t in range(t_len - k):
            fw, bw = flow(base[t], base[t + k]), flow(base[t + k], base[t])
            target = warp_image(degraded[t + k].astype(np.float32), fw).astype(np.float64)
            inside = (gx + fw[0] >= 0) & (gx + fw[0] <= w - 1) & (gy + fw[1] >= 0) & (gy + fw[1] <= h - 1)
            mask = consistency_mask(fw, bw) & inside
            for _ in range(2):  # tone fit, then drop dirt (large residuals), then fit again
                gain, offset = tone_fit(tone_moments(target[mask][:, None], base[t][mask][:, None])[None])
                res = np.abs(gain * target + offset - base[t])
                mask &= res < 3.0 * 1.4826 * np.median(res[mask]) + 1e-3
            out.append((t, gain * target + offset, mask))
    return out


def n2n_losses(outs: np.ndarray, targets: list[tuple[int, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Mean squared distance of each candidate (K, T, H, W) to the future targets (each pair weighted alike)."""
    return np.array([np.mean([np.mean((c[t][m] - y[m]) ** 2) for t, y, m in targets]) for c in outs])


DENOISE = {**{k: v for k, v in CANDIDATES.items() if not k.startswith("sharpen")},
           "spatial 0.5": {"spatial_denoise": 0.5}, "spatial 1.5": {"spatial_denoise": 1.5}}
"""The classical restorer's denoising options that ``selfsup`` chooses among (each with the default sharpening)."""


def _selfsup_row(index: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(preset, PSNR-t gains and Noise2Noise losses of the sharpening grid, the same of ``DENOISE``)."""
    _, preset, clean, degraded, _ = draw(SEED + 2, index, 12)
    clean01, degraded01 = clean[..., 0] / 255.0, degraded[..., 0] / 255.0
    base = classical(degraded, sharpen=0.0)
    targets = future_targets(base, degraded01)
    sharpened = np.stack([np.stack([sharpen(f[..., None], a, s)[..., 0] for f in base]) for a, s in GRID])
    denoised = np.stack([classical(degraded, **o) for o in DENOISE.values()])
    out: list[np.ndarray] = []
    for outs, ref in ((sharpened, DEFAULT_CELL), (denoised, 0)):
        scores = np.array([psnr_t(o, clean01) for o in outs])
        out += [scores - scores[ref], n2n_losses(outs, targets)]
    return preset, *out


def run_selfsup(n: int, jobs: int) -> None:
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(_selfsup_row, range(n)))
    pre = np.array([r[0] for r in rows])

    def row(label: str, y: np.ndarray, pick: np.ndarray) -> None:
        print(f"  {label:52s}" + fmt([float(y[pre == p][np.arange(int((pre == p).sum())), pick[pre == p]].mean())
                                     for p in PRESETS]))
    print(f"{n} draws; PSNR-t gain over the classical restorer's defaults, {' / '.join(PRESETS)} / mean")
    for what, i, labels in (("sharpening", 1, [f"amount {a}, sigma {s}" for a, s in GRID]),
                            ("denoising", 3, list(DENOISE))):
        y, loss = np.stack([r[i] for r in rows]), np.stack([r[i + 1] for r in rows])
        print(f" {what} ({len(labels)} candidates)")
        row("per-clip oracle (clean frames in hand)", y, y.argmax(1))
        row("least Noise2Noise loss to the future frames", y, loss.argmin(1))
        picks = np.bincount(loss.argmin(1), minlength=len(labels))
        print("  its picks: " + ", ".join(f"{labels[k]} {picks[k]}" for k in np.flatnonzero(picks)))


def fmt(values: list[float]) -> str:
    return "".join(f"{v:+8.3f}" for v in values) + f"{np.mean(values):+8.3f}"


PATCH, DIFF_PATCH = 7, 5
N_FEAT = PATCH * PATCH + DIFF_PATCH * DIFF_PATCH + 1
ANGLES, STRENGTH_EDGES, COHERENCE_EDGES, NOISE_EDGES = 8, (0.01, 0.03), (0.25, 0.5), (0.01, 0.025)
N_BUCKETS = ANGLES * 3 * 3 * 3


def patch_features(guide: np.ndarray, degraded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H·W, N_FEAT) features and (H·W,) bucket of each pixel of one (H, W) frame (RAISR's hashing: the
    structure tensor's angle, strength and coherence, plus the local RMS of degraded − guide)."""
    h, w = guide.shape
    g = guide.astype(np.float32)
    diff = (degraded - guide).astype(np.float32)
    pg = sliding_window_view(np.pad(g, PATCH // 2, mode="reflect"), (PATCH, PATCH)).reshape(h * w, -1)
    pd = sliding_window_view(np.pad(diff, DIFF_PATCH // 2, mode="reflect"), (DIFF_PATCH, DIFF_PATCH)).reshape(h * w, -1)
    x = np.concatenate([pg - pg.mean(1, keepdims=True), pd, np.ones((h * w, 1), np.float32)], 1)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0) / 8, cv2.Sobel(g, cv2.CV_32F, 0, 1) / 8
    a, b, c = (cv2.GaussianBlur(v, (0, 0), 1.5) for v in (gx * gx, gy * gy, gx * gy))
    half_tr, det = (a + b) / 2, a * b - c * c
    disc = np.sqrt(np.maximum(half_tr ** 2 - det, 0))
    s1, s2 = np.sqrt(half_tr + disc), np.sqrt(np.maximum(half_tr - disc, 0))
    angle = (0.5 * np.arctan2(2 * c, a - b) + np.pi / 2) / np.pi
    noise = np.sqrt(cv2.blur(diff * diff, (5, 5)))
    bucket = ((np.minimum((angle * ANGLES).astype(int), ANGLES - 1) * 3 + np.digitize(s1, STRENGTH_EDGES)) * 3
              + np.digitize((s1 - s2) / (s1 + s2 + 1e-8), COHERENCE_EDGES)) * 3 + np.digitize(noise, NOISE_EDGES)
    return x, bucket.ravel()


def _linear_row(index: int) -> tuple[str, str, np.ndarray, np.ndarray, np.ndarray]:
    """(source, preset, clean, degraded, guide) (T, H, W) uint8 (kept small: hundreds of draws in memory)."""
    name, preset, clean, degraded, _ = draw(SEED + 1, index, 8)
    guide = np.round(classical(degraded) * 255.0).astype(np.uint8)
    return source_of(name), preset, clean[..., 0], degraded[..., 0], guide


def _normal_equations(draws: list) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket, XᵀX and Xᵀy over frames 2, 4, 6 of each draw (every second pixel), each frame weighted by
    1 / its guide's RMS error so that a nearly clean frame counts as much as a heavily damaged one."""
    xtx, xty = np.zeros((N_BUCKETS, N_FEAT, N_FEAT)), np.zeros((N_BUCKETS, N_FEAT))
    for _, _, *frames in draws:
        clean, degraded, guide = (f / 255.0 for f in frames)
        for t in (2, 4, 6):
            x, bucket = patch_features(guide[t], degraded[t])
            y = (clean[t] - guide[t]).ravel()
            weight = 1.0 / np.sqrt(np.mean(y * y) + 1e-5)
            x, bucket, y = x[::2].astype(np.float64) * weight, bucket[::2], y[::2] * weight
            order = np.argsort(bucket, kind="stable")
            edges = np.searchsorted(bucket[order], np.arange(N_BUCKETS + 1))
            x, y = x[order], y[order]
            for k in range(N_BUCKETS):
                s, e = edges[k], edges[k + 1]
                if e > s:
                    xtx[k] += x[s:e].T @ x[s:e]
                    xty[k] += x[s:e].T @ y[s:e]
    return xtx, xty


def _solve(xtx: np.ndarray, xty: np.ndarray, lam: float) -> np.ndarray:
    w = np.zeros((N_BUCKETS, N_FEAT))
    for k in range(N_BUCKETS):
        if xtx[k, -1, -1] < 2e4:  # too few pixels (weighted): leave the guide as it is
            continue
        reg = lam * np.trace(xtx[k]) / N_FEAT * np.eye(N_FEAT)
        reg[-1, -1] = 0.0
        w[k] = np.linalg.solve(xtx[k] + reg, xty[k])
    return w


def refine(w: np.ndarray, guide: np.ndarray, degraded: np.ndarray) -> np.ndarray:
    x, bucket = patch_features(guide, degraded)
    return guide + np.einsum("nf,nf->n", x, w[bucket].astype(np.float32)).reshape(guide.shape)


def run_linear(n: int, jobs: int) -> None:
    with ProcessPoolExecutor(jobs) as pool:
        draws = list(pool.map(_linear_row, range(n)))
    test = set(np.random.default_rng(0).choice(n, n // 5, replace=False).tolist())
    train = [d for i, d in enumerate(draws) if i not in test]
    sources = sorted({d[0] for d in draws})
    per_source = {s: _normal_equations([d for d in train if d[0] == s]) for s in sources}
    print(f"{n} draws, {len(test)} held out; PSNR-t gain over the guide, {' / '.join(PRESETS)} / mean")
    for lam in (0.01, 0.1):
        w_all = _solve(sum(v[0] for v in per_source.values()), sum(v[1] for v in per_source.values()), lam)
        w_out = {s: _solve(sum(per_source[o][0] for o in sources if o != s),
                           sum(per_source[o][1] for o in sources if o != s), lam) for s in sources}
        got: dict[str, list[tuple[str, float, float]]] = {p: [] for p in PRESETS}
        for i in sorted(test):
            src, preset, *frames = draws[i]
            clean, degraded, guide = (f / 255.0 for f in frames)
            base = psnr_t(guide, clean)
            both = [psnr_t(np.stack([refine(w, g, d) for g, d in zip(guide, degraded, strict=True)]), clean) - base
                    for w in (w_all, w_out[src])]
            got[preset].append((src, *both))
        for j, label in ((1, "fit on every source"), (2, "fit leaving its source out")):
            print(f"  ridge {lam}, {label:28s}" + fmt([float(np.mean([r[j] for r in got[p]])) for p in PRESETS]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probe", choices=("select", "sharpen", "linear", "selfsup"))
    ap.add_argument("--suite", default="presets-train")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--draws", type=int, default=600)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if args.probe == "select":
        run_select(args.suite, args.frames)
    elif args.probe == "sharpen":
        run_sharpen(args.draws, args.jobs)
    elif args.probe == "selfsup":
        run_selfsup(args.draws, args.jobs)
    else:
        run_linear(args.draws, args.jobs)


if __name__ == "__main__":
    main()
