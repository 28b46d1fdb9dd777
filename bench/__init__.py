"""Benchmarks that print figures beside the ceiling they are compared with (bench/README.md)."""
