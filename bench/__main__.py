"""python -m bench [NAME [ARGS ...]]: run one benchmark (with its own arguments), or all of them.

A benchmark is a module in bench/ that defines DESCRIPTION and main(argv) -> int.
`python -m bench list` shows them.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmarks() -> dict:
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)) and hasattr(module, "DESCRIPTION"):
            found[info.name] = module
    return found


def main(argv: list[str]) -> int:
    found = benchmarks()
    if argv and argv[0] in ("list", "-h", "--help"):
        for name, module in found.items():
            print(f"{name:24} {module.DESCRIPTION}")
        return 0
    if argv:
        name, rest = argv[0], argv[1:]
        if name not in found:
            print(f"error: no benchmark {name!r}; try `python -m bench list`", file=sys.stderr)
            return 2
        return found[name].main(rest)
    status = 0
    for name, module in found.items():
        print(f"== {name}: {module.DESCRIPTION}", flush=True)
        status = max(status, module.main([]))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
