"""The films of a batch: every video in a folder, or the rows of a CSV/JSON manifest.

A manifest row has ``input`` (required) and optionally ``output``, ``method``, ``preset``, ``weights``, ``refs`` and
``ref_frames`` (colour keyframes and their frame numbers; ``;``-separated in CSV, lists in JSON) and
``exemplar``. JSON is a list of such objects (or ``{"films": [...]}``). Relative paths are relative to the
manifest. A bad manifest is refused as a whole, with one line naming the row, before anything runs.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oldfilm.errors import InputError, UsageError
from oldfilm.restore.api import METHODS

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".mpg", ".mpeg", ".m4v", ".webm", ".ts", ".nut", ".mxf",
                  ".ogv", ".wmv", ".flv", ".dv", ".y4m")
FIELDS = ("input", "output", "method", "preset", "weights", "refs", "ref_frames", "exemplar")


@dataclass(frozen=True)
class FilmJob:
    """One film of a batch.

    Attributes:
        input: the film (file or frame folder).
        output: where its restoration goes (a video file).
        method: "classical", "rtn" or "none".
        preset: RTN preset.
        weights: RTN weights file (None: the shipped ones).
        refs: coloured keyframes (the film is then coloured too, in one task: colour propagates through it).
        ref_frames: frame number of each ref.
        exemplar: a colour photo of a similar scene.
    """

    input: Path
    output: Path
    method: str = "classical"
    preset: str = "auto"
    weights: Path | None = None
    refs: tuple[Path, ...] = ()
    ref_frames: tuple[int, ...] = ()
    exemplar: Path | None = None

    @property
    def colour(self) -> bool:
        return bool(self.refs or self.exemplar)


def load_jobs(src: str | Path, out_dir: str | Path, method: str = "classical", preset: str = "auto",
              weights: str | Path | None = None) -> list[FilmJob]:
    """The films of ``src`` (a folder or a .csv/.json manifest), each with its output in ``out_dir``;
    ``method``, ``preset`` and ``weights`` where a row does not say."""
    src, out_dir = Path(src), Path(out_dir)
    if not src.exists():
        raise InputError(f"{src}: no such folder or manifest")
    if src.is_dir():
        films = [p for p in sorted(src.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")]
        if not films:
            raise InputError(f"{src}: no video files ({', '.join(VIDEO_SUFFIXES[:4])}, ...) in this folder")
        rows: list[dict[str, Any]] = [{"input": str(p)} for p in films]
    elif src.suffix.lower() == ".csv":
        rows = _read_csv(src)
    elif src.suffix.lower() == ".json":
        rows = _read_json(src)
    else:
        raise UsageError(f"{src}: give a folder of films or a .csv/.json manifest")
    if not rows:
        raise InputError(f"{src}: the manifest lists no films")
    if weights is not None and not Path(weights).is_file():
        raise InputError(f"{weights}: no such weights file")
    defaults = {"method": method, "preset": preset, "weights": str(weights) if weights else None}
    jobs = [_job(row, i + 1, src, out_dir, defaults) for i, row in enumerate(rows)]
    seen: dict[Path, int] = {}
    for i, job in enumerate(jobs, 1):
        key = job.output.resolve()
        if key in seen:
            raise InputError(f"{src}: films {seen[key]} and {i} would both be written to {job.output}")
        seen[key] = i
    return jobs


def _read_csv(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "input" not in header:
                raise InputError(f"{path}: the CSV header has no 'input' column (columns: {', '.join(FIELDS)})")
            rows = []
            for row in reader:
                if None in row:
                    raise InputError(f"{path}: line {reader.line_num} has more cells than the header")
                rows.append({k.strip(): (v or "").strip() for k, v in row.items() if (v or "").strip()})
            return rows
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not a readable CSV file ({e})") from None


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    if isinstance(data, dict) and isinstance(data.get("films"), list):
        data = data["films"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"{path}: expected a list of films (objects with an 'input'), or {{\"films\": [...]}}")
    return data


def _job(row: dict[str, Any], n: int, manifest: Path, out_dir: Path, defaults: dict[str, Any]) -> FilmJob:
    where = f"{manifest}: film {n}"
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    if not row.get("input"):
        raise InputError(f"{where}: no input")
    base = manifest.parent if manifest.is_file() else Path()
    inp = _path(base, row["input"])
    if not inp.exists():
        raise InputError(f"{where}: {inp} does not exist")
    m = str(row.get("method") or defaults["method"])
    if m not in METHODS:
        raise InputError(f"{where}: unknown method {m!r} (choose from {', '.join(METHODS)})")
    out = row.get("output")
    output = out_dir / _path(Path(), out) if out else out_dir / (inp.name if inp.is_file() else inp.name + ".mkv")
    refs = tuple(_path(base, r) for r in _list(row.get("refs")))
    try:
        frames = tuple(int(f) for f in _list(row.get("ref_frames")))
    except ValueError:
        raise InputError(f"{where}: ref_frames must be frame numbers") from None
    if len(frames) > len(refs):
        raise InputError(f"{where}: {len(frames)} ref_frames for {len(refs)} refs")
    for r in refs:
        if not r.is_file():
            raise InputError(f"{where}: colour keyframe {r} does not exist")
    exemplar = _path(base, row["exemplar"]) if row.get("exemplar") else None
    if exemplar is not None and not exemplar.is_file():
        raise InputError(f"{where}: exemplar {exemplar} does not exist")
    weights = _path(base, row["weights"]) if row.get("weights") else defaults["weights"]
    if weights is not None and not Path(weights).is_file():
        raise InputError(f"{where}: weights {weights} do not exist")
    return FilmJob(inp, output, m, str(row.get("preset") or defaults["preset"]),
                   Path(weights) if weights else None, refs, frames, exemplar)


def _path(base: Path, value: Any) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base / p


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [v.strip() for v in str(value).split(";") if v.strip()]
