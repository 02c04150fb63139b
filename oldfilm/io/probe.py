"""``probe(path) -> VideoInfo``: what a video file or frame folder holds, without decoding it all."""

from __future__ import annotations

from pathlib import Path

from oldfilm.io.video import VideoInfo, open_video


def probe(path: str | Path) -> VideoInfo:
    """Size, fps, time base, frame count (when known), rotation, pixel format, audio presence."""
    with open_video(path) as reader:
        return reader.info
