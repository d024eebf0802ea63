"""Benchmarks (`make bench`): figures are written to bench/results/*.json and BENCHMARKS.md."""
