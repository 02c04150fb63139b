"""How long the web app takes to show a late frame of a long film: reading in order from the first frame (what
``oldfilm.ui.views`` did before) against seeking to the keyframe before it (``VideoReader.frame_index`` +
``frames_at``, what it does now).

Makes a long film by stream-copying a packaged clip N times end to end (no re-encode; every copy starts on a
keyframe), opens it in a throw-away work folder, and times, for a frame near the end:
  frame        the frame alone (the scrubber's picture);
  window       the 13 frames a before/after restores (``PREVIEW_RADIUS`` each side), read only;
  before/after ``views.before_after`` with the classical method (read + restore + PNG);
each in order and by seeking. The first seek pays the film's one pass over its packets (``frame_index``,
kept for later requests): it is timed on its own as "index". Checks that both ways give the same pictures.

    OMP_NUM_THREADS=1 python benchmarks/ui_seek.py --clip bikes --copies 40
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from oldfilm.bench.suite import machine  # noqa: E402
from oldfilm.io.sources import packaged_clip  # noqa: E402
from oldfilm.io.video import open_video  # noqa: E402
from oldfilm.ui import views  # noqa: E402
from oldfilm.ui.workspace import Video, Workspace  # noqa: E402


def concat(src: Path, out: Path, copies: int) -> None:
    """``src``'s video stream ``copies`` times end to end, by packet copy."""
    with av.open(str(src)) as i:
        s = i.streams.video[0]
        packets = [p for p in i.demux(s) if p.size]
        step = round(1 / (s.average_rate * s.time_base))
        span = max(p.pts for p in packets) + step - min(p.pts for p in packets)
        with av.open(str(out), "w") as o:
            t = o.add_stream_from_template(s)
            for k in range(copies):
                for p in packets:
                    q = av.Packet(bytes(p))
                    q.pts, q.dts, q.time_base, q.stream = p.pts + k * span, p.dts + k * span, p.time_base, t
                    q.is_keyframe = p.is_keyframe
                    o.mux(q)


def in_order(video: Video, start: int, end: int) -> list[np.ndarray]:
    """The old ``views._frames``: decode from the first frame."""
    with open_video(video.source) as reader:
        return [arr for arr, _ in reader.frames_with_pts(start, end)]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default="bikes", help="packaged clip to repeat")
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--back", type=int, default=10, help="the frame timed is this many before the end")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / f"{args.clip}x{args.copies}.mp4"
        concat(packaged_clip(args.clip), film, args.copies)
        video = Workspace(Path(tmp) / "work").add_path(str(film))
        k = video.frames - args.back
        r = views.PREVIEW_RADIUS
        print(f"# {machine()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        print(f"# {film.name}: {video.frames} frames {video.info['width']}x{video.info['height']}, "
              f"{film.stat().st_size / 2**20:.0f} MiB; frame {k}")
        st = film.stat()
        t_index, _ = timed(lambda: views._index(film, st.st_mtime_ns, st.st_size))
        rows = {"frame": (lambda f: f(video, k, k + 1)), "window": (lambda f: f(video, k - r, k + r + 1))}
        print(f"{'':14s} {'in order':>9s} {'seek':>9s}")
        print(f"{'index (once)':14s} {'':>9s} {t_index:8.2f}s")
        for name, call in rows.items():
            t_old, old = timed(lambda call=call: call(in_order))
            t_new, new = timed(lambda call=call: call(views._frames))
            assert len(old) == len(new) and all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
            print(f"{name:14s} {t_old:8.2f}s {t_new:8.2f}s")
        seek = views._frames
        views._frames = in_order  # type: ignore[assignment]
        t_old, old = timed(lambda: views.before_after(video, k, "classical"))
        views._frames = seek  # type: ignore[assignment]
        t_new, new = timed(lambda: views.before_after(video, k, "classical"))
        assert (old["before"], old["after"]) == (new["before"], new["after"])
        print(f"{'before/after':14s} {t_old:8.2f}s {t_new:8.2f}s   (restore alone: {old['seconds']:.2f}s, "
              f"{new['seconds']:.2f}s)")
        print("# same pictures both ways: yes")


if __name__ == "__main__":
    main()
