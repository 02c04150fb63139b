"""The degradation pipeline: a per-video template applied frame by frame with small perturbations.

``FilmDegrader`` is the one code path: it holds what must persist between frames (dust that stays a second
frame, hairs in the gate, drifting line scratches, the flicker and weave processes) and degrades one frame per
``step``, so it serves both a stream of unknown length (``oldfilm degrade``) and a training clip
(``degrade_clip``).

Order of operations per frame, following the film's life:
    stock and optics   black-and-white or fading → blur → gate weave → grain
    handling damage    contaminants (dust, scratches, hairs, blotches, cracks, emulsion, line scratches)
    projection/scan    flicker × vignetting → colour jitter → down-up sampling → noise → JPEG
The contaminant mask is taken where the contaminants change the frame (before the scan stage blurs them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from oldfilm.colorspace import from_float, to_float
from oldfilm.degrade import ops
from oldfilm.degrade import textures as tx
from oldfilm.degrade.params import (
    FilmParams,
    FrameParams,
    LineScratch,
    integer,
    perturb,
    sample_line,
    sample_template,
    uniform,
)
from oldfilm.degrade.presets import DegradeConfig
from oldfilm.errors import InputError

_KINDS = ("dust", "scratch", "hair", "blotch", "crack", "emulsion")
_LINE_BIRTH_PROB = 0.05
"""Per-frame chance that a retired line scratch is replaced (long streams)."""


@dataclass
class _Spot:
    """A live transient contaminant."""

    patch: np.ndarray
    cy: int
    cx: int
    mode: str
    opacity: float
    life: int
    wiggle: float


@dataclass
class _Dust:
    """Live dust specks of one blend mode: fixed-point outlines, uint8 strengths, frames left."""

    polygons: list[np.ndarray]
    values: list[int]
    life: list[int]


@dataclass
class _Line:
    """A live line scratch: its spec, current column and age in frames."""

    spec: LineScratch
    x: float
    age: int = 0


@dataclass(frozen=True)
class Degraded:
    """A degraded clip: ``frames`` (T, H, W, C) in the input dtype, ``masks`` (T, H, W) bool (True where
    contaminants changed the frame), ``params`` JSON-able {"template": ..., "frames": [...]}."""

    frames: np.ndarray
    masks: np.ndarray
    params: dict[str, Any]


class FilmDegrader:
    """Degrade a stream of frames of one video, one frame per ``step``.

    Convention:
        ``size``: (H, W) of every frame. Frames: (H, W, C), C = 1 or 3 (RGB); uint8, uint16 or float in
        [0, 1].
        ``step`` returns (degraded frame, same shape and dtype; mask (H, W) bool; ``FrameParams``).
        ``textures``: user texture images (any dtype, grey or RGB; or ``textures.texture_from_image``
        results) mixed in with the procedural ones.
        ``template``: a given template instead of a sampled one (e.g. to replay a JSON).

    Example:
        >>> deg = FilmDegrader(DegradeConfig(), np.random.default_rng(0), (64, 64))
        >>> out, mask, p = deg.step(np.full((64, 64, 3), 128, np.uint8))
        >>> out.shape, out.dtype, mask.shape
        ((64, 64, 3), dtype('uint8'), (64, 64))
    """

    def __init__(self, cfg: DegradeConfig, rng: np.random.Generator, size: tuple[int, int], *,
                 textures: Sequence[np.ndarray] = (), template: FilmParams | None = None) -> None:
        h, w = int(size[0]), int(size[1])
        if h < 8 or w < 8:
            raise InputError(f"frames must be at least 8×8 pixels to degrade, got {h}×{w}.")
        self.cfg, self.rng, self.size = cfg, rng, (h, w)
        self.template = template if template is not None else sample_template(cfg, rng, (h, w))
        self.index = 0
        self._channels: int | None = None
        self._textures = [t if t.ndim == 2 and t.dtype == np.uint8 else tx.texture_from_image(t)
                          for t in textures]
        self._spots: list[_Spot] = []
        self._dust = {m: _Dust([], [], []) for m in ops.BLEND_MODES}
        self._lines = [_Line(s, s.x) for s in self.template.lines]
        self._flicker = np.zeros(2)
        self._local: np.ndarray | None = None
        self._weave = np.zeros(3)
        t = self.template
        self._vignette = ops.vignette_map(h, w, t.vignette) if t.vignette is not None else None
        self._vignette_c: np.ndarray | None = None  # expanded to the frames' channels on first use

    # ------------------------------------------------------------ per frame

    def step(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, FrameParams]:
        """Degrade the next frame of the stream."""
        self._check(frame)
        t, rng = self.template, self.rng
        q, s, rel = self.cfg.quality, t.scale, self.cfg.quality.frame_perturbation
        noise = perturb(t.noise_sigma, q.noise_sigma, rel, rng)
        blur = self._frame_blur()
        jpg = perturb(t.jpeg_quality, q.jpeg_quality, rel, rng)
        quality = None if jpg is None else int(round(jpg))
        bright = perturb(t.brightness, q.brightness, rel, rng)
        contrast = perturb(t.contrast, q.contrast, rel, rng)
        grain = perturb(t.grain_strength, self.cfg.film.grain_strength, rel, rng)
        gain, offset = self._frame_flicker()
        weave = self._frame_weave()

        x = to_float(frame)
        if t.monochrome:
            x = ops.to_monochrome(x, t.bw_tint or 0.0)
        elif t.fade is not None:
            x = ops.fade_colors(x, t.fade, t.fade_cast)
        if blur is not None:
            x = ops.gaussian_blur(x, blur[0] * s, blur[1] * s, t.blur_angle)
        if t.weave_shift is not None:
            x = ops.gate_weave(x, *weave)
        if grain is not None:
            x = ops.film_grain(x, grain, t.grain_size * s, rng, monochrome=t.monochrome)

        layers = {m: np.zeros(self.size, np.float32) for m in (*ops.BLEND_MODES, "stain")}
        spawned = self._spawn()
        self._draw_dust(layers)
        self._draw_spots(layers)
        new_lines = self._update_lines()
        lines = self._draw_lines(layers)
        x = ops.blend_layers(x, layers["add"], layers["subtract"], layers["multiply"], layers["stain"],
                             np.asarray(t.stain_tint, np.float32))
        mask = sum(layers.values()) > self.cfg.mask_threshold

        local = self._frame_local_flicker()
        if t.flicker is not None or self._vignette is not None or local is not None:
            if self._vignette is not None and self._vignette_c is None:
                self._vignette_c = ops.expand(self._vignette, x.shape[-1])
            shading = self._vignette_c
            if local is not None:
                shading = ops.expand(local, x.shape[-1]) * (1.0 if shading is None else shading)
            x = ops.flicker(x, gain, offset, shading)
        if bright is not None:
            x = ops.color_jitter(x, bright, contrast)
        if t.resample_scale is not None:
            x = ops.resample(x, t.resample_scale, *t.resample_interp)
        if noise is not None:
            apply_noise = ops.speckle_noise if t.noise == "speckle" else ops.gaussian_noise
            x = apply_noise(x, noise, rng, monochrome=t.monochrome or t.noise_gray)
        np.clip(x, 0.0, 1.0, out=x)
        if quality is not None:
            u8 = ops.jpeg(from_float(x, np.uint8), quality)
            out = u8 if frame.dtype == np.uint8 else from_float(to_float(u8), frame.dtype)
        else:
            out = from_float(x, frame.dtype)

        params = FrameParams(
            index=self.index, noise_sigma=noise, blur_sigma=blur, jpeg_quality=quality, brightness=bright,
            contrast=contrast, grain_strength=grain, flicker_gain=gain, flicker_offset=offset,
            weave=(float(weave[0]), float(weave[1]), float(weave[2])), spawned=spawned, lines=lines,
            new_lines=new_lines,
        )
        self.index += 1
        return out, mask, params

    def _check(self, frame: np.ndarray) -> None:
        if frame.ndim != 3 or frame.shape[:2] != self.size or frame.shape[2] not in (1, 3):
            raise InputError(f"expected a frame of shape ({self.size[0]}, {self.size[1]}, 1 or 3), "
                             f"got {frame.shape}.")
        if self._channels is None:
            self._channels = frame.shape[2]
        elif frame.shape[2] != self._channels:
            raise InputError(f"frame {self.index} has {frame.shape[2]} channels, the stream had "
                             f"{self._channels}.")
        if frame.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
            raise InputError(f"frames must be uint8, uint16 or float in [0, 1], got {frame.dtype}.")

    def _frame_blur(self) -> tuple[float, float] | None:
        t, r = self.template, self.cfg.quality.blur_sigma
        if t.blur_sigma is None:
            return None
        rel = self.cfg.quality.frame_perturbation
        sx = perturb(t.blur_sigma[0], r, rel, self.rng)
        sy = sx if t.blur_sigma[0] == t.blur_sigma[1] else perturb(t.blur_sigma[1], r, rel, self.rng)
        return sx, sy  # type: ignore[return-value]

    def _frame_flicker(self) -> tuple[float, float]:
        """AR(1) exposure wobble: (gain, offset)."""
        amp = self.template.flicker
        if amp is None:
            return 1.0, 0.0
        rho = self.cfg.film.flicker_correlation
        e = self.rng.normal(0.0, 1.0, 2) * (amp, amp / 2)
        self._flicker = rho * self._flicker + np.sqrt(1 - rho * rho) * e
        return float(1.0 + self._flicker[0]), float(self._flicker[1])

    def _frame_local_flicker(self) -> np.ndarray | None:
        """(H, W) gain field of the spatially varying flicker: an AR(1) grid of control points, upsampled
        bicubically, or None when the template has none."""
        amp = self.template.local_flicker
        if amp is None:
            return None
        f = self.cfg.film
        g, rho = max(2, f.local_flicker_grid), f.local_flicker_correlation
        e = self.rng.normal(0.0, amp, (g, g))
        self._local = e if self._local is None else rho * self._local + np.sqrt(1 - rho * rho) * e
        field = cv2.resize(self._local.astype(np.float32), (self.size[1], self.size[0]),
                           interpolation=cv2.INTER_CUBIC)
        return np.clip(1.0 + field, 0.5, 1.5).astype(np.float32)

    def _frame_weave(self) -> np.ndarray:
        """AR(1) gate weave: (dx, dy) frame pixels, rotation degrees."""
        t = self.template
        if t.weave_shift is None:
            return self._weave
        std = np.array([t.weave_shift * t.scale, t.weave_shift * t.scale, t.weave_rotation])
        self._weave = 0.5 * self._weave + np.sqrt(0.75) * self.rng.normal(0.0, 1.0, 3) * std
        return self._weave

    # ------------------------------------------------------------ contaminants

    def _spawn(self) -> dict[str, int]:
        """Start this frame's new transient contaminants; counts per kind."""
        t = self.template
        rates = (t.dust_rate, t.scratch_rate, t.hair_rate, t.blotch_rate, t.crack_rate, t.emulsion_rate)
        counts = {}
        for kind, rate in zip(_KINDS, rates, strict=True):
            n = int(self.rng.poisson(rate)) if rate > 0 else 0
            counts[kind] = n
            if kind == "dust":
                self._spawn_dust(n)
            else:
                self._spots.extend(self._make_spot(kind) for _ in range(n))
        return counts

    def _spawn_dust(self, n: int) -> None:
        """``n`` new specks, sampled together: sizes skewed to small (u² between the range ends), bright or
        dark, one or two frames long."""
        if n == 0:
            return
        rng, c, (h, w) = self.rng, self.cfg.contaminants, self.size
        lo, hi = c.dust_size
        radii = (lo + (hi - lo) * rng.random(n) ** 2) * self.template.scale
        centres = rng.random((n, 2)) * (w, h)
        polygons = tx.dust_polygons(rng, centres, radii)
        bright = rng.random(n) < c.dust_bright_prob
        multiply = rng.random(n) < c.multiply_prob
        life = np.where(rng.random(n) < c.dust_persist_prob, 2, 1)
        if c.dust_life_max > 2:  # drawn only when enabled: other configurations keep their random streams
            life = np.where(life == 2, rng.integers(2, c.dust_life_max + 1, n), 1)
        values = np.round(rng.uniform(c.opacity[0], c.opacity[1], n) * rng.uniform(0.6, 1.0, n) * 255)
        for i in range(n):
            d = self._dust["add" if bright[i] else "multiply" if multiply[i] else "subtract"]
            d.polygons.append(polygons[i])
            d.values.append(int(values[i]))
            d.life.append(int(life[i]))

    def _draw_dust(self, layers: dict[str, np.ndarray]) -> None:
        for mode, d in self._dust.items():
            if not d.polygons:
                continue
            canvas = np.zeros(self.size, np.uint8)
            tx.draw_polygons(canvas, d.polygons, d.values)
            np.maximum(layers[mode], canvas.astype(np.float32) * np.float32(1 / 255), out=layers[mode])
            keep = [i for i, k in enumerate(d.life) if k > 1]
            self._dust[mode] = _Dust([d.polygons[i] for i in keep], [d.values[i] for i in keep],
                                     [d.life[i] - 1 for i in keep])

    def _make_spot(self, kind: str) -> _Spot:
        rng, c, s = self.rng, self.cfg.contaminants, self.template.scale
        h, w = self.size
        life, wiggle = 1, 0.0
        if self._textures and rng.random() < c.real_texture_prob:
            tex = self._textures[int(rng.integers(len(self._textures)))]
            patch, bright = tx.real_texture(tex, rng, min(h, w)), rng.random() < 0.5
        elif kind == "scratch":
            draw = tx.straight_scratch if rng.random() < 0.5 else tx.curved_scratch
            patch = draw(rng, uniform(rng, c.scratch_length) * h, rng.uniform(0.5, 1.4) * s)
            patch, bright = tx.augment(patch, rng, max_angle=15.0), rng.random() < 0.5
        elif kind == "hair":
            patch = tx.hair(rng, uniform(rng, c.hair_length) * s, rng.uniform(0.7, 1.5) * s)
            patch, bright = tx.augment(patch, rng), rng.random() < 0.15
            life, wiggle = integer(rng, c.hair_life), 0.7 * s
        elif kind == "blotch":
            patch = tx.augment(tx.blotch(rng, uniform(rng, c.blotch_size) * s), rng, crop=False)
            bright = False
        elif kind == "crack":
            patch = tx.crack(rng, uniform(rng, c.crack_size) * s, rng.uniform(0.5, 1.0) * s)
            patch, bright = tx.augment(patch, rng), rng.random() < 0.5
        else:
            patch = tx.emulsion_damage(rng, uniform(rng, c.emulsion_size) * s)
            patch, bright = tx.augment(patch, rng, crop=False), rng.random() < 0.8
        mode = "add" if bright else ("stain" if kind == "blotch" else "multiply"
                                      if rng.random() < c.multiply_prob else "subtract")
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        if kind == "hair" and rng.random() < 0.5:  # caught at the gate's edge
            cx = int(rng.integers(0, max(w // 10, 1)))
            cx = cx if rng.random() < 0.5 else w - 1 - cx
        return _Spot(patch, cy, cx, mode, uniform(rng, c.opacity), life, wiggle)

    def _draw_spots(self, layers: dict[str, np.ndarray]) -> None:
        for spot in self._spots:
            dy, dx = (np.round(self.rng.normal(0.0, spot.wiggle, 2)).astype(int) if spot.wiggle else (0, 0))
            tx.paste_max(layers[spot.mode], spot.patch, spot.cy + int(dy), spot.cx + int(dx), spot.opacity)
            spot.life -= 1
        self._spots = [spot for spot in self._spots if spot.life > 0]

    def _update_lines(self) -> tuple[LineScratch, ...]:
        """Move line scratches along their drift, retire old or off-frame ones, maybe start a new one."""
        w, s = self.size[1], self.template.scale
        for ln in self._lines:
            if ln.age > 0:
                ln.x += ln.spec.drift * s
        self._lines = [ln for ln in self._lines if ln.age < ln.spec.life and 0.0 <= ln.x < w]
        if len(self._lines) < self.template.line_count and self.rng.random() < _LINE_BIRTH_PROB:
            spec = sample_line(self.cfg.contaminants, self.rng, w, self.index)
            self._lines.append(_Line(spec, spec.x))
            return (spec,)
        return ()

    def _draw_lines(self, layers: dict[str, np.ndarray]) -> tuple[tuple[float, bool], ...]:
        c, s, out = self.cfg.contaminants, self.template.scale, []
        for ln in self._lines:
            x = ln.x + float(self.rng.normal(0.0, c.line_jitter * s))
            visible = not ln.spec.intermittent or bool(self.rng.random() < c.line_visible_prob)
            if visible:
                strength = ln.spec.intensity * ln.spec.opacity
                tx.line_scratch(layers[ln.spec.mode], x, ln.spec.width * s, strength, self.rng,
                                ln.spec.extent)
            out.append((x, visible))
            ln.age += 1
        return tuple(out)


def degrade_clip(frames: np.ndarray | Sequence[np.ndarray], rng: np.random.Generator,
                 config: DegradeConfig | None = None, *, textures: Sequence[np.ndarray] = ()) -> Degraded:
    """Degrade a clip in memory — the training API (no file I/O).

    Convention:
        ``frames``: (T, H, W, C), C = 1 or 3 (RGB), uint8, uint16 or float32 in [0, 1].
        returns ``Degraded``: frames (T, H, W, C) same dtype, masks (T, H, W) bool, params (JSON-able dict).

    Example:
        >>> clip = np.full((3, 32, 32, 1), 0.5, np.float32)
        >>> d = degrade_clip(clip, np.random.default_rng(1))
        >>> d.frames.shape, d.frames.dtype, d.masks.shape, len(d.params["frames"])
        ((3, 32, 32, 1), dtype('float32'), (3, 32, 32), 3)
    """
    clip = frames if isinstance(frames, np.ndarray) else np.stack(list(frames))
    if clip.ndim != 4 or clip.shape[0] == 0:
        raise InputError(f"degrade_clip expects frames of shape (T, H, W, C) with T >= 1, got {clip.shape}.")
    deg = FilmDegrader(config or DegradeConfig(), rng, clip.shape[1:3], textures=textures)
    out = np.empty_like(clip)
    masks = np.empty(clip.shape[:3], bool)
    per_frame = []
    for i, frame in enumerate(clip):
        out[i], masks[i], p = deg.step(frame)
        per_frame.append(asdict(p))
    return Degraded(out, masks, {"template": asdict(deg.template), "frames": per_frame})
