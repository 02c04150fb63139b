"""Training clips: sample a T-frame window (video or photograph in synthetic camera motion), augment,
degrade it on the fly with the degradation model, and compute the flows the network gets at inference.

Every sample is a pure function of (seed, index): ``TrainClips[i]`` draws from ``np.random.default_rng([seed,
i])`` and the crop size from the step that index belongs to, so a resumed run sees exactly the batches an
uninterrupted run would, whatever the number of DataLoader workers.

Convention (one sample, float32 tensors):
    lq, gt: (T, 1, S, S) degraded and clean luma in [0, 1]; for a guided network (``RTNConfig.guided``) lq is
        (T, 2, S, S): the degraded luma and its classical restoration (``oldfilm.restore.classical``, run on
        the clip with ``GUIDE_MARGIN`` more frames on each side, as it would see them in a film, and with
        ``DataConfig.guide_context``, on a larger clip cut to its centre afterwards).
    flows_fwd: (T-1, 2, S, S); [t] maps frame t+1 to frame t.   flows_bwd: (T-1, 2, S, S); [t] maps t to t+1.
    (as ``oldfilm.models.rtn.RTN.forward`` takes them; DIS on the degraded luma.)
The network's inputs (channels, guide, flows) are made by ``oldfilm.restore.inputs``, the functions the
engine calls on a film.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from oldfilm.colorspace import from_float, rgb_to_luma, to_float
from oldfilm.degrade.pipeline import degrade_clip
from oldfilm.degrade.presets import PRESETS as DEGRADE_PRESETS
from oldfilm.degrade.presets import DegradeConfig
from oldfilm.restore.inputs import classical_guides, clip_channels, clip_flows, flow_estimator
from oldfilm.train.config import DataConfig
from oldfilm.train.corpus import Corpus, load_corpus
from oldfilm.train.motion import camera_motion_clip


def crop_size(cfg: DataConfig, seed: int, step: int, multiple: int) -> int:
    """The square crop side of ``step`` (shared by the whole batch): uniform in ``cfg.crop``, rounded down
    to ``multiple``."""
    lo, hi = cfg.crop
    s = int(np.random.default_rng([seed, step, 1]).integers(lo, hi + 1))
    return max(multiple, s // multiple * multiple)


def clip_shape(cfg: DataConfig, seed: int, step: int, multiple: int) -> tuple[int, int]:
    """(T, S): frames and square crop side of ``step``'s clips: ``(cfg.frames, crop_size(...))``, or with
    probability ``cfg.long_prob`` a long clip (``cfg.long_frames``, a side from ``cfg.long_crop``)."""
    if cfg.long_prob > 0:  # drawn only when enabled, so that runs without long clips keep their crops
        rng = np.random.default_rng([seed, step, 2])
        if rng.random() < cfg.long_prob:
            lo, hi = cfg.long_crop
            return cfg.long_frames, max(multiple, int(rng.integers(lo, hi + 1)) // multiple * multiple)
    return cfg.frames, crop_size(cfg, seed, step, multiple)


GUIDE_MARGIN = 2
"""Frames added on each side of a guided sample for the classical restorer (its temporal radius), dropped
after it has run."""


def sample_clean(corpus: Corpus, cfg: DataConfig, size: int, rng: np.random.Generator,
                 frames: int | None = None) -> np.ndarray:
    """A clean (T, S, S, 3) uint8 RGB clip (T = ``frames``, default ``cfg.frames``): a video window or a
    photograph in camera motion, augmented."""
    t = frames or cfg.frames
    use_still = bool(corpus.stills) and (not corpus.videos or rng.random() < cfg.still_prob)
    scale = rng.uniform(*cfg.scale)
    if use_still:
        names = sorted(corpus.stills)
        img = corpus.stills[names[rng.integers(len(names))]]
        clip = camera_motion_clip(img, t, size, rng, cfg.motion)
    else:
        names = sorted(corpus.videos)
        video = corpus.videos[names[rng.integers(len(names))]]
        n, h, w = video.shape[:3]
        strides = [s for s in cfg.strides if (t - 1) * s < n] or [1]
        stride = int(strides[rng.integers(len(strides))])
        start = int(rng.integers(0, n - (t - 1) * stride))
        side = min(int(round(size / scale)), h, w)
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        window = np.asarray(video[start: start + (t - 1) * stride + 1: stride, y: y + side, x: x + side])
        clip = np.stack([_resize(f, size) for f in window])
    if rng.random() < cfg.hflip_prob:
        clip = clip[:, :, ::-1]
    if rng.random() < cfg.vflip_prob:
        clip = clip[:, ::-1]
    if rng.random() < cfg.reverse_prob:
        clip = clip[::-1]
    if cfg.low_key_prob > 0 and rng.random() < cfg.low_key_prob:  # drawn only when enabled
        gamma = rng.uniform(*cfg.low_key_gamma)
        lut = np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
        clip = lut[clip]
    if cfg.soft_prob > 0 and rng.random() < cfg.soft_prob:  # drawn only when enabled
        sigma = rng.uniform(*cfg.soft_sigma)
        clip = np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in clip])
    return np.ascontiguousarray(clip)


def damage_config(cfg: DataConfig, size: int, rng: np.random.Generator) -> DegradeConfig:
    """The damage of one training clip of side ``size``: the ``cfg.degrade`` preset (or one drawn from it and
    ``cfg.degrade_extra``), defects sized by a random reference size, gate weave only with ``cfg.weave``."""
    ref = max(16, int(round(size / rng.uniform(*cfg.defect_scale))))
    names = (cfg.degrade, *cfg.degrade_extra)
    name = names[int(rng.integers(len(names)))] if len(names) > 1 else cfg.degrade
    dcfg = replace(DEGRADE_PRESETS[name], reference_size=ref)
    if not cfg.weave:
        dcfg = replace(dcfg, film=replace(dcfg.film, weave_prob=0.0))
    return dcfg


def degrade_luma(clean: np.ndarray, cfg: DataConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Degrade a (T, S, S, 3) uint8 RGB clip with the ``cfg.degrade`` preset (or one drawn from it and
    ``cfg.degrade_extra``), defects sized by a random reference size → (degraded, clean) luma, each
    (T, S, S) float32 in [0, 1]."""
    degraded = degrade_clip(clean, rng, damage_config(cfg, clean.shape[1], rng)).frames
    lq = np.stack([rgb_to_luma(f) for f in degraded])
    gt = np.stack([rgb_to_luma(f) for f in clean])
    return lq, gt


def classical_guide(lq: np.ndarray, options: str = "") -> np.ndarray:
    """The guide of a degraded (T, S, S) float luma clip (``inputs.classical_guides``, as the engine makes it
    on a film; quantised to 8 bits first, like a decoded video; ``options``: the network's ``RTNConfig.guide``)
    → (T, S, S) float32 in [0, 1]."""
    restored = classical_guides([from_float(f, np.uint8) for f in lq], options)
    return np.stack([to_float(o).reshape(o.shape[:2]) for o in restored])


class TrainClips(Dataset):
    """Map-style, unbounded dataset of degraded training clips; item ``i`` belongs to step
    ``i // per_step`` (all items of a step share its crop size).

    Args:
        cfg: sampling and degradation settings.
        seed: the run's seed.
        per_step: items consumed per optimiser step over all processes (batch size × world size).
        multiple: crop sides are multiples of this (the network's ``multiple``).
        corpus: the corpus (default: loaded from ``cfg.corpus`` lazily, in each worker).
    """

    def __init__(self, cfg: DataConfig, seed: int, per_step: int, multiple: int, corpus: Corpus | None = None,
                 guided: bool = False, guide: str = ""):
        self.cfg, self.seed, self.per_step, self.multiple = cfg, seed, per_step, multiple
        self._corpus, self.guided, self.guide = corpus, guided, guide

    def __len__(self) -> int:
        return 2**62

    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            self._corpus = load_corpus(Path(self.cfg.corpus) if self.cfg.corpus else None)
        return self._corpus

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        frames, size = clip_shape(self.cfg, self.seed, index // self.per_step, self.multiple)
        rng = np.random.default_rng([self.seed, index])
        m = GUIDE_MARGIN if self.guided else 0
        context = self.cfg.guide_context if self.guided else 1.0
        big = max(size, int(round(size * context)))
        clean = sample_clean(self.corpus, self.cfg, big, rng, frames + 2 * m)
        lq, gt = degrade_luma(clean, self.cfg, rng)
        guide = classical_guide(lq, self.guide)[m: len(lq) - m] if self.guided else None
        lq, gt = lq[m: len(lq) - m], gt[m: len(gt) - m]
        # a fresh estimator per clip: OpenCV's DIS object carries state between calls, and the flows of a
        # sample must not depend on which samples the worker made before (exact resume)
        fwd, bwd = clip_flows(lq, flow_estimator(self.cfg.flow_preset))
        if big > size:  # the centre crop of everything made on the larger clip (guide_context)
            o = (big - size) // 2
            cut = (Ellipsis, slice(o, o + size), slice(o, o + size))
            lq, gt, fwd, bwd = (np.ascontiguousarray(a[cut]) for a in (lq, gt, fwd, bwd))
            guide = np.ascontiguousarray(guide[cut]) if guide is not None else None
        if self.cfg.flow_error_prob and rng.random() < self.cfg.flow_error_prob:
            fwd, bwd = perturb_flows(fwd, rng, self.cfg.flow_error_px), perturb_flows(bwd, rng, self.cfg.flow_error_px)
        return {  # a luma network's input (the trainer's clips are luma: ``RTNConfig.in_channels`` 1)
            "lq": torch.from_numpy(clip_channels(lq, guide, in_channels=1)),
            "gt": torch.from_numpy(gt[:, None]),
            "flows_fwd": torch.from_numpy(fwd),
            "flows_bwd": torch.from_numpy(bwd),
        }


def perturb_flows(flows: np.ndarray, rng: np.random.Generator, max_px: float, blobs: tuple[int, int] = (1, 3)
                  ) -> np.ndarray:
    """``flows`` (P, 2, H, W) with, in each frame pair, 1–3 smooth Gaussian blobs of wrong displacement
    (``DataConfig.flow_error_prob``): a blob of radius 1/16–1/4 of the frame side whose centre is off by a
    vector of length up to ``max_px``, fading to nothing at its edge, as DIS errs on a moving light or an
    occluded object. A new array; the input is unchanged."""
    out = flows.copy()
    _, _, h, w = flows.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    side = min(h, w)
    for p in range(len(flows)):
        for _ in range(int(rng.integers(blobs[0], blobs[1] + 1))):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            r = rng.uniform(side / 16, side / 4)
            length, angle = rng.uniform(0, max_px), rng.uniform(0, 2 * np.pi)
            weight = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
            out[p, 0] += np.float32(length * np.cos(angle)) * weight
            out[p, 1] += np.float32(length * np.sin(angle)) * weight
    return out


class StepSampler(Sampler[int]):
    """Indices of this process's share of each step, from ``start_step`` on, forever: step k, rank r of
    ``world`` with per-process batch B gives ``k·B·world + r·B + j``, j < B."""

    def __init__(self, batch_size: int, start_step: int = 0, rank: int = 0, world: int = 1):
        self.batch_size, self.start_step, self.rank, self.world = batch_size, start_step, rank, world

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        per_step = self.batch_size * self.world
        while True:
            base = step * per_step + self.rank * self.batch_size
            yield from range(base, base + self.batch_size)
            step += 1


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    if img.shape[0] == size and img.shape[1] == size:
        return img
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def worker_init(worker_id: int) -> None:
    """DataLoader worker set-up: one thread each (the samples themselves are seeded by index)."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
