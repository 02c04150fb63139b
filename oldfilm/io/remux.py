"""Copy audio and subtitle streams from a source into an output container without re-encoding, packet by
packet, interleaved with the video as it is written (so memory stays bounded for any length)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

log = logging.getLogger("oldfilm")


class StreamCopier:
    """Mux the source's audio/subtitle packets from ``start_time`` (source seconds) on, shifted so the output
    starts at 0. ``feed_until(t)`` copies packets up to output time ``t`` (None: all remaining)."""

    def __init__(self, source: Path, out: Any, start_time: float = 0.0):
        self._src = av.open(str(source), metadata_errors="ignore")
        self._out = out
        self._start = start_time
        self._map: dict[int, Any] = {}
        for s in list(self._src.streams.audio) + list(self._src.streams.subtitles):
            try:
                self._map[s.index] = out.add_stream_from_template(s)
            except (ValueError, av.error.FFmpegError) as e:
                log.warning("%s: stream %d (%s) cannot go into this container and is dropped: %s",
                            source, s.index, s.type, e)
        self._packets: Iterator[Any] | None = self._src.demux(*[self._src.streams[i] for i in self._map]) \
            if self._map else None
        self._pending: Any = None

    def feed_until(self, t: float | None) -> None:
        while self._packets is not None:
            pkt = self._pending or next(self._packets, None)
            self._pending = None
            if pkt is None:
                self._packets = None
                return
            if pkt.dts is None and pkt.pts is None:
                continue  # the demuxer's flush packet
            stamp = pkt.pts if pkt.pts is not None else pkt.dts
            when = float(stamp * pkt.time_base)
            if when < self._start:
                continue
            if t is not None and when - self._start > t:
                self._pending = pkt
                return
            out_stream = self._map[pkt.stream.index]
            shift = round(self._start / pkt.time_base)
            if pkt.pts is not None:
                pkt.pts -= shift
            if pkt.dts is not None:
                pkt.dts -= shift
            pkt.stream = out_stream
            self._out.mux(pkt)

    def close(self) -> None:
        self._src.close()
