"""What ``--fields`` costs: idet detection and inverse telecine (fieldmatch + decimate) in frames/s on a
synthetic 3:2-pulldown clip, one thread, CPU time (robust to other processes sharing the machine).

Usage: ``.venv/bin/python benchmarks/fields_speed.py [--size 720x480] [--frames 150]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402

from oldfilm.bench.suite import machine  # noqa: E402
from oldfilm.io.fields import deinterlace, detect_fields, inverse_telecine  # noqa: E402
from tests.clips import moving_clip  # noqa: E402
from tests.io.test_fields import telecine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="720x480")
    ap.add_argument("--frames", type=int, default=150, help="telecined frames (4/5 as many film frames)")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    video = telecine(moving_clip(t=a.frames * 4 // 5, h=h, w=w, channels=3, step=3))
    fps = Fraction(30000, 1001)
    for name, run in [("idet (detect)", lambda: detect_fields(iter(video), fps, len(video))),
                      ("fieldmatch+decimate (ivtc)", lambda: list(inverse_telecine(((f, None) for f in video), fps,
                                                                                   "tff"))),
                      ("bwdif (deinterlace)", lambda: list(deinterlace(((f, i) for i, f in enumerate(video)), fps,
                                                                       "tff")))]:
        t0 = time.process_time()
        run()
        cpu = time.process_time() - t0
        print(f"{name:28s} {len(video) / cpu:7.1f} frames/s (CPU time), {w}x{h} RGB, {len(video)} frames")
    print(machine())


if __name__ == "__main__":
    main()
