"""Tiny CPU configs for the model tests (8 channels, 64×64, T=3)."""

from __future__ import annotations

import pytest
import torch

from oldfilm.models.presets import RTNConfig

TINY = RTNConfig(name="tiny", scale=4, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2)
TINY_PAPER = RTNConfig(name="tiny-paper", scale=1, hidden=8, embed=16, down=2, groups=1, depth=2, heads=2,
                       window=4, shift=2, tail=2, shuffle_channels=0)


@pytest.fixture(autouse=True)
def _one_thread():
    """The test machine is shared: keep torch to one thread."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
