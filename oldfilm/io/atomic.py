"""Atomic outputs: write to a hidden temporary beside the target, rename on success, delete on failure.

A failed or interrupted run leaves nothing at the target (a SIGKILL can leave only the hidden
``.<name>.oldfilm-partial-<pid>`` temporary, never a half-written output).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from oldfilm.errors import OutputError


def check_output(target: Path, sources: Iterable[Path], overwrite: bool) -> None:
    """Refuse to write over an input, into a missing folder, or over an existing output without overwrite."""
    t = target.resolve()
    for src in sources:
        if src is not None and Path(src).exists() and Path(src).resolve() == t:
            raise OutputError(f"{target}: the output is the input; refusing to overwrite the input")
    if not t.parent.is_dir():
        raise OutputError(f"{target}: the folder {t.parent} does not exist")
    if t.exists() and not overwrite:
        raise OutputError(f"{target}: exists already (pass --overwrite to replace it)")


class AtomicPath:
    """A temporary file or folder (``tmp``) that becomes ``target`` on ``commit()``."""

    def __init__(self, target: Path, *, overwrite: bool = False, folder: bool = False):
        self.target = target
        self.overwrite = overwrite
        self.folder = folder
        self.tmp = target.parent / f".{target.stem}.oldfilm-partial-{os.getpid()}{target.suffix}"
        _remove(self.tmp)
        if folder:
            self.tmp.mkdir()

    def commit(self) -> None:
        if self.target.exists():
            if not self.overwrite:
                self.discard()
                raise OutputError(f"{self.target}: appeared while writing; refusing to replace it")
            if self.target.is_dir() and not self.folder:
                self.discard()
                raise OutputError(f"{self.target}: is a folder; refusing to replace it with a file")
            if self.folder:
                _remove(self.target)
        os.replace(self.tmp, self.target)

    def discard(self) -> None:
        _remove(self.tmp)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif p.exists() or p.is_symlink():
        p.unlink()


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write a small file (PNG, JSON) atomically."""
    tmp = target.parent / f".{target.name}.oldfilm-partial-{os.getpid()}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
