"""Speed and memory of the RTN engine, end to end (flow + network + colour handling), on a synthetic clip.

Speed does not depend on the weights, so the network has random weights. Numbers go to the README with the
machine and date; they are never asserted in tests.

    python benchmarks/speed.py                       # s/frame at 368×640 for fast and rtn-paper
    python benchmarks/speed.py --presets fast --frames 96
    python benchmarks/speed.py --rss                 # + peak RSS over 300 and 3000 frames (slow)
    python benchmarks/speed.py --json out.json       # also write the results
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as oldfilm/__init__.py does; must precede `import torch`

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import cv2
import numpy as np
import torch

from oldfilm.bench.suite import cpu_name
from oldfilm.models.presets import PRESETS
from oldfilm.models.rtn import RTN
from oldfilm.restore.engine import EngineConfig, RTNEngine


def synthetic_clip(
    n: int, h: int = 368, w: int = 640, seed: int = 0, color: bool = False
) -> Iterator[np.ndarray]:
    """A film-like clip, streamed: a textured scene panning and zooming slowly, with grain and flicker."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((h // 16 + 4, w // 16 + 4)).astype(np.float32), (2 * w, 2 * h),
                      interpolation=cv2.INTER_CUBIC)
    for i in range(n):
        angle = 0.02 * np.sin(i / 40.0)
        zoom = 1.0 + 0.05 * np.sin(i / 60.0)
        m = cv2.getRotationMatrix2D((w, h), np.degrees(angle), zoom)
        m[:, 2] += (-w / 2 + 40 * np.sin(i / 30.0), -h / 2 + 20 * np.cos(i / 45.0))
        frame = cv2.warpAffine(base, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        frame = frame * (0.9 + 0.1 * rng.random()) + 0.03 * rng.standard_normal((h, w)).astype(np.float32)
        u8 = np.clip(frame * 255.0, 0, 255).astype(np.uint8)
        yield np.stack([u8, u8, u8], axis=2) if not color else np.stack([u8, 255 - u8, u8 // 2], axis=2)


ENGINE_OPTIONS = {  # rtn-paper is ~20× slower: smaller chunks (same look-ahead ratio) keep the run short
    "fast": {},
    "rtn-paper": {"chunk": 8, "lookahead": 2},
}


def time_preset(preset: str, frames: int, h: int, w: int, threads: int | None) -> tuple[float, float]:
    """Wall and CPU seconds per frame, end to end (flow, network, output), averaged over a ``frames``-long
    clip after a 3-frame warm-up run. CPU time tells how far a busy machine inflated the wall time."""
    torch.manual_seed(0)
    engine = RTNEngine(RTN(PRESETS[preset]), EngineConfig(threads=threads, **ENGINE_OPTIONS.get(preset, {})),
                       device="cpu" if not torch.cuda.is_available() else "auto")
    for _ in engine.run(synthetic_clip(3, h, w, seed=1)):
        pass
    wall, cpu = time.perf_counter(), time.process_time()
    n = sum(1 for _ in engine.run(synthetic_clip(frames, h, w)))
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def peak_rss_mb(preset: str, frames: int, h: int, w: int, threads: int | None) -> float:
    """Peak RSS (MB) of a fresh process (this script in ``--rss-child`` mode) restoring ``frames`` frames."""
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", preset, str(frames)]
    cmd += ["--size", str(h), str(w)]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_child(preset: str, frames: int, h: int, w: int, threads: int | None) -> None:
    torch.manual_seed(0)
    engine = RTNEngine(RTN(PRESETS[preset]), EngineConfig(threads=threads), device="cpu")
    for _ in engine.run(synthetic_clip(frames, h, w)):
        pass
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def machine() -> dict[str, str]:
    return {
        "cpu": cpu_name(),
        "cores": str(len(os.sched_getaffinity(0))),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_avg_1min": f"{os.getloadavg()[0]:.2f}",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", nargs="*", default=["fast", "rtn-paper"], choices=sorted(PRESETS),
                   help="presets to time (none: skip timing)")
    p.add_argument("--frames", type=int, default=0, help="timed frames (default: 128 fast, 20 rtn-paper)")
    p.add_argument("--size", type=int, nargs=2, default=(368, 640), metavar=("H", "W"))
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rss", action="store_true", help="also peak RSS over 300 and 3000 frames (slow)")
    p.add_argument("--rss-presets", nargs="+", default=["fast"], choices=sorted(PRESETS))
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--rss-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    h, w = args.size
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]), h, w, args.threads)
        return
    results: dict = {"machine": machine(), "size": f"{h}x{w}", "s_per_frame": {}, "peak_rss_mb": {}}
    print(json.dumps(results["machine"]))
    for preset in args.presets:
        frames = args.frames or (128 if preset == "fast" else 20)
        spf, cpu = time_preset(preset, frames, h, w, args.threads)
        results["s_per_frame"][preset] = round(spf, 4)
        results.setdefault("cpu_s_per_frame", {})[preset] = round(cpu, 4)
        threads = args.threads or len(os.sched_getaffinity(0))
        print(f"{preset:10s} {h}x{w}: {spf:.3f} s/frame ({1 / spf:.2f} fps; CPU {cpu:.3f} s/frame), DIS flow "
              f"included, {threads} thread(s), {frames} frames, load {os.getloadavg()[0]:.1f}", flush=True)
    if args.rss:
        for preset in args.rss_presets:
            for n in (300, 3000):
                mb = peak_rss_mb(preset, n, h, w, args.threads)
                results["peak_rss_mb"][f"{preset}/{n}"] = round(mb, 1)
                print(f"{preset:10s} {n:5d} frames: peak RSS {mb:.0f} MB", flush=True)
    print(f"self peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
