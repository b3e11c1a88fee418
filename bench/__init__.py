"""Benchmarks: `python -m bench NAME [options]` (see `python -m bench`). Not part of `make test`."""
