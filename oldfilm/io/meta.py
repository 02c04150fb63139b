"""What a source says about its pictures besides the pixels: colour tags and timecode.

Colour tags are FFmpeg's enum values (``AVColorPrimaries``, ``AVColorTransferCharacteristic``,
``AVColorSpace``, ``AVColorRange``; 2 / 0 mean unspecified), read from the decoder and written to the
encoder unchanged. Timecode is SMPTE ``HH:MM:SS:FF`` (``;`` before the frames for drop-frame).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

_MATRIX_NAMES = {1: "ITU709", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
_NAMES = {
    "primaries": {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020",
                  11: "smpte431", 12: "smpte432"},
    "transfer": {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
                 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"},
    "matrix": {0: "gbr", 1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc"},
    "range": {1: "tv", 2: "pc"},
}


@dataclass(frozen=True)
class ColourTags:
    """A stream's colour description (FFmpeg enum values; unspecified is 2 for the first three, 0 for range).

    Attributes:
        primaries: colour primaries (1 = BT.709).
        transfer: transfer characteristic (1 = BT.709, 8 = linear, 13 = sRGB).
        matrix: YUV matrix (1 = BT.709, 5/6 = BT.601, 0 = RGB).
        range: 1 = limited ("tv"), 2 = full ("pc").
    """

    primaries: int = 2
    transfer: int = 2
    matrix: int = 2
    range: int = 0

    @classmethod
    def of(cls, obj: Any) -> ColourTags:
        """Tags of a codec context or a decoded frame."""
        return cls(int(obj.color_primaries or 2), int(obj.color_trc or 2), int(obj.colorspace or 2),
                   int(obj.color_range or 0))

    @property
    def specified(self) -> bool:
        return (self.primaries, self.transfer, self.matrix, self.range) != (2, 2, 2, 0)

    def apply(self, obj: Any, *, rgb: bool) -> None:
        """Tag a codec context or frame; an RGB encoding (``rgb``) gets matrix 0 and full range."""
        obj.color_primaries, obj.color_trc = self.primaries, self.transfer
        obj.colorspace = 0 if rgb else self.matrix
        obj.color_range = 2 if rgb else (1 if self.range in (0, 1) else self.range)

    def yuv_matrix(self) -> str:
        """The name PyAV's ``reformat(dst_colorspace=...)`` takes for RGB → YUV (BT.601 when unknown, as
        FFmpeg assumes on reading)."""
        return _MATRIX_NAMES.get(self.matrix, "ITU601")

    def describe(self) -> str:
        if not self.specified:
            return "unspecified"
        parts = [(k, getattr(self, k)) for k in ("primaries", "transfer", "matrix", "range")]
        return ", ".join(f"{k} {_NAMES[k].get(v, '?' if v in (0, 2) else v)}" for k, v in parts)


_TC = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


def parse_timecode(tc: str | None) -> str | None:
    """A well-formed SMPTE timecode string, or None."""
    return tc.strip() if tc and _TC.match(tc.strip()) else None


def timecode_from(*dicts: Any) -> str | None:
    """The first timecode tag among metadata dictionaries (stream, container, frame)."""
    for d in dicts:
        for key in ("timecode", "TIMECODE", "Timecode"):
            tc = parse_timecode(d.get(key)) if d else None
            if tc:
                return tc
    return None


def timecode_add(tc: str | None, frames: int, fps: Fraction) -> str | None:
    """``tc`` advanced by ``frames`` at ``fps`` (drop-frame counting when ``tc`` has ``;``)."""
    if tc is None or frames == 0:
        return tc
    m = _TC.match(tc)
    if m is None:
        return tc
    h, mi, s, sep, f = m.groups()
    base = max(1, round(float(fps)))
    drop = sep in ";," and base in (30, 60)
    hh, mm, ss, ff = int(h), int(mi), int(s), int(f)
    n = ((hh * 60 + mm) * 60 + ss) * base + ff
    if drop:  # SMPTE 12M: drop 2 (4 at 60) frame numbers each minute except every tenth
        d = base // 15
        minutes = hh * 60 + mm
        n -= d * (minutes - minutes // 10)
    n = (n + frames) % (24 * 3600 * base)
    if drop:
        d = base // 15
        per10, per1 = base * 600 - 9 * d, base * 60 - d
        tens, rem = divmod(n, per10)
        n += 9 * d * tens + (d * ((rem - d) // per1) if rem > d else 0)
    ff, s_total = n % base, n // base
    return f"{s_total // 3600:02d}:{s_total // 60 % 60:02d}:{s_total % 60:02d}{sep}{ff:02d}"


def timecode_rescale(tc: str | None, src_fps: Fraction, dst_fps: Fraction) -> str | None:
    """``tc`` counted at ``dst_fps`` instead of ``src_fps``, at the same moment (the frame field scaled down;
    non-drop at rates without drop-frame): for inverse telecine and re-timing."""
    m = _TC.match(tc) if tc else None
    src, dst = max(1, round(float(src_fps))), max(1, round(float(dst_fps)))
    if m is None or src == dst:
        return tc
    h, mi, s, sep, f = m.groups()
    sep = sep if dst in (30, 60) else ":"
    return f"{h}:{mi}:{s}{sep}{min(dst - 1, int(f) * dst // src):02d}"
