"""The benchmark: ``run_bench`` builds the evaluation set, runs the baselines and our methods, and writes
the report (``oldfilm bench``); ``run_colorize_bench`` the colour benchmark (``oldfilm bench --colorize``)."""

from typing import Any

from oldfilm.bench.suite import FULL, QUICK, BenchConfig, Window, run_bench


def __getattr__(name: str) -> Any:
    """The colour benchmark (``oldfilm bench --colorize``), loaded on first use."""
    if name in ("run_colorize_bench", "ColorBenchConfig"):
        from oldfilm.bench import colorize

        return getattr(colorize, name)
    raise AttributeError(f"module 'oldfilm.bench' has no attribute {name!r}")


__all__ = ["run_bench", "BenchConfig", "Window", "QUICK", "FULL", "run_colorize_bench", "ColorBenchConfig"]
