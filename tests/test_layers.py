"""The import contract: dependencies point one way, down these layers.

    top        pages, ui, web, dashboard.py, app.py, serve.py, the command lines (*/__main__.py), bench, tests
    seed       demo data (generator, sample rows, the seeding actions)
    metrics    messaging metrics from DynamoDB (follow, backfill): beside seed, same rank
    actions    the write side          exports    files (the two never import each other)
    queries    the read side
    db         settings, connections, the guard, the one runner, migrations
    catalog    queries/catalog.py and queries/sql: imports nothing of ours

Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

RANK = {"catalog": 0, "db": 1, "queries": 2, "actions": 3, "exports": 3, "seed": 4, "metrics": 4, "top": 5}
TOP_LEVEL_ENTRY_POINTS = {"app", "dashboard", "serve"}


def layer(module: str) -> str | None:
    """The layer of one of our modules, or None for a third-party one."""
    parts = module.split(".")
    if (
        parts[-1] == "__main__"
        or parts[0] in ("pages", "ui", "web", "bench", "tests")
        or module in TOP_LEVEL_ENTRY_POINTS
    ):
        return "top"
    if module in ("queries.catalog",):
        return "catalog"
    if parts[0] in ("db", "queries", "actions", "exports", "seed", "metrics"):
        return parts[0]
    return None


def our_modules() -> dict[str, object]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "lambdas", "test-artifacts") or rel.parts[0].startswith("."):
            continue
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path, module: str = "") -> set[str]:
    """Every module `path` imports; relative imports resolved against `module`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from .reads import run` inside queries/ is queries.reads
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:  # `from queries import catalog` imports the module queries.catalog
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return names


MODULES = our_modules()


def resolve(imported: str) -> str | None:
    """The module of ours that `imported` names (a module, or a name inside one)."""
    while imported:
        if imported in MODULES:
            return imported
        imported = imported.rpartition(".")[0]
    return None


@pytest.mark.parametrize("module", sorted(MODULES), ids=sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    mine = layer(module)
    if mine is None or mine == "top":
        return
    for imported in sorted(imports_of(MODULES[module], module)):
        target = resolve(imported)
        theirs = target and layer(target)
        if not theirs:
            continue
        assert RANK[theirs] <= RANK[mine], f"{module} ({mine}) imports {target} ({theirs}): a higher layer"
        if {mine, theirs} == {"actions", "exports"}:
            raise AssertionError(f"{module} imports {target}: actions and exports stay apart")


def test_the_catalog_is_a_leaf():
    ours = {resolve(i) for i in imports_of(MODULES["queries.catalog"], "queries.catalog")} - {None}
    assert ours == set(), ours
    package = ast.parse((ROOT / "queries" / "__init__.py").read_text())
    assert not [n for n in ast.walk(package) if isinstance(n, (ast.Import, ast.ImportFrom))]  # loads nothing


def test_the_database_command_line_loads_no_pandas():
    """`python -m db migrate` and the server chores need no pandas, pool or cache."""
    code = (
        "import sys, db.__main__, db.migrate, db.server, db.guard, db.statements, db.embedded;"
        "print(sorted(m for m in ('pandas', 'queries.reads', 'psycopg_pool', 'streamlit') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_no_package_holds_more_than_a_quarter_of_the_code():
    counts: dict[str, int] = {}
    for name, path in MODULES.items():
        top = (
            name.split(".")[0]
            if "." in name
            or name in ("db", "queries", "actions", "exports", "seed", "metrics", "ui", "web", "pages", "bench")
            else "(top-level files)"
        )
        if top == "tests":
            continue
        counts[top] = counts.get(top, 0) + len(path.read_text().splitlines())
    total = sum(counts.values())
    assert max(counts.values()) <= total / 4, {k: f"{v / total:.0%}" for k, v in sorted(counts.items())}


@pytest.mark.parametrize("module", sorted(MODULES), ids=sorted(MODULES))
def test_a_long_module_says_why_at_its_top(module):
    lines = MODULES[module].read_text().splitlines()
    if len(lines) > 300:
        head = "\n".join(lines[:15]).lower()
        assert "long because" in head, f"{module} has {len(lines)} lines and no reason at its top"


def test_relative_imports_count_too(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from .reads import run\nfrom . import catalog\n")
    assert imports_of(probe, "queries.probe") == {"queries.reads", "queries.catalog"}
