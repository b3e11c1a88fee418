"""The one runner: where a catalog statement meets a connection.

    execute(conn, name, **params)                      a read
    execute(conn, name, allow="write", **params)       a write (the caller holds a writer connection)
    copy(cursor, name, **params)                       COPY ... TO STDOUT, piece by piece
    one(execute(...)), scalar(execute(...))            the row, or its first value, of a one-row answer
    plan_on_connect(conn)                              ready a first page's statements on a new connection

Every statement of the app goes through here (reads through queries.reads,
writes, migrations, rollup, exports, sessions, server chores): the statement
comes from the SQL catalog by name, its class (read, write, admin) must be
allowed by the caller, its parameters are checked against the statement (the
report `tz` and optional ones filled, missing and unknown ones refused),
identifiers are quoted by psycopg.sql.Identifier, and each run is logged with
its time at DEBUG on the `cruddur.sql` logger.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from db.errors import SCHEMA_BEHIND
from db.logs import logger
from db.settings import get_settings, valid_timezone
from queries import catalog

log = logger("cruddur.sql")


class StatementRefused(PermissionError):
    """A statement of a class the caller did not allow (a write on a read path)."""


def prepare_params(query: catalog.Query, params: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the conventions (report `tz`, NULL optionals) and check the rest."""
    params = dict(params)
    needed = query.params
    if "tz" in needed:
        params["tz"] = valid_timezone(params.get("tz") or get_settings().report_tz)
    for name in query.optional & needed:
        params.setdefault(name, None)
    missing = sorted(needed - params.keys())
    if missing:
        raise ValueError(f"Query {query.name!r} needs parameter(s): {', '.join(missing)}")
    unknown = sorted(params.keys() - needed)
    if unknown:
        raise ValueError(f"Query {query.name!r} takes no parameter(s): {', '.join(unknown)}")
    return params


def statement(
    name: str,
    params: Mapping[str, Any],
    *,
    allow: str = "read",
    identifiers: Mapping[str, str] | None = None,
    directory: Path = catalog.SQL_DIR,
) -> tuple[catalog.Query, sql.SQL | sql.Composed, dict[str, Any]]:
    """The checked statement and parameters, ready for a cursor."""
    query = catalog.get(name, directory)
    if query.statement_class not in ("read", allow):
        raise StatementRefused(
            f"{name!r} is a {query.statement_class} statement; this caller runs {allow} statements only."
        )
    return query, query.sql(**(identifiers or {})), prepare_params(query, params)


def execute(
    conn: psycopg.Connection,
    name: str,
    /,
    *,
    allow: str = "read",
    identifiers: Mapping[str, str] | None = None,
    directory: Path = catalog.SQL_DIR,
    **params: Any,
) -> psycopg.Cursor:
    """Run one catalog statement on `conn` (see the module docstring)."""
    query, composed, values = statement(name, params, allow=allow, identifiers=identifiers, directory=directory)
    started = time.perf_counter()
    try:
        if query.generic_plan and _between_transactions(conn):
            return _run_generic(conn, composed, values)
        return conn.execute(composed, values)
    finally:
        log.debug("%s in %.1f ms", name, (time.perf_counter() - started) * 1000)


def _between_transactions(conn: psycopg.Connection) -> bool:
    """An autocommit connection outside any transaction: where a
    transaction-local setting ends with the statement it was made for."""
    return (
        conn.autocommit
        and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        and psycopg.Pipeline.is_supported()
    )


def _run_generic(
    conn: psycopg.Connection,
    composed: sql.SQL | sql.Composed,
    values: Mapping[str, Any],
    *first: tuple[str, dict[str, Any]],
) -> psycopg.Cursor:
    """A `-- plan: generic` statement as this connection's prepared statement,
    under its one generic plan: planned once per connection (and again only
    after PostgreSQL invalidated that plan), then only executed."""
    return _after_settings(conn, [*first, ("database.set_generic_plan", {})], composed, values, prepare=True)


def _after_settings(
    conn: psycopg.Connection,
    settings: list[tuple[str, dict[str, Any]]],
    composed: sql.SQL | sql.Composed,
    values: Mapping[str, Any],
    *,
    prepare: bool = False,
) -> psycopg.Cursor:
    """`settings` (transaction-local set_config statements), then the statement, in
    one round trip and one Sync: they share the pipeline's implicit transaction, so
    the settings end with the statement. No BEGIN: a ROLLBACK would make psycopg
    forget every statement it prepared on the connection."""
    with conn.pipeline():
        for name, params in settings:
            execute(conn, name, **params)
        cursor = conn.execute(composed, values, prepare=prepare)
    return cursor


# A new connection never queues behind a lock to plan, nor counts for long: a
# table locked by a migration or a VACUUM FULL would otherwise hold up every new
# connection, and with it pages that do not read that table (the Database page's
# lock view); a rollup left far behind would make a generic statement count
# whole tables. The run's limit is the longer, so that a lock reads as a lock.
PLAN_ON_CONNECT_LOCK_TIMEOUT_MS = 50
PLAN_ON_CONNECT_RUN_TIMEOUT_MS = 100


def plan_on_connect(conn: psycopg.Connection) -> None:
    """Ready every read marked `-- plan:` on a new reader connection, parameters NULL.

    `generic`: prepared, planned once with a generic plan and run once, so the
    connection's first page only executes it (_run_generic). `on connect`:
    EXPLAINed, never run, which loads its tables', indexes' and functions'
    catalog entries (a new backend's first planning of such a statement costs
    about 1 ms more). The pool does this in its own thread when it opens a
    connection; a page waits for it only when it waits for a new connection
    anyway. A statement that cannot be readied here (a database without the
    rollup, a table locked, 100 ms spent) is left to the page that runs it."""
    if not _between_transactions(conn):
        log.debug("nothing planned on connect: not an idle autocommit connection, or no pipeline mode")
        return
    started = time.perf_counter()
    planned = []
    limits: list[tuple[str, dict[str, Any]]] = [
        ("database.set_lock_timeout", {"timeout_ms": PLAN_ON_CONNECT_LOCK_TIMEOUT_MS}),
        ("database.set_statement_timeout", {"timeout_ms": PLAN_ON_CONNECT_RUN_TIMEOUT_MS}),
    ]
    for query in catalog.catalog().values():
        if not query.plan_on_connect or query.statement_class != "read":
            continue
        values = prepare_params(query, dict.fromkeys(query.params - {"tz"}))
        try:
            if query.generic_plan:
                _run_generic(conn, query.sql(), values, *limits)
            else:
                _after_settings(conn, limits, sql.SQL("EXPLAIN ") + query.sql(), values)
        except SCHEMA_BEHIND:
            log.debug("%s: not planned on connect, a table or column it reads is absent", query.name)
        except psycopg.errors.LockNotAvailable:
            log.info("%s: not planned on connect, a table it reads is locked; nor the rest", query.name)
            break
        except psycopg.errors.QueryCanceled:
            log.info(
                "%s: not planned on connect, cancelled (its %d ms limit, or an operator)",
                query.name,
                PLAN_ON_CONNECT_RUN_TIMEOUT_MS,
            )
        except psycopg.Error:
            log.warning("%s: not planned on connect", query.name, exc_info=True)
        else:
            planned.append(query.name)
    log.debug(
        "planned on connect (%s) in %.1f ms: %s",
        conn.info.parameter_status("application_name"),
        (time.perf_counter() - started) * 1000,
        ", ".join(planned),
    )


def copy(
    cursor: psycopg.Cursor, name: str, /, *, allow: str = "read", writer: Any = None, **params: Any
) -> AbstractContextManager[psycopg.Copy]:
    """A COPY statement of the catalog as psycopg's Copy (a context manager: iterate it
    for `TO STDOUT`, write to it for `FROM STDIN`, through `writer` if given). COPY
    takes no server-side parameters, so psycopg binds them client-side."""
    _, composed, values = statement(name, params, allow=allow)
    log.debug("%s: COPY started", name)
    return cursor.copy(composed, values or None, writer=writer)


def one(cursor: psycopg.Cursor) -> tuple[Any, ...]:
    """The next row, for statements that always answer one row."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("The statement returned no row.")
    return row


def columns(cursor: psycopg.Cursor) -> list[str]:
    """The names of the result's columns (a statement that returns rows)."""
    if cursor.description is None:
        raise LookupError("The statement returned no rows.")
    return [c.name for c in cursor.description]


def records(cursor: psycopg.Cursor) -> list[dict[str, Any]]:
    """Every remaining row as a dict by column name."""
    names = columns(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def scalar(cursor: psycopg.Cursor) -> Any:
    """The first value of the next row, for statements that always answer one row."""
    return one(cursor)[0]
