"""The web app shows a late frame, its before/after and a colour preview by seeking to the keyframe before it,
not by decoding the film from its start, and shows the pictures reading in order gives (several GOPs,
B-frames, a variable frame rate with gaps); image sequences and streams without timestamps still work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from oldfilm.errors import InputError
from oldfilm.io.video import VideoReader, open_video
from oldfilm.ui import views
from oldfilm.ui.workspace import Workspace
from tests.batch.film import damaged, film
from tests.clips import add_dust, moving_clip, write_clip

T, GOP = 40, 8


def in_order(path: Path) -> list[np.ndarray]:
    with open_video(path) as r:
        return [a for a, _ in r.frames_with_pts()]


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Frames decoded after seeks; reading in order past the first frame fails the test."""
    count: list[int] = []
    after_seek, with_pts = VideoReader._after_seek, VideoReader.frames_with_pts

    def counting(self: VideoReader, target: int, keys: dict[int, int] | None) -> Iterator:  # type: ignore[type-arg]
        for item in after_seek(self, target, keys):
            count.append(item[1])
            yield item

    def first_only(self: VideoReader, start: int = 0, end: int | None = None) -> Iterator:  # type: ignore[type-arg]
        assert start == 0, f"frames {start}..{end} read in order from the start of the film"
        return with_pts(self, start, end)

    monkeypatch.setattr(VideoReader, "_after_seek", counting)
    monkeypatch.setattr(VideoReader, "frames_with_pts", first_only)
    return count


def test_late_previews_seek_and_match_reading_in_order(tmp_path: Path, decoded: list[int]) -> None:
    frames = add_dust(moving_clip(t=T, h=32, w=48, channels=3))
    stamps = np.cumsum(np.random.default_rng(1).choice([40, 40, 80, 200], T))  # 25 fps with gaps (ms)
    clip = write_clip(tmp_path / "film.mp4", frames, options={"g": str(GOP), "keyint_min": str(GOP),
                                                               "sc_threshold": "0", "bf": "2"},
                      pts=[int(p) for p in stamps])
    ws = Workspace(tmp_path / "work")
    video = ws.add_path(str(clip))
    ref = in_order(clip)
    assert video.frames == len(ref) == T
    for k in (T - 1, T // 2 + 1, GOP + 1):
        decoded.clear()
        assert np.array_equal(views.frame(video, k), ref[k]), k
        assert 1 <= len(decoded) <= 2 * GOP, (k, len(decoded))  # from the keyframe before k, not frame 0
    decoded.clear()
    k = T - 3
    ba = views.before_after(video, k, "classical")
    r = views.PREVIEW_RADIUS
    assert ba["window"] == [k - r, T] and ba["before"] == views.data_uri(ref[k])
    assert len(decoded) <= 2 * GOP + r
    key = cv2.cvtColor(ref[30], cv2.COLOR_RGB2BGR)
    ok, png = cv2.imencode(".png", np.stack([key[..., 0] // 2, key[..., 1], 255 - key[..., 2] // 3], -1))
    ref_colour = ws.set_colour(video.id, png.tobytes(), 30)
    decoded.clear()
    p = views.colour_preview(video, ref_colour, 30)
    assert p["window"] == [30 - views.COLOUR_SPAN, T] and len(decoded) <= 2 * GOP + views.COLOUR_SPAN


def test_image_sequence_reads_only_the_frames_shown(tmp_path: Path, decoded: list[int]) -> None:
    frames = moving_clip(t=12, h=32, w=48, channels=3)
    folder = tmp_path / "scan"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"reel.{100 + i:05d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    video = Workspace(tmp_path / "work").add_path(str(folder))
    ref = in_order(folder)
    assert video.frames == len(ref) == 12
    for k in (11, 5):
        assert np.array_equal(views.frame(video, k), ref[k]), k
    ba = views.before_after(video, 10, "classical")
    assert ba["window"] == [4, 12] and ba["before"] == views.data_uri(ref[10])


def test_stream_without_timestamps_is_read_in_order(tmp_path: Path) -> None:
    """A raw H.264 stream has no timestamps to seek by: its frames come from reading it in order."""
    frames = moving_clip(t=12, h=32, w=48, channels=3)
    raw = write_clip(tmp_path / "raw.h264", frames, fmt="h264", options={"g": "4", "bf": "2"})
    video = Workspace(tmp_path / "work").add_path(str(raw))
    ref = in_order(raw)
    assert video.frames == len(ref) == 12
    for k in (11, 5):
        assert np.array_equal(views.frame(video, k), ref[k]), k
    ba = views.before_after(video, 10, "classical")
    assert ba["window"] == [4, 12] and ba["before"] == views.data_uri(ref[10])


def test_a_seek_that_fails_falls_back_to_reading_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A seek that does not find its frame (a damaged packet) leaves its reader mid-film: the frames then come
    from reading a fresh one in order."""
    frames = moving_clip(t=T, h=32, w=48, channels=3)
    clip = write_clip(tmp_path / "film.mp4", frames, options={"g": str(GOP), "bf": "2"})
    frames_at = VideoReader.frames_at

    def failing(self: VideoReader, stamps: list[int], keys: dict[int, int] | None = None) -> Iterator:  # type: ignore[type-arg]
        for _ in frames_at(self, stamps, keys):
            raise InputError(f"{self.path}: frame at pts {stamps[0]} not found after seeking")
        yield from ()

    monkeypatch.setattr(VideoReader, "frames_at", failing)
    video = Workspace(tmp_path / "work").add_path(str(clip))
    ref = in_order(clip)
    for k in (T - 2, GOP + 3):
        assert np.array_equal(views.frame(video, k), ref[k]), k


def test_damage_between_the_keyframe_and_the_frame_reads_in_order(tmp_path: Path) -> None:
    """Reading in order drops the frames of packets that do not decode, so the frames after them move up: a
    seek that decodes such a packet gives way to reading in order, and shows the frame reading in order does."""
    bad = damaged(film(tmp_path / "in.mp4"), tmp_path / "bad.mp4", zeroed=512)
    with open_video(bad) as r:
        ref = list(r.frames_with_pts())
    with open_video(bad) as r:
        index = r.frame_index()
    assert index is not None
    stamps, got = index[0], [p for _, p in ref]
    lost = sorted(set(stamps) - set(got))
    key = {i: max(p for p in index[1].values() if p <= stamps[i]) for i in range(len(ref))}
    moved = [i for i in range(len(ref)) if got[i] != stamps[i] and stamps[i] in got  # moved up by a lost frame
             and key[i] < lost[0] < stamps[i]]  # ... and its seek decodes the damage
    assert lost and moved
    video = Workspace(tmp_path / "work").add_path(str(bad))
    for i in (moved[0], moved[-1]):
        assert np.array_equal(views.frame(video, i), ref[i][0]), i


def test_edit_list_that_drops_frames(tmp_path: Path, decoded: list[int]) -> None:
    """An MP4 whose first frames have negative timestamps: its edit list drops them, the container still
    counts them. The film has the frames reading in order gives (the app offers no frame it cannot show), they
    are numbered as reading in order numbers them, found by seeking, and not reported as lost to damage."""
    frames = moving_clip(t=T, h=32, w=48, channels=3)
    clip = write_clip(tmp_path / "film.mp4", frames, options={"g": str(GOP), "bf": "0"},
                      pts=[40 * (i - 3) for i in range(T)])
    video = Workspace(tmp_path / "work").add_path(str(clip))
    ref = in_order(clip)
    assert video.info["frame_count"] == T and video.frames == len(ref) == T - 3
    with open_video(clip) as r:
        assert len(list(r.frames_with_pts())) == T - 3 and r.frames_lost == 0, r.describe_losses()
    for k in (T - 4, GOP + 1):
        decoded.clear()
        assert np.array_equal(views.frame(video, k), ref[k]), k
        assert 1 <= len(decoded) <= 2 * GOP, (k, len(decoded))
    with pytest.raises(InputError, match="not in the film"):
        views.frame(video, T - 3)
