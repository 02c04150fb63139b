"""Thread pools scoped to a block: library code never leaves the process's settings changed.

The engine and the colour refiner run torch on as many threads as they are told, but only while they
compute; the caller's setting is back when they return (or yield a frame). Entry points (the CLI, a
training run's process, DataLoader and Ray workers) set their own process's threads directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with torch's intra-op thread count set to ``n`` (None or 0: left as it is), and restore
    the caller's count after it.

    Example:
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    if not n:
        yield
        return
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
