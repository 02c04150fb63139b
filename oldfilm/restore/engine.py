"""The RTN engine: restore a film of any length and size with the network, streaming, in bounded memory.

Frames arrive one by one. Each is padded to the network's multiple, its scene-cut flag is taken from the
``SceneDetector`` and its flows to the previous frame (both directions) are computed once, at a reduced
scale. Every ``chunk`` frames (plus ``lookahead`` more, or fewer when a cut comes first) the network runs:
the backward pass over chunk + look-ahead (the look-ahead outputs are dropped), the forward pass over the
chunk from the state carried out of the previous chunk. Large frames are cut into overlapping tiles, each
with its own carried state. Gray films go through the network as luma; colour films restore luma and keep
their (lightly smoothed) chroma.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from oldfilm.colorspace import from_float, is_gray, rgb_to_luma, rgb_to_ycrcb, ycrcb_to_rgb
from oldfilm.errors import InputError, UsageError
from oldfilm.flow import FlowEstimator, resize_flow
from oldfilm.models.presets import RTNConfig
from oldfilm.models.rtn import RTN, PassState
from oldfilm.models.weights import load_model
from oldfilm.restore.inputs import classical_guides, flow_estimator, flow_frame, neighbour_flows, network_frame
from oldfilm.restore.scenes import SceneDetector
from oldfilm.restore.tiling import Box, TileBlender, pad_frame, tile_boxes
from oldfilm.threads import torch_threads


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" → CUDA when present, else CPU; anything else as given."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as e:
        raise UsageError(f"unknown device {device!r}; use auto, cpu or cuda") from e


MIRRORS: dict[int, tuple[tuple[bool, bool], ...]] = {
    1: ((False, False),), 2: ((False, False), (False, True)),
    4: ((False, False), (False, True), (True, False), (True, True)),
}
"""``EngineConfig.ensemble`` → the (upside-down, left-right) mirrors the network runs on."""
_StateKey = tuple[Box, tuple[bool, bool]]
"""A recurrent state is kept per tile and per mirror."""


@dataclass
class _Frame:
    """One buffered frame: the network input, what the output needs, and its flows."""

    net: np.ndarray  # (Hp, Wp[, C]) float32, padded network input (a guided network's guide last)
    source: np.ndarray  # the input frame as given (chroma and layout for the output)
    cut: bool  # starts a new scene
    mean: float = 0.0  # mean luma of the input, or of the guide (the tone anchor's reference)
    to_prev: np.ndarray | None = None  # (2, h', w') flow to the previous frame at flow scale
    to_next: np.ndarray | None = None  # (2, h', w') flow to the next frame at flow scale


@dataclass(frozen=True)
class EngineConfig:
    """Settings of the RTN engine (what it does with a network; the network itself is ``RTNEngine``'s
    ``model``). None means "chosen from the network's config" (``resolved``).

    Attributes:
        chunk: frames restored per network call.
        lookahead: extra frames the backward pass sees past the chunk (their outputs are dropped).
        tile: largest tile side in pixels; None: 1024 (768 for full-resolution features).
        overlap: overlap of neighbouring tiles in pixels.
        flow_side: flows are computed on frames downscaled to this longer side (0: full size; None: 640
            for full-resolution features, 320 for the 1/4-resolution ``fast`` network).
        scenes: detect scene cuts (both passes reset at a cut).
        threads: CPU threads for torch while the network runs (None: all cores available to the process);
            the caller's setting is restored after each network call.
        max_pixels: frames × pixels buffered at most; ``chunk`` and ``lookahead`` shrink for huge frames.
        chroma_sigma: Gaussian sigma (pixels) smoothing the kept chroma of colour films (0: none).
        tone_radius: keep the film's exposure (``anchor_tone``): each restored frame's mean luma is set to
            the input's mean (a guided network's: its guide's) averaged over ±``tone_radius`` frames of its
            shot. -1: off. None: 4, or off for a network with a full-resolution head (it keeps each frame's
            mean as its guide has it).
        tone_sigma: and its smooth shading (Gaussian sigma, pixels) is the input's (0: mean only). None: 16,
            or 0 for a guided network (its base already has the shading; guided networks are trained with a
            tone-invariant loss, ``LossConfig.tone_invariant``, and only their mean needs the anchor).
        ensemble: the network runs on this many mirrored copies of the film and the results, mirrored back,
            are averaged (self-ensemble): 1 off, 2 with the left-right mirror, 4 with the upside-down one and
            both too. Each copy is a whole network pass (flows and guide are mirrored, not recomputed) with
            its own recurrent state; the copies' errors are partly independent (the Swin windows and the
            learned filters meet the picture differently), so their mean is steadier and less grainy.
    """

    chunk: int = 32
    lookahead: int = 8
    tile: int | None = None
    overlap: int = 64
    flow_side: int | None = None
    scenes: bool = True
    threads: int | None = None
    max_pixels: float = 48e6
    chroma_sigma: float = 1.0
    tone_radius: int | None = None
    tone_sigma: float | None = None
    ensemble: int = 1

    def __post_init__(self) -> None:
        if self.chunk < 1 or self.lookahead < 0:
            raise UsageError(f"chunk must be ≥ 1 and lookahead ≥ 0, got {self.chunk} and {self.lookahead}")
        if self.ensemble not in MIRRORS:
            raise UsageError(f"ensemble must be one of {', '.join(map(str, MIRRORS))}, got {self.ensemble}")

    def resolved(self, model: RTNConfig) -> EngineConfig:
        """This config with its None fields chosen for ``model`` (``tile``, ``flow_side``, ``tone_radius``,
        ``tone_sigma``; ``threads`` stays None: the cores are counted when the network runs)."""
        tone_radius = self.tone_radius
        if tone_radius is None:  # a full-resolution head keeps its guide's exposure exactly: nothing to anchor
            tone_radius = -1 if model.head_channels else 4
        # about 1 MP tiles (0.6 MP for full-resolution features): enough for 368×640 in one tile, and a few
        # hundred MB of activations per tile at any frame size
        return replace(
            self,
            tile=self.tile or (1024 if model.scale > 1 else 768),
            flow_side=self.flow_side if self.flow_side is not None else 640 // max(1, model.scale // 2),
            tone_radius=tone_radius,
            tone_sigma=self.tone_sigma if self.tone_sigma is not None else (0.0 if model.guided else 16.0),
        )


class RTNEngine:
    """Stream frames through an ``RTN`` in constant memory.

    Args:
        model: the network (weights loaded; random weights run too, e.g. for timing).
        config: the engine's settings (``EngineConfig``; its None fields are resolved for ``model``).
        device: "auto" (CUDA when present), "cpu", "cuda", …
        flow: a ``FlowEstimator``; default ``inputs.flow_estimator`` with the network's pinned DIS preset
            (``RTNConfig.flow_preset``).
    """

    def __init__(self, model: RTN, config: EngineConfig | None = None, *, device: str | torch.device = "auto",
                 flow: FlowEstimator | None = None) -> None:
        self.cfg = (config or EngineConfig()).resolved(model.cfg)
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.flow = flow if flow is not None else flow_estimator(model.cfg.flow_preset)
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)

    # -- public --------------------------------------------------------------------------------------

    def run(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Restore a stream of (H, W[, C]) uint8/uint16 frames (RGB or gray); yields frames of the same
        shape and dtype, one per input, in order."""
        detector = SceneDetector() if self.cfg.scenes else None
        marked: Iterable[tuple[np.ndarray, bool | None]] = ((f, None) for f in frames)  # None: detect here
        buf: list[_Frame] = []
        first: np.ndarray | None = None
        state: dict[_StateKey, PassState] = {}
        tone: list[tuple[float, bool]] = []  # (mean, cut) of the last frames output, for the tone anchor
        prev_small: np.ndarray | None = None
        chunk = lookahead = 0
        gray = False
        guides: deque[np.ndarray] | None = None
        if self.model.cfg.guided:  # the guide's restorer and this engine share one detector's cut flags
            guides = deque()
            marked = _with_guides(frames, guides, self.model.cfg.guide, detector)
        for i, (img, cut) in enumerate(marked):
            if first is None:
                first = self._check_first(img)
                chunk, lookahead = self._chunking(img.shape[0] * img.shape[1])
                gray = is_gray(img)
            elif img.shape != first.shape or img.dtype != first.dtype:
                raise InputError(f"frame {i} is {img.shape} {img.dtype}, but the film started with "
                                 f"{first.shape} {first.dtype}")
            if cut is None:
                cut = detector(img) if detector is not None else False
            rec, small = self._prepare(img, cut or i == 0, guides.popleft() if guides is not None else None)
            if not rec.cut and prev_small is not None:
                rec.to_prev, to_next = neighbour_flows(self.flow, prev_small, small)
                if buf:
                    buf[-1].to_next = to_next
            prev_small = small
            buf.append(rec)
            if len(buf) >= chunk + lookahead or any(r.cut for r in buf[chunk:]):
                yield from self._flush(buf, chunk, lookahead, state, tone, gray)
        while buf:
            yield from self._flush(buf, chunk, lookahead, state, tone, gray)

    # -- steps ---------------------------------------------------------------------------------------

    def _check_first(self, img: np.ndarray) -> np.ndarray:
        ok = isinstance(img, np.ndarray) and (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3)))
        if not ok:
            got = getattr(img, "shape", type(img).__name__)
            raise InputError(f"expected (H, W), (H, W, 1) or (H, W, 3) frames, got {got}")
        if img.dtype not in (np.uint8, np.uint16, np.float32):
            raise InputError(f"expected uint8, uint16 or float32 frames, got {img.dtype}")
        return img

    def _chunking(self, pixels: int) -> tuple[int, int]:
        """``chunk`` and ``lookahead``, shrunk so that the buffer holds at most ``max_pixels``."""
        r = self.cfg.max_pixels / ((self.cfg.chunk + self.cfg.lookahead) * pixels)
        if r >= 1:
            return self.cfg.chunk, self.cfg.lookahead
        chunk = max(min(4, self.cfg.chunk), int(self.cfg.chunk * r))
        return chunk, max(min(2, self.cfg.lookahead), int(self.cfg.lookahead * r))

    def _prepare(self, img: np.ndarray, cut: bool, guide: np.ndarray | None = None) -> tuple[_Frame, np.ndarray]:
        """The padded network input (``network_frame``) and the luma flows are computed on (``flow_frame``)."""
        luma = rgb_to_luma(img)
        net = network_frame(img, guide, self.model.cfg.in_channels)
        mean = float((luma if guide is None else rgb_to_luma(guide)).mean())
        net = np.ascontiguousarray(pad_frame(net, self.model.multiple), dtype=np.float32)
        return _Frame(net=net, source=img, cut=cut, mean=mean), flow_frame(luma, self.cfg.flow_side)

    def _flush(
        self, buf: list[_Frame], chunk: int, lookahead: int, state: dict[_StateKey, PassState],
        tone: list[tuple[float, bool]], gray: bool,
    ) -> Iterator[np.ndarray]:
        """Restore the first ``chunk`` buffered frames (fewer at the end), drop them, yield their outputs."""
        keep = min(chunk, len(buf))
        end = min(len(buf), keep + lookahead)
        for j in range(keep, end):  # the backward pass of this chunk stops at the next scene cut
            if buf[j].cut:
                end = j
                break
        window = buf[:end]
        threads = (self.cfg.threads or len(os.sched_getaffinity(0))) if self.device.type == "cpu" else None
        with torch_threads(threads):
            restored = self._restore_window(window, keep, state)
        if self.cfg.tone_radius >= 0 and restored.ndim == 3:
            restored = self._anchor_tone(restored, window, keep, tone)
        outs = [self._finish(restored[k], window[k].source, gray) for k in range(keep)]
        del buf[:keep]
        yield from outs

    def _anchor_tone(self, y: np.ndarray, window: list[_Frame], keep: int,
                     past: list[tuple[float, bool]]) -> np.ndarray:
        """Shift each of the ``keep`` restored luma frames so its mean is the shot-bounded, centred moving
        average of the input means; ``past`` ((mean, cut) of the frames already output) is updated."""
        r = self.cfg.tone_radius
        seq = past + [(f.mean, f.cut) for f in window]
        out = np.empty_like(y)
        for k in range(keep):
            p = len(past) + k
            lo = p
            while lo > max(0, p - r) and not seq[lo][1]:
                lo -= 1
            hi = p
            while hi < min(len(seq) - 1, p + r) and not seq[hi + 1][1]:
                hi += 1
            target = float(np.mean([m for m, _ in seq[lo: hi + 1]]))
            h, w = y[k].shape
            ref = window[k].net[:h, :w]
            ref = ref if ref.ndim == 2 else ref[..., -1]  # a guided network's guide
            out[k] = anchor_tone(y[k], ref, target, self.cfg.tone_sigma)
        past[:] = seq[: len(past) + keep][-r:] if r > 0 else []
        return out

    def _restore_window(self, window: list[_Frame], keep: int, state: dict[_StateKey, PassState]) -> np.ndarray:
        """(keep, H, W[, 3]) float32 restored network channels for the first ``keep`` frames of ``window``."""
        hp, wp = window[0].net.shape[:2]
        h, w = window[0].source.shape[:2]
        boxes = tile_boxes(hp, wp, self._tile_side(), self.cfg.overlap, self.model.multiple)
        cuts = [r.cut for r in window]
        out_shape = (keep, hp, wp) + ((3,) if self.model.cfg.in_channels == 3 else ())
        blender = TileBlender(out_shape, self.cfg.overlap) if len(boxes) > 1 else None
        single = None
        with torch.inference_mode(), self._autocast():
            for box in boxes:
                y0, x0, y1, x1 = box
                x = torch.from_numpy(np.stack([r.net[y0:y1, x0:x1] for r in window]))
                x = (x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)).unsqueeze(0)
                fsize = ((y1 - y0) // self.model.cfg.scale, (x1 - x0) // self.model.cfg.scale)
                ff = self._flows([r.to_prev for r in window[:keep]], box, (h, w), fsize)
                fb = self._flows([r.to_next for r in window[:-1]], box, (h, w), fsize)
                x = x.to(self.device)
                mirrors = MIRRORS[self.cfg.ensemble]
                total = None
                for m in mirrors:
                    key = (box, m)
                    y, state[key] = self.model.forward_chunk(mirror(x, m), mirror_flows(ff, m), mirror_flows(fb, m),
                                                             cuts, keep, state.get(key))
                    y = mirror(y, m).float().clamp_(0.0, 1.0)  # the mean of restored films, each in range
                    total = y if total is None else total + y
                out = (total / len(mirrors))[0].permute(0, 2, 3, 1).cpu().numpy()
                out = out[..., 0] if out.shape[-1] == 1 else out
                if blender is None:
                    single = out
                else:
                    blender.add(box, out)
        result = single if blender is None else blender.result()
        return result[:, :h, :w]

    def _flows(
        self, flows: list[np.ndarray | None], box: Box, full: tuple[int, int], size: tuple[int, int]
    ) -> torch.Tensor:
        """Flows at flow scale (None: no predecessor) → (1, T, 2, h, w) on the device, resampled for ``box``
        at the feature size ``size``."""
        if not flows:
            return torch.zeros(1, 0, 2, *size, device=self.device)
        ref = next((f for f in flows if f is not None), None)
        if ref is None:
            return torch.zeros(1, len(flows), 2, *size, device=self.device)
        fh, fw = ref.shape[1:]
        stack = np.stack([f if f is not None else np.zeros_like(ref) for f in flows])
        sy, sx = fh / full[0], fw / full[1]
        y0, x0, y1, x1 = box
        t = torch.from_numpy(stack).to(self.device)
        t = resize_flow(t, size, box=(y0 * sy, x0 * sx, y1 * sy, x1 * sx))
        return t.unsqueeze(0)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """bf16 (or fp16) autocast on CUDA; full precision on CPU."""
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)

    def _tile_side(self) -> int:
        """``tile`` rounded down to the network's multiple."""
        m = self.model.multiple
        return max(m, self.cfg.tile // m * m)

    def _finish(self, y: np.ndarray, source: np.ndarray, gray: bool) -> np.ndarray:
        """Restored network channels + the source frame → an output frame shaped like the source."""
        if self.model.cfg.in_channels == 3:
            rgb = rgb_to_luma(y) if gray else y
        elif gray or source.ndim == 2 or source.shape[2] == 1:
            rgb = y
        else:
            ycc = rgb_to_ycrcb(source)
            if self.cfg.chroma_sigma > 0:
                ycc[..., 1:] = cv2.GaussianBlur(ycc[..., 1:], (0, 0), self.cfg.chroma_sigma)
            ycc[..., 0] = y
            rgb = ycrcb_to_rgb(ycc)
        if source.ndim == 2:
            out = rgb if rgb.ndim == 2 else rgb_to_luma(rgb)
        elif rgb.ndim == 2:
            out = np.repeat(rgb[..., None], source.shape[2], axis=2)
        else:
            out = rgb if source.shape[2] == 3 else rgb_to_luma(rgb)[..., None]
        return from_float(out, source.dtype)


def mirror(x: torch.Tensor, m: tuple[bool, bool]) -> torch.Tensor:
    """(…, H, W) frames turned upside down (``m[0]``) and/or left-right (``m[1]``); its own inverse."""
    dims = [d for d, on in ((-2, m[0]), (-1, m[1])) if on]
    return x.flip(dims) if dims else x


def mirror_flows(f: torch.Tensor, m: tuple[bool, bool]) -> torch.Tensor:
    """(…, 2, H, W) flows (dx, dy in pixels) of the mirrored frames: the field mirrored, and the component
    across the mirror's axis negated."""
    if not any(m):
        return f
    sign = torch.tensor([-1.0 if m[1] else 1.0, -1.0 if m[0] else 1.0], dtype=f.dtype, device=f.device)
    return mirror(f, m) * sign.view(2, 1, 1)


def _with_guides(frames: Iterable[np.ndarray], guides: deque[np.ndarray], options: str = "",
                 detector: SceneDetector | None = None) -> Iterator[tuple[np.ndarray, bool | None]]:
    """The frames again, each with its scene-cut flag and yielded once its classical restoration (the guide
    of a guided network, made with the network's ``RTNConfig.guide`` options) has been appended to
    ``guides``. The flags are ``detector``'s, computed once per frame for the restorer and the caller; without
    a detector the restorer detects its own and the flags are None. Streaming: the restorer's few frames of
    look-ahead are buffered here."""
    pending: deque[tuple[np.ndarray, bool | None]] = deque()

    def feed() -> Iterator[np.ndarray]:
        for f in frames:
            pending.append((f, detector(f) if detector is not None else None))
            yield f

    def known() -> Iterator[bool]:  # read by the restorer right after it took the frame from feed()
        while True:
            yield bool(pending[-1][1])

    cuts = known() if detector is not None else None
    for restored in classical_guides(feed(), options, cuts):
        guides.append(restored)
        yield pending.popleft()


def anchor_tone(y: np.ndarray, x: np.ndarray, target_mean: float, sigma: float = 16.0,
                tau: float = 16 / 255) -> np.ndarray:
    """Restored luma ``y`` with the input ``x``'s tone: mean ``target_mean`` and, with ``sigma`` > 0, the
    input's smooth shading (the Gaussian low-pass of y − x, zero-meaned, is removed).

    Why: no frame tells a network the film's true exposure or shading, and a trained one drifts (it learned
    the average correction of its training degradations); the exposure is the film's, deflickered
    (``target_mean`` is a temporal average). Pixels the network changed by much more than ``tau`` (dust,
    blotches, scratches it removed) are left out of the low-pass (normalised convolution), so the shading
    estimate does not put the defects back. (H, W) float32 in [0, 1].
    """
    y = y.astype(np.float32, copy=False)
    if sigma > 0:
        d = y - x.astype(np.float32, copy=False)
        w = np.exp(-((d / tau) ** 2)).astype(np.float32)
        low = cv2.GaussianBlur(w * d, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(w, (0, 0), sigma), 1e-3)
        y = y - (low - float(low.mean()))
    return np.clip(y + (target_mean - float(y.mean())), 0.0, 1.0)


def build_engine(preset: str = "fast", weights: str | Path | None = None, device: str = "auto",
                 config: EngineConfig | None = None) -> RTNEngine:
    """An ``RTNEngine`` with trained weights: ``weights`` (a .safetensors file) or, when None, the file
    shipped for ``preset``. Raises ``WeightsError`` when there are none (never runs random weights)."""
    dev = pick_device(device)
    return RTNEngine(load_model(weights if weights is not None else preset, device=dev), config, device=dev)
