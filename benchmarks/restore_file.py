"""End-to-end `oldfilm restore` on a generated clip: seconds per frame and peak RSS vs clip length.

Generates a W×H clip with an audio track (a panning texture with dust), runs the CLI in a child process
per length, and reports wall time per frame and the child's peak resident memory. Flat memory means the
peak RSS does not grow with the number of frames.

    python benchmarks/restore_file.py --method classical --size 640x360 --frames 300 2000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from oldfilm.bench.suite import machine  # noqa: E402
from tests.clips import add_dust, texture, write_clip  # noqa: E402


def make_clip(path: Path, frames: int, w: int, h: int) -> Path:
    """A panning texture with dust, written in blocks so generation itself stays small in memory."""
    import av

    rng = np.random.default_rng(0)
    big = np.repeat(texture(h, w + 256, rng, 1, sigma=2.0), 3, 2)
    tmp = write_clip(path.with_suffix(".a.mp4"), big[None, :, :w], audio=True, fps=25)  # audio template
    with av.open(str(tmp)) as src, av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt, v.options = w, h, "yuv420p", {"preset": "ultrafast", "crf": "18"}
        a = out.add_stream("aac", rate=48000)
        a.layout = "mono"
        for i in range(frames):
            s = (i * 3) % 256
            f = add_dust(big[None, :, s:s + w].copy(), seed=i)[0]
            for p in v.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        n = int(48000 * frames / 25)
        for k in range(0, n, 1024):
            wave = np.full((1, 1024), 0.1 * np.sin(k), np.float32)
            af = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
            af.sample_rate, af.pts = 48000, k
            for p in a.encode(af):
                out.mux(p)
        for p in list(a.encode()):
            out.mux(p)
        for p in v.encode():
            out.mux(p)
        del src
    return path


def run_once(src: Path, dst: Path, method: str, extra: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one `oldfilm restore` child process."""
    cmd = [sys.executable, "-m", "oldfilm.cli", "restore", str(src), str(dst), "--method", method, "-q", *extra]
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            f"r = subprocess.run({cmd!r}); dt = time.perf_counter() - t; "
            "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"restore failed with exit code {out[2]}")
    return float(out[0]), float(out[1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="classical")
    p.add_argument("--size", default="640x360")
    p.add_argument("--frames", type=int, nargs="+", default=[300, 2000])
    p.add_argument("extra", nargs="*", help="more `oldfilm restore` options (after --)")
    a = p.parse_args()
    w, h = map(int, a.size.split("x"))
    print(f"# {date.today()} · {machine()} · method={a.method} · {w}x{h}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.frames:
            src = make_clip(Path(tmp) / f"in{n}.mp4", n, w, h)
            secs, rss = run_once(src, Path(tmp) / f"out{n}.mp4", a.method, a.extra)
            print(f"frames={n:6d}  total={secs:8.1f} s  s/frame={secs / n:.4f}  fps={n / secs:7.1f}  "
                  f"peak RSS={rss:7.1f} MiB")


if __name__ == "__main__":
    main()
