"""Benchmarks that print tables; run them as modules, e.g. ``python -m bench.core_bench``."""
