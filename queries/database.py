"""The Database section beyond sessions: connections against max_connections, top statements from
pg_stat_statements, and table/index health, each with the threshold pghero uses (PGHERO below).

Like the session list, these are never cached (a person looks at them to see *now*) and run in
one short transaction with SESSIONS_TIMEOUT_MS as its statement timeout. A missing privilege
(pg_read_all_stats) or extension never fails a view: it comes back as a note saying what is
hidden and how to grant or install it.

Long because it holds three views (connections, statements, health) that share the reading
and privilege machinery, plus pghero's duplicate-index rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import psycopg

from db import pool
from db.settings import get_settings
from db.statements import columns, execute, one, records
from queries import sessions

HIDDEN_QUERY = sessions.HIDDEN_QUERY
LOCK_TIMEOUT_MS = 1000

# pghero's defaults (lib/pghero.rb, lib/pghero/database.rb, app/controllers/pg_hero/home_controller.rb);
# the README's "Database" section names each.
PGHERO = {
    "long_running_query_sec": 60,  # LONG_QUERY_SECONDS here
    "slow_query_ms": 20,  # a statement is slow at this mean time...
    "slow_query_calls": 100,  # ...once called this often
    "total_connections_threshold": 500,  # pghero: absolute; here a share of usable slots (CONNECTIONS_WARN_PERCENT)
    "idle_connections": 100,  # pghero warns from 100 connections idle in transaction
    "cache_hit_rate_threshold": 99,  # percent, tables and indexes
    "unused_index_megabytes": 10,  # pghero lists never-scanned indexes from this size
    "replication_lag_seconds": 5,
    "transaction_id_danger_left": 1_500_000_000,  # warn when fewer transactions than this are left...
    "transaction_id_max": 2_146_483_648,  # ...before this age (wraparound, less the 1M safety stop)
    "autovacuum_danger_left": 2_000_000,  # and when fewer than this are left before autovacuum_freeze_max_age
}


def _grant(viewer: dict[str, Any], what: str) -> str:
    return (
        f"{what} To see them, a superuser (on RDS, the master user) can run "
        f'`GRANT pg_read_all_stats TO "{viewer.get("user") or "dashboard_user"}";` (pg_monitor includes it).'
    )


def _frame(cursor: psycopg.Cursor) -> pd.DataFrame:
    """The rows as a DataFrame that keeps its columns when there are none (an empty database)."""
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns(cursor))


@contextmanager
def _reading() -> Iterator[tuple[psycopg.Connection, dict[str, Any]]]:
    """A reader connection in one transaction with the short session-list timeout, and who we are."""
    lim = sessions.limits()
    with pool.connection(pool.READER) as conn, conn.transaction():
        execute(conn, "database.set_statement_timeout", timeout_ms=lim.timeout_ms)
        # The size functions lock; the statements skip contested relations, and this catches a race.
        execute(conn, "database.set_lock_timeout", timeout_ms=min(lim.timeout_ms, LOCK_TIMEOUT_MS))
        viewer = records(execute(conn, "sessions.get_viewer"))[0]
        yield conn, viewer


# ---------------------------------------------------------------- connections

IDLE_TX_BUCKETS = [0, 10, 60, 300, 1800, float("inf")]
IDLE_TX_LABELS = ["< 10 s", "10 s – 1 min", "1 – 5 min", "5 – 30 min", "≥ 30 min"]


@dataclass
class Connections:
    max_connections: int
    superuser_reserved: int
    reserved: int  # reserved_connections (PostgreSQL 16+; 0 before)
    used: int  # client backends, this reading's own included
    unknown: int  # backends whose type this role may not see (other users' sessions or workers)
    warn_percent: float
    clients: pd.DataFrame  # one row per client backend (this reading's own excluded)
    viewer: dict[str, Any]
    taken_at: datetime
    server_version_num: int

    @property
    def usable(self) -> int:
        """Slots an ordinary role may take: max_connections less both reserves."""
        return max(0, self.max_connections - self.superuser_reserved - self.reserved)

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.usable if self.usable else 100.0

    @property
    def warning(self) -> str | None:
        if self.percent < self.warn_percent:
            return None
        return (
            f"{self.used} of {self.usable} usable connections in use ({self.percent:.0f}%, warning from "
            f"{self.warn_percent:g}%, CONNECTIONS_WARN_PERCENT): new connections will soon be refused. "
            "Look for idle sessions and idle transactions below, or put a pooler (RDS Proxy, PgBouncer) in front."
        )

    @property
    def note(self) -> str | None:
        if not self.unknown:
            return None
        return _grant(
            self.viewer,
            f"{self.unknown} backend(s) belong to other users or are server processes this role may not see: "
            "they are not in the counts below, and client sessions among them use slots too.",
        )

    def by(self, column: str) -> pd.DataFrame:
        """Connections per value of `column` (state, user, application, client, database), most first."""
        values = self.clients[column].fillna("(hidden)").replace("", "(none)")
        out = values.value_counts().rename_axis(column).reset_index(name="connections")
        return out.sort_values(["connections", column], ascending=[False, True]).reset_index(drop=True)

    def idle_in_transaction_ages(self) -> pd.DataFrame:
        """How long the idle-in-transaction sessions have been idle, in buckets (all buckets, zero-filled)."""
        idle = self.clients[self.clients["state"].fillna("").str.startswith("idle in transaction")]
        binned = pd.cut(idle["state_seconds"].fillna(0), IDLE_TX_BUCKETS, labels=IDLE_TX_LABELS, right=False)
        counts = binned.value_counts().reindex(IDLE_TX_LABELS, fill_value=0)
        return pd.DataFrame({"idle for": IDLE_TX_LABELS, "sessions": counts.to_numpy()})


def connections() -> Connections:
    """Connection slots and who uses them, server-wide (max_connections is per server)."""
    started = datetime.now(UTC)
    with _reading() as (conn, viewer):
        limits = records(execute(conn, "database.get_connection_limits"))[0]
        # Same transaction: pg_stat_activity is read once per transaction, so the two agree.
        rows = _frame(execute(conn, "sessions.get_activity", all_databases=True))
    clients = rows[rows["backend_type"] == "client backend"]
    return Connections(
        max_connections=int(limits["max_connections"]),
        superuser_reserved=int(limits["superuser_reserved"]),
        reserved=int(limits["reserved"]),
        used=int(limits["client_backends"]),
        unknown=int(limits["unknown_backends"]),
        warn_percent=float(get_settings().connections_warn_percent),
        clients=clients.reset_index(drop=True),
        viewer=viewer,
        taken_at=started,
        server_version_num=int(limits["server_version_num"]),
    )


# ---------------------------------------------------------------- top statements

ORDERS = {"total": "total_ms", "mean": "mean_ms", "calls": "calls", "rows": "rows"}

ENABLE_HELP = """\
**On Amazon RDS:** in the instance's DB parameter group, add `pg_stat_statements` to
`shared_preload_libraries` (it is there by default on recent RDS versions), reboot the instance if
the parameter changed, then connect as the master user and run `CREATE EXTENSION pg_stat_statements;`
in this database.

**Locally / self-managed:** `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';`
(append to any libraries already listed), restart PostgreSQL (`make run`'s embedded server:
stop and start `make run`; a packaged server: `pg_ctl restart` or `systemctl restart postgresql`),
then `CREATE EXTENSION pg_stat_statements;` in this database. Debian packages it in
`postgresql-contrib` (PostgreSQL 15+ ships it with the server package).
"""


@dataclass
class Statements:
    status: str  # ok | unavailable | not_installed | not_loaded
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    message: str = ""
    note: str | None = None  # privileges: other users' statements hidden
    schema: str | None = None
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def extension_schema() -> str | None:
    """The schema pg_stat_statements is installed in here, None when it is not."""
    with _reading() as (conn, _):
        return records(execute(conn, "database.get_statements_extension"))[0]["schema"]


def top_statements(by: str = "total", limit: int = 20) -> Statements:
    """This database's costliest statements by total time, mean time, calls or rows."""
    if by not in ORDERS:
        raise ValueError(f"order by one of {', '.join(ORDERS)}, got {by!r}")
    limit = max(1, min(int(limit), 500))
    with _reading() as (conn, viewer):
        ext = records(execute(conn, "database.get_statements_extension"))[0]
        if not ext["available"]:
            return Statements(
                "unavailable",
                message="pg_stat_statements is not available on this server (the contrib module is not installed).",
            )
        if not ext["schema"]:
            return Statements(
                "not_installed",
                message="pg_stat_statements is available but not installed in this database (no CREATE EXTENSION).",
            )
        try:
            with conn.transaction():  # a savepoint: the error below must not end the outer transaction
                cur = execute(
                    conn,
                    "database.get_top_statements",
                    identifiers={"order_by": ORDERS[by], "schema": ext["schema"]},
                    limit=limit,
                )
                frame = _frame(cur)
        except psycopg.errors.ObjectNotInPrerequisiteState:
            return Statements(
                "not_loaded",
                message="pg_stat_statements is installed in this database but not loaded: it must be in "
                "shared_preload_libraries, which takes a server restart.",
                schema=ext["schema"],
            )
    hidden = int((frame["query"] == HIDDEN_QUERY).sum())
    note = _grant(viewer, f"{hidden} statement(s) of other users show as `{HIDDEN_QUERY}`.") if hidden else None
    return Statements("ok", frame=frame, note=note, schema=ext["schema"])


def slow(frame: pd.DataFrame) -> pd.Series:
    """pghero's slow statements: mean time ≥ slow_query_ms once called slow_query_calls times."""
    return (frame["mean_ms"] >= PGHERO["slow_query_ms"]) & (frame["calls"] >= PGHERO["slow_query_calls"])


# ---------------------------------------------------------------- health


@dataclass
class Health:
    database: dict[str, Any]
    tables: pd.DataFrame
    indexes: pd.DataFrame
    replicas: pd.DataFrame
    viewer: dict[str, Any]
    taken_at: datetime
    notes: list[str] = field(default_factory=list)

    def unused_indexes(self) -> pd.DataFrame:
        return self.indexes[self.indexes["unused"]]

    def duplicate_indexes(self) -> pd.DataFrame:
        return self.indexes[self.indexes["covered_by"] != ""]

    def cache_ok(self) -> bool | None:
        raw = [self.database.get("table_hit_pct"), self.database.get("index_hit_pct")]
        hits = [float(h) for h in raw if h is not None and not pd.isna(h)]
        return None if not hits else all(h >= PGHERO["cache_hit_rate_threshold"] for h in hits)

    def wraparound(self) -> tuple[int, int, bool]:
        """(transactions left before wraparound, before a forced anti-wraparound autovacuum, warn?)."""
        age = int(self.database["xid_age"])
        left = PGHERO["transaction_id_max"] - age
        before_freeze = int(self.database["freeze_max_age"]) - age
        warn = left < PGHERO["transaction_id_danger_left"] or before_freeze < PGHERO["autovacuum_danger_left"]
        return left, before_freeze, warn


def _text(value: Any) -> str:
    """A nullable text cell for comparison: pandas turns a NULL among strings into NaN, and NaN != NaN."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _columns(idx: pd.Series) -> tuple[list[tuple[str, ...]], set[str]]:
    """(key columns as (attnum, operator class, collation, options), INCLUDE attnums) of one index."""
    attnums = _text(idx.get("columns_key")).split()
    n = int(idx["key_columns"]) if "key_columns" in idx and not pd.isna(idx["key_columns"]) else len(attnums)
    extra = [_text(idx.get(col)).split() for col in ("opclasses", "collations", "options")]
    keys = [(a, *(e[k] if k < len(e) else "" for e in extra)) for k, a in enumerate(attnums[:n])]
    return keys, set(attnums[n:])


def _flag(idx: pd.Series, column: str) -> bool:
    return bool(idx.get(column, False)) and not pd.isna(idx.get(column))


def mark_indexes(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `unused` (never scanned since the statistics reset, not unique: pghero's unused_indexes;
    nor an exclusion constraint's, which like a unique one cannot be dropped alone), `pghero_lists`
    (and at least unused_index_megabytes) and `covered_by` (pghero's duplicate_indexes: another valid
    index on the same table, same method, expressions and predicate, whose leading key columns are
    this one's, with the same operator class, collation and order; its INCLUDE columns among the other's)."""
    out = frame.copy()
    if out.empty:
        return out.assign(unused=pd.Series(dtype=bool), pghero_lists=pd.Series(dtype=bool), covered_by="")
    constraint = out["is_unique"].astype(bool)
    if "is_exclusion" in out:
        constraint |= out["is_exclusion"].fillna(False).astype(bool)
    out["unused"] = (out["scans"] == 0) & ~constraint
    out["pghero_lists"] = out["unused"] & (out["size_bytes"] >= PGHERO["unused_index_megabytes"] * 1024 * 1024)
    cols = {i: _columns(row) for i, row in out.iterrows()}
    covered: dict[Any, str] = {}
    for (_, _), group in out.groupby(["schema", "table"]):
        for i, idx in group.iterrows():
            if not idx["is_valid"] or idx["is_primary"] or idx["is_unique"] or _flag(idx, "is_exclusion"):
                continue
            keys, include = cols[i]
            for j, other in group.iterrows():
                same_kind = (
                    other["is_valid"]
                    and j != i
                    and other["method"] == idx["method"]
                    and _text(other["expressions"]) == _text(idx["expressions"])
                    and _text(other["predicate"]) == _text(idx["predicate"])
                )
                other_keys, other_include = cols[j]
                if (
                    not same_kind
                    or other_keys[: len(keys)] != keys
                    or not include <= {k[0] for k in other_keys} | other_include
                ):
                    continue
                # Of two identical indexes, report one (the later name), as pghero does.
                identical = other_keys == keys and other_include == include
                if not identical or idx["index"] > other["index"] or other["is_primary"] or other["is_unique"]:
                    covered[i] = other["index"]
                    break
    out["covered_by"] = [covered.get(i, "") for i in out.index]
    return out


def mark_tables(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `vacuum_due` (dead rows past autovacuum's own trigger) and `xid_danger` (pghero's rule)."""
    out = frame.copy()
    if out.empty:
        return out.assign(vacuum_due=pd.Series(dtype=bool), xid_danger=pd.Series(dtype=bool))
    out["vacuum_due"] = out["dead_rows"] > out["autovacuum_trigger"]
    out["xid_danger"] = (PGHERO["transaction_id_max"] - out["xid_age"]) < PGHERO["transaction_id_danger_left"]
    return out


def health() -> Health:
    """Sizes, index usage, dead rows and vacuum, wraparound, cache hits and replication, in one reading."""
    started = datetime.now(UTC)
    with _reading() as (conn, viewer):
        database = dict(records(execute(conn, "database.get_database_health"))[0])
        tables = _frame(execute(conn, "database.get_table_health"))
        indexes = _frame(execute(conn, "database.get_index_usage"))
        replicas = _frame(execute(conn, "database.get_replicas"))
        stats_reset = one(execute(conn, "database.get_stats_reset"))[0]
    database["stats_reset"] = stats_reset
    notes = []
    if len(replicas) and replicas["state"].isna().any():
        notes.append(_grant(viewer, "Replication details (state, lag) are hidden from this role."))
    return Health(
        database=database,
        tables=mark_tables(tables),
        indexes=mark_indexes(indexes),
        replicas=replicas,
        viewer=viewer,
        taken_at=started,
        notes=notes,
    )
