"""Benchmarks on the real stack (`make bench`): figures, not pass/fail tests."""
