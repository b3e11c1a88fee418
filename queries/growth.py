"""The four growth questions, shaped for the Growth page and its CLI twin.

Where the growth rollup exists (migrations 0004, 0006) one statement answers
all four (`growth_summary`); elsewhere - a database our migrations never touched -
the live queries answer, exactly as well, only slower on big tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import psycopg

from db.errors import SCHEMA_BEHIND, safe_message
from db.logs import logger
from queries.memo import per_answer
from queries.reads import run

log = logger("cruddur.growth")

# Where the rollup is absent (a database our migrations never touched): live counts.
PER_DAY = {"users": "live.new_users_per_day", "posts": "live.new_posts_per_day"}
TOTAL = {"users": "live.total_users", "posts": "live.total_posts"}


@dataclass(frozen=True)
class Delta:
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    def text(self) -> str:
        """'+12 (+8.5%)'; no percentage when the previous value was 0."""
        if self.previous == 0:
            return f"{self.change:+,} (none before)" if self.change else "no change"
        pct = 100.0 * self.change / self.previous
        return f"{self.change:+,} ({pct:+.1f}%)"


@dataclass(frozen=True)
class Growth:
    totals: dict[str, int]
    per_day: dict[str, pd.DataFrame]
    weekly: dict[str, Delta]
    computed_at: datetime  # the oldest of the parts, UTC
    from_cache: bool  # every part came from the cache
    tz: str
    stale: bool = False  # some part expired and is being refreshed
    db_ms: float = 0.0  # time spent in the database for this answer (0 when all came from the cache)
    # The oldest rollup mark behind the answer, as of when it was computed (None: nothing
    # rolled up, or no rollup here): lets the write side (actions.rollup.keep_up) move it on.
    rollup_through: datetime | None = None
    rolled_up: bool = False  # the answer came from the rollup statement


LEGACY_RECHECK_S = 300.0
_legacy_until: dict[str, float] = {}  # databases without the rollup, by URL: when to look again


def growth(*, tz: str | None = None, fresh: bool = False) -> Growth:
    from db.settings import get_settings

    url = get_settings().require_url()
    if _legacy_until.get(url, 0) < time.monotonic():
        try:
            summary = run("growth_summary", fresh=fresh, tz=tz)
        except SCHEMA_BEHIND as exc:
            _legacy_until[url] = time.monotonic() + LEGACY_RECHECK_S
            if isinstance(exc, psycopg.errors.UndefinedColumn):  # our tables, an older shape: say so
                log.warning("growth: answering live until the database is migrated: %s", safe_message(exc))
        else:
            return _from_summary(summary)
    return _live(tz=tz, fresh=fresh)


@per_answer
def _from_summary(summary: pd.DataFrame) -> Growth:
    """Shape the summary's few rows in plain Python: this runs on every page view,
    cache hits included, and pandas filtering cost several ms a time."""
    meta = summary.attrs
    rows = list(summary[["metric", "kind", "day", "count", "partial"]].itertuples(index=False, name=None))
    per_day, totals, weekly = {}, {}, {}
    for kind in ("users", "posts"):
        mine = [r for r in rows if r[0] == kind]
        days = pd.DataFrame(
            [(day, int(count), bool(partial)) for _, k, day, count, partial in mine if k == "day"],
            columns=["day", "count", "partial"],
        ).astype({"count": "int64", "partial": bool})
        days.attrs = {**meta, "query": f"growth_summary:{kind}", "answer": None}
        per_day[kind] = days
        totals[kind] = next(int(count) for _, k, _, count, _ in mine if k == "total")
        previous = next(int(count) for _, k, _, count, _ in mine if k == "previous")
        weekly[kind] = Delta(int(days["count"].sum()), previous)
    through = summary["rollup_through"].dropna()
    return Growth(
        totals=totals,
        per_day=per_day,
        weekly=weekly,
        computed_at=meta["computed_at"],
        from_cache=meta["from_cache"],
        tz=meta["params"]["tz"],
        stale=bool(meta.get("stale")),
        db_ms=0.0 if meta["from_cache"] else meta["db_ms"],
        rollup_through=None if len(through) < 2 else min(through),
        rolled_up=True,
    )


def _live(*, tz: str | None, fresh: bool) -> Growth:
    frames = {name: run(name, fresh=fresh) for name in TOTAL.values()}
    per_day = {kind: run(name, fresh=fresh, tz=tz) for kind, name in PER_DAY.items()}
    weekly = run("live.weekly_new_counts", fresh=fresh, tz=tz)
    parts = [*frames.values(), *per_day.values(), weekly]
    deltas = {row.metric: Delta(int(row.current), int(row.previous)) for row in weekly.itertuples()}
    return Growth(
        totals={kind: int(frames[name]["count"].iloc[0]) for kind, name in TOTAL.items()},
        per_day=per_day,
        weekly=deltas,
        computed_at=min(f.attrs["computed_at"] for f in parts),
        from_cache=all(f.attrs["from_cache"] for f in parts),
        tz=per_day["users"].attrs["params"]["tz"],
        stale=any(f.attrs.get("stale") for f in parts),
        db_ms=sum(f.attrs["db_ms"] for f in parts if not f.attrs["from_cache"]),
    )


@dataclass(frozen=True)
class Messages:
    """Messages per day in the report zone and the honest weekly delta (migration 0005).

    connected is False where the message tables are absent (a database our
    migrations never touched) or hold no rows at all: then per_day is None and
    weekly is zero, and the page says so instead of showing zeros."""

    connected: bool
    per_day: pd.DataFrame | None
    weekly: Delta
    computed_at: datetime | None  # the oldest of the parts, UTC (None when not connected)
    from_cache: bool
    stale: bool = False


_no_messages_until: dict[str, float] = {}  # databases without the message tables, by URL: when to look again


def messages(*, tz: str | None = None, fresh: bool = False) -> Messages:
    """The Growth page's messaging part, apart from growth() so neither can break the other."""
    from db.settings import get_settings

    url = get_settings().require_url()
    absent = Messages(connected=False, per_day=None, weekly=Delta(0, 0), computed_at=None, from_cache=False)
    if _no_messages_until.get(url, 0) >= time.monotonic() and not fresh:
        return absent
    try:
        summary = run("messages_summary", fresh=fresh, tz=tz)
    except psycopg.errors.UndefinedTable:
        _no_messages_until[url] = time.monotonic() + LEGACY_RECHECK_S
        return absent
    _no_messages_until.pop(url, None)
    return _messages_from(summary)


@per_answer
def _messages_from(summary: pd.DataFrame) -> Messages:
    if summary.empty or not bool(summary["has_data"].iloc[0]):
        return Messages(
            connected=False,
            per_day=None,
            weekly=Delta(0, 0),
            computed_at=summary.attrs["computed_at"],
            from_cache=summary.attrs["from_cache"],
        )
    per_day = summary[["day", "count", "partial"]].copy()
    per_day.attrs = {**summary.attrs, "query": "messages_summary", "answer": None}
    return Messages(
        connected=True,
        per_day=per_day,
        # The card's number is the chart's sum: one statement answers both.
        weekly=Delta(int(per_day["count"].sum()), int(summary["previous"].iloc[0])),
        computed_at=summary.attrs["computed_at"],
        from_cache=summary.attrs["from_cache"],
        stale=bool(summary.attrs.get("stale")),
    )
