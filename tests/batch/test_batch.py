"""``oldfilm batch`` on Ray: a folder with a corrupt file finishes the others and reports it, a killed worker's
chunk is retried without redoing finished ones, bad manifests get one line and exit 2."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from oldfilm.api import restore
from oldfilm.batch.chunked import restore_chunked
from oldfilm.batch.manifest import load_jobs
from oldfilm.batch.plan import work_dir
from oldfilm.batch.runner import FilmReport, run_batch
from oldfilm.cli import main
from tests.batch.film import damaged, decoded, film, same
from tests.clips import moving_clip, write_clip


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    """One local Ray (2 CPUs) for the module: starting one takes seconds."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_folder_with_a_corrupt_file_finishes_the_others(ray_session: None, tmp_path: Path) -> None:
    films = tmp_path / "films"
    films.mkdir()
    film(films / "a.mkv", shot=20, second=6, seed=3)
    film(films / "b.mp4", shot=12, second=4, audio=True, seed=5)
    (films / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    damaged(write_clip(tmp_path / "c.mp4", moving_clip(t=40, h=96, w=128, channels=3)), films / "c.mp4")
    (films / "notes.txt").write_text("not a film")
    out = tmp_path / "out"
    reports = run_batch(films, out, chunk_frames=10, codec="ffv1", progress=False)
    status = {Path(r.input).name: r.status for r in reports}
    assert status == {"a.mkv": "ok", "b.mp4": "ok", "broken.mp4": "failed", "c.mp4": "ok"}
    hurt = next(r for r in reports if r.input.endswith("c.mp4"))
    assert hurt.lost_frames > 0 and f"{hurt.lost_frames} frame(s) lost" in hurt.lost_where
    bad = next(r for r in reports if r.status == "failed")
    assert "broken.mp4" in bad.error and "\n" not in bad.error
    assert not (out / "broken.mp4").exists()
    report = json.loads((out / "batch-report.json").read_text())
    assert (report["ok"], report["failed"], report["frames"]) == (3, 1, 26 + 16 + 40 - hurt.lost_frames)
    assert next(r for r in report["results"] if r["status"] == "ok")["flicker_out"] is not None
    assert "broken.mp4" in (out / "batch-report.csv").read_text()
    assert not work_dir(out / "a.mkv").exists()
    again = run_batch(films, out, chunk_frames=10, progress=False)  # a rerun skips what is done
    assert [r.status for r in again] == ["exists", "exists", "failed", "exists"]


def test_killed_worker_is_retried_and_finished_chunks_are_kept(ray_session: None, tmp_path: Path) -> None:
    films = tmp_path / "films"
    films.mkdir()
    src = film(films / "long.mkv", shot=40, second=8, seed=7)
    out = tmp_path / "out"
    work = work_dir(out / "long.mkv")
    seen: dict[str, int] = {}
    at_end: dict[str, int] = {}
    result: list[list[FilmReport]] = []

    def chunk_files() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in work.glob("c*.mkv")} if work.is_dir() else {}

    def on_event(kind: str, report: FilmReport) -> None:
        at_end.update(chunk_files())

    runner = threading.Thread(target=lambda: result.append(
        run_batch(films, out, chunk_frames=8, codec="ffv1", progress=False, on_event=on_event)))
    runner.start()
    killed = None
    deadline = time.monotonic() + 120
    while runner.is_alive() and killed is None and time.monotonic() < deadline:
        done = chunk_files()
        partial = [p for p in work.glob(".c*.oldfilm-partial-*")] if done and work.is_dir() else []
        if partial:
            seen = done
            killed = int(partial[0].name.rsplit("-", 1)[-1].split(".")[0])
            os.kill(killed, signal.SIGKILL)  # a Ray worker, in the middle of a chunk
        time.sleep(0.005)
    runner.join(300)
    assert killed is not None and killed != os.getpid()
    (report,) = result[0]
    assert report.status == "ok", report.error
    assert all(at_end[name] == t for name, t in seen.items())  # finished chunks were not made again
    restore(src, tmp_path / "whole.mkv", codec="ffv1")
    assert same(decoded(out / "long.mkv"), decoded(tmp_path / "whole.mkv"))  # chunked on Ray == whole


def _bad(tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture) -> str:
    (tmp_path / name).write_text(text)
    rc = main(["batch", str(tmp_path / name), str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("oldfilm: error:"), (rc, err)
    return err[0]


def test_bad_manifests_get_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = film(tmp_path / "f.mp4", shot=4, second=2)
    assert "not valid JSON" in _bad(tmp_path, "a.json", '[{"input": "f.mp4",}]', capsys)
    assert "no 'input' column" in _bad(tmp_path, "b.csv", "file,method\nf.mp4,classical\n", capsys)
    assert "unknown method 'magic'" in _bad(tmp_path, "c.csv", "input,method\nf.mp4,magic\n", capsys)
    assert "does not exist" in _bad(tmp_path, "d.json", '[{"input": "missing.mp4"}]', capsys)
    assert "unknown field 'inptu'" in _bad(tmp_path, "e.json", '[{"inptu": "f.mp4"}]', capsys)
    assert "both be written" in _bad(tmp_path, "f.csv", f"input\nf.mp4\n{src}\n", capsys)
    assert "lists no films" in _bad(tmp_path, "g.json", "[]", capsys)
    assert ".csv/.json manifest" in _bad(tmp_path, "h.txt", "f.mp4", capsys)
    assert "2 ref_frames for 1 refs" in _bad(tmp_path, "i.json",
                                             '[{"input": "f.mp4", "refs": ["f.mp4"], "ref_frames": [0, 3]}]',
                                             capsys)
    assert "weights" in _bad(tmp_path, "j.json", '[{"input": "f.mp4", "weights": "none.safetensors"}]', capsys)


def test_manifest_rows(tmp_path: Path) -> None:
    film(tmp_path / "f.mp4", shot=4, second=2)
    (tmp_path / "m.csv").write_text("input,output,method,preset\nf.mp4,x/restored.mkv,rtn,fast\nf.mp4,,,\n")
    a, b = load_jobs(tmp_path / "m.csv", tmp_path / "out")
    assert (a.output, a.method, a.preset) == (tmp_path / "out" / "x" / "restored.mkv", "rtn", "fast")
    assert (b.input, b.output, b.method) == (tmp_path / "f.mp4", tmp_path / "out" / "f.mp4", "classical")


def test_batch_resumes_from_chunks_left_by_an_interrupted_run(ray_session: None, tmp_path: Path) -> None:
    films = tmp_path / "films"
    films.mkdir()
    src = film(films / "f.mkv", shot=12, second=6, seed=9)
    out = tmp_path / "out"
    out.mkdir()
    restore_chunked(src, out / "f.mkv", chunk_frames=8, codec="ffv1", keep_work=True)  # chunks of a run...
    (out / "f.mkv").rename(tmp_path / "first.mkv")  # ... that never got to write its output
    (report,) = run_batch(films, out, chunk_frames=8, codec="ffv1", progress=False)
    assert report.status == "ok" and report.chunks_reused == report.chunks == 3
    assert same(decoded(out / "f.mkv"), decoded(tmp_path / "first.mkv"))
