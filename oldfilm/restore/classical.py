"""The classical restorer (``--method classical``), and the baseline learned models must beat.

Per frame, in streaming stages: persistent vertical line scratches are removed (``scratches.py``); a
deflicker maps each frame's luma mean/std onto their centred running average; then, after RemoveDirt,
the neighbours within ``radius`` (a 5-frame window) are aligned to the frame with DIS optical flow and a
pixel is replaced by their median only where it is an *outlier* — brighter (or darker) than every aligned
neighbour by more than alignment error can explain, while they agree among themselves — so detail stays
wherever nothing is wrong; last a light motion-compensated temporal denoise (neighbours weighted by their
similarity, a bilateral filter in time). Scene cuts bound every window. Memory: a few frames.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma, to_float
from oldfilm.errors import UsageError
from oldfilm.flow import DISFlow, warp_image
from oldfilm.restore.border import frame_border, keep_border
from oldfilm.restore.deflicker import match_local_brightness
from oldfilm.restore.dirt import one_sided_dirt
from oldfilm.restore.noise import gradient, noise_level, temporal_noise_level
from oldfilm.restore.scenes import SceneDetector
from oldfilm.restore.scratches import LineScratchRemover
from oldfilm.restore.stabilize import global_shift, shift_image, smooth_offset


@dataclass(frozen=True)
class ClassicalConfig:
    """Settings of the classical restorer.

    Attributes:
        radius: neighbours on each side (2 → a 5-frame window).
        flow_preset: OpenCV DIS preset ("ultrafast", "fast", "medium").
        flow_max_side: flow is estimated with the longer side scaled to at most this many pixels.
        outlier_threshold: a pixel is dirt when it differs from every aligned neighbour by more than this
            (luma, 0–1 scale) in the same direction.
        agree_threshold: ... and the aligned neighbours' spread is below this (else motion is unreliable).
        mask_dilate: grow the dirt mask by up to this many pixels into *weak* outliers (hysteresis: pixels
            that differ from every neighbour by ``weak_ratio`` × the threshold) — covers the soft rims of
            specks without touching clean detail next to them.
        weak_ratio: the weak-outlier threshold as a fraction of the strong one.
        misalignment: expected alignment error in pixels; the outlier threshold grows by this × the local
            gradient, so fine detail that flow cannot align exactly is not mistaken for dirt.
        denoise_strength: weight of each agreeing aligned neighbour in the temporal average (0 disables).
        denoise_sigma: similarity scale (luma, 0–1) for those weights; raised to ``noise_factor`` × the
            frame's estimated noise level when that is higher (heavier grain → stronger averaging).
        noise_factor: multiple of the estimated noise standard deviation used as the similarity scale.
        spatial_denoise: then a spatial non-local-means pass on luma (OpenCV ``fastNlMeansDenoising``, 5×5
            patches, 11×11 search) with filter strength h = this × the noise level left after the temporal
            average (0 disables): grain and noise that do not average out over five frames.
        line_scratches: remove persistent vertical line scratches first (``oldfilm.restore.scratches``),
            which a temporal median cannot: they sit at the same place in the neighbours too.
        deflicker: match each frame's luma mean/std to their running average over the frames within
            ``deflicker_radius`` (centred, so real fades and exposure changes are followed without lag).
        deflicker_radius: half-width of that window, frames (it also sets the restorer's look-ahead).
        max_gain: bound on the deflicker gain (and its inverse).
        noise_estimator: "temporal" measures the noise from the differences to the aligned neighbours
            (``noise.temporal_noise_level``: sees clumped, spatially correlated grain at full strength);
            "spatial" uses Immerkær's white-noise estimator on the frame alone (blind to correlated grain).
        similarity: how a neighbour's local similarity is measured for its weight: "abs" blurs the absolute
            difference (noise counts as dissimilarity), "signed" blurs the signed difference (noise averages
            out, misalignment and motion stay), so well-aligned neighbours get their full weight; "patch"
            compares the 5×5 mean squared difference with what the noise explains (temporal non-local means).
        recursive: weight of the previous *restored* frame, aligned, in the temporal average (a recursive
            filter: the output is pulled towards the last output wherever they agree, which keeps grain
            residue steady from frame to frame); 0 disables.
        recursive_factor: similarity scale of that weight, × the noise level left after the average.
        local_deflicker: also even out flicker that varies across the frame (``oldfilm.restore.deflicker``): the
            frame and its aligned neighbours are each brought by a smooth gain surface onto their mean
            brightness distribution before the repair and the temporal average.
        stabilize: remove gate weave (``oldfilm.restore.stabilize``): frames are moved onto their scene's
            smoothed path of global translations. Off by default: it moves the picture against its frame
            edges (a real film's frame-line moves with it), and it takes out a handheld camera's shake as well
            (on the office training window, 1.3 px rms of real motion, up to ``stabilize_max``).
        stabilize_sigma: the path's smoothing, frames (Gaussian sigma; look-ahead 2.5 × this).
        stabilize_max: the largest correction, pixels (gate weave is small; a larger jump is camera motion
            or a failed measurement).
        sharpen: unsharp-mask amount applied last (0 disables): scans of film are soft (the telecine's optics,
            the print's generation loss) and the temporal average softens a little more; once the grain is
            gone, detail can be given back without raising it again. 0.3 is the best amount on the tuning
            windows of the training clips (``benchmarks/stress_tune.py --suite presets-train`` and
            ``stress-train``: mean PSNR-t 25.82 / 24.16 against 25.34 / 24.26 at the former 1.0, which had been
            picked on the 1906 film's NIQE/BRISQUE — scores that rank damaged frames above clean ones,
            ``benchmarks/noref_vs_clean.py``); larger amounts cost up to 5 dB on some windows (one office
            window at light damage: 37.7 dB PSNR-t unsharpened, 32.6 at 1.0).
        sharpen_sigma: Gaussian sigma of the unsharp mask, pixels.
        keep_grain: blend this fraction of the frame's own grain back after the temporal average (the frame
            with its dirt repaired, before denoising): a filmic texture instead of a waxy one; 0 keeps none.
        keep_border: leave the frame's own dark border (a frame-line, the gate's edge) as it is in the input
            (``oldfilm.restore.border``).
        persistent_dirt: also repair specks that stay two or three frames (``oldfilm.restore.dirt``: outliers
            against every neighbour on one side in time that are small spots in the frame).
        dirt_spot: the largest speck diameter, pixels, for that rule.
        spatial_from_residual: the spatial pass's strength follows the noise level *left* by the temporal
            average (the measured level × the averaging's noise reduction) instead of Immerkær's estimate
            on the averaged frame.
        spatial_method: what does that spatial pass: "nlmeans" (OpenCV's non-local means) or the path of a
            learned denoiser's .safetensors file (``oldfilm.models.denoiser``, trained by
            ``oldfilm.train.denoiser``, given the same noise level). None ships: on the benches it was level
            with non-local means at best (docs/model-card.md, session 10).
    """

    radius: int = 2
    flow_preset: str = "fast"
    flow_max_side: int = 640
    outlier_threshold: float = 0.05
    agree_threshold: float = 0.10
    mask_dilate: int = 1
    weak_ratio: float = 0.5
    misalignment: float = 1.0
    denoise_strength: float = 1.0
    denoise_sigma: float = 0.005
    noise_factor: float = 3.0
    spatial_denoise: float = 1.0
    line_scratches: bool = True
    deflicker: bool = True
    deflicker_radius: int = 4
    max_gain: float = 1.4
    noise_estimator: str = "temporal"
    similarity: str = "patch"
    recursive: float = 1.0
    recursive_factor: float = 2.0
    spatial_from_residual: bool = True
    spatial_method: str = "nlmeans"
    local_deflicker: bool = True
    stabilize: bool = False
    stabilize_sigma: float = 2.0
    stabilize_max: float = 2.0
    sharpen: float = 0.3
    sharpen_sigma: float = 1.0
    keep_grain: float = 0.0
    keep_border: bool = True
    persistent_dirt: bool = False
    dirt_spot: int = 9


KEEP_GRAIN: dict[str, float] = {"denoise_strength": 0.0, "spatial_denoise": 0.0}
"""``oldfilm restore --grain keep``: dust, dirt, scratches and flicker repaired, the film's grain left as it is
(no temporal or spatial denoising; the light unsharp mask stays). What an archive often wants: grain is part
of the picture, not damage. On the 1906 film (frames 0–143) it scores NIQE 5.62 / BRISQUE 37.3 against the
input's 5.80 / 40.0 and the default's 6.48 / 41.5, with the flicker index cut from 0.0286 to 0.0043 (the
default: 0.0041); on synthetic damage it gives up the default's denoising (docs/benchmark-stress.md)."""


GUIDE_ADDED: dict[str, object] = {"spatial_method": "nlmeans"}
"""Options added after guides were pinned in networks' configs (``oldfilm.models.presets``), with the value
every pinned guide was made with: a guide that does not name one gets this, whatever its default becomes."""


def guide_config(options: str) -> ClassicalConfig:
    """The ``ClassicalConfig`` of a guided network's guide from its JSON options (``RTNConfig.guide``; empty:
    the defaults); options it does not name that were added later (``GUIDE_ADDED``) keep the value it was made
    with; unknown options raise ``UsageError``."""
    import json

    opts = {**GUIDE_ADDED, **(json.loads(options) if options else {})}
    try:
        return ClassicalConfig(**opts)
    except TypeError as e:
        raise UsageError(f"the network's guide asks for classical options this version lacks: {e}") from None


@dataclass
class _Entry:
    index: int
    scene: int
    image: np.ndarray  # float32 (H, W, C) in [0, 1]
    luma: np.ndarray  # float32 (H, W)
    dtype: np.dtype
    stats: tuple[float, float]  # luma mean and std (for the deflicker)
    pos: tuple[float, float] = (0.0, 0.0)  # position on the scene's gate-weave path (for stabilisation)
    original: np.ndarray | None = None  # the input frame, float (its frame border is copied back)


class ClassicalRestorer:
    """Streaming classical restoration: ``run(frames)`` yields one restored frame per input frame."""

    def __init__(self, config: ClassicalConfig | None = None):
        self.cfg = config or ClassicalConfig()
        if self.cfg.noise_estimator not in ("temporal", "spatial"):
            raise UsageError(f"noise_estimator must be 'temporal' or 'spatial', not {self.cfg.noise_estimator!r}")
        if self.cfg.spatial_method != "nlmeans":
            if not self.cfg.spatial_method.endswith(".safetensors"):
                raise UsageError(f"spatial_method must be 'nlmeans' or a .safetensors file, not "
                                 f"{self.cfg.spatial_method!r}")
            _load_denoiser(self.cfg.spatial_method)  # a missing or wrong file fails here, before any frame
        if self.cfg.similarity not in ("abs", "signed", "patch"):
            raise UsageError(f"similarity must be 'abs', 'signed' or 'patch', not {self.cfg.similarity!r}")
        self.flow = DISFlow(self.cfg.flow_preset, self.cfg.flow_max_side)
        self._prev: tuple[int, int, np.ndarray] | None = None  # (index, scene, restored float image)

    def run(self, frames: Iterable[np.ndarray], cuts: Iterable[bool] | None = None,
            prime: int = 0) -> Iterator[np.ndarray]:
        """Restore a stream of (H, W, C) uint8/uint16/float frames; output dtype and shape match input.

        Three streaming stages: ingest (scene cuts, line scratches, luma statistics) → deflicker (needs
        ``deflicker_radius`` frames of look-ahead) → motion-compensated repair and denoise (``radius``).
        ``cuts``: the scene-cut flag of each frame when already known (a first pass over the whole film, so a
        piece of it restores as it would in the whole); None: detected here. ``prime``: the first frames only
        warm up the state carried along a shot (the line-scratch detector) and yield nothing."""
        self._prev = None
        stream = self._ingest(frames, cuts, prime)
        if self.cfg.stabilize:
            stream = self._stabilize_stage(stream)
        if self.cfg.deflicker:
            stream = self._deflicker_stage(stream)
        yield from _windows(stream, self.cfg.radius, self._restore_one)

    def _ingest(self, frames: Iterable[np.ndarray], cuts: Iterable[bool] | None = None,
                prime: int = 0) -> Iterator[_Entry]:
        detector = SceneDetector()
        known = iter(cuts) if cuts is not None else None
        scratches = LineScratchRemover() if self.cfg.line_scratches else None
        scene = -1
        prev_luma, pos = None, (0.0, 0.0)
        for i, frame in enumerate(frames):
            if frame.ndim == 2:
                frame = frame[..., None]
            if detector(frame) if known is None else next(known):
                scene += 1
                prev_luma, pos = None, (0.0, 0.0)
                if scratches is not None:
                    scratches.reset()
            img = to_float(frame)
            original = img if self.cfg.keep_border else None
            luma = rgb_to_luma(img)
            if self.cfg.stabilize:
                if prev_luma is not None:
                    dx, dy = global_shift(prev_luma, luma)
                    pos = (pos[0] + dx, pos[1] + dy)
                prev_luma = luma
            if scratches is not None:
                img = scratches(img, luma)
                luma = rgb_to_luma(img)
            if i < prime:
                continue
            yield _Entry(i, scene, img, luma, frame.dtype, _luma_stats(luma), pos, original)

    def _stabilize_stage(self, entries: Iterable[_Entry]) -> Iterator[_Entry]:
        """Move each frame onto its scene's smoothed gate-weave path (``stabilize.py``)."""
        sigma = self.cfg.stabilize_sigma

        def one(window: list[_Entry], centre: _Entry) -> _Entry:
            x, y = smooth_offset([(e.index - centre.index, *e.pos) for e in window], sigma)
            limit = self.cfg.stabilize_max
            dx, dy = np.clip(x - centre.pos[0], -limit, limit), np.clip(y - centre.pos[1], -limit, limit)
            img = shift_image(centre.image, float(dx), float(dy))
            luma = rgb_to_luma(img)
            return replace(centre, image=img, luma=luma, stats=_luma_stats(luma))

        return _windows(entries, max(1, int(np.ceil(2.5 * sigma))), one)

    def _deflicker_stage(self, entries: Iterable[_Entry]) -> Iterator[_Entry]:
        """Map each frame's luma mean/std onto their average over the centred window (same scene)."""
        def one(window: list[_Entry], centre: _Entry) -> _Entry:
            target = np.mean([e.stats for e in window if abs(e.index - centre.index) <= self.cfg.deflicker_radius],
                             axis=0)
            m, s = centre.stats
            gain = float(np.clip(target[1] / max(s, 1e-4), 1 / self.cfg.max_gain, self.cfg.max_gain))
            img = np.clip((centre.image - m) * gain + target[0], 0.0, 1.0)
            return replace(centre, image=img, luma=rgb_to_luma(img))

        return _windows(entries, self.cfg.deflicker_radius, one)

    def _restore_one(self, window: list[_Entry], centre: _Entry) -> np.ndarray:
        cfg = self.cfg
        neigh = [e for e in window if e.index != centre.index]
        img = centre.image
        residual = None  # noise level left after the temporal average
        if neigh:
            flows = {e.index: self._flow(centre, e) for e in neigh}
            aligned = np.stack([warp_image(e.image, flows[e.index]).reshape(img.shape) for e in neigh])
            aligned_luma = rgb_to_luma(aligned)
            if cfg.local_deflicker:
                img, aligned = match_local_brightness(img, aligned, cfg.max_gain)
                aligned_luma = rgb_to_luma(aligned)
                centre = replace(centre, image=img, luma=rgb_to_luma(img))
            if cfg.noise_estimator == "temporal":
                sigma = temporal_noise_level(centre.luma, aligned_luma)
            else:
                sigma = noise_level(centre.luma)
            img = self._repair(img, centre.luma, aligned, aligned_luma, [e.index - centre.index for e in neigh],
                               sigma)
            if cfg.noise_estimator == "spatial":  # as before: measured on the repaired frame
                sigma = noise_level(rgb_to_luma(img))
            prev = None
            if self._prev is not None and self._prev[:2] == (centre.index - 1, centre.scene) \
                    and centre.index - 1 in flows:
                prev = warp_image(self._prev[2], flows[centre.index - 1]).reshape(img.shape)
            repaired = img
            img, ratio = self._denoise(img, aligned, aligned_luma, sigma, prev)
            residual = sigma * ratio
            if cfg.keep_grain > 0:  # a fraction of the frame's own grain back (after dirt repair)
                img = img + cfg.keep_grain * (repaired - img)
        if cfg.spatial_denoise > 0:
            img = self._spatial(img, residual if cfg.spatial_from_residual else None)
        self._prev = (centre.index, centre.scene, img)
        if cfg.sharpen > 0:
            img = sharpen(img, cfg.sharpen, cfg.sharpen_sigma)
        if centre.original is not None:
            img = keep_border(img, centre.original, frame_border(rgb_to_luma(centre.original)))
        return from_float(img, centre.dtype)

    def _flow(self, centre: _Entry, other: _Entry) -> np.ndarray:
        """Flow centre → other (each ordered pair is needed once: no cache)."""
        return self.flow(centre.luma, other.luma)

    def _repair(self, img: np.ndarray, luma: np.ndarray, aligned: np.ndarray, aligned_luma: np.ndarray,
                offsets: list[int] | None = None, noise: float = 0.0) -> np.ndarray:
        """Replace impulsive outliers (dust, dirt, blotches, short scratches) by the aligned neighbours' median;
        with ``persistent_dirt``, also specks that stay 2–3 frames (``dirt.one_sided_dirt``)."""
        cfg = self.cfg
        diff = luma[None] - aligned_luma  # (K, H, W)
        low, high = diff.min(0), diff.max(0)  # > 0: brighter than every neighbour; < 0: darker than every one
        spread = aligned_luma.max(0) - aligned_luma.min(0)
        agree = spread < cfg.agree_threshold + np.minimum(np.abs(low), np.abs(high)) * 0.5
        # misalignment by δ pixels changes a pixel by about δ·|∇I|: detail must differ by more to count as dirt
        ref = np.median(aligned_luma, axis=0) if len(aligned_luma) > 2 else aligned_luma.mean(0)
        grad = gradient(ref)
        t_strong = cfg.outlier_threshold + cfg.misalignment * grad
        strong = ((low > t_strong) | (high < -t_strong)) & agree
        side = None
        if cfg.persistent_dirt and offsets is not None:
            side, side_fill = one_sided_dirt(luma, aligned, aligned_luma, offsets, t_strong, cfg.agree_threshold,
                                             cfg.dirt_spot, cfg.weak_ratio, cfg.mask_dilate, noise)
            side &= ~strong
        if not strong.any() and (side is None or not side.any()):
            return img
        mask = strong.astype(np.uint8)
        if cfg.mask_dilate:
            t = t_strong * cfg.weak_ratio
            weak = (((low > t) | (high < -t)) & agree).astype(np.uint8)
            for _ in range(cfg.mask_dilate):  # geodesic dilation: grow only through weak outliers
                mask = cv2.dilate(mask, np.ones((3, 3), np.uint8)) & weak | mask
        median = np.median(aligned, axis=0) if len(aligned) > 2 else aligned.mean(0)
        out = np.where(mask[..., None].astype(bool), median, img)
        if side is not None and side.any():
            out = np.where(side[..., None], side_fill, out)
        return out

    def _denoise(self, img: np.ndarray, aligned: np.ndarray, aligned_luma: np.ndarray, noise: float,
                 prev: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """Motion-compensated temporal average, each neighbour weighted by its local similarity, then (with
        ``recursive``) blended with the previous restored frame ``prev`` (aligned) where they agree.
        Returns the image and the factor by which the average reduced the noise's standard deviation."""
        cfg = self.cfg
        if cfg.denoise_strength <= 0:
            return img, 1.0
        luma = rgb_to_luma(img)
        sigma = max(cfg.denoise_sigma, cfg.noise_factor * noise)
        num, den = img.copy(), np.ones(img.shape[:2] + (1,), np.float32)
        sq = den.copy()
        for a, al in zip(aligned, aligned_luma, strict=True):
            w = cfg.denoise_strength * self._similarity(al - luma, noise, sigma)
            num += w * a
            den += w
            sq += w * w
        out = num / den
        ratio = float(np.mean(np.sqrt(sq) / den))
        if prev is not None and cfg.recursive > 0:
            left = noise * ratio
            scale = max(cfg.recursive_factor * left, cfg.denoise_sigma)
            w = cfg.recursive * self._similarity(rgb_to_luma(prev) - rgb_to_luma(out), left, scale)
            out = (out + w * prev) / (1 + w)
            ratio *= float(np.mean(np.sqrt(1 + w * w) / (1 + w)))
        return out, ratio

    def _similarity(self, diff: np.ndarray, noise: float, scale: float) -> np.ndarray:
        """(H, W, 1) weight in [0, 1] of a neighbour that differs from the frame by ``diff`` (H, W, luma).

        "patch": the 5×5 mean of diff² less what two independent noises of level ``noise`` explain (2σ²),
        over ``scale``² — the temporal version of non-local means; unbiased for correlated grain too.
        "signed"/"abs": the 5×5 mean of the signed / absolute difference, over ``scale``."""
        mode = self.cfg.similarity
        if mode == "patch":
            excess = np.maximum(cv2.blur(diff * diff, (5, 5)) - 2 * noise * noise, 0.0)
            return np.exp(-excess / (scale * scale))[..., None]
        d = np.abs(cv2.blur(diff, (5, 5))) if mode == "signed" else cv2.blur(np.abs(diff), (5, 5))
        return np.exp(-((d / scale) ** 2))[..., None]

    def _spatial(self, img: np.ndarray, noise: float | None = None) -> np.ndarray:
        """Non-local means on the luma (8-bit, as OpenCV's fast version needs), or the learned denoiser of
        ``spatial_method``; the change is added back to every channel of the float image, so 16-bit precision
        and chroma are kept. ``noise``: the noise level to remove (None: Immerkær's estimate on ``img``)."""
        luma = rgb_to_luma(img)
        h = self.cfg.spatial_denoise * (noise_level(luma) if noise is None else noise) * 255.0
        if h < 0.5:
            return img
        delta = spatial_change(luma, h, self.cfg.spatial_method)
        return np.clip(img + delta[..., None], 0.0, 1.0)


def spatial_change(luma: np.ndarray, h: float, method: str = "nlmeans") -> np.ndarray:
    """What the spatial pass changes in an (H, W) float luma frame: non-local means (8-bit, as OpenCV's fast
    version needs) with filter strength ``h`` (levels of 255), or the learned denoiser in the ``method``
    weights file at noise level h / 255."""
    if method != "nlmeans":
        return learned_denoise(luma, h / 255.0, method) - luma
    y8 = np.clip(np.rint(luma * 255.0), 0, 255).astype(np.uint8)
    return (cv2.fastNlMeansDenoising(y8, None, h=float(h), templateWindowSize=5, searchWindowSize=11)
            .astype(np.float32) - y8) / 255.0


def learned_denoise(luma: np.ndarray, sigma: float, weights: str) -> np.ndarray:
    """(H, W) float luma denoised by the learned spatial denoiser in the ``weights`` file at noise level
    ``sigma`` (0–1 scale)."""
    import torch

    with torch.inference_mode():
        out = _load_denoiser(weights)(torch.from_numpy(np.ascontiguousarray(luma, np.float32))[None, None],
                                      torch.tensor([sigma], dtype=torch.float32))
    return out[0, 0].numpy()


@functools.lru_cache(maxsize=4)
def _load_denoiser(path: str):  # noqa: ANN202 (a torch module: torch is imported only when one is used)
    from oldfilm.models.denoiser import Denoiser
    from oldfilm.models.weights import load_weights

    return load_weights(path, Denoiser)


def _windows(entries: Iterable[_Entry], radius: int, fn):  # noqa: ANN001, ANN202
    """Stream ``fn(window, centre)`` for each entry, where ``window`` holds the entries of the centre's scene
    within ``radius`` of it (centre included). Holds at most 2·radius + 1 entries."""
    buf: list[_Entry] = []
    done = 0  # index into buf of the next centre

    def ready(final: bool) -> bool:
        if done >= len(buf):
            return False
        c = buf[done]
        return final or buf[-1].index - c.index >= radius or buf[-1].scene != c.scene

    for entry in entries:
        buf.append(entry)
        while ready(False):
            c = buf[done]
            yield fn([e for e in buf if e.scene == c.scene and abs(e.index - c.index) <= radius], c)
            done += 1
            while buf and buf[0].index < c.index + 1 - radius:
                buf.pop(0)
                done -= 1
    while ready(True):
        c = buf[done]
        yield fn([e for e in buf if e.scene == c.scene and abs(e.index - c.index) <= radius], c)
        done += 1


def _luma_stats(luma: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of luma, on a 4× smaller copy (robust to noise, cheap)."""
    small = cv2.resize(luma, (max(1, luma.shape[1] // 4), max(1, luma.shape[0] // 4)), interpolation=cv2.INTER_AREA)
    return float(small.mean()), float(small.std())


def sharpen(img: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """Unsharp mask on the luma, the change added to every channel: img + amount × (luma − blurred luma)."""
    luma = rgb_to_luma(img)
    detail = luma - cv2.GaussianBlur(luma, (0, 0), sigma)
    return np.clip(img + (amount * detail)[..., None], 0.0, 1.0)
