"""Benchmarks: each module here with a `main(argv)` and a DESCRIPTION is one; `python -m bench` runs them."""
