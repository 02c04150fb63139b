"""The registry of packaged footage: roles, the held-out half of the 1906 film, packet-exact cutting."""

import numpy as np
import pytest

from oldfilm.errors import InputError
from oldfilm.io import sources
from oldfilm.io.sources import CLIPS, EVAL_CLIPS, REAL_FILMS, cut_packets, packaged_clip
from oldfilm.io.video import open_video
from tests.clips import moving_clip, write_clip


def test_registry_roles() -> None:
    assert {"diver", "motion", "balle", "lego", "bikes"} <= set(EVAL_CLIPS)
    assert REAL_FILMS == ("calais1906",) and CLIPS["calais1906"].max_frames == 144
    assert all(CLIPS[n].role == "eval" for n in EVAL_CLIPS + REAL_FILMS)
    assert not set(EVAL_CLIPS) & set(REAL_FILMS)


def test_cut_packets_keeps_first_frames_exactly(tmp_path) -> None:
    src = write_clip(tmp_path / "a.mkv", moving_clip(t=10, h=32, w=48, channels=3), codec="mpeg4")
    cut_packets(src, tmp_path / "b.mkv", 6)
    with open_video(src) as a, open_video(tmp_path / "b.mkv") as b:
        full, first = list(a), list(b)
    assert len(first) == 6 and all(np.array_equal(x, y) for x, y in zip(full, first, strict=False))
    with pytest.raises(InputError):
        cut_packets(src, tmp_path / "c.mkv", 11)


def test_held_out_frames_never_reach_the_cache(tmp_path, monkeypatch) -> None:
    """A clip with max_frames is cached cut: the frames after it are not readable from the cache."""
    clip = write_clip(tmp_path / "film.mkv", moving_clip(t=9, h=32, w=48, channels=3), codec="mpeg4")
    monkeypatch.setenv("OLDFILM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(CLIPS, "film", sources.PackagedClip("x=1", "film.mkv", "eval", "deb", max_frames=4,
                                                            clean=False))
    monkeypatch.setattr(sources, "fetch_deb", lambda clip, tmp: clip_copy(clip, tmp))

    def clip_copy(_clip, tmp):  # stands in for apt-get download + dpkg-deb -x
        dst = tmp / "film.mkv"
        dst.write_bytes(clip.read_bytes())
        return dst

    path = packaged_clip("film")
    with open_video(path) as r:
        assert sum(1 for _ in r) == 4
    assert [p.name for p in (tmp_path / "cache" / "sources").iterdir()] == [path.name]
    with pytest.raises(InputError):
        packaged_clip("no-such-clip")


def test_a_folder_of_frames_is_cached_as_a_folder_and_reads_as_a_clip(tmp_path, monkeypatch) -> None:
    """The dlib office frames (a training source) are a folder of JPEGs inside their Debian package."""
    import cv2

    assert CLIPS["office"].role == "train" and CLIPS["office"].kind == "deb"
    monkeypatch.setenv("OLDFILM_CACHE", str(tmp_path / "cache"))

    def frames(_clip, tmp):  # stands in for apt-get download + dpkg-deb -x
        folder = tmp / "tree" / "video_frames"
        folder.mkdir(parents=True)
        for i, f in enumerate(moving_clip(t=5, h=24, w=32, channels=1)):
            cv2.imwrite(str(folder / f"frame_{100 + i:06d}.jpg"), f)
        return folder

    monkeypatch.setattr(sources, "fetch_deb", frames)
    path = packaged_clip("office")
    assert path.is_dir() and path.name == "office-video_frames"
    with open_video(path) as r:
        assert sum(1 for _ in r) == 5
