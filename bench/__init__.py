"""Benchmarks of moor7 against hand-written baselines: ``python -m bench.perf``."""
