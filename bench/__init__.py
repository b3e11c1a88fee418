"""Benchmarks: `python -m bench NAME [options]` (see `python -m bench`). Not part of `make test`."""

from pathlib import Path

BENCH_SQL = Path(__file__).resolve().parent / "sql"  # the benchmarks' own statements, out of the app's catalog
