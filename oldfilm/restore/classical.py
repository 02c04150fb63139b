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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma, to_float
from oldfilm.flow import DISFlow, warp_image
from oldfilm.restore.scenes import SceneDetector
from oldfilm.restore.scratches import LineScratchRemover


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
    """

    radius: int = 2
    flow_preset: str = "fast"
    flow_max_side: int = 640
    outlier_threshold: float = 0.05
    agree_threshold: float = 0.10
    mask_dilate: int = 1
    weak_ratio: float = 0.5
    misalignment: float = 1.0
    denoise_strength: float = 0.6
    denoise_sigma: float = 0.03
    noise_factor: float = 1.5
    spatial_denoise: float = 2.0
    line_scratches: bool = True
    deflicker: bool = True
    deflicker_radius: int = 4
    max_gain: float = 1.4


@dataclass
class _Entry:
    index: int
    scene: int
    image: np.ndarray  # float32 (H, W, C) in [0, 1]
    luma: np.ndarray  # float32 (H, W)
    dtype: np.dtype
    stats: tuple[float, float]  # luma mean and std (for the deflicker)


class ClassicalRestorer:
    """Streaming classical restoration: ``run(frames)`` yields one restored frame per input frame."""

    def __init__(self, config: ClassicalConfig | None = None):
        self.cfg = config or ClassicalConfig()
        self.flow = DISFlow(self.cfg.flow_preset, self.cfg.flow_max_side)

    def run(self, frames: Iterable[np.ndarray], cuts: Iterable[bool] | None = None,
            prime: int = 0) -> Iterator[np.ndarray]:
        """Restore a stream of (H, W, C) uint8/uint16/float frames; output dtype and shape match input.

        Three streaming stages: ingest (scene cuts, line scratches, luma statistics) → deflicker (needs
        ``deflicker_radius`` frames of look-ahead) → motion-compensated repair and denoise (``radius``).
        ``cuts``: the scene-cut flag of each frame when already known (a first pass over the whole film, so a
        piece of it restores as it would in the whole); None: detected here. ``prime``: the first frames only
        warm up the state carried along a shot (the line-scratch detector) and yield nothing."""
        stream = self._ingest(frames, cuts, prime)
        if self.cfg.deflicker:
            stream = self._deflicker_stage(stream)
        yield from _windows(stream, self.cfg.radius, self._restore_one)

    def _ingest(self, frames: Iterable[np.ndarray], cuts: Iterable[bool] | None = None,
                prime: int = 0) -> Iterator[_Entry]:
        detector = SceneDetector()
        known = iter(cuts) if cuts is not None else None
        scratches = LineScratchRemover() if self.cfg.line_scratches else None
        scene = -1
        for i, frame in enumerate(frames):
            if frame.ndim == 2:
                frame = frame[..., None]
            if detector(frame) if known is None else next(known):
                scene += 1
                if scratches is not None:
                    scratches.reset()
            img = to_float(frame)
            luma = rgb_to_luma(img)
            if scratches is not None:
                img = scratches(img, luma)
                luma = rgb_to_luma(img)
            if i < prime:
                continue
            yield _Entry(i, scene, img, luma, frame.dtype, _luma_stats(luma))

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
        neigh = [e for e in window if e.index != centre.index]
        img = centre.image
        if neigh:
            aligned = np.stack([warp_image(e.image, self._flow(centre, e)).reshape(img.shape) for e in neigh])
            aligned_luma = rgb_to_luma(aligned)
            img = self._repair(img, centre.luma, aligned, aligned_luma)
            img = self._denoise(img, aligned, aligned_luma)
        if self.cfg.spatial_denoise > 0:
            img = self._spatial(img)
        return from_float(img, centre.dtype)

    def _flow(self, centre: _Entry, other: _Entry) -> np.ndarray:
        """Flow centre → other (each ordered pair is needed once: no cache)."""
        return self.flow(centre.luma, other.luma)

    def _repair(self, img: np.ndarray, luma: np.ndarray, aligned: np.ndarray, aligned_luma: np.ndarray) -> np.ndarray:
        """Replace impulsive outliers (dust, dirt, blotches, short scratches) by the aligned neighbours' median."""
        cfg = self.cfg
        diff = luma[None] - aligned_luma  # (K, H, W)
        low, high = diff.min(0), diff.max(0)  # > 0: brighter than every neighbour; < 0: darker than every one
        spread = aligned_luma.max(0) - aligned_luma.min(0)
        agree = spread < cfg.agree_threshold + np.minimum(np.abs(low), np.abs(high)) * 0.5
        # misalignment by δ pixels changes a pixel by about δ·|∇I|: detail must differ by more to count as dirt
        ref = np.median(aligned_luma, axis=0) if len(aligned_luma) > 2 else aligned_luma.mean(0)
        grad = cv2.magnitude(cv2.Sobel(ref, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(ref, cv2.CV_32F, 0, 1, ksize=3)) / 4
        t_strong = cfg.outlier_threshold + cfg.misalignment * grad
        strong = ((low > t_strong) | (high < -t_strong)) & agree
        if not strong.any():
            return img
        mask = strong.astype(np.uint8)
        if cfg.mask_dilate:
            t = t_strong * cfg.weak_ratio
            weak = (((low > t) | (high < -t)) & agree).astype(np.uint8)
            for _ in range(cfg.mask_dilate):  # geodesic dilation: grow only through weak outliers
                mask = cv2.dilate(mask, np.ones((3, 3), np.uint8)) & weak | mask
        median = np.median(aligned, axis=0) if len(aligned) > 2 else aligned.mean(0)
        return np.where(mask[..., None].astype(bool), median, img)

    def _denoise(self, img: np.ndarray, aligned: np.ndarray, aligned_luma: np.ndarray) -> np.ndarray:
        """Motion-compensated temporal average, each neighbour weighted by its local similarity."""
        cfg = self.cfg
        if cfg.denoise_strength <= 0:
            return img
        luma = rgb_to_luma(img)
        sigma = max(cfg.denoise_sigma, cfg.noise_factor * noise_level(luma))
        num, den = img.copy(), np.ones(img.shape[:2] + (1,), np.float32)
        for a, al in zip(aligned, aligned_luma, strict=True):
            d = cv2.blur(np.abs(al - luma), (5, 5))
            w = (cfg.denoise_strength * np.exp(-((d / sigma) ** 2)))[..., None]
            num += w * a
            den += w
        return num / den

    def _spatial(self, img: np.ndarray) -> np.ndarray:
        """Non-local means on the luma (8-bit, as OpenCV's fast version needs); the change is added back to
        every channel of the float image, so 16-bit precision and chroma are kept."""
        luma = rgb_to_luma(img)
        h = self.cfg.spatial_denoise * noise_level(luma) * 255.0
        if h < 0.5:
            return img
        y8 = np.clip(np.rint(luma * 255.0), 0, 255).astype(np.uint8)
        delta = (cv2.fastNlMeansDenoising(y8, None, h=float(h), templateWindowSize=5, searchWindowSize=11)
                 .astype(np.float32) - y8) / 255.0
        return np.clip(img + delta[..., None], 0.0, 1.0)


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


def noise_level(luma: np.ndarray) -> float:
    """Standard deviation of additive white noise in a (H, W) float image, by Immerkær's fast estimator
    (J. Immerkær, "Fast Noise Variance Estimation", CVIU 1996): a Laplacian-difference kernel that cancels
    smooth structure; edges are excluded by keeping the lower 90% of responses."""
    if min(luma.shape) < 3:
        return 0.0
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = np.abs(cv2.filter2D(luma.astype(np.float32), -1, k)[1:-1, 1:-1])
    r = r[r <= np.quantile(r, 0.9)]
    return float(np.sqrt(np.pi / 2) * r.mean() / 6) if r.size else 0.0
