"""Throughput of `oldfilm batch` on Ray against the plain single-process restore, and on a simulated cluster.

Generates a batch of clips (shots of a panning texture with dust, cut into one another), then restores the
whole batch (classical method) in four ways and prints frames/s for each:
  plain      `oldfilm.restore` on each clip in turn, in this process (OpenCV's own threads on all cores);
  ray-N      `run_batch` on a local Ray with N CPUs (one task per CPU, one thread per task);
  cluster-K  `run_batch` on K Ray nodes of one CPU each, started locally with ``ray.cluster_utils.Cluster``
             (separate raylets talking over the network stack, as on a real cluster, but on these cores).
Wall times are for the restoration only (Ray's start-up is timed separately). CPU s/frame: this process's
CPU time (plain) or the sum of the Ray tasks' own (``FilmReport.cpu_seconds``; the driver's is left out) —
what the work costs, less disturbed than wall time by other jobs on the machine.

    python benchmarks/batch_throughput.py --clips 4 --frames 64 --size 256x144 --nodes 1 2 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
from oldfilm.api import restore  # noqa: E402
from oldfilm.batch.runner import run_batch  # noqa: E402
from oldfilm.bench.suite import machine  # noqa: E402
from tests.clips import add_dust, moving_clip, write_clip  # noqa: E402


def make_batch(folder: Path, clips: int, frames: int, shot: int, w: int, h: int) -> int:
    """``clips`` clips of ``frames`` frames, a cut every ``shot`` frames; returns the total frame count."""
    folder.mkdir(parents=True, exist_ok=True)
    for c in range(clips):
        shots = []
        for s in range(0, frames, shot):
            part = moving_clip(t=min(shot, frames - s), h=h, w=w, channels=3, seed=100 * c + s)
            shots.append(part if (s // shot) % 2 == 0 else 255 - part // 2)
        write_clip(folder / f"clip{c}.mp4", add_dust(np.concatenate(shots), seed=c, specks=6), audio=True)
    return clips * frames


def timed_batch(folder: Path, out: Path, chunk: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the Ray tasks) of one batch."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    reports = run_batch(folder, out, chunk_frames=chunk, progress=False)
    bad = [r for r in reports if r.status != "ok"]
    if bad:
        raise SystemExit(f"batch failed: {bad[0].error}")
    return time.perf_counter() - t0, sum(r.cpu_seconds for r in reports)


def cpu_time() -> float:
    """CPU seconds this process used so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--shot", type=int, default=32, help="frames between cuts (also the chunk size)")
    ap.add_argument("--size", default="256x144")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    import ray
    from ray.cluster_utils import Cluster

    rows: list[tuple[str, float, float, float]] = []  # name, start-up, wall, CPU seconds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "films"
        total = make_batch(folder, args.clips, args.frames, args.shot, w, h)
        print(f"# {machine()}; load average {os.getloadavg()[0]:.2f}; "
              f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        print(f"# {args.clips} clips × {args.frames} frames at {w}x{h}, a cut every {args.shot} frames")
        out = Path(tmp) / "out"
        out.mkdir()
        t0, c0 = time.perf_counter(), cpu_time()
        for clip in sorted(folder.iterdir()):
            restore(clip, out / clip.name)
        rows.append(("plain (1 process)", 0.0, time.perf_counter() - t0, cpu_time() - c0))
        for n in args.workers:
            t0 = time.perf_counter()
            ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
            start = time.perf_counter() - t0
            rows.append((f"Ray, {n} worker(s)", start, *timed_batch(folder, Path(tmp) / f"ray{n}", args.shot)))
            ray.shutdown()
        for k in args.nodes:
            t0 = time.perf_counter()
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
            for _ in range(k - 1):
                cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, log_to_driver=False)
            start = time.perf_counter() - t0
            rows.append((f"cluster, {k} node(s) × 1 CPU", start,
                         *timed_batch(folder, Path(tmp) / f"cluster{k}", args.shot)))
            ray.shutdown()
            cluster.shutdown()
    plain = rows[0][2]
    print("\n| run | Ray start-up | wall (restore) | frames/s | vs plain | CPU s/frame |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, start, wall, cpu in rows:
        print(f"| {name} | {start:.1f} s | {wall:.1f} s | {total / wall:.2f} | {plain / wall:.2f}× | "
              f"{cpu / total:.3f} |")


if __name__ == "__main__":
    main()
