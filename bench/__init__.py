"""Benchmarks of ligging and its peers (not part of the installed package)."""
