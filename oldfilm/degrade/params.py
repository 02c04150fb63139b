"""Sampled parameters: the per-video template (``FilmParams``) and what one frame used (``FrameParams``).

"Sample, then apply": ``sample_template(cfg, rng, size)`` draws every per-video choice once (which defects,
how strong); the degrader then perturbs it slightly per frame (``perturb``). Values of configured quantities
are kept in config units (pixels at ``reference_size``), so each stays inside its configured range; ``scale``
converts them to frame pixels. ``None`` means the defect is off for this video. All fields are JSON-able
(``dataclasses.asdict``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from oldfilm.degrade.presets import ContaminantConfig, DegradeConfig, Range


@dataclass(frozen=True)
class LineScratch:
    """A persistent vertical line scratch (a projector gate scratch along the film)."""

    x: float
    """Column (frame pixels) where it is when born."""
    drift: float
    """Sideways drift, config pixels per frame (signed; ``|drift|`` in ``line_drift``)."""
    width: float
    """Width, config pixels."""
    intensity: float
    """Peak strength before opacity."""
    opacity: float
    """Blending opacity."""
    mode: str
    """Blend mode: "add" (bright) or "subtract"/"multiply" (dark)."""
    intermittent: bool
    """Absent in some frames."""
    life: int
    """Frames it lasts."""
    extent: tuple[float, float]
    """Rows covered, as fractions of the height (top, bottom)."""
    born: int
    """Index of the first frame it appears in."""


@dataclass(frozen=True)
class FilmParams:
    """Per-video template of the degradation. Quality values are pre-perturbation."""

    height: int
    """Frame height, pixels."""
    width: int
    """Frame width, pixels."""
    scale: float
    """Frame short side / ``reference_size``: config pixels → frame pixels."""
    noise: str | None
    """"gaussian", "speckle" or None."""
    noise_sigma: float | None
    """Noise std, 0–255 scale."""
    noise_gray: bool
    """One noise field shared by the channels (luma noise) rather than one per channel."""
    blur_sigma: tuple[float, float] | None
    """Blur sigmas (x, y) in config pixels; equal when isotropic."""
    blur_angle: float
    """Rotation of an anisotropic kernel, radians."""
    resample_scale: float | None
    """Down-up sampling factor."""
    resample_interp: tuple[str, str]
    """Interpolation names for (down, up)."""
    jpeg_quality: int | None
    """JPEG quality."""
    brightness: float | None
    """Colour-jitter brightness factor."""
    contrast: float | None
    """Colour-jitter contrast factor."""
    flicker: float | None
    """Flicker amplitude (std of the per-frame gain)."""
    grain_strength: float | None
    """Grain std in mid-grey."""
    grain_size: float | None
    """Grain size, config pixels."""
    weave_shift: float | None
    """Gate-weave translation std, config pixels."""
    weave_rotation: float | None
    """Gate-weave rotation std, degrees."""
    vignette: float | None
    """Corner darkening."""
    fade: float | None
    """Colour fading amount."""
    fade_cast: tuple[float, float, float]
    """RGB gains of the fully faded cast (reddish or yellowish)."""
    monochrome: bool
    """Converted to black-and-white."""
    bw_tint: float | None
    """Sepia tint of the black-and-white conversion."""
    dust_rate: float
    """New dust specks per frame (0 when contaminants are off)."""
    scratch_rate: float
    """New short scratches per frame."""
    hair_rate: float
    """New hairs per frame."""
    blotch_rate: float
    """New blotches per frame."""
    crack_rate: float
    """New cracks per frame."""
    emulsion_rate: float
    """New emulsion-damage patches per frame."""
    stain_tint: tuple[float, float, float]
    """RGB absorption weights of multiplied stains (1, 1, 1 = neutral grey; low red = yellow-brown)."""
    line_count: int
    """Line scratches kept alive (0 = none)."""
    lines: tuple[LineScratch, ...]
    """The line scratches present from the first frame."""
    local_flicker: float | None = None
    """Std of the smooth, slowly breathing gain field across the frame (flicker that varies over the
    picture: uneven exposure of the print, a wandering lamp), or None."""


@dataclass(frozen=True)
class FrameParams:
    """What one frame actually got (the template perturbed, plus that frame's random events)."""

    index: int
    """Frame index in the stream."""
    noise_sigma: float | None
    """Noise std this frame, 0–255 scale."""
    blur_sigma: tuple[float, float] | None
    """Blur sigmas (x, y) this frame, config pixels."""
    jpeg_quality: int | None
    """JPEG quality this frame."""
    brightness: float | None
    """Colour-jitter brightness this frame."""
    contrast: float | None
    """Colour-jitter contrast this frame."""
    grain_strength: float | None
    """Grain std this frame."""
    flicker_gain: float
    """Exposure gain of this frame (1 = none)."""
    flicker_offset: float
    """Exposure offset of this frame (0 = none)."""
    weave: tuple[float, float, float]
    """Gate weave (dx, dy in frame pixels, rotation in degrees)."""
    spawned: dict[str, int]
    """New contaminants per kind this frame."""
    lines: tuple[tuple[float, bool], ...]
    """(column, visible) of each live line scratch."""
    new_lines: tuple[LineScratch, ...]
    """Line scratches born this frame."""


def uniform(rng: np.random.Generator, r: Range) -> float:
    """One draw from the closed range ``r``."""
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def integer(rng: np.random.Generator, r: tuple[int, int]) -> int:
    """One integer draw from the closed range ``r``."""
    return int(rng.integers(int(r[0]), int(r[1]) + 1))


def perturb(value: float | None, r: Range, rel: float, rng: np.random.Generator) -> float | None:
    """``value`` + Gaussian of std ``rel`` × range width, clipped back into ``r`` (None stays None)."""
    if value is None:
        return None
    return float(np.clip(value + rng.normal(0.0, rel * (r[1] - r[0]) + 1e-12), r[0], r[1]))


def sample_line(c: ContaminantConfig, rng: np.random.Generator, width: int, born: int) -> LineScratch:
    """A new persistent line scratch somewhere across a frame ``width`` pixels wide."""
    bright = rng.random() < c.line_bright_prob
    mode = "add" if bright else ("multiply" if rng.random() < c.multiply_prob else "subtract")
    if rng.random() < 0.75:
        extent = (0.0, 1.0)
    else:
        top = float(rng.uniform(0.0, 0.5))
        extent = (top, float(rng.uniform(top + 0.3, 1.0)))
    return LineScratch(
        x=float(rng.uniform(0.03, 0.97) * width),
        drift=uniform(rng, c.line_drift) * float(rng.choice([-1, 1])),
        width=uniform(rng, c.line_width), intensity=uniform(rng, c.line_intensity),
        opacity=uniform(rng, c.opacity), mode=mode,
        intermittent=bool(rng.random() < c.line_intermittent_prob),
        life=integer(rng, c.line_life), extent=extent, born=born,
    )


_CASTS = ((1.12, 0.86, 0.94), (1.08, 1.0, 0.78), (1.05, 0.92, 1.02))
"""Typical casts of faded colour stock: red-magenta (cyan dye lost), yellow (blue dye lost), pink."""


def sample_template(cfg: DegradeConfig, rng: np.random.Generator, size: tuple[int, int]) -> FilmParams:
    """Draw the per-video degradation template for frames of ``size`` (H, W)."""
    q, f, c = cfg.quality, cfg.film, cfg.contaminants
    h, w = size
    probs = (q.noise_prob, q.blur_prob, q.resample_prob, q.jpeg_prob, q.jitter_prob, f.flicker_prob,
             f.grain_prob, f.weave_prob, f.vignette_prob, f.fade_prob, f.bw_prob, c.prob, c.line_prob)
    on = [bool(rng.random() < p) for p in probs]
    noise, blur, resample, jpg, jitter, flick, grain, weave, vign, fade, bw, dirt, lines = on
    sx = sy = 0.0
    if blur:
        sx = uniform(rng, q.blur_sigma)
        sy = uniform(rng, q.blur_sigma) if rng.random() < q.blur_aniso_prob else sx
    interp = (str(rng.choice(["area", "linear", "cubic", "nearest"], p=[0.4, 0.3, 0.2, 0.1])),
              str(rng.choice(["linear", "cubic", "nearest"], p=[0.5, 0.4, 0.1])))
    base = np.asarray(_CASTS[int(rng.integers(len(_CASTS)))])
    cast = tuple(float(v) for v in base + rng.normal(0.0, 0.02, 3))
    tint = (1.0, 1.0, 1.0) if bw else (float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.6, 0.85)),
                                       float(rng.uniform(0.9, 1.0)))
    line_count = integer(rng, c.line_count) if lines else 0
    params = FilmParams(
        height=h, width=w, scale=min(h, w) / cfg.reference_size,
        noise=("speckle" if rng.random() < q.speckle_prob else "gaussian") if noise else None,
        noise_sigma=uniform(rng, q.noise_sigma) if noise else None,
        noise_gray=bool(rng.random() < q.noise_gray_prob),
        blur_sigma=(sx, sy) if blur else None, blur_angle=float(rng.uniform(0, np.pi)),
        resample_scale=uniform(rng, q.resample_scale) if resample else None, resample_interp=interp,
        jpeg_quality=integer(rng, q.jpeg_quality) if jpg else None,
        brightness=uniform(rng, q.brightness) if jitter else None,
        contrast=uniform(rng, q.contrast) if jitter else None,
        flicker=uniform(rng, f.flicker) if flick else None,
        grain_strength=uniform(rng, f.grain_strength) if grain else None,
        grain_size=uniform(rng, f.grain_size) if grain else None,
        weave_shift=uniform(rng, f.weave_shift) if weave else None,
        weave_rotation=uniform(rng, f.weave_rotation) if weave else None,
        vignette=uniform(rng, f.vignette) if vign else None,
        fade=uniform(rng, f.fade) if fade and not bw else None, fade_cast=cast,  # type: ignore[arg-type]
        monochrome=bw, bw_tint=uniform(rng, f.bw_tint) if bw else None,
        dust_rate=uniform(rng, c.dust_rate) if dirt else 0.0,
        scratch_rate=uniform(rng, c.scratch_rate) if dirt else 0.0,
        hair_rate=uniform(rng, c.hair_rate) if dirt else 0.0,
        blotch_rate=uniform(rng, c.blotch_rate) if dirt else 0.0,
        crack_rate=uniform(rng, c.crack_rate) if dirt else 0.0,
        emulsion_rate=uniform(rng, c.emulsion_rate) if dirt else 0.0,
        stain_tint=tint, line_count=line_count,
        lines=tuple(sample_line(c, rng, w, 0) for _ in range(line_count)),
    )
    # drawn last and only when enabled, so configurations without it keep their random streams exactly
    if f.local_flicker_prob > 0 and rng.random() < f.local_flicker_prob:
        params = replace(params, local_flicker=uniform(rng, f.local_flicker))
    return params
