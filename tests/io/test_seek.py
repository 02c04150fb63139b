"""Finding frames by number without decoding from the start: ``VideoReader.frame_index`` + ``frames_at`` give
exactly the pictures (and timestamps) a read in order gives, over several GOPs, with B-frames, a variable
frame rate with gaps, an open-GOP MPEG-2 transport stream (whose seeks land past the frame asked for) and an
image sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oldfilm.io.video import VideoReader, VideoWriter, info_for, open_video
from tests.clips import moving_clip, write_clip

T = 48
GOP = 8


def films(tmp: Path) -> dict[str, Path]:
    frames = moving_clip(t=T, h=32, w=48, channels=3, step=3)
    gaps = np.random.default_rng(0).choice([40, 40, 40, 80, 200], T)  # 25 fps, with dropped frames and holds
    x264 = {"g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0", "bf": "2"}
    mpeg2 = {"g": str(GOP), "bf": "2"}  # open GOPs: B-frames after a keyframe shown before it
    seq = tmp / "dpx"
    with VideoWriter(seq, info_for(frames[0]), codec="dpx") as w:
        for f in frames:
            w.write(f)
    return {
        "h264-vfr": write_clip(tmp / "vfr.mp4", frames, options=x264, pts=[int(p) for p in np.cumsum(gaps)]),
        "mpeg2-open-gop": write_clip(tmp / "open.ts", frames, codec="mpeg2video", options=mpeg2, fmt="mpegts"),
        "mpeg2-open-gop-mp4": write_clip(tmp / "open.mp4", frames, codec="mpeg2video", options=mpeg2),
        "dpx-sequence": seq,
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return films(tmp_path_factory.mktemp("seek"))


def in_order(path: Path) -> list[tuple[np.ndarray, int]]:
    with open_video(path) as r:
        return list(r.frames_with_pts())


@pytest.mark.parametrize("name", ["h264-vfr", "mpeg2-open-gop", "mpeg2-open-gop-mp4", "dpx-sequence"])
def test_frames_by_number_are_the_frames_read_in_order(made: dict[str, Path], name: str) -> None:
    ref = in_order(made[name])
    with open_video(made[name]) as r:
        index = r.frame_index()
    assert index is not None and index[0] == [p for _, p in ref]
    stamps, keys = index
    with open_video(made[name]) as r:
        for k in range(T - 1, -1, -1):  # backwards: every frame is a fresh seek
            got = list(r.frames_at(stamps[k: k + 2], keys))
            assert [p for _, p in got] == stamps[k: k + 2]
            assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(got, ref[k: k + 2], strict=True)), k


def test_a_late_frame_decodes_about_a_gop_not_the_film(made: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    after_seek = VideoReader._after_seek

    def counting(self: VideoReader, target: int, keys: dict[int, int] | None):  # type: ignore[no-untyped-def]
        for item in after_seek(self, target, keys):
            decoded.append(item[1])
            yield item

    monkeypatch.setattr(VideoReader, "_after_seek", counting)
    for name in ("h264-vfr", "mpeg2-open-gop"):
        with open_video(made[name]) as r:
            stamps, keys = r.frame_index() or ([], {})
            decoded.clear()
            assert len(list(r.frames_at(stamps[T - 3:], keys))) == 3
        assert 3 <= len(decoded) <= 3 * GOP, (name, decoded)  # the MPEG-2 seek lands late once, backs off a GOP


def test_no_index_without_timestamps(tmp_path: Path) -> None:
    """A raw H.264 stream has no timestamps: frames can only be found by reading in order."""
    raw = write_clip(tmp_path / "raw.h264", moving_clip(t=12, h=32, w=48, channels=3), fmt="h264")
    with open_video(raw) as r:
        assert r.frame_index() is None
