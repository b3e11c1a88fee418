"""python -m bench NAME [options]: run one benchmark module of this package (its `main(argv)`).

`python -m bench` alone lists them with the first line of each module's docstring.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> dict[str, str]:
    """{name: first docstring line} of every module with a main(argv); found without importing them."""
    found = {}
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name.startswith("_"):
            continue
        tree = ast.parse((HERE / f"{info.name}.py").read_text())
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found[info.name] = (ast.get_docstring(tree) or "").splitlines()[0] if ast.get_docstring(tree) else ""
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not argv or argv[0] not in names:
        print("usage: python -m bench NAME [options]   (NAME --help for its options)\n", file=sys.stderr)
        for name, doc in names.items():
            print(f"  {name:18} {doc}", file=sys.stderr)
        return 0 if not argv or argv[0] in ("list", "-h", "--help") else 2
    try:
        return importlib.import_module(f"bench.{argv[0]}").main(argv[1:]) or 0
    except ModuleNotFoundError as exc:  # `make run` installs the app's packages only
        if exc.name is None or (HERE.parent / exc.name.split(".")[0]).exists():
            raise  # one of ours: a real fault, not a missing package
        print(f"error: the benchmarks need the development packages ({exc.name} is missing): run `make venv`",
              file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":
    sys.exit(main())
