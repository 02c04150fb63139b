"""Colour propagation in Lab: L always comes from the clip, ab travels from keyframes along optical-flow
chains, forwards (streaming, state carried frame to frame) and backwards (within a bounded look-behind
buffer).

Per step from frame p to frame c (one function, ``propagate_step``, for both directions):
    ab_w   = warp(ab_p, flow c→p)                      carry colour along the flow
    v      = warp(v_p) · fb(c, p) · photo(c, p)         local validity: forward-backward consistency
                                                        (Sundaram et al. 2010) and L agreement after warping
    fill   = weighted guided filter of ab_w on L_c      holes and drift re-anchored to L's structure
    ab_c   = v · ab_w + (1 − v) · fill                  trust the flow where it is consistent
    v_c    = v + (1 − v) · support(fill)                filled pixels inherit their neighbours' validity
The blending weight of a direction is ``v · decay^d`` with d the distance (frames) from its keyframe, so
several keyframes blend by confidence and far keyframes fade. Scene cuts reset everything.

Memory bound: ab is propagated at reduced resolution (``max_side``); the backward pass reaches at most
``window`` frames behind a keyframe, so at most ``window`` frames are buffered, each holding its full-res L
(4 bytes/pixel) and a few work-resolution maps (≈ 36 bytes per work pixel).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from oldfilm.colorize.chroma import guided_coefficients, resize_map, work_size
from oldfilm.flow import DISFlow, FlowEstimator, warp_image

log = logging.getLogger("oldfilm")


@dataclass(frozen=True)
class PropagateConfig:
    """How ab travels along the flow chains.

    Attributes:
        max_side: ab, confidence and flow live at this longer side (pixels); ab is smooth, so the final
            full-resolution ab is a guided upsampling on L. 0 works at full resolution.
        flow_preset: OpenCV DIS preset for consecutive frames ("ultrafast", "fast", "medium").
        decay: per-frame factor on a direction's blending weight (distance from its keyframe).
        fb_sigma: forward-backward residual (pixels, at work resolution) at which validity falls to e^-1.
        fb_rel: part of the flow magnitude² tolerated as forward-backward residual (fast motion is noisier).
        photo_sigma: L difference (L* units) between a frame and its warped neighbour at which validity
            falls to e^-1 (catches occlusions the flow check misses).
        fill_radius: window radius (work pixels) of the weighted guided filter that re-anchors ab on L.
        fill_eps: its regulariser, in (L/100)²; smaller follows L's edges more tightly.
        min_weight: below this blending weight a backward pass stops (nothing visible is left to carry).
        window: the most frames buffered for the backward pass (the look-behind of a keyframe).
        exemplar_weight: validity given to an exemplar transfer at a scene start (a keyframe has 1).
    """

    max_side: int = 320
    flow_preset: str = "medium"
    decay: float = 0.97
    fb_sigma: float = 1.0
    fb_rel: float = 0.01
    photo_sigma: float = 8.0
    fill_radius: int = 6
    fill_eps: float = 1e-3
    min_weight: float = 0.01
    window: int = 96
    exemplar_weight: float = 0.5


@dataclass(frozen=True)
class Key:
    """A colour reference for one frame: its ab at full and at work resolution."""

    ab_full: np.ndarray
    ab: np.ndarray


@dataclass
class Chroma:
    """ab carried in one direction from one key.

    Attributes:
        key: the reference this chain started from.
        ab: (h, w, 2) ab at work resolution (tracked colours, holes filled).
        valid: (h, w) validity in [0, 1] (filled pixels count partly).
        chain: (h, w) validity of ``coords``: 1 while the pixel was tracked without a break since the key.
        coords: (h, w, 2) where each pixel sits in the key frame (work-resolution pixels, x then y).
        distance: frames since the key.
        base: the key's own weight (1 for a keyframe, less for an exemplar transfer).
    """

    key: Key
    ab: np.ndarray
    valid: np.ndarray
    chain: np.ndarray
    coords: np.ndarray
    distance: int = 0
    base: float = 1.0

    @classmethod
    def at_key(cls, key: Key, base: float = 1.0) -> Chroma:
        """The chain's start: the key itself, everything valid."""
        h, w = key.ab.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        ones = np.ones((h, w), np.float32)
        return cls(key, key.ab, ones, ones, np.dstack([gx, gy]), 0, base)

    def weight(self, decay: float) -> np.ndarray:
        """(h, w) blending weight: validity · base · decay^distance."""
        return self.valid * (self.base * decay**self.distance)

    def ab_full(self, size: tuple[int, int]) -> np.ndarray:
        """(H, W, 2) ab at full resolution: the full-res key sampled along the tracked coordinates where the
        chain holds (no repeated resampling, so no blur), the work-resolution ab upsampled elsewhere."""
        H, W = size
        h, w = self.ab.shape[:2]
        if (h, w) == (H, W) and self.key.ab_full.shape[:2] == (H, W):
            return self.ab
        sx, sy = W / w, H / h
        c = resize_map(self.coords, (H, W))
        kh, kw = self.key.ab_full.shape[:2]
        mx = (c[..., 0] + 0.5) * (kw / w) - 0.5
        my = (c[..., 1] + 0.5) * (kh / h) - 0.5
        direct = cv2.remap(self.key.ab_full, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        del sx, sy
        ch = resize_map(self.chain, (H, W))[..., None]
        return ch * direct + (1.0 - ch) * resize_map(self.ab, (H, W))


@dataclass
class Propagator:
    """Streaming ab propagation with keyframes anywhere in the clip.

    Feed frames in order with ``push``; it returns the frames that are final (possibly none, possibly many);
    ``finish`` returns the rest. A frame is final once the next keyframe of its scene has been seen, its
    scene ended, or it fell ``window`` frames behind.

    Attributes:
        cfg: propagation settings.
        keys: frame index → (H, W, 2) float32 ab of the reference for that frame.
        exemplar: optional function L_full (H, W) → ab (H, W, 2) used at the start of a scene that has no
            keyframe there (exemplar colour transfer).
        flow: the flow estimator (default DIS with ``cfg.flow_preset``, at work resolution).
    """

    cfg: PropagateConfig
    keys: dict[int, np.ndarray] = field(default_factory=dict)
    exemplar: Callable[[np.ndarray], np.ndarray] | None = None
    flow: FlowEstimator | None = None
    _buf: list[_Slot] = field(default_factory=list, init=False)
    _prev: _Slot | None = field(default=None, init=False)
    _scene_start: int = field(default=0, init=False)
    _scene_ref: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.flow is None:
            self.flow = DISFlow(self.cfg.flow_preset, max_side=0)

    def push(self, index: int, L_full: np.ndarray, cut: bool) -> list[Propagated]:
        """Add frame ``index`` (its (H, W) L*); ``cut`` marks a scene start. Returns the frames now final."""
        out: list[Propagated] = []
        if cut or self._prev is None:
            out += self._end_scene()
            self._scene_start, self._scene_ref, self._prev = index, False, None
        h, w = work_size(*L_full.shape, self.cfg.max_side)
        L_full = L_full.astype(np.float32, copy=False)
        slot = _Slot(index, L_full, resize_map(L_full, (h, w)))
        prev = self._prev
        if prev is not None:
            slot.flow_prev = self.flow(slot.L / 100.0, prev.L / 100.0)
            prev.flow_next = self.flow(prev.L / 100.0, slot.L / 100.0)
            if prev.fwd is not None:
                slot.fwd = propagate_step(prev.fwd, slot.L, prev.L, slot.flow_prev, prev.flow_next, self.cfg)
        key = self.keys.get(index)
        if key is not None:
            slot.key_ab = key
            slot.fwd = Chroma(resize_map(key, (h, w)), np.ones((h, w), np.float32))
            self._scene_ref = True
        elif prev is None and self.exemplar is not None:
            slot.fwd = Chroma(resize_map(self.exemplar(slot.L_full), (h, w)), np.ones((h, w), np.float32),
                              base=self.cfg.exemplar_weight)
            self._scene_ref = True
        self._buf.append(slot)
        self._prev = slot
        if key is not None:
            self._backward_from(len(self._buf) - 1)
            out += self._emit(len(self._buf))
        elif len(self._buf) > self.cfg.window:
            out += self._emit(len(self._buf) - self.cfg.window)
        return out

    def finish(self) -> list[Propagated]:
        """End of stream: every buffered frame is final."""
        out = self._end_scene()
        self._prev = None
        return out

    def _backward_from(self, k: int) -> None:
        """Carry the keyframe in buffer slot ``k`` backwards through the buffered frames before it."""
        cur = self._buf[k].fwd
        for j in range(k - 1, -1, -1):
            s, nxt = self._buf[j], self._buf[j + 1]
            if s.flow_next is None or nxt.flow_prev is None:
                break
            cur = propagate_step(cur, s.L, nxt.L, s.flow_next, nxt.flow_prev, self.cfg)
            s.bwd = cur
            if float(cur.weight(self.cfg.decay).max()) < self.cfg.min_weight:
                break

    def _emit(self, n: int) -> list[Propagated]:
        out = []
        for s in self._buf[:n]:
            ab, conf = fuse(s.fwd, s.bwd, self.cfg.decay, s.L.shape)
            out.append(Propagated(s.index, s.L_full, s.L, ab, conf, s.flow_prev, s.key_ab))
        del self._buf[:n]
        return out

    def _end_scene(self) -> list[Propagated]:
        if self._prev is not None and not self._scene_ref:
            log.warning("frames %d–%d (one scene) have no colour reference: left gray; add a --ref keyframe "
                        "in that scene or an exemplar", self._scene_start, self._prev.index)
        return self._emit(len(self._buf))
