"""A film's plan: one sequential read gives every frame's timestamp, scene-cut flag and mean luma, and the
frames a damaged file lost; the plan then cuts the film into chunks that restore independently.

Why a first pass: the classical restorer's stages are windows bounded by scene cuts (deflicker ±4 frames,
repair ±2) plus two pieces of state carried along a shot — the cut detector's recent level and the line
scratch detector's running coverage. Chunk boundaries at the film's own cuts reset both, exactly as the
whole-film run does; a shot longer than a chunk is split inside, with context frames decoded before and
after (outputs dropped) and the cut flags of the first pass given to the restorer (see ``split``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from oldfilm.colorspace import rgb_to_luma
from oldfilm.errors import UsageError
from oldfilm.io.atomic import write_bytes_atomic
from oldfilm.io.conform import conform
from oldfilm.io.video import open_video
from oldfilm.restore.scenes import SceneDetector

SCRATCH_WARMUP = 42
"""Frames the line-scratch detector needs before its running coverage (weight 0.6 per frame) forgets its
start: 0.6**42 ≈ 5e-10, far below float32 resolution, so a warmed-up piece matches the whole (measured
bit-exact in tests/batch/test_chunked.py). These frames only pass the cheap ingest stage (``prime``)."""


RECURSIVE_WARMUP = 24
"""Frames of full work before a piece's first output when the classical restorer blends in its previous
restored frame (``ClassicalConfig.recursive``): that recursion weighs the past by at most 1/2 a frame, so a
start from nothing has faded below float32 resolution (2**-24) after 24 frames and the piece matches the whole
exactly (tests/batch/test_chunked.py)."""


def full_work(method: str, options: dict[str, Any]) -> int:
    """Context frames before a piece that must pass every stage: the windows' reach and the recursion's
    warm-up (the rest of the lead only warms up the ingest stage's state)."""
    if method != "classical":
        return context(method, options)[0]
    from oldfilm.restore.classical import ClassicalConfig

    cfg = ClassicalConfig(**options)
    return _reach(cfg) + (RECURSIVE_WARMUP if cfg.recursive > 0 else 0)


def _reach(cfg: Any) -> int:
    """Frames a classical output frame's windows reach on either side."""
    reach = cfg.radius + (cfg.deflicker_radius if cfg.deflicker else 0)
    return reach + (int(math.ceil(2.5 * cfg.stabilize_sigma)) if cfg.stabilize else 0)


@dataclass(frozen=True)
class Chunk:
    """Output frames [start, end) of a film, restored from frames [start - lead, end + tail)."""

    index: int
    start: int
    end: int
    lead: int = 0
    tail: int = 0

    @property
    def frames(self) -> int:
        return self.end - self.start

    @property
    def first(self) -> int:
        return self.start - self.lead

    @property
    def stop(self) -> int:
        return self.end + self.tail


@dataclass
class FilmPlan:
    """What the first pass learnt about a film (in the frame range [start, end) it restores)."""

    source: str
    signature: str  # input_signature(source)
    start: int
    end: int | None
    fields: str = "auto"  # oldfilm.io.fields mode the film's frames were made with
    direct: bool = True  # the film's frames are the decoder's own (no field processing): chunks may seek
    pts: list[int | None] = field(default_factory=list)  # timestamp of each frame (None: evenly spaced)
    cuts: list[bool] = field(default_factory=list)  # each frame starts a scene (the project's detector)
    means: list[float] = field(default_factory=list)  # mean luma of each input frame (the flicker metric)
    losses: list[dict[str, int]] = field(default_factory=list)  # FrameLoss fields: after, pts, count
    lost_message: str = ""

    @property
    def frames(self) -> int:
        return len(self.pts)

    @property
    def lost(self) -> int:
        return sum(g["count"] for g in self.losses)

    def save(self, path: Path) -> None:
        write_bytes_atomic(path, json.dumps(asdict(self)).encode())

    @classmethod
    def load(cls, path: Path) -> FilmPlan:
        return cls(**json.loads(path.read_text()))


def input_signature(src: str | Path) -> str:
    """Identity of an input without hashing it all: size, mtime and a hash of its first and last MiB (a
    folder: its files' names, sizes and mtimes). Any edit, copy-over or truncation changes it."""
    p = Path(src)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.iterdir()):
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns};".encode())
        return h.hexdigest()[:32]
    st = p.stat()
    h.update(f"{st.st_size}:{st.st_mtime_ns}:".encode())
    with p.open("rb") as fh:
        h.update(fh.read(1 << 20))
        if st.st_size > 1 << 20:
            fh.seek(max(1 << 20, st.st_size - (1 << 20)))
            h.update(fh.read())
    return h.hexdigest()[:32]


@cache
def code_version() -> str:
    """Version and a hash of the source that decides restored pixels (restore, flow, models, colour, video
    decoding, this package): a chunk made by other code is made again."""
    import oldfilm

    root = Path(oldfilm.__file__).parent
    h = hashlib.sha256(oldfilm.__version__.encode())
    files = [root / "colorspace.py", root / "imgops.py", root / "api.py"]
    files += [root / "io" / f for f in ("video.py", "images.py", "info.py", "transcode.py", "sequences.py")]
    for sub in ("restore", "flow", "models", "colorize", "batch"):
        files += sorted((root / sub).glob("*.py"))
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def digest(obj: Any) -> str:
    """A short, stable hash of JSON-able settings."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def scan_film(src: str | Path, start: int = 0, end: int | None = None, fields: str = "auto",
              progress: Callable[[int, int | None], None] | None = None) -> FilmPlan:
    """Read the film once, as ``oldfilm.restore`` does (``conform``: range and fields): timestamps, cut
    flags (``SceneDetector``, as the restorers run it), mean luma, and the frames a damaged file lost.
    ``progress(done, total)`` after each frame."""
    plan = FilmPlan(source=str(src), signature=input_signature(src), start=start, end=end, fields=fields)
    detector = SceneDetector()
    with open_video(src) as reader:
        film = conform(reader, start, end, fields=fields)
        # the reader's own generator when no field processing applies (then chunks can seek to their frames)
        plan.direct = getattr(film.pairs, "__qualname__", "") == "VideoReader.frames_with_pts"
        total = film.info.frame_count
        for arr, pts in film.pairs:
            plan.pts.append(None if pts is None else int(pts))
            plan.cuts.append(bool(detector(arr)))
            plan.means.append(float(rgb_to_luma(arr).mean()))
            if progress is not None:
                progress(len(plan.pts), total)
        plan.losses = [asdict(g) for g in reader.losses]
        plan.lost_message = reader.describe_losses()
    return plan


def load_or_scan(src: str | Path, work: Path, start: int = 0, end: int | None = None, fields: str = "auto",
                 progress: Callable[[int, int | None], None] | None = None) -> FilmPlan:
    """The plan kept in the work folder when it was made for this very input, range and fields mode, else
    a new scan (saved there)."""
    key = digest([input_signature(src), start, end, fields, code_version()])
    path = work / f"plan-{key}.json"
    if path.is_file():
        try:
            return FilmPlan.load(path)
        except (ValueError, TypeError, OSError):
            pass  # a damaged record: scan again
    plan = scan_film(src, start, end, fields, progress)
    work.mkdir(parents=True, exist_ok=True)
    plan.save(path)
    return plan


def split(cuts: list[bool], max_frames: int, lead: int, tail: int) -> list[Chunk]:
    """Chunks of at most ``max_frames`` output frames. Whole scenes are grouped up to that length and cut
    at scene cuts (no context needed: every window stops at a cut); a longer scene is cut into equal pieces,
    each with up to ``lead`` frames of context before and ``tail`` after, taken from the same scene."""
    if max_frames < 1:
        raise ValueError("max_frames must be ≥ 1")
    n = len(cuts)
    starts = [i for i, c in enumerate(cuts) if c or i == 0] + [n]
    bounds: list[tuple[int, int, int, int]] = []  # start, end, lead, tail
    cur = 0
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        if b - a > max_frames:
            if a > cur:
                bounds.append((cur, a, 0, 0))
            pieces = -(-(b - a) // max_frames)
            edges = [a + round(k * (b - a) / pieces) for k in range(pieces + 1)]
            for s, e in zip(edges[:-1], edges[1:], strict=True):
                bounds.append((s, e, min(lead, s - a), min(tail, b - e)))
            cur = b
        elif b - cur > max_frames:
            bounds.append((cur, a, 0, 0))
            cur = a
    if cur < n:
        bounds.append((cur, n, 0, 0))
    return [Chunk(i, s, e, ld, tl) for i, (s, e, ld, tl) in enumerate(bounds)]


def context(method: str, options: dict[str, Any]) -> tuple[int, int]:
    """(lead, tail) context frames a chunk split inside a scene needs for ``method``'s windows and state.
    RTN carries a recurrent state along the whole shot: its chunks match the whole run only approximately
    (its look-ahead and a warm-up of one network chunk are given)."""
    if method == "classical":
        from oldfilm.restore.classical import ClassicalConfig

        cfg = ClassicalConfig(**options)
        reach = _reach(cfg)
        warm = max(SCRATCH_WARMUP if cfg.line_scratches else 0, RECURSIVE_WARMUP if cfg.recursive > 0 else 0)
        return reach + warm, reach
    if method == "none":
        return 0, 0
    from oldfilm.restore.engine import EngineConfig

    try:
        cfg = EngineConfig(**options)
    except TypeError as e:
        raise UsageError(f"bad option for the rtn method: {e}") from None
    return cfg.chunk + 8, cfg.lookahead + 8


def work_dir(dst: str | Path) -> Path:
    """The hidden work folder beside an output: ``.NAME.oldfilm-work``."""
    d = Path(dst)
    return d.parent / f".{d.name}.oldfilm-work"


def clean_partials(work: Path) -> None:
    """Remove temporaries that killed runs left in a work folder (their process is gone)."""
    for p in work.glob(".*.oldfilm-partial-*"):
        pid = p.name.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            if p.is_dir():
                import shutil

                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
