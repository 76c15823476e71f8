"""Benchmarks: speed and memory measured as ratios against peers in one run (not unit tests)."""
