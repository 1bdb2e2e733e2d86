"""Benchmarks (not collected by pytest: no test_ prefix). Run with `make bench-gate`."""
