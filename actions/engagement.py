"""Keeping the engagement state of each report time zone (migration 0007) moving.

The state holds, per zone, everything before its `through` local day: the
finished numbers of every closed day, ISO week and month, their retention
cells, and per recently active user their last active day and the active day,
week and month before it. Readers (queries/engagement.py) use it only when it
reaches today and nothing changed under it; otherwise they count live, exactly
as well, only slower. So this never decides correctness, only speed.

A refresh adds each newly closed local day in order (add_day, close_periods,
close_cells, prune), one transaction per day. A day is closed once its end is
SETTLE in the past and every transaction that was writing when the refresh
began has finished (the growth rollup's snapshot and wait, reused). Inserts
fire nothing; deletes, changed created_at or authors, truncates and sign-ups
dated in the past mark every zone dirty (triggers, migration 0007), and a dirty
zone is counted again from its first post. Blind spot, as for the growth
rollup: a post inserted by someone else with a created_at before `through` (a
manual backfill) is missing from the state until the zone is rebuilt
(`rebuild`, or any delete, which marks it dirty).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from actions.background import Chore
from db import pool, statements
from db.errors import safe_message
from db.logs import logger

log = logger("cruddur.engagement")

SETTLE = timedelta(minutes=10)  # a local day is closed this long after it ended
VACUUM_EVERY = 30  # days added between two vacuums of the state while it is built

Progress = Callable[[int, int], None]  # (days done, days to do)
_chore = Chore("engagement", "maintain the engagement state", log)


def _run(conn: psycopg.Connection, name: str, **params: Any) -> psycopg.Cursor:
    return statements.execute(conn, name, allow="write", **params)


def closed_until(conn: psycopg.Connection, utc_now: datetime, tz: str) -> date:
    """The first local day of `tz` that is not closed yet at `utc_now` (naive UTC), by the
    database's zone rules (the statement says why)."""
    return statements.scalar(_run(conn, "engagement.state.closed_until", utc_now=utc_now, settle=SETTLE, tz=tz))


def refresh(
    tz: str, *, until: date | None = None, wait_s: float = 5.0, progress: Progress | None = None
) -> date | None:
    """Count every closed local day of `tz` into its state (building it first when it
    is missing or dirty). `until`: stop before this day (tests). Returns the new
    `through`, or None when another refresher is at work or a writer stayed open."""
    with pool.connection(pool.WRITER) as conn:
        conn.autocommit = True
        try:
            if not statements.scalar(_run(conn, "engagement.state.lock", tz=tz)):
                return None
            try:
                return _refresh(conn, tz, until=until, wait_s=wait_s, progress=progress)
            finally:
                _run(conn, "engagement.state.unlock", tz=tz)
        finally:
            conn.autocommit = False


def _refresh(
    conn: psycopg.Connection, tz: str, *, until: date | None, wait_s: float, progress: Progress | None
) -> date | None:
    utc_now, horizon = statements.one(_run(conn, "rollup.snapshot"))
    deadline = time.monotonic() + wait_s
    while statements.scalar(_run(conn, "rollup.still_writing", horizon=horizon)):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    target = closed_until(conn, utc_now, tz)
    if until is not None:
        target = min(target, until)
    _run(conn, "engagement.state.ensure", tz=tz)
    row = _run(conn, "engagement.state.zone", tz=tz, today=target).fetchone()
    through, dirty = (row[0], row[1]) if row else (None, False)
    if through is None or dirty:
        first = statements.scalar(_run(conn, "engagement.state.first_day", tz=tz)) or target
        through = min(first, target)
        _run(conn, "engagement.state.reset", tz=tz, through=through)
    total = max(0, (target - through).days)
    for i in range((target - through).days):
        day = through + timedelta(days=i)
        with conn.transaction():
            _run(conn, "engagement.state.add_day", tz=tz, day=day)
            for name in ("close_periods", "close_cells"):
                # The last day also writes the open periods' counts so far: readers add only today's authors.
                _run(conn, f"engagement.state.{name}", tz=tz, day=day, open=i == total - 1)
            _run(conn, "engagement.state.prune", tz=tz, day=day)
            _run(conn, "engagement.state.advance", tz=tz, through=day + timedelta(days=1))
        if progress:
            progress(i + 1, total)
        if (i + 1) % VACUUM_EVERY == 0:  # each day updates a day's users: let the next days reuse the space
            _run(conn, "engagement.state.vacuum")  # outside any transaction (the connection is in autocommit)
    if total % VACUUM_EVERY:
        _run(conn, "engagement.state.vacuum")
    return max(through, target)


def mark_loaded(conn: psycopg.Connection) -> None:
    """For loaders that write rows with old created_at (the seed generator): every zone
    is counted again, in the loader's transaction. Nothing where there is no state."""
    if statements.scalar(_run(conn, "engagement.state.available")):
        _run(conn, "engagement.state.mark_dirty")


def rebuild(tz: str) -> date | None:
    """Count a zone again from its first post (after a manual backfill)."""
    with pool.connection(pool.WRITER) as conn:
        conn.autocommit = True
        try:
            _run(conn, "engagement.state.ensure", tz=tz)
            _run(conn, "engagement.state.reset", tz=tz, through=None)
        finally:
            conn.autocommit = False
    return refresh(tz)


def refresh_all(*, wait_s: float = 5.0) -> dict[str, date | None]:
    """Refresh every zone that has a state, plus REPORT_TZ (cron, benchmarks)."""
    from db.settings import get_settings
    from queries.reads import fetch

    try:
        zones = list(fetch("engagement.state.zones")["tz"])
    except psycopg.errors.UndefinedTable:
        return {}
    default = get_settings().report_tz
    return {tz: refresh(tz, wait_s=wait_s) for tz in dict.fromkeys([default, *zones])}


def keep_up(tz: str, through: date | None, today: date) -> bool:
    """After a page read: start one background refresh of `tz` when its state does
    not reach `today` yet. Pages call this: a read never starts a write on its own."""
    if through is not None and through >= today:
        return False
    from db.settings import get_settings

    settings = get_settings()
    if through is None and tz != settings.report_tz and _zones_full(tz, settings.engagement_max_zones):
        return False
    return refresh_in_background(settings.require_url(), tz)


def _zones_full(tz: str, limit: int) -> bool:
    """Whether `tz` would be one zone too many: each kept zone costs a full count when
    built, a refresh a day and a recount after any delete, and any visitor can pick
    any zone. Such a zone is counted live, exactly, only slower at scale."""
    from queries.reads import fetch

    try:
        kept = set(fetch("engagement.state.zones")["tz"])
    except Exception:  # the refresh itself reports what is wrong
        log.debug("could not read the kept engagement zones", exc_info=True)
        return False
    if tz in kept or len(kept) < limit:
        return False
    log.info("no engagement state for %s: %d zones are kept (ENGAGEMENT_MAX_ZONES); counted live", tz, len(kept))
    return True


def refresh_in_background(url_key: str, tz: str) -> bool:
    """One background refresh at a time in this process, none for a zone that failed recently."""
    return _chore.start((url_key, tz), lambda: refresh(tz), f"engagement state refresh of {tz}")


def wait_idle(timeout: float = 60.0) -> bool:
    """Wait for a background refresh to finish (tests, benchmarks)."""
    return _chore.wait_idle(timeout)


def main(argv: list[str] | None = None) -> int:
    """`python -m actions.engagement [--tz ZONE ...] [--rebuild]`: bring engagement state up
    to date from cron (on production with ALLOW_PROD_WRITES=1, like `python -m db rollup`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m actions.engagement", description=main.__doc__)
    parser.add_argument("--tz", action="append", help="zone to refresh (repeatable); default: every kept zone")
    parser.add_argument("--rebuild", action="store_true", help="count the zones again from their first post")
    args = parser.parse_args(argv)
    try:
        if args.tz:
            done = {tz: (rebuild(tz) if args.rebuild else refresh(tz, wait_s=30)) for tz in args.tz}
        else:
            done = refresh_all(wait_s=30)
    except Exception as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1
    for tz, through in done.items():
        print(f"{tz}: counted up to {through}" if through else f"{tz}: busy (another refresher), try again")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
