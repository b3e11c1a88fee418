"""Keeping the growth rollup (quarter hours with their minute counts and a running total,
migrations 0006 and 0009) moving.

Readers never depend on this for correctness of recent data: `growth_summary`
counts live whatever the rollup does not cover, so advancing `through` only
keeps the live part small. Closed quarter hours stay exact because:

- inserts by the app carry created_at = now (the start of their transaction),
  so they land after `through`; the refresh waits for every transaction that
  was writing when it began before it counts (`snapshot` takes a transaction
  id of its own; `still_writing` waits until no older one is in progress) and
  gives up for this round if one stays open longer than `wait_s`;
- deletes, a changed created_at and truncates adjust the rollup by trigger,
  in their own transaction (inserts have no trigger: the app pays nothing);
- every refresh recounts the RECHECK before the old mark as well, which
  repairs a row committed late into a closed quarter hour (a transaction that
  began before the mark and wrote after the refresh) or backfilled into the last
  day; the running total moves by exactly what the recount changed;
- loaders that write old rows recount what they load (`recount_loaded`, used by
  the seed generator).

What this does not see: a row inserted with a created_at more than RECHECK
before the mark by someone else than our loaders (a manual backfill), or by a
transaction left open for longer than RECHECK before it wrote. `python -m db
rollup --rebuild` recounts everything after such a repair.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from actions.background import Chore
from actions.writing import writing
from db import pool, statements
from db.errors import SchemaBehind
from db.logs import logger

if TYPE_CHECKING:
    from queries.growth import Growth

log = logger("cruddur.rollup")

TABLES = ("users", "activities")
# The newest minutes stay live. The refresh already waits for every writer older than
# itself, so this only keeps a margin; it is small because the live tail is what a
# read counts row by row (its cost grows with the posting rate).
SETTLE = timedelta(minutes=2)
RECHECK = timedelta(hours=24)  # recounted before the old mark on every refresh
BUCKET = timedelta(minutes=15)  # the rollup's grain: every UTC offset in use is a multiple of it
# Counting, once the locks are held, may take as long as a pass over the tables: a rebuild
# or a first build at ten million rows takes tens of seconds, more than the pool's timeout.
RECOUNT_TIMEOUT_MS = 3_600_000

_chore = Chore("rollup", "maintain the growth rollup", log)
_next_try = _chore.next_try  # by database: when a background refresh may start again


def floor_bucket(ts: datetime) -> datetime:
    """The start of the quarter hour holding `ts` (date_bin('15 minutes', ts, '2000-01-01') in SQL)."""
    return ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0)


def target_for(utc_now: datetime) -> datetime:
    """The last quarter-hour boundary the refresh may roll up to."""
    return floor_bucket(utc_now - SETTLE)


def _run(conn: psycopg.Connection, name: str, table: str | None = None, **params: Any) -> psycopg.Cursor:
    return statements.execute(conn, name, allow="write", identifiers={"table": table} if table else None, **params)


def available(conn: psycopg.Connection) -> bool:
    """Whether the database has the rollup; SchemaBehind if only in a shape older than this code writes."""
    present, current = statements.one(_run(conn, "rollup.available"))
    if present and not current:
        raise SchemaBehind(
            "the growth rollup predates migration 0009 (minute counts), which this code writes:"
            " run `python -m db migrate` first"
        )
    return bool(present)


_FROM_MARK = object()


def _recount(conn: psycopg.Connection, table: str, *, lo: Any, hi: datetime | None, advance: bool) -> datetime | None:
    """Inside the caller's transaction, under the exclusive rollup lock: count
    created_at in [lo, hi) per quarter hour into the rollup (and its total). lo=None: from the start of
    time; lo=_FROM_MARK: from RECHECK before `through`. hi=None: up to `through`.
    With `advance`, `through` moves to hi. Returns the mark (None: nothing rolled up)."""
    if table not in TABLES:
        raise ValueError(f"no rollup for table {table!r}")
    if not available(conn):
        raise SchemaBehind("this database has no growth rollup: run `python -m db migrate` first")
    _run(conn, "rollup.lock_table", table)
    _run(conn, "rollup.lock", tbl=table)
    through = statements.scalar(_run(conn, "rollup.through", tbl=table))
    _run(conn, "database.set_statement_timeout", timeout_ms=RECOUNT_TIMEOUT_MS)
    if lo is _FROM_MARK:
        lo = None if through is None else through - RECHECK
    top = hi if advance and (through is None or hi > through) else through
    if top is None:
        return None
    if lo is None or lo < top:
        _run(conn, "rollup.clear_range", tbl=table, lo=lo, hi=top)
        _run(conn, "rollup.fill_range", table, tbl=table, lo=lo, hi=top)
    if top != through:
        _run(conn, "rollup.advance", tbl=table, through=top)
    return top


def recount_loaded(conn: psycopg.Connection, table: str, since: datetime) -> None:
    """For loaders that write rows with old created_at (the seed generator): recount
    the rolled-up quarter hours from `since` on, in the loader's transaction."""
    _recount(conn, table, lo=floor_bucket(since), hi=None, advance=False)


def rebuild() -> None:
    """Recount every rolled-up quarter hour and the totals (repair; one pass over each table),
    then `settle()` so the first read after it is as cheap as any.

    One transaction per table, as `refresh` does: holding both tables' exclusive locks at
    once would deadlock with a writer that changes old rows of both tables in the other
    order (its triggers take the same locks, shared)."""
    for table in TABLES:
        with writing(table) as conn:
            _recount(conn, table, lo=None, hi=None, advance=False)
    settle()


def settle() -> None:
    """VACUUM the rollup on a writer connection of its own (VACUUM runs outside any
    transaction): rewritten rows are not all-visible until then, and index-only sums
    would visit the heap for each of them."""
    with pool.connection(pool.WRITER) as conn:
        conn.autocommit = True
        try:
            _run(conn, "rollup.vacuum")
        finally:
            conn.autocommit = False


def refresh(*, wait_s: float = 5.0, only_if_behind: bool = False) -> dict[str, datetime | None] | None:
    """Roll both tables up to the last closed quarter hour (recounting the RECHECK before
    the old mark). Returns the new marks, or None when another refresher is at work or a
    writer stayed open too long. only_if_behind: do nothing when both marks are current."""
    with pool.connection(pool.WRITER) as conn:
        conn.autocommit = True
        try:
            if not statements.scalar(_run(conn, "rollup.try_refresher")):
                return None
            try:
                utc_now, horizon = statements.one(_run(conn, "rollup.snapshot"))
                deadline = time.monotonic() + wait_s
                while statements.scalar(_run(conn, "rollup.still_writing", horizon=horizon)):
                    if time.monotonic() > deadline:
                        return None
                    time.sleep(0.05)
                target = target_for(utc_now)
                marks = {table: statements.scalar(_run(conn, "rollup.through", tbl=table)) for table in TABLES}
                if only_if_behind and all(mark is not None and mark >= target for mark in marks.values()):
                    return marks
                for table in TABLES:
                    with conn.transaction():
                        marks[table] = _recount(conn, table, lo=_FROM_MARK, hi=target, advance=True)
                _run(conn, "rollup.vacuum")
                return marks
            finally:
                _run(conn, "rollup.release_refresher")
        finally:
            conn.autocommit = False


def needs_refresh(through: datetime | None, utc_now: datetime) -> bool:
    """`through` None: nothing is rolled up yet."""
    return through is None or through < target_for(utc_now)


def keep_up(answer: Growth) -> bool:
    """After a Growth answer from the rollup (queries.growth), start one background
    refresh if its mark is behind. Cached answers count too: with the cache refreshed
    in the background, most views are served from it, and a mark left behind makes
    the live tail, and every read, longer. A cached mark may be older than the real
    one; refresh() then finds nothing to do. Pages call this: a read never starts a
    write on its own."""
    if not answer.rolled_up:
        return False
    if not needs_refresh(answer.rollup_through, datetime.now(UTC).replace(tzinfo=None)):
        return False
    from db.settings import get_settings

    return refresh_in_background(get_settings().require_url(), only_if_behind=answer.from_cache)


def refresh_in_background(url_key: str, *, only_if_behind: bool = False) -> bool:
    """Start one background refresh for this database unless one runs or one failed recently."""
    return _chore.start(url_key, lambda: refresh(only_if_behind=only_if_behind), "growth rollup refresh")


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait for a background refresh to finish (tests, benchmarks)."""
    return _chore.wait_idle(timeout)
