"""``colorize_stream()``: the colour stage — a black-and-white (or restored) clip and colour references in,
a colour clip out, streaming (the file-level ``oldfilm.colorize`` runs it on files).

References are (a) coloured keyframes of the clip — each with its frame index, or matched to the most
similar frame when the index is omitted — and/or (b) an exemplar, any colour photograph of a similar scene,
transferred to the first frame of every scene (``oldfilm.colorize.transfer``). Colours then travel along
optical flow in both directions (``oldfilm.colorize.propagate``) and a small learned network refines them
(``oldfilm.colorize.refine``). L always comes from the clip.

Memory: constant in the clip's length — at most ``PropagateConfig.window`` frames are buffered (see there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from oldfilm.colorize.adapt import AdaptConfig, Still, unsure
from oldfilm.colorize.chroma import lab_to_rgb_keep_l, resize_map
from oldfilm.colorize.propagate import (
    DirectMatch,
    PropagateConfig,
    Propagated,
    Propagator,
    carry,
    fuse,
)
from oldfilm.colorize.transfer import TransferConfig, transfer_colour, transfer_lab
from oldfilm.colorspace import from_float, is_gray, rgb_to_lab
from oldfilm.errors import InputError, UsageError
from oldfilm.restore.scenes import SceneDetector

log = logging.getLogger("oldfilm")

Image = np.ndarray | str | Path


@dataclass(frozen=True)
class ColorizeConfig:
    """Settings of the colouriser.

    Attributes:
        propagate: how colour travels along the flow (resolution, confidence, look-behind window).
        transfer: the exemplar transfer.
        refine: "auto" uses the learned refinement when its weights ship (or ``weights`` is given), "on"
            requires it, "off" propagates only.
        weights: a refinement .safetensors file; None uses the shipped one.
        cut_ratio: residual jump that makes a scene cut (``SceneDetector.ratio``); lower than the
            restorer's default, because colour carried across a missed cut is worse than a cut too many.
        threads: torch threads for the refinement (0: leave torch's setting).
        prior: weight, far from the keyframe, of the colour prior: the key's colours transferred to each
            frame by Welsh et al.'s matching (``transfer``); ab ← (1 − a)·ab + a·prior with
            a = prior·(1 − decay^d), d the frames from the key, so a key's own colours stay exact and the
            prior grows as the flow chain's trust decays. Flow chains and matching err in different places
            (drift and disocclusions vs. look-alike textures), so the blend lowers the error. 0: off.
        prior_memory: the prior is carried along the flow and renewed by ``1 − prior_memory`` per frame,
            so a per-frame matching's jitter does not reach the output (0: a fresh prior every frame).
        smooth: the output's ab is averaged with the previous output's, warped by the flow, at this weight
            (times the frames' L agreement, ``Propagated.agree_prev``), so the frame-to-frame jitter of the
            direct match and the prior stays out (0: off). Keyframes stay exact.
        adapt: the shot-adaptive parts (``oldfilm.colorize.adapt``): what did not move since the key keeps
            its colour exactly; chroma nothing vouches for fades towards gray.
    """

    propagate: PropagateConfig = field(default_factory=PropagateConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    refine: str = "auto"
    weights: str | Path | None = None
    cut_ratio: float = 3.5
    threads: int = 0
    prior: float = 0.3
    prior_memory: float = 0.7
    smooth: float = 0.5
    adapt: AdaptConfig = field(default_factory=AdaptConfig)


def load_image(img: Image) -> np.ndarray:
    """A path or an array → (H, W, C) RGB array (C = 1 or 3)."""
    if isinstance(img, np.ndarray):
        return img if img.ndim == 3 else img[..., None]
    from oldfilm.io.images import read_image

    return read_image(img)


def _rgb3(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        frame = frame[..., None]
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame[..., :3]


def frame_lightness(frame: np.ndarray) -> np.ndarray:
    """(H, W[, C]) frame → (H, W) float32 L* (a gray frame is read as R = G = B)."""
    return rgb_to_lab(_rgb3(frame))[..., 0]


def reference_ab(ref: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A colour reference → its (H, W, 2) ab at the clip's frame ``size`` (height, width)."""
    if is_gray(ref):
        raise InputError("a colour reference is black-and-white: colour it first (or give an exemplar photo)")
    h, w = ref.shape[:2]
    if abs(w / h - size[1] / size[0]) > 0.02 * size[1] / size[0]:
        log.warning("reference is %dx%d but the clip is %dx%d: it is stretched to fit", w, h, size[1], size[0])
    return resize_map(rgb_to_lab(_rgb3(ref))[..., 1:], size)


def _thumb(L: np.ndarray) -> np.ndarray:
    t = cv2.resize(L, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (t - t.mean()) / max(float(t.std()), 1e-3)


def match_reference_frames(frames: Iterable[np.ndarray], refs: Sequence[np.ndarray]) -> list[int]:
    """For each reference, the index of the most similar frame (normalised L thumbnails; one pass, O(1)
    memory)."""
    thumbs = [_thumb(frame_lightness(r)) for r in refs]
    best = [(np.inf, -1)] * len(refs)
    for i, f in enumerate(frames):
        t = _thumb(frame_lightness(f))
        best = [min(b, (float(((t - r) ** 2).mean()), i)) for b, r in zip(best, thumbs, strict=True)]
    if any(i < 0 for _, i in best):
        raise InputError("the clip has no frames to match the references against")
    return [i for _, i in best]


def _refiner(cfg: ColorizeConfig) -> Callable[..., np.ndarray] | None:
    if cfg.refine not in ("auto", "on", "off"):
        raise UsageError(f"refine must be auto, on or off, not {cfg.refine!r}")
    if cfg.refine == "off":
        return None
    from oldfilm.colorize.refine import SHIPPED, Refiner, load_refiner

    if cfg.refine == "auto" and cfg.weights is None and not SHIPPED.is_file():
        return None
    return Refiner(load_refiner(cfg.weights), threads=cfg.threads)


def _keys(refs: Sequence[Image], ref_frames: Sequence[int | None] | None, size: tuple[int, int],
          match_in: str | Path | None) -> dict[int, np.ndarray]:
    arrays = [load_image(r) for r in refs]
    idx = list(ref_frames or [])
    if len(idx) > len(arrays):
        raise UsageError(f"{len(arrays)} references but {len(idx)} reference frame numbers")
    idx += [None] * (len(arrays) - len(idx))  # references without a number are matched
    if any(i is not None and i < 0 for i in idx):
        raise UsageError("reference frame numbers start at 0")
    missing = [k for k, i in enumerate(idx) if i is None]
    if missing:
        if match_in is None:
            raise UsageError("a reference without a frame number needs the clip to match it against "
                             "(colorize() does this; colorize_stream() needs match_in=path)")
        from oldfilm.io.video import open_video

        with open_video(match_in) as reader:
            found = match_reference_frames(reader, [arrays[k] for k in missing])
        for k, i in zip(missing, found, strict=True):
            log.info("reference %d matched to frame %d", k, i)
            idx[k] = i
    keys: dict[int, list[np.ndarray]] = {}
    for i, a in zip(idx, arrays, strict=True):
        keys.setdefault(int(i), []).append(reference_ab(a, size))
    return {i: np.mean(v, axis=0) if len(v) > 1 else v[0] for i, v in keys.items()}


def colorize_stream(frames: Iterable[np.ndarray], refs: Sequence[Image] = (),
                    ref_frames: Sequence[int | None] | None = None, *, exemplar: Image | None = None,
                    config: ColorizeConfig = ColorizeConfig(), match_in: str | Path | None = None,
                    ) -> Iterator[np.ndarray]:
    """Colour a stream of (H, W, C) frames; yields one (H, W, 3) RGB frame per input, in order, in the
    input's dtype (uint8, uint16 or float32).

    Args:
        frames: the clip, gray (C = 1, or three equal channels) or colour (only its L is used).
        refs: coloured keyframes (arrays or image paths).
        ref_frames: the frame index of each reference, in order; a reference without one (None, or past
            the end of this list) is matched to the most similar frame of ``match_in``.
        exemplar: a colour photograph of a similar scene, transferred to the start of every scene.
        config: settings.
        match_in: the clip's file, for matching references without a frame index.
    """
    if not refs and exemplar is None:
        raise UsageError("colourising needs a reference: a coloured keyframe (--ref) or an exemplar photo")
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    size = first.shape[:2]
    keys = _keys(refs, ref_frames, size, match_in)
    ex_fn = None
    if exemplar is not None:
        ex = load_image(exemplar)
        if is_gray(ex):
            raise InputError("the exemplar is black-and-white: it must be a colour photograph")

        def ex_fn(L: np.ndarray) -> np.ndarray:
            return transfer_colour(ex, L, config.transfer)

    prop = Propagator(config.propagate, keys=keys, exemplar=ex_fn)
    refiner = _refiner(config)
    detector = SceneDetector(ratio=config.cut_ratio)
    dtypes: dict[int, np.dtype] = {}

    prior = _Prior(config)
    direct = DirectMatch(config.propagate, prop.flow)
    smooth = _Smooth(config)
    still = Still(config.adapt, config.propagate.decay, config.propagate.noise_gain)

    def render(p: Propagated) -> np.ndarray:
        ab, conf = fuse(p, config.propagate.decay, direct(p))
        ab, strength = still(p, unsure(prior(p, ab), conf, config.adapt), conf)
        ab = smooth(p, ab)
        if refiner is not None:
            ab = refiner(p.L, ab, conf, p.flow_prev)
        if p.is_key and p.fwd is not None:
            full = p.fwd.key.ab_full
        else:
            full = resize_map(ab, p.L_full.shape)
            full = full if strength is None else still.full(p, full, strength)
        dtype = dtypes.pop(p.index)
        return from_float(lab_to_rgb_keep_l(p.L_full, full), dtype if dtype != np.float64 else np.float32)

    def all_frames() -> Iterator[np.ndarray]:
        yield first
        yield from frames

    n_in = 0
    for i, f in enumerate(all_frames()):
        if f.shape[:2] != size:
            raise InputError(f"frame {i} is {f.shape[1]}x{f.shape[0]}, the clip is {size[1]}x{size[0]}")
        dtypes[i], n_in = f.dtype, i + 1
        for p in prop.push(i, frame_lightness(f), cut=detector(_rgb3(f))):
            yield render(p)
    for p in prop.finish():
        yield render(p)
    late = sorted(k for k in keys if k >= n_in)
    if late:
        log.warning("reference frame(s) %s lie beyond the clip's %d frames and were not used",
                    ", ".join(map(str, late)), n_in)


class _Prior:
    """The colour prior of ``ColorizeConfig.prior``, carried from frame to frame (frames come in order)."""

    def __init__(self, config: ColorizeConfig) -> None:
        self.config = config
        self.last: tuple[int, np.ndarray] | None = None  # (frame index, prior ab at work resolution)

    def __call__(self, p: Propagated, ab: np.ndarray) -> np.ndarray:
        cfg = self.config
        chains = [c for c in (p.fwd, p.bwd) if c is not None]
        if p.is_key or not chains or cfg.prior <= 0:
            self.last = None
            return ab
        decay = cfg.propagate.decay
        chain = max(chains, key=lambda c: float(c.weight(decay).mean()))
        prior = transfer_lab(chain.key.lab, p.L, cfg.transfer)
        if self.last is not None and self.last[0] == p.index - 1:
            prior = carry(prior, self.last[1], p, cfg.prior_memory)
        self.last = (p.index, prior)
        a = cfg.prior * (1.0 - decay**chain.distance)
        return ((1.0 - a) * ab + a * prior).astype(np.float32)


class _Smooth:
    """The temporal smoothing of ``ColorizeConfig.smooth``, carried from frame to frame (frames in order)."""

    def __init__(self, config: ColorizeConfig) -> None:
        self.config = config
        self.last: tuple[int, np.ndarray] | None = None  # (frame index, ab at work resolution)

    def __call__(self, p: Propagated, ab: np.ndarray) -> np.ndarray:
        last = self.last
        if not p.is_key and last is not None and last[0] == p.index - 1:
            ab = carry(ab, last[1], p, self.config.smooth)
        self.last = (p.index, ab)
        return ab
