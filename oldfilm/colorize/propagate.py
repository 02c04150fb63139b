"""Colour propagation in Lab: L always comes from the clip, ab travels from keyframes along optical-flow
chains, forwards (streaming, state carried frame to frame) and backwards (within a bounded look-behind
buffer).

Per step from frame p to frame c (one function, ``propagate_step``, for both directions):
    q      = fb(c, p) · photo(c, p) · inside(c, p)      this step's validity: forward-backward consistency
                                                        (Sundaram et al. 2010), agreement of 5×5 L patches
                                                        after warping, and the flow landing inside the frame
    ab_w   = warp(ab_p, flow c→p)                       bilinear: under motion uncertainty the slight blur
                                                        it adds is what a squared-error estimate wants
    v      = warp(v_p) · q
    fill   = weighted guided filter of ab_w on L_c      holes re-anchored to L's structure (He et al. 2013)
    ab_c   = v · ab_w + (1 − v) · fill
    v_c    = v + (1 − v) · trust · support(fill)        filled pixels inherit part of their neighbours' trust
The blending weight of a direction is ``v · decay^d``, d the distance (frames) from its key, so several
keyframes blend by confidence and far keys fade. Scene cuts stop propagation.

Memory bound: flows, ab and validity live at reduced resolution (``max_side``); the backward pass reaches
at most ``window`` frames behind a keyframe, so at most ``window`` frames are buffered, each holding its
full-res L (4 bytes/pixel) and ≈ 15 float32 maps at work resolution (two directions + flows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from oldfilm.colorize.chroma import guided_coefficients, resize_map
from oldfilm.flow import DISFlow, FlowEstimator, warp_image
from oldfilm.imgops import fit_size

log = logging.getLogger("oldfilm")
_FLOOR = 1e-3


@dataclass(frozen=True)
class PropagateConfig:
    """How ab travels along the flow chains.

    Attributes:
        max_side: flows, ab and validity live at this longer side (pixels); the full-resolution ab is
            upsampled from there. 0 works at full resolution.
        flow_preset: OpenCV DIS preset for consecutive frames ("ultrafast", "fast", "medium").
        decay: per-frame factor on a direction's blending weight (distance from its keyframe).
        fb_tol: forward-backward residual (work pixels) tolerated before validity starts to fall.
        fb_sigma: residual beyond ``fb_tol`` (work pixels) at which validity falls to e^-1.
        fb_rel: part of the flow magnitude tolerated as extra residual (fast motion is noisier).
        photo_tol: RMS L difference (L* units) between a patch and its warped neighbour tolerated as noise.
        photo_sigma: RMS difference beyond ``photo_tol`` at which validity falls to e^-1.
        photo_radius: the patch's radius (pixels at work resolution; 0 compares single pixels).
        fill_radius: window radius (work pixels) of the weighted guided filter that fills holes.
        fill_eps: its regulariser, in (L/100)²; smaller follows L's edges more tightly.
        fill_trust: how much of its neighbours' validity a filled pixel inherits (0: none, 1: all).
        min_weight: below this blending weight a backward pass stops (nothing visible is left to carry).
        window: the most frames buffered for the backward pass (the look-behind of a keyframe).
        exemplar_weight: weight of an exemplar transfer at a scene start (a keyframe has 1).
        direct: weight of the direct match (``DirectMatch``: one flow straight from the frame to its
            chain's key, checked like a step), against the chain's ``v · decay^d``; 0 turns it off.
        direct_memory: the direct match is carried along the flow and renewed by ``1 − direct_memory`` per
            frame, so the per-frame jitter of independent long-range flows stays out of the output.
        fill_reach: where a hole is farther than the fill's window from any valid pixel (content that
            entered the frame in a pan), the fill has nothing to fit and returns gray; with ``fill_reach``
            > 0 such pixels keep the plain warp's ab (the frame edge's colour carried in, as a plain flow
            chain does) in proportion to the missing support: 1 − min(1, support / fill_reach). 0: off.
        noise_gain: the lightness tolerance of the carries along the flow (``Propagated.agree_prev``, which
            gates the temporal smoothing and the memories of ``carry``) and of the still-copy grows by this
            times the frame's noise floor, the median patch RMS difference to the previous frame after
            warping: grain and low-light noise then do not stop the smoothing (0: fixed tolerance). The
            propagation's own validity keeps ``photo_tol``: loosened, it let a chain keep an occluder's
            colour where the direct match had the right one (tests/colorize/test_propagate.py).
    """

    max_side: int = 640
    flow_preset: str = "medium"
    decay: float = 0.97
    fb_tol: float = 1.0
    fb_sigma: float = 2.0
    fb_rel: float = 0.05
    photo_tol: float = 2.5
    photo_sigma: float = 5.0
    photo_radius: int = 2
    fill_radius: int = 6
    fill_eps: float = 1e-3
    fill_trust: float = 0.5
    min_weight: float = 0.01
    window: int = 96
    exemplar_weight: float = 0.5
    direct: float = 1.0
    direct_memory: float = 0.7
    noise_gain: float = 1.0
    fill_reach: float = 0.03


@dataclass(frozen=True)
class Key:
    """A colour reference for one frame: (H, W, 2) ab at full and (h, w, 2) at work resolution, and the
    reference as (h, w, 3) Lab at work resolution (the source of the colour prior, see ``colorize.api``)."""

    ab_full: np.ndarray
    ab: np.ndarray
    lab: np.ndarray


@dataclass
class Chroma:
    """ab carried in one direction from one key.

    Attributes:
        key: the reference this chain started from.
        ab: (h, w, 2) ab at work resolution.
        valid: (h, w) validity in [0, 1] (filled pixels count partly).
        distance: frames since the key.
        base: the key's own weight (1 for a keyframe, less for an exemplar transfer).
    """

    key: Key
    ab: np.ndarray
    valid: np.ndarray
    distance: int = 0
    base: float = 1.0

    @classmethod
    def at_key(cls, key: Key, base: float = 1.0) -> Chroma:
        """The chain's start: the key itself, everything valid."""
        return cls(key, key.ab, np.ones(key.ab.shape[:2], np.float32), 0, base)

    def weight(self, decay: float) -> np.ndarray:
        """(h, w) blending weight: validity · base · decay^distance."""
        return self.valid * (self.base * decay**self.distance)


@dataclass
class Propagated:
    """One frame out of the propagator, in display order.

    Attributes:
        index: frame number in the stream.
        L_full: (H, W) float32 L* of the clip.
        L: (h, w) L* at work resolution.
        fwd, bwd: the chains that reached this frame from a key before / after it (None: none did).
        flow_prev: (2, h, w) flow from this frame to the previous frame of its scene, None at a scene start.
        agree_prev: (h, w) ``photo_validity`` of this frame and the previous one warped by ``flow_prev``
            (None with no ``flow_prev``): where ``carry`` may bring values along the flow. (The forward-
            backward check is left out here: it rejects textureless regions whose colour is safe to carry,
            and carrying everywhere the fb check allowed was 0.14 dB worse on the colour dev clips.)
        is_key: the frame is a keyframe (its output is the reference's ab as given).
        noise: the frame's noise floor (L* units; ``PropagateConfig.noise_gain``), 0 at a scene start.
    """

    index: int
    L_full: np.ndarray
    L: np.ndarray
    fwd: Chroma | None
    bwd: Chroma | None
    flow_prev: np.ndarray | None
    agree_prev: np.ndarray | None = None
    is_key: bool = False
    noise: float = 0.0


@dataclass
class _Slot:
    index: int
    L_full: np.ndarray
    L: np.ndarray
    flow_prev: np.ndarray | None = None
    agree_prev: np.ndarray | None = None
    flow_next: np.ndarray | None = None
    fwd: Chroma | None = None
    bwd: Chroma | None = None
    is_key: bool = False
    noise: float = 0.0


def patch_rms(L_c: np.ndarray, L_p: np.ndarray, radius: int) -> np.ndarray:
    """(h, w) RMS difference of the (2·radius+1)² patches of two aligned L maps."""
    d2 = (L_c - L_p) ** 2
    if radius > 0:  # compare small patches: a single pixel matches by chance too easily
        k = 2 * radius + 1
        d2 = cv2.blur(d2, (k, k), borderType=cv2.BORDER_REFLECT)
    return np.sqrt(np.maximum(d2, 0.0))


def agreement(rms: np.ndarray, tol: float, sigma: float) -> np.ndarray:
    """exp(−(max(rms − tol, 0) / sigma)²) as float32."""
    d = np.maximum(rms - tol, 0.0) / sigma
    return np.exp(-d * d).astype(np.float32)


def photo_validity(L_c: np.ndarray, L_p: np.ndarray, flow_cp: np.ndarray, cfg: PropagateConfig) -> np.ndarray:
    """(h, w) agreement in [0, 1] of L patches of frame c and of frame p warped by ``flow_cp`` (c→p)."""
    return agreement(patch_rms(L_c, warp_image(L_p, flow_cp), cfg.photo_radius), cfg.photo_tol, cfg.photo_sigma)


def step_validity(L_c: np.ndarray, L_p: np.ndarray, flow_cp: np.ndarray, flow_pc: np.ndarray,
                  cfg: PropagateConfig) -> np.ndarray:
    """(h, w) validity in [0, 1] of carrying frame p's pixels to frame c along ``flow_cp`` (c→p)."""
    h, w = L_c.shape
    back = warp_image(np.ascontiguousarray(flow_pc.transpose(1, 2, 0)), flow_cp).transpose(2, 0, 1)
    resid = np.sqrt(((flow_cp + back) ** 2).sum(0))
    mag = np.sqrt((flow_cp**2).sum(0))
    fb = np.maximum(resid - cfg.fb_tol - cfg.fb_rel * mag, 0.0) / cfg.fb_sigma
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    x, y = gx + flow_cp[0], gy + flow_cp[1]
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    return (np.exp(-(fb * fb)) * photo_validity(L_c, L_p, flow_cp, cfg) * inside).astype(np.float32)


def fill_holes(L: np.ndarray, ab: np.ndarray, valid: np.ndarray,
               cfg: PropagateConfig) -> tuple[np.ndarray, np.ndarray]:
    """Keep ab where valid, fill the rest from valid neighbours along L (weighted guided filter)."""
    if cfg.fill_radius <= 0:
        return ab, valid
    a, b, _ = guided_coefficients(L / 100.0, ab, cfg.fill_radius, cfg.fill_eps, weight=valid)
    fill = a * (L / 100.0)[..., None] + b
    k = 2 * cfg.fill_radius + 1
    support = cv2.boxFilter(valid, -1, (k, k), borderType=cv2.BORDER_REFLECT)
    if cfg.fill_reach > 0:  # no valid pixel within reach: keep the plain warp rather than gray
        far = (1.0 - np.minimum(support / cfg.fill_reach, 1.0))[..., None]
        fill = far * ab + (1.0 - far) * fill
    v = valid[..., None]
    boosted = valid + (1.0 - valid) * cfg.fill_trust * support
    return (v * ab + (1.0 - v) * fill).astype(np.float32), boosted.astype(np.float32)


def propagate_step(prev: Chroma, L_c: np.ndarray, L_p: np.ndarray, flow_cp: np.ndarray, flow_pc: np.ndarray,
                   cfg: PropagateConfig) -> Chroma:
    """Carry ``prev`` (at frame p) to frame c. Flows are (2, h, w): c→p and p→c. Same for both directions."""
    q = step_validity(L_c, L_p, flow_cp, flow_pc, cfg)
    ab, v = fill_holes(L_c, warp_image(prev.ab, flow_cp), warp_image(prev.valid, flow_cp) * q, cfg)
    return Chroma(prev.key, ab, v, prev.distance + 1, prev.base)


def fuse_weights(p: Propagated, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) forward and backward blending weights of a frame (zeros for a missing direction)."""
    zero = np.zeros(p.L.shape, np.float32)
    wf = p.fwd.weight(decay) if p.fwd is not None else zero
    wb = p.bwd.weight(decay) if p.bwd is not None else zero
    return wf, wb


def _blend_weights(p: Propagated, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights for blending ab: as ``fuse_weights`` plus a small floor by distance alone, so a pixel that no
    direction vouches for still takes the nearer key's colour rather than gray."""
    wf, wb = fuse_weights(p, decay)
    if p.fwd is not None:
        wf = wf + _FLOOR * p.fwd.base * decay**p.fwd.distance
    if p.bwd is not None:
        wb = wb + _FLOOR * p.bwd.base * decay**p.bwd.distance
    return wf, wb


def fuse(p: Propagated, decay: float,
         extra: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Blend the two directions (and ``extra`` (ab, weight) sources, e.g. ``DirectMatch``'s) by weight →
    (ab (h, w, 2), confidence (h, w)) at work resolution."""
    wf, wb = fuse_weights(p, decay)
    keep = (1.0 - wf) * (1.0 - wb)
    for _, wgt in extra:
        keep = keep * (1.0 - np.clip(wgt, 0.0, 1.0))
    conf = (1.0 - keep).astype(np.float32)
    wf, wb = _blend_weights(p, decay)
    num = np.zeros(p.L.shape + (2,), np.float32)
    den = np.zeros(p.L.shape, np.float32)
    sources = [(c.ab, wgt) for c, wgt in ((p.fwd, wf), (p.bwd, wb)) if c is not None]
    for ab, wgt in sources + list(extra):
        num += wgt[..., None] * ab
        den += wgt
    return (num / np.maximum(den, 1e-6)[..., None]).astype(np.float32), conf


def carry(fresh: np.ndarray, last: np.ndarray | None, p: Propagated, memory: float) -> np.ndarray:
    """An exponential average along the flow: ``(1 − m)·fresh + m·warp(last, p.flow_prev)`` with
    m = ``memory · p.agree_prev`` (nothing is carried where the frames disagree), ``last`` the value at the
    previous frame; ``fresh`` alone when there is no previous value (or ``memory`` is 0)."""
    if last is None or p.flow_prev is None or p.agree_prev is None or memory <= 0:
        return fresh
    m = memory * p.agree_prev
    m = m[..., None] if fresh.ndim == 3 else m
    return ((1.0 - m) * fresh + m * warp_image(last, p.flow_prev)).astype(np.float32)


@dataclass
class DirectMatch:
    """ab taken straight from each chain's key by one flow from the frame to that key (and one back, for the
    forward-backward check), validated like a propagation step (``step_validity``).

    A chain of consecutive flows drifts and loses what an occlusion hid once; a direct flow does neither
    wherever the key's content is still in view, but it is noisier frame to frame and, where it fails, fails
    wholesale (a small object moved far: the match lands on the wrong texture) — hence the blend in ``fuse``
    with weight ``cfg.direct · validity²`` (a long-range match is held to a stricter standard than one
    step; validity alone let a moving object's colour trail behind it in the tests) and no distance decay,
    and the carry along the flow (``cfg.direct_memory``). Frames must come in order.
    """

    cfg: PropagateConfig
    flow: FlowEstimator | None = None
    _last: dict[str, tuple[int, int, np.ndarray, np.ndarray]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.flow is None:
            self.flow = DISFlow(self.cfg.flow_preset, max_side=0)

    def __call__(self, p: Propagated) -> list[tuple[np.ndarray, np.ndarray]]:
        """(ab (h, w, 2), weight (h, w)) for each chain of ``p`` that is away from its key."""
        out = []
        if self.cfg.direct <= 0 or p.is_key:
            self._last.clear()
            return out
        for name, chain in (("fwd", p.fwd), ("bwd", p.bwd)):
            if chain is None or chain.distance == 0:
                self._last.pop(name, None)
                continue
            L_k, ab_k = chain.key.lab[..., 0], chain.key.ab
            f_ck = self.flow(p.L / 100.0, L_k / 100.0)
            f_kc = self.flow(L_k / 100.0, p.L / 100.0)
            valid = step_validity(p.L, L_k, f_ck, f_kc, self.cfg)
            ab = warp_image(ab_k, f_ck)
            last = self._last.get(name)
            if last is not None and last[:2] == (p.index - 1, id(chain.key)):
                ab = carry(ab, last[2], p, self.cfg.direct_memory)
                valid = carry(valid, last[3], p, self.cfg.direct_memory)
            self._last[name] = (p.index, id(chain.key), ab, valid)
            out.append((ab, valid**2 * (self.cfg.direct * chain.base)))
        return out


@dataclass
class Propagator:
    """Streaming ab propagation with keyframes anywhere in the clip.

    Feed frames in order with ``push``; it returns the frames that are final (possibly none, possibly many);
    ``finish`` returns the rest. A frame is final once the next keyframe of its scene has been seen, its
    scene ended, or it fell ``window`` frames behind.

    Attributes:
        cfg: propagation settings.
        keys: frame index → (H, W, 2) float32 ab of the reference for that frame.
        exemplar: optional function L_full (H, W) → ab (H, W, 2), applied at the start of every scene that
            has no keyframe there (exemplar colour transfer).
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
        L_full = L_full.astype(np.float32, copy=False)
        size = fit_size(*L_full.shape, self.cfg.max_side)
        slot = _Slot(index, L_full, resize_map(L_full, size))
        prev = self._prev
        if prev is not None:
            slot.flow_prev = self.flow(slot.L / 100.0, prev.L / 100.0)
            prev.flow_next = self.flow(prev.L / 100.0, slot.L / 100.0)
            rms = patch_rms(slot.L, warp_image(prev.L, slot.flow_prev), self.cfg.photo_radius)
            slot.noise = float(np.median(rms))
            tol = self.cfg.photo_tol + self.cfg.noise_gain * slot.noise
            slot.agree_prev = agreement(rms, tol, self.cfg.photo_sigma)
            if prev.fwd is not None:
                slot.fwd = propagate_step(prev.fwd, slot.L, prev.L, slot.flow_prev, prev.flow_next, self.cfg)
        key = self.keys.get(index)
        if key is not None:
            key = key.astype(np.float32, copy=False)
            ab = resize_map(key, size)
            slot.fwd, slot.is_key = Chroma.at_key(Key(key, ab, np.dstack([slot.L, ab]))), True
            self._scene_ref = True
        elif prev is None and self.exemplar is not None:
            ab = self.exemplar(L_full).astype(np.float32, copy=False)
            ab_w = resize_map(ab, size)
            slot.fwd = Chroma.at_key(Key(ab, ab_w, np.dstack([slot.L, ab_w])), base=self.cfg.exemplar_weight)
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
        out = [Propagated(s.index, s.L_full, s.L, s.fwd, s.bwd, s.flow_prev, s.agree_prev, s.is_key, s.noise)
               for s in self._buf[:n]]
        del self._buf[:n]
        return out

    def _end_scene(self) -> list[Propagated]:
        if self._prev is not None and not self._scene_ref:
            log.warning("frames %d–%d (one scene) have no colour reference: left gray; add a --ref keyframe "
                        "in that scene or an exemplar", self._scene_start, self._prev.index)
        return self._emit(len(self._buf))
