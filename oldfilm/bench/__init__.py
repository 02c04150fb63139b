"""The benchmark: ``run_bench`` builds the evaluation set, runs the baselines and our methods, and writes
the report (``oldfilm bench``)."""

from oldfilm.bench.suite import FULL, QUICK, BenchConfig, Window, run_bench

__all__ = ["run_bench", "BenchConfig", "Window", "QUICK", "FULL"]
