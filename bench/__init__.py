"""Hand-run benchmarks that print a table; run them from the repository root (`python -m bench.load`)."""
