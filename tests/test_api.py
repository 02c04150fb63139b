"""The public API: ``oldfilm.restore`` etc. are functions even after their subpackages are imported."""

from __future__ import annotations

import importlib

import oldfilm


def test_public_functions_survive_subpackage_imports() -> None:
    for name in ("restore", "degrade", "colorize"):
        importlib.import_module(f"oldfilm.{name}.api")  # the subpackage of the same name, imported
        fn = getattr(oldfilm, name)
        assert callable(fn) and fn is getattr(importlib.import_module("oldfilm.api"), name)


def test_unknown_attribute_raises() -> None:
    import pytest

    with pytest.raises(AttributeError, match="nothing_here"):
        oldfilm.nothing_here  # noqa: B018
