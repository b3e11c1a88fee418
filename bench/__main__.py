"""python -m bench NAME [options]: run one benchmark module of this package (its `main(argv)`)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    names = []
    for info in pkgutil.iter_modules([str(here)]):
        # A benchmark is a module with a main(argv); found without importing them all.
        if not info.name.startswith("_") and "\ndef main(" in (here / f"{info.name}.py").read_text():
            names.append(info.name)
    return sorted(names)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not argv or argv[0] not in names:
        print(f"usage: python -m bench {{{'|'.join(names)}}} [options]   (NAME --help for its options)", file=sys.stderr)
        return 2
    return importlib.import_module(f"bench.{argv[0]}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
