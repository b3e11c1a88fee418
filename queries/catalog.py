"""The SQL catalog: one statement per `.sql` file under `queries/sql/`.

The file name is the query name; sub-folders become dotted namespaces
(`sql/admin/insert_activity.sql` is `admin.insert_activity`). A file opens
with comment lines: the first is its description, the others may be
`-- key: value` metadata:

    -- class: read                   read | write | admin (required): what running it may change
    -- reads: users, activities      tables whose writes invalidate cached results
    -- optional: as_of               parameters that are NULL when not given
    -- fallback: live.total_posts    what answers instead where a table it reads is absent
                                     (a database without the growth rollup)
    -- plan: on connect              planned (EXPLAIN, never run) when a reader connection
                                     opens: the statements of a first page (db.pool)
    -- plan: generic                 one plan whatever the values (a fixed shape of bounded
                                     index probes): prepared with a generic plan and run once
                                     when a reader connection opens, then run as that prepared
                                     statement, planned again only when PostgreSQL invalidates
                                     the plan (db.statements)

Only `read` statements run through the read paths (`queries.reads.run`, `fetch`,
`python -m queries run`); `write` and `admin` statements run only on a
connection their guarded caller holds.

Values are always `%(name)s` parameters. Identifiers chosen at run time are
`{name}` placeholders filled with `psycopg.sql.Identifier` by `compose()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PARAM = re.compile(r"%\((\w+)\)s")
_META = re.compile(r"^--\s*(\w+)\s*:\s*(.*)$")


CLASSES = ("read", "write", "admin")
PLANS = (None, "on connect", "generic")


class UnknownQuery(KeyError):
    def __str__(self) -> str:
        return f"No query named {self.args[0]!r}; try `python -m queries list`."


@dataclass(frozen=True)
class Query:
    name: str
    doc: str
    text: str
    path: Path
    statement_class: str = "read"  # read | write | admin
    reads: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    fallback: str | None = None
    plan: str | None = None  # None | "on connect" | "generic"
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def plan_on_connect(self) -> bool:
        return self.plan is not None

    @property
    def generic_plan(self) -> bool:
        return self.plan == "generic"

    @property
    def params(self) -> frozenset[str]:
        return frozenset(_PARAM.findall(_strip_comments(self.text)))

    def sql(self, **identifiers: str) -> sql.SQL | sql.Composed:
        """The statement; `{placeholders}` become quoted identifiers."""
        if not identifiers:
            return sql.SQL(self.text)
        return sql.SQL(self.text).format(**{k: sql.Identifier(v) for k, v in identifiers.items()})


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def parse(path: Path, name: str) -> Query:
    raw = path.read_text(encoding="utf-8")
    lines = raw.splitlines()
    header: list[str] = []
    for line in lines:
        if line.startswith("--"):
            header.append(line)
        else:
            break
    if not header:
        raise ValueError(f"{path}: the first line must be a `-- description` comment")
    doc = header[0].lstrip("-").strip()
    meta: dict[str, str] = {}
    for line in header[1:]:
        match = _META.match(line)
        if match:
            meta[match.group(1).lower()] = match.group(2).strip()
    body = "\n".join(lines[len(header) :]).strip()
    statement_class = meta.get("class", "")
    if statement_class not in CLASSES:
        raise ValueError(f"{path}: the header needs `-- class: read`, `write` or `admin`, got {statement_class!r}")

    plan = meta.get("plan")
    if plan not in PLANS:
        raise ValueError(f"{path}: `-- plan:` takes `on connect` or `generic`, got {plan!r}")

    def _set(key: str) -> frozenset[str]:
        return frozenset(x.strip() for x in meta.get(key, "").split(",") if x.strip())

    return Query(
        name=name,
        doc=doc,
        text=body,
        path=path,
        statement_class=statement_class,
        reads=_set("reads"),
        optional=_set("optional"),
        fallback=meta.get("fallback") or None,
        plan=plan,
        meta=meta,
    )


@cache
def load(directory: Path) -> dict[str, Query]:
    """Every statement under `directory`, by dotted name."""
    queries = {}
    for path in sorted(directory.rglob("*.sql")):
        rel = path.relative_to(directory).with_suffix("")
        name = ".".join(rel.parts)
        queries[name] = parse(path, name)
    return queries


def catalog() -> dict[str, Query]:
    """The app's statements (queries/sql); the benchmarks keep theirs in bench/sql."""
    return load(SQL_DIR)


def get(name: str, directory: Path = SQL_DIR) -> Query:
    try:
        return load(directory)[name]
    except KeyError:
        raise UnknownQuery(name) from None


class NotARead(PermissionError):
    def __str__(self) -> str:
        name, statement_class = self.args
        return (
            f"{name!r} is a {statement_class} statement; only read statements run here. "
            "Writes and admin actions run through their own guarded commands (python -m db | seed)."
        )


def get_read(name: str) -> Query:
    """A statement for the read paths: refused unless its class is read."""
    query = get(name)
    if query.statement_class != "read":
        raise NotARead(name, query.statement_class)
    return query


def text(name: str, directory: Path = SQL_DIR) -> str:
    """The raw statement of a query, for callers outside a connection of ours (pgbench, SQLAlchemy)."""
    return get(name, directory).text
