"""Benchmarks: scripts that measure and write their results (JSON + markdown) under bench/results/."""
