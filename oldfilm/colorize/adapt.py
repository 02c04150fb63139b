"""Shot-adaptive parts of the colouriser, applied after propagation (``oldfilm.colorize.api``):

``Still``: what did not move since the key keeps the key's colour exactly. Where a frame's lightness equals
its key's at the same place (5×5 patches, no flow), the pixel is the key's pixel: its ab is copied from the
key, at full resolution, instead of carried along a chain of warps that blurs and drifts. Static cameras
(a background behind moving people, a table under a moving hand) are coloured exactly where nothing moved,
and the movers are left to the flow. Lightness that changed (a mover, a light change) fails the check and
the propagated colour stays.

``Unsure``: where nothing vouches for a colour (content that entered the frame in a fast pan, an area
uncovered by a mover, low light where the flow fails), chroma is pulled towards gray in proportion to the
missing confidence. A wrong colour costs more than a faint one, and a colour guessed by hole filling or
matching is often wrong; a desaturated guess is the squared-error compromise, and it does not smear.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from oldfilm.colorize.chroma import resize_map
from oldfilm.colorize.propagate import Chroma, Propagated, agreement, patch_rms


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of the shot-adaptive parts.

    Attributes:
        still: strength of the still-copy (0: off, 1: a fully still pixel takes its key's ab exactly). Off by
            default: on the training clips' static-camera windows it did not raise PSNR (see
            docs/benchmark-colorize.md); ``oldfilm colorize --still`` turns it on.
        still_tol: RMS L* difference of a 5×5 patch between frame and key tolerated as noise (compression,
            grain) before a pixel stops counting as still.
        still_sigma: RMS difference beyond ``still_tol`` at which stillness falls to e^-1.
        still_radius: the patch's radius (work pixels).
        still_erode: the still map is eroded by this many work pixels (a mover's edge, where the patch still
            half-matches, is left to the flow).
        still_motion: flow (work pixels) at which a place counts as having moved since the key; the largest
            frame-to-frame flow seen at each place since the forward key is kept, and a place that moved is
            not copied even where its lightness matches again (a dark mover over a dark background, low
            light). 0: lightness alone decides.
        still_gate: the copy steps back where the propagation is confident (strength × (1 − gate · conf)):
            1 copies only where the flow chain and the direct match lost the place (a background seen again
            after a mover passed), 0 everywhere still.
        unsure: how far chroma is pulled towards gray where the confidence is 0 (0: off; 1: to gray).
    """

    still: float = 0.0
    still_tol: float = 1.5
    still_sigma: float = 2.0
    still_radius: int = 2
    still_erode: int = 1
    still_motion: float = 1.0
    still_gate: float = 0.0
    unsure: float = 0.0


def stillness(L: np.ndarray, L_key: np.ndarray, cfg: AdaptConfig, noise: float = 0.0) -> np.ndarray:
    """(h, w) in [0, 1]: how surely each pixel is unchanged since the key (same place, same lightness);
    ``noise`` (L*) widens the tolerance (``PropagateConfig.noise_gain`` times the frame's noise floor)."""
    s = agreement(patch_rms(L, L_key, cfg.still_radius), cfg.still_tol + noise, cfg.still_sigma)
    if cfg.still_erode > 0:
        k = 2 * cfg.still_erode + 1
        s = cv2.erode(s, np.ones((k, k), np.uint8), borderType=cv2.BORDER_REFLECT)
    return s


class Still:
    """The still-copy of the module docstring, for one frame at a time."""

    def __init__(self, cfg: AdaptConfig, decay: float, noise_gain: float = 0.0) -> None:
        self.cfg, self.decay, self.noise_gain = cfg, decay, noise_gain
        self._moved: tuple[int, np.ndarray] | None = None  # (frame index, largest flow seen at each place)
        self._maps: tuple[int, list[tuple[Chroma, np.ndarray]]] = (-1, [])

    def _motion(self, p: Propagated) -> np.ndarray | None:
        """The largest frame-to-frame flow magnitude seen at each place since the scene's start or the last
        key (frames come in order); None right after one."""
        last = self._moved
        if p.is_key or p.flow_prev is None or last is None or last[0] != p.index - 1:
            self._moved = (p.index, np.zeros(p.L.shape, np.float32))
            return None if p.is_key or p.flow_prev is None else self._moved[1]
        moved = np.maximum(last[1], np.sqrt((p.flow_prev**2).sum(0)))
        self._moved = (p.index, moved)
        return moved

    def maps(self, p: Propagated) -> list[tuple[Chroma, np.ndarray]]:
        """(chain, stillness (h, w) against its key) for each chain of ``p`` away from its key (computed once
        per frame, in order)."""
        if self._maps[0] == p.index:
            return self._maps[1]
        moved = self._motion(p) if self.cfg.still_motion > 0 else None
        out = []
        if self.cfg.still > 0 and not p.is_key:
            noise = self.noise_gain * p.noise
            for c in (p.fwd, p.bwd):
                if c is None or c.distance == 0:
                    continue
                s = stillness(p.L, c.key.lab[..., 0], self.cfg, noise)
                if c is p.fwd and moved is not None:  # the forward key lies behind: its motion is known
                    s = s * np.clip(1.0 - moved / self.cfg.still_motion, 0.0, 1.0)
                out.append((c, s))
        self._maps = (p.index, out)
        return out

    def _blend(self, maps: list[tuple[Chroma, np.ndarray]], size: tuple[int, int] | None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(the keys' ab blended by stillness · base · decay^distance, strength (h, w) of the copy); at
        full resolution (the keys' own ab_full) when ``size`` is given."""
        num, den = 0.0, 0.0
        for c, s in maps:
            w = s * (c.base * self.decay**c.distance)
            if size is not None:
                w = resize_map(w, size)
            num = num + w[..., None] * (c.key.ab if size is None else c.key.ab_full)
            den = den + w
        strength = np.clip(self.cfg.still * np.max([s * c.base for c, s in maps], axis=0), 0.0, 1.0)
        return num / np.maximum(den, 1e-6)[..., None], strength

    def __call__(self, p: Propagated, ab: np.ndarray, conf: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """ab with still pixels set to their key's; and the copy's strength (h, w) for ``full``, None where
        nothing is still. ``conf``: the propagation's confidence, which ``still_gate`` lets keep its own."""
        maps = self.maps(p)
        if not maps:
            return ab, None
        key_ab, strength = self._blend(maps, None)
        if conf is not None and self.cfg.still_gate > 0:
            strength = strength * (1.0 - self.cfg.still_gate * np.clip(conf, 0.0, 1.0))
        if float(strength.max()) <= 0.01:
            return ab, None
        s = strength[..., None]
        return ((1.0 - s) * ab + s * key_ab).astype(np.float32), strength

    def full(self, p: Propagated, ab_full: np.ndarray, strength: np.ndarray) -> np.ndarray:
        """Full resolution: the keys' own ab (not the work-resolution copy) where still."""
        size = p.L_full.shape
        if size == p.L.shape:
            return ab_full
        key_full, _ = self._blend(self.maps(p), size)
        s = resize_map(strength, size)[..., None]
        return ((1.0 - s) * ab_full + s * key_full).astype(np.float32)


def unsure(ab: np.ndarray, conf: np.ndarray, cfg: AdaptConfig) -> np.ndarray:
    """Chroma pulled towards gray by ``cfg.unsure · (1 − conf)``."""
    if cfg.unsure <= 0:
        return ab
    return (ab * (1.0 - cfg.unsure * (1.0 - np.clip(conf, 0.0, 1.0)))[..., None]).astype(np.float32)
