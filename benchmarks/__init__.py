"""Benchmarks of the embedded engine; run `python -m benchmarks.run --rows N` (BENCHMARKS.md)."""
