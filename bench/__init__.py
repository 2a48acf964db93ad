"""Benchmarks: they measure and report, they never assert a time (see bench/README.md)."""
