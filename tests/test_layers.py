"""The package draws as layers (shared/DESIGN.md): no import runs back up, and no two modules import each
other, directly or round a loop. Read from the source with ``ast`` — every import counts, also those inside
functions or under ``TYPE_CHECKING``, since a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import oldfilm

ROOT = Path(oldfilm.__file__).parent

LAYERS = {"errors": 0, "colorspace": 0, "imgops": 0, "threads": 0, "weights": 0, "io": 0, "flow": 0,
          "degrade": 1, "models": 1, "restore": 2,
          "colorize": 3, "api": 4, "metrics": 5, "bench": 6, "train": 6, "batch": 6, "ui": 6, "demo": 6, "cli": 7}
"""Each top-level module or subpackage's layer: it may import its own layer and those below."""

PENDING: set[tuple[str, str]] = set()
"""Upward imports known and being moved (none left: issue 17's refinement trainer now lives in ``train/``)."""


def _modules() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("oldfilm", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        mods[name] = path
    return mods


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules ``path`` imports (``from a import b`` counts as a.b when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                     for a in node.names]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    # a module importing its own package (``oldfilm``, for its version) is not an edge: __init__ is lazy
    return {m: {t for t in _imports(p, mods) if t != m and not m.startswith(t + ".")} for m, p in mods.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_part_of_the_package_has_a_layer() -> None:
    tops = {m.split(".")[1] for m in _modules() if "." in m}
    assert tops <= set(LAYERS), f"give these a layer in LAYERS: {sorted(tops - set(LAYERS))}"


def test_no_import_runs_back_up_the_layers() -> None:
    up = sorted(f"{m} → {t}" for m, targets in _graph().items() for t in targets
                if (_layer(m) or 0) < (_layer(t) or 0)
                and not any(m == a and t.startswith(b) for a, b in PENDING))
    assert not up, "imports that run back up: " + "; ".join(up)


def find_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """A loop of ``graph`` (module → modules it imports) as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state and (loop := visit(t)):
                return loop
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (loop := visit(m)):
            return loop
    return None


def test_no_import_loop() -> None:
    loop = find_loop(_graph())
    assert loop is None, "import loop: " + " → ".join(loop or [])


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """Two modules that import each other (one lazily) are an edge each way, and a loop is found."""
    (tmp_path / "a.py").write_text("from oldfilm.b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    import oldfilm.c\n")
    (tmp_path / "c.py").write_text("from oldfilm import a\n")
    mods = {f"oldfilm.{k}": tmp_path / f"{k}.py" for k in "abc"}
    graph = {m: _imports(p, mods) for m, p in mods.items()}
    assert graph == {"oldfilm.a": {"oldfilm.b"}, "oldfilm.b": {"oldfilm.c"}, "oldfilm.c": {"oldfilm.a"}}
    assert find_loop(graph) == ["oldfilm.a", "oldfilm.b", "oldfilm.c", "oldfilm.a"]
    assert find_loop({"oldfilm.a": {"oldfilm.b"}, "oldfilm.b": set()}) is None
