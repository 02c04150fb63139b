"""Configuration of the synthetic old-film degradation model, and its named presets.

Units:
    * sizes, widths, shifts and blur sigmas are pixels at a frame whose short side is
      ``DegradeConfig.reference_size`` (256, RTN's training crop); they scale linearly with the short side;
    * intensities, opacities, grain and flicker amplitudes are on the [0, 1] intensity scale;
    * noise sigma is on the 0–255 scale (as the paper states it).

A ``Range`` ``(lo, hi)`` is drawn uniformly once per video (the template); per frame the template value is
perturbed slightly and clipped back into the range. A ``*_prob`` is the probability that a video has that
defect at all (the paper injects each degradation at random). Rates are Poisson means per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace

from oldfilm.errors import UsageError

Range = tuple[float, float]


@dataclass(frozen=True)
class ContaminantConfig:
    """Dust, scratches, hairs, stains, cracks and emulsion damage blended onto the frame (paper §3.3+)."""

    prob: float = 0.9
    """Probability that a video carries transient contaminants (dust, short scratches, hairs, ...)."""
    opacity: Range = (0.6, 1.0)
    """Blending opacity of each contaminant (the paper's [0.6, 1.0])."""
    multiply_prob: float = 0.4
    """Probability that a dark contaminant is blended by multiplication rather than by subtraction."""
    dust_rate: Range = (1.0, 25.0)
    """New dust specks per frame (Poisson mean), drawn per video."""
    dust_size: Range = (0.6, 3.5)
    """Radius of a dust speck, pixels."""
    dust_bright_prob: float = 0.3
    """Probability that a speck is bright (dirt on the negative) rather than dark (dirt on the print)."""
    dust_persist_prob: float = 0.25
    """Probability that a speck stays for a second frame (dust lives one or two frames)."""
    dust_life_max: int = 2
    """Frames a staying speck lives at most (drawn uniformly from 2 … this): dirt on a print that lingers
    2–3 frames."""
    scratch_rate: Range = (0.0, 0.8)
    """New short scratches (straight or curved, one frame long) per frame."""
    scratch_length: Range = (0.08, 0.6)
    """Length of a short scratch as a fraction of the frame height."""
    hair_rate: Range = (0.0, 0.2)
    """New hairs per frame."""
    hair_length: Range = (15.0, 80.0)
    """Length of a hair, pixels."""
    hair_life: tuple[int, int] = (1, 8)
    """Frames a hair stays (a hair caught in the gate wiggles there for a while)."""
    blotch_rate: Range = (0.0, 0.3)
    """New blotches / stains (soft-edged, often tinted) per frame."""
    blotch_size: Range = (8.0, 45.0)
    """Diameter of a blotch, pixels."""
    crack_rate: Range = (0.0, 0.12)
    """New emulsion cracks (thin branching lines) per frame."""
    crack_size: Range = (20.0, 90.0)
    """Extent of a crack network, pixels."""
    emulsion_rate: Range = (0.0, 0.1)
    """New patches of emulsion damage (ragged, mottled, usually bright) per frame."""
    emulsion_size: Range = (8.0, 50.0)
    """Diameter of an emulsion-damage patch, pixels."""
    real_texture_prob: float = 0.5
    """With user textures (``--textures DIR``): probability that a non-dust contaminant is a real texture."""
    line_prob: float = 0.5
    """Probability that a video has persistent vertical line scratches (RTN had a moving line in 20%)."""
    line_count: tuple[int, int] = (1, 3)
    """Number of line scratches alive at a time in such a video."""
    line_width: Range = (0.6, 2.5)
    """Width of a line scratch, pixels."""
    line_intensity: Range = (0.15, 0.6)
    """Peak intensity of a line scratch (before opacity)."""
    line_drift: Range = (0.0, 0.3)
    """Speed at which a line scratch drifts sideways, pixels per frame."""
    line_jitter: float = 0.25
    """Per-frame random sideways jitter of a line scratch (std, pixels)."""
    line_bright_prob: float = 0.5
    """Probability that a line scratch is bright (through the emulsion) rather than dark."""
    line_intermittent_prob: float = 0.3
    """Probability that a line scratch is intermittent (absent in some frames)."""
    line_visible_prob: float = 0.6
    """Per-frame visibility of an intermittent line scratch."""
    line_life: tuple[int, int] = (24, 400)
    """Frames a line scratch lasts before another may replace it (long streams)."""


@dataclass(frozen=True)
class QualityConfig:
    """Photometric quality degradation, the paper's ranges (§3.3)."""

    noise_prob: float = 0.6
    """Probability that a video is noisy."""
    noise_sigma: Range = (5.0, 50.0)
    """Noise standard deviation on the 0–255 scale (the paper's [5, 50])."""
    speckle_prob: float = 0.3
    """Probability that the noise is speckle (multiplicative) rather than additive Gaussian."""
    noise_gray_prob: float = 0.4
    """Probability that colour noise is one field for all channels (luma noise, as in Real-ESRGAN)."""
    blur_prob: float = 0.6
    """Probability that a video is blurred."""
    blur_sigma: Range = (0.3, 2.0)
    """Gaussian blur sigma, pixels (each axis for anisotropic kernels)."""
    blur_aniso_prob: float = 0.5
    """Probability that the blur kernel is anisotropic (two sigmas and a rotation)."""
    resample_prob: float = 0.4
    """Probability of a down- then up-sampling round trip."""
    resample_scale: Range = (0.35, 0.9)
    """Downsampling factor of that round trip."""
    jpeg_prob: float = 0.6
    """Probability of JPEG compression."""
    jpeg_quality: tuple[int, int] = (40, 100)
    """JPEG quality (the paper's [40, 100])."""
    jitter_prob: float = 0.5
    """Probability of a colour jitter."""
    brightness: Range = (0.8, 1.2)
    """Brightness factor of the colour jitter (the paper's [0.8, 1.2])."""
    contrast: Range = (0.9, 1.0)
    """Contrast factor of the colour jitter (the paper's [0.9, 1.0])."""
    frame_perturbation: float = 0.04
    """Per-frame perturbation of a template value, std as a fraction of its range's width."""


@dataclass(frozen=True)
class FilmConfig:
    """Defects past the paper that real films have: flicker, grain, weave, vignetting, fading."""

    flicker_prob: float = 0.6
    """Probability of frame flicker (per-frame brightness/contrast wobble)."""
    flicker: Range = (0.01, 0.07)
    """Flicker amplitude: std of the per-frame gain (and half of it for the offset)."""
    flicker_correlation: float = 0.3
    """Frame-to-frame correlation of the flicker (0 = independent per frame)."""
    grain_prob: float = 0.7
    """Probability of film grain."""
    grain_strength: Range = (0.01, 0.06)
    """Grain std in mid-grey (signal-dependent: weaker in shadows and highlights)."""
    grain_size: Range = (0.5, 1.4)
    """Grain size (blur sigma of the grain field), pixels."""
    weave_prob: float = 0.5
    """Probability of gate weave (small per-frame translation and rotation)."""
    weave_shift: Range = (0.1, 1.2)
    """Gate weave translation std, pixels."""
    weave_rotation: Range = (0.0, 0.12)
    """Gate weave rotation std, degrees."""
    vignette_prob: float = 0.4
    """Probability of vignetting (darker corners)."""
    vignette: Range = (0.1, 0.45)
    """Relative darkening at the corners."""
    fade_prob: float = 0.35
    """Probability that colour film has faded (lower saturation, lifted blacks, a red or yellow cast)."""
    fade: Range = (0.15, 0.7)
    """Amount of fading (0 = none, 1 = fully faded)."""
    bw_prob: float = 0.35
    """Probability of conversion to black-and-white (the channel count is kept)."""
    bw_tint: Range = (0.0, 0.5)
    """Sepia tint of a black-and-white conversion (0 = neutral grey)."""
    local_flicker_prob: float = 0.0
    """Probability of flicker that varies across the frame and breathes over time (a smooth gain field)."""
    local_flicker: Range = (0.02, 0.08)
    """Std of that gain field."""
    local_flicker_grid: int = 4
    """Control points per side of the gain field (upsampled bicubically): its spatial smoothness."""
    local_flicker_correlation: float = 0.85
    """Frame-to-frame correlation of the gain field (high: it breathes rather than jumps)."""


@dataclass(frozen=True)
class DegradeConfig:
    """The whole degradation model. ``DegradeConfig()`` is the training distribution, ``PRESETS["paper"]``."""

    contaminants: ContaminantConfig = field(default_factory=ContaminantConfig)
    """Contaminant blending: dust, scratches, hairs, blotches, cracks, emulsion damage, line scratches."""
    quality: QualityConfig = field(default_factory=QualityConfig)
    """Quality degradation: noise, blur, resampling, JPEG, colour jitter."""
    film: FilmConfig = field(default_factory=FilmConfig)
    """Film look: flicker, grain, gate weave, vignetting, fading, black-and-white."""
    reference_size: int = 256
    """Short side (pixels) at which the configured pixel sizes apply; they scale linearly with it."""
    mask_threshold: float = 1.0 / 255.0
    """A pixel belongs to the contaminant mask when contaminants change it by more than this (0–1 scale)."""

    def __post_init__(self) -> None:
        _validate(self)


def _validate(cfg: object, prefix: str = "") -> None:
    """Raise UsageError for a reversed range or a probability outside [0, 1] anywhere in ``cfg``."""
    for f in fields(cfg):  # type: ignore[arg-type]
        v = getattr(cfg, f.name)
        name = prefix + f.name
        if is_dataclass(v):
            _validate(v, name + ".")
        elif isinstance(v, tuple):
            if len(v) != 2 or v[0] > v[1] or v[0] < 0:
                raise UsageError(f"degradation setting {name} must be a range (lo, hi) with 0 <= lo <= hi, "
                                 f"got {v}.")
        elif f.name.endswith("_prob") or f.name == "prob":
            if not 0.0 <= v <= 1.0:
                raise UsageError(f"degradation setting {name} is a probability, so in [0, 1]; got {v}.")
    if isinstance(cfg, DegradeConfig) and cfg.reference_size < 16:
        raise UsageError(f"reference_size must be at least 16 pixels, got {cfg.reference_size}.")


_LIGHT = DegradeConfig(
    contaminants=ContaminantConfig(
        prob=1.0, dust_rate=(0.5, 6.0), dust_size=(0.5, 2.0), scratch_rate=(0.0, 0.2),
        hair_rate=(0.0, 0.05), blotch_rate=(0.0, 0.05), crack_rate=(0.0, 0.0), emulsion_rate=(0.0, 0.02),
        line_prob=0.3, line_count=(1, 1), line_intensity=(0.08, 0.25), opacity=(0.6, 0.8),
    ),
    quality=QualityConfig(
        noise_prob=0.4, noise_sigma=(3.0, 10.0), noise_gray_prob=0.8, blur_prob=0.5,
        blur_sigma=(0.3, 1.0), resample_prob=0.2,
        resample_scale=(0.6, 0.9), jpeg_prob=0.3, jpeg_quality=(75, 100), jitter_prob=0.3,
        brightness=(0.95, 1.05), contrast=(0.95, 1.0),
    ),
    film=FilmConfig(
        flicker_prob=0.5, flicker=(0.005, 0.02), grain_prob=0.8, grain_strength=(0.01, 0.03),
        weave_prob=0.4, weave_shift=(0.1, 0.4), weave_rotation=(0.0, 0.03), vignette_prob=0.3,
        vignette=(0.05, 0.2), fade_prob=0.3, fade=(0.1, 0.35), bw_prob=0.3,
    ),
)

_MEDIUM = DegradeConfig(
    contaminants=ContaminantConfig(
        prob=1.0, dust_rate=(4.0, 18.0), scratch_rate=(0.1, 0.6), hair_rate=(0.02, 0.15),
        blotch_rate=(0.02, 0.2), crack_rate=(0.0, 0.08), emulsion_rate=(0.0, 0.06),
        line_prob=0.7, line_count=(1, 2), line_intensity=(0.12, 0.45),
    ),
    quality=QualityConfig(
        noise_prob=0.5, noise_sigma=(5.0, 20.0), noise_gray_prob=0.8, blur_prob=0.7,
        blur_sigma=(0.4, 1.5), resample_prob=0.4,
        resample_scale=(0.45, 0.85), jpeg_prob=0.5, jpeg_quality=(60, 95),
    ),
    film=FilmConfig(
        flicker_prob=0.8, flicker=(0.015, 0.05), grain_prob=0.9, grain_strength=(0.02, 0.05),
        weave_prob=0.6, weave_shift=(0.2, 0.8), vignette_prob=0.6, vignette=(0.15, 0.35),
        fade_prob=0.5, fade=(0.25, 0.6), bw_prob=0.4, bw_tint=(0.0, 0.4),
    ),
)

_HEAVY = DegradeConfig(
    contaminants=ContaminantConfig(
        prob=1.0, dust_rate=(15.0, 40.0), dust_size=(0.8, 4.5), scratch_rate=(0.5, 1.5),
        hair_rate=(0.1, 0.3), hair_life=(2, 12), blotch_rate=(0.2, 0.6), crack_rate=(0.05, 0.25),
        emulsion_rate=(0.05, 0.2), line_prob=0.95, line_count=(2, 4), line_intensity=(0.25, 0.7),
        line_drift=(0.05, 0.3),
    ),
    quality=QualityConfig(
        noise_prob=0.8, noise_sigma=(10.0, 30.0), noise_gray_prob=0.8, blur_prob=0.9,
        blur_sigma=(0.8, 2.0), resample_prob=0.6,
        resample_scale=(0.35, 0.6), jpeg_prob=0.7, jpeg_quality=(40, 80), jitter_prob=0.7,
    ),
    film=FilmConfig(
        flicker_prob=1.0, flicker=(0.04, 0.08), grain_prob=1.0, grain_strength=(0.03, 0.07),
        grain_size=(0.8, 1.5), weave_prob=0.9, weave_shift=(0.6, 1.5), weave_rotation=(0.05, 0.15),
        vignette_prob=0.8, vignette=(0.3, 0.55), fade_prob=0.7, fade=(0.5, 0.85), bw_prob=0.5,
    ),
)

def _transfer(base: DegradeConfig, local: Range, grain_size: Range) -> DegradeConfig:
    """``base`` with what digitised transfers of real prints add: flicker that varies across the frame and
    breathes, dirt that lingers up to 3 frames, clumped grain, softer scans and compressed copies."""
    return replace(
        base,
        contaminants=replace(base.contaminants, dust_persist_prob=0.35, dust_life_max=3),
        quality=replace(base.quality, resample_prob=min(1.0, base.quality.resample_prob + 0.2),
                        jpeg_prob=min(1.0, base.quality.jpeg_prob + 0.2)),
        film=replace(base.film, local_flicker_prob=0.6, local_flicker=local, grain_size=grain_size),
    )


PRESETS: dict[str, DegradeConfig] = {
    "light": _LIGHT,
    "medium": _MEDIUM,
    "heavy": _HEAVY,
    "paper": DegradeConfig(),
    "transfer-light": _transfer(_LIGHT, (0.005, 0.03), (0.5, 2.0)),
    "transfer": _transfer(_MEDIUM, (0.02, 0.07), (0.6, 2.5)),
}
"""Named configurations. ``light``/``medium``/``heavy`` are looks for users; ``paper`` is the training
distribution: the paper's ranges for its degradations plus the film defects it lacked; ``transfer-light``
and ``transfer`` add to light and medium what digitised transfers of real prints show (issue 14's training
mix; the benchmark's stress suite is a separate family the trainer never sees)."""


def get_preset(name: str) -> DegradeConfig:
    """The preset called ``name``; UsageError naming the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown degradation preset {name!r}; choose from {', '.join(PRESETS)}.") from None


__all__ = ["Range", "ContaminantConfig", "QualityConfig", "FilmConfig", "DegradeConfig", "PRESETS",
           "get_preset"]
