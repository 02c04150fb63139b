"""What 4:2:0 delivery costs a colourised clip: each evaluation clip's first frames, turned gray, coloured from
their first frame (``colorize_stream``, full resolution), then written with each output codec and read
back; RGB PSNR of what comes back against the full-chroma result (lossless, in memory) and against the
true colour frames.

    OMP_NUM_THREADS=1 python benchmarks/chroma_delivery.py [frames]      (default 24 per clip)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from oldfilm.bench.colorize import EVAL, load_window
from oldfilm.colorize.api import colorize_stream
from oldfilm.io.info import info_for
from oldfilm.io.video import VideoWriter, open_video
from oldfilm.metrics.fullref import psnr

CODECS = ("ffv1", "h264-444", "h264")


def _mean_psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.mean([psnr(x, y, "rgb") for x, y in zip(a, b, strict=True)]))


def main(frames: int = 24) -> None:
    rows = []
    for clip in EVAL:
        truth = load_window(clip, frames, 0)
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None] for f in truth]
        out = list(colorize_stream(gray, [truth[0]], [0]))
        with tempfile.TemporaryDirectory() as tmp:
            row = {"clip": clip, "ours vs truth": _mean_psnr(out[1:], truth[1:])}
            for codec in CODECS:
                dst = Path(tmp) / f"{codec}.mkv"
                with VideoWriter(dst, info_for(out[0]), codec=codec, crf=17) as wr:
                    for f in out:
                        wr.write(f)
                with open_video(dst) as r:
                    back = list(r)
                row[f"{codec} vs full"] = _mean_psnr(back, out)
                row[f"{codec} vs truth"] = _mean_psnr(back[1:], truth[1:])
            rows.append(row)
            print(" | ".join(f"{k} {v:.2f}" if isinstance(v, float) else str(v) for k, v in row.items()), flush=True)
    keys = [k for k in rows[0] if k != "clip"]
    print("mean | " + " | ".join(f"{k} {np.mean([r[k] for r in rows]):.2f}" for k in keys))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
