"""The methods the benchmark compares, each a function ``frames → restored frames``.

Convention:
    ``frames`` is a list of numpy ``(H, W, C)`` uint8 frames of one clip, C = 1 (gray) or 3 (RGB); a method
    returns a list of as many frames, same shape and dtype. A method that cannot run on this machine
    (missing FFmpeg filter, no weights) raises ``MethodUnavailable`` with one sentence saying why.

FFmpeg filters run in-process through PyAV's filter graph when PyAV's FFmpeg build has them, else through
the FFmpeg binary that the ``imageio-ffmpeg`` wheel bundles (PyAV's wheel lacks the GPL ``hqdn3d``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np

from oldfilm.errors import WeightsError

Frames = list[np.ndarray]


class MethodUnavailable(RuntimeError):
    """This method cannot run here (a filter or weights are missing); the benchmark skips it."""


@dataclass(frozen=True)
class Method:
    """A benchmarked method.

    Attributes:
        name: short identifier used in tables and file names.
        label: what it is, for the report (filter settings included).
        run: the function ``frames → frames``.
    """

    name: str
    label: str
    run: Callable[[Frames], Frames]


def _pix_fmt(frames: Frames) -> str:
    return "gray" if frames[0].shape[2] == 1 else "rgb24"


def _graph_pyav(frames: Frames, spec: str, pix: str) -> Frames:
    """Run the FFmpeg filter chain ``spec`` ("a=x,b=y") in-process through PyAV."""
    h, w = frames[0].shape[:2]
    graph = av.filter.Graph()
    src = graph.add_buffer(width=w, height=h, format=pix, time_base=Fraction(1, 25))
    chain = [src]
    for part in f"{spec},format={pix}".split(","):
        name, _, args = part.partition("=")
        chain.append(graph.add(name, args or None))
    chain.append(graph.add("buffersink"))
    for a, b in zip(chain, chain[1:], strict=False):
        a.link_to(b)
    graph.configure()
    out: Frames = []

    def drain() -> None:
        while True:
            try:
                out.append(chain[-1].pull().to_ndarray())
            except (av.BlockingIOError, av.EOFError):
                return

    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f[..., 0] if pix == "gray" else f, format=pix)
        vf.pts, vf.time_base = i, Fraction(1, 25)
        src.push(vf)
        drain()
    src.push(None)
    drain()
    return out


def _graph_binary(frames: Frames, spec: str, pix: str) -> Frames:
    """Run ``spec`` through the FFmpeg binary bundled by imageio-ffmpeg (raw frames over pipes)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise MethodUnavailable("needs FFmpeg filters that PyAV lacks, and imageio-ffmpeg is not installed") \
            from None
    h, w, c = frames[0].shape
    cmd = [exe, "-v", "error", "-f", "rawvideo", "-pix_fmt", pix, "-s", f"{w}x{h}", "-r", "25", "-i", "-",
           "-vf", spec, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix, "-"]
    proc = subprocess.run(cmd, input=np.stack(frames).tobytes(), capture_output=True)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[:200]
        raise MethodUnavailable(f"FFmpeg failed on {spec!r}: {err}")
    data = np.frombuffer(proc.stdout, np.uint8)
    return list(data.reshape(-1, h, w, c))


def ffmpeg_filter(frames: Frames, spec: str, pad: int = 0) -> Frames:
    """Filter frames with the FFmpeg chain ``spec``; ``pad`` frames are mirrored onto both ends first and
    dropped again (for filters such as ``tmedian`` that need neighbours and output fewer frames)."""
    pix = _pix_fmt(frames)
    seq = frames[1 : pad + 1][::-1] + frames + frames[-pad - 1 : -1][::-1] if pad else frames
    names = {part.partition("=")[0] for part in spec.split(",")}
    if names <= set(av.filter.filters_available):
        out = _graph_pyav(seq, spec, pix)
    else:
        out = _graph_binary(seq, spec, pix)
    out = [o.reshape(frames[0].shape) for o in out]
    if len(out) == len(seq) and pad:
        out = out[pad : pad + len(frames)]
    if len(out) != len(frames):
        raise MethodUnavailable(f"FFmpeg {spec!r} returned {len(out)} frames for {len(frames)}")
    return out


def opencv_nlmeans_multi(frames: Frames, h: float = 7.0, window: int = 5) -> Frames:
    """OpenCV ``fastNlMeansDenoisingMulti`` (gray) / ``…ColoredMulti`` (RGB) over ``window`` frames centred
    on each frame (the clip's ends are mirrored)."""
    r = window // 2
    if len(frames) <= r:
        raise MethodUnavailable(f"needs more than {r} frames")
    gray = frames[0].shape[2] == 1
    src = [f[..., 0] for f in frames] if gray else [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]
    padded = src[1 : r + 1][::-1] + src + src[-r - 1 : -1][::-1]
    out: Frames = []
    for i in range(len(frames)):
        if gray:
            out.append(cv2.fastNlMeansDenoisingMulti(padded, i + r, window, h=h)[..., None])
        else:
            res = cv2.fastNlMeansDenoisingColoredMulti(padded, i + r, window, h=h, hColor=h)
            out.append(cv2.cvtColor(res, cv2.COLOR_BGR2RGB))
    return out


def oldfilm_method(method: str, **options: Any) -> Callable[[Frames], Frames]:
    """Our restorer (``oldfilm.restore.api.restore_stream``) as a benchmark method."""

    def run(frames: Frames) -> Frames:
        from oldfilm.restore.api import restore_stream

        try:
            restored = restore_stream(iter(frames), method, **options)
            return [np.asarray(f).reshape(frames[0].shape) for f in restored]
        except WeightsError as e:
            raise MethodUnavailable(str(e)) from None

    return run


def deflicker_median_hqdn3d(frames: Frames) -> Frames:
    """The chain a restorer should beat on real transfers: FFmpeg ``deflicker`` (5 frames, arithmetic mean)
    → our motion-compensated median (the classical restorer's outlier repair alone: DIS-aligned 5-frame
    window, no deflicker, scratch removal or denoising of its own) → FFmpeg ``hqdn3d`` (defaults)."""
    from oldfilm.restore.api import restore_stream

    out = ffmpeg_filter(frames, DEFLICKER, pad=2)
    out = list(restore_stream(iter(out), "classical", **MEDIAN_ONLY))
    return ffmpeg_filter([np.asarray(f).reshape(frames[0].shape) for f in out], HQDN3D)


DEFLICKER = "deflicker=size=5:mode=am"
MEDIAN_ONLY = {"line_scratches": False, "deflicker": False, "local_deflicker": False, "denoise_strength": 0.0,
               "spatial_denoise": 0.0, "sharpen": 0.0}
"""Options that reduce the classical restorer to its motion-compensated median (outlier repair)."""
HQDN3D = "hqdn3d"
NLMEANS = "nlmeans=s=4:p=7:r=15"
TMEDIAN_DEFLICKER = "tmedian=radius=1,deflicker=size=5:mode=am"


def default_methods(learned: tuple[str, ...] = ("fast", "guided", "rtn-paper")) -> list[Method]:
    """Every method of the benchmark, baselines first; one RTN entry per preset in ``learned``."""
    from oldfilm.restore.classical import KEEP_GRAIN

    methods = [
        Method("identity", "the degraded input", lambda f: [x.copy() for x in f]),
        Method("ffmpeg-hqdn3d", f"FFmpeg `{HQDN3D}` (defaults)", lambda f: ffmpeg_filter(f, HQDN3D)),
        Method("ffmpeg-nlmeans", f"FFmpeg `{NLMEANS}` (strength 4; the default 1 leaves film noise as is)",
               lambda f: ffmpeg_filter(f, NLMEANS)),
        Method("ffmpeg-tmedian-deflicker", f"FFmpeg `{TMEDIAN_DEFLICKER}`",
               lambda f: ffmpeg_filter(f, TMEDIAN_DEFLICKER, pad=1)),
        Method("opencv-nlmeans-multi", "OpenCV `fastNlMeansDenoisingMulti`, 5 frames, h=7",
               opencv_nlmeans_multi),
        Method("chain-deflicker-median-hqdn3d",
               f"FFmpeg `{DEFLICKER}` → our motion-compensated median (outlier repair only) → FFmpeg `{HQDN3D}`",
               deflicker_median_hqdn3d),
        Method("oldfilm-classical",
               "ours: line scratches, deflicker (global + local), motion-compensated median, temporal "
               "non-local means with a recursive term, spatial denoise, light sharpening",
               oldfilm_method("classical")),
        Method("oldfilm-classical-stabilize", "ours: the classical restorer with `--stabilize` (gate weave removed)",
               oldfilm_method("classical", stabilize=True)),
        Method("oldfilm-classical-grain", "ours: the classical restorer with `--grain keep` (no denoising: dust, "
               "scratches and flicker repaired, the grain left)", oldfilm_method("classical", **KEEP_GRAIN)),
    ]
    for preset in learned:
        methods.append(Method(f"oldfilm-rtn-{preset}", f"ours: RTN, `{preset}` preset, shipped weights",
                              oldfilm_method("rtn", preset=preset)))
    return methods
