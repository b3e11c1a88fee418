"""The Engagement page's questions: active users, retention by sign-up cohort and
growth accounting (lifecycle), per day, ISO week or month of the report time zone.
(Long because the three tables share their periods, the state check and today's
counts, and the cards are made from the same rows.)

Definitions (stated on the page and in the README):

- A post **counts** when its author has a `users` row and the post is not dated
  before that user's `created_at`. Orphan posts (no such user) and posts dated
  before the sign-up count for nobody; `excluded()` says how many there are.
- A user is **active** in a period when one of their counted posts has
  `created_at` (UTC) inside the period's local bounds.
- A user's **cohort** is the period holding `users.created_at`; retained at k:
  active in the k-th period after it (k = 0: the sign-up period).
- **Lifecycle** of period P: new (active in P, signed up in P), retained (active
  in P and P-1), resurrected (active in P, not in P-1, signed up before P),
  churned (active in P-1, not in P). Because no counted post precedes its
  author's sign-up, new + retained + resurrected = active in P for any data.

Ranges are local calendar dates (queries.explore.resolve_range) widened to the
whole periods they touch; a period is partial while it is not over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg

from db.settings import valid_timezone
from queries.explore import GRANULARITIES, DateRange, ExploreError
from queries.reads import run

TABLES = {"active": "Active users", "retention": "Retention by sign-up cohort", "lifecycle": "Growth accounting"}
COLUMNS = {
    "active": ["period_start", "period_end", "active_users", "partial"],
    "active_day": ["period_start", "period_end", "active_users", "partial", "wau", "mau", "stickiness"],
    "retention": ["cohort_start", "cohort_size", "period_index", "retained", "retained_share", "partial"],
    "lifecycle": [
        "period_start",
        "period_end",
        "new",
        "retained",
        "resurrected",
        "churned",
        "active_users",
        "quick_ratio",
        "partial",
    ],
}
# Beyond these the table is unreadable (retention is a triangle: n periods give n(n+1)/2 rows).
MAX_PERIODS = {"active": 4000, "retention": 120, "lifecycle": 4000}
KPI_DAYS = 56  # the cards compare the last complete day, 7 and 28 days with the span before


class EngagementError(ExploreError):
    """A choice that cannot be answered; the message is safe to show."""


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The same columns without attrs: pandas deep-copies a frame's attrs (a read's
    metadata) into every frame derived from it, which costs more than the work here."""
    return pd.DataFrame(frame)


def period_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_count(first: date, last: date, unit: str) -> int:
    first, last = period_start(first, unit), period_start(last, unit)
    if unit == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if unit == "week" else 1) + 1


@dataclass(frozen=True)
class State:
    through: date | None  # local days before this are in the zone's engagement state
    dirty: bool = False
    present: bool = True  # False: this database has no engagement state (migration 0007)


@dataclass(frozen=True)
class Table:
    """One engagement table as the page shows it and the export writes it."""

    table: str  # active | retention | lifecycle
    frame: pd.DataFrame
    granularity: str
    range: DateRange
    first: date  # start of the first whole period
    end: date  # last day of the last whole period
    tz: str
    computed_at: datetime
    from_cache: bool
    stale: bool = False
    db_ms: float = 0.0
    kept: State | None = None  # the zone's engagement state when asked (None: not asked)

    @property
    def dataset(self) -> str:
        return f"engagement.{self.table}"

    @property
    def file_stem(self) -> str:
        return f"engagement_{self.table}_by_{self.granularity}_{self.first}_{self.end}"

    @property
    def chart_title(self) -> str:
        return f"{TABLES[self.table]} per {self.granularity} ({self.tz})"


def _check(table: str, granularity: str, rng: DateRange) -> None:
    if table not in TABLES:
        raise EngagementError(f"Unknown table {table!r}; choose one of: {', '.join(TABLES)}")
    if granularity not in GRANULARITIES:
        raise EngagementError(f"Unknown granularity {granularity!r}; choose one of: {', '.join(GRANULARITIES)}")
    n = period_count(rng.start, rng.end, granularity)
    if n > MAX_PERIODS[table]:
        raise EngagementError(
            f"That is {n:,} {granularity}s, more than {MAX_PERIODS[table]:,} for {TABLES[table].lower()}: "
            "choose a coarser granularity or a shorter range."
        )


def table(name: str, *, rng: DateRange, granularity: str, tz: str, fresh: bool = False) -> Table:
    """One of the three tables over the whole periods the range touches: from the
    zone's engagement state (migration 0007) when it reaches today, else counted
    live; the two give the same rows."""
    _check(name, granularity, rng)
    tz = valid_timezone(tz)
    kept = state(tz, today=rng.today, fresh=fresh)
    rolled = kept.through == rng.today and not kept.dirty
    params = _today_counts(name, granularity, tz=tz, today=rng.today, fresh=fresh) if rolled else {}
    frame = run(
        f"engagement.{'rolled.' if rolled else ''}{name}",
        fresh=fresh,
        tz=tz,
        start_day=rng.start,
        end_day=rng.end,
        today=rng.today,
        unit=granularity,
        **params,
    )
    return replace(_shaped(name, frame, rng=rng, granularity=granularity, tz=tz), kept=kept)


def _today_counts(name: str, unit: str, *, tz: str, today: date, fresh: bool) -> dict[str, Any]:
    """What the posts from today on add to the open period of `unit`, as the parameters
    of the rolled statement `name`: one read of today's authors (engagement.rolled.today,
    cached) serves every table of the page, so none of them looks at the posts again."""
    frame = plain(run("engagement.rolled.today", fresh=fresh, tz=tz, today=today))
    rows = frame[frame["unit"] == unit]
    authors = rows[rows["cohort"].notna()]
    if name == "excluded":
        posts = rows[rows["cohort"].isna()]
        return {"t_orphans": int(posts["orphan_posts"].sum()), "t_early": int(posts["early_posts"].sum())}
    if name == "retention":
        return {"t_cohorts": list(authors["cohort"]), "t_counts": [int(n) for n in authors["n"]]}
    counts = {"t_active": int(authors["n"].sum())}
    if name == "active":
        return counts | {"t_7": int(authors["n_7"].sum()), "t_28": int(authors["n_28"].sum())}
    new = authors[authors["cohort"] == period_start(today, unit)]
    return counts | {"t_new": int(new["n"].sum()), "t_prev": int(authors["prev_n"].sum())}


NO_STATE_RECHECK_S = 300.0
_no_state_until: dict[str, float] = {}  # databases without migration 0007, by URL: when to look again


def state(tz: str, *, today: date, fresh: bool = False) -> State:
    """How far the zone's engagement state reaches (cached like any read; `today`
    is part of the key, so a new day asks again)."""
    from db.settings import get_settings

    url = get_settings().require_url()
    if _no_state_until.get(url, 0) >= time.monotonic():
        return State(through=None, present=False)
    try:
        frame = run("engagement.state.zone", fresh=fresh, tz=tz, today=today)
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        # No migration 0007 here, or a reader role without SELECT on its tables: count live.
        _no_state_until[url] = time.monotonic() + NO_STATE_RECHECK_S
        return State(through=None, present=False)
    if frame.empty:
        return State(through=None)
    row = frame.iloc[0]
    through = row["through"]
    return State(through=None if pd.isna(through) else through, dirty=bool(row["dirty"]))


def _shaped(name: str, frame: pd.DataFrame, *, rng: DateRange, granularity: str, tz: str) -> Table:
    meta = frame.attrs
    columns = COLUMNS["active_day" if name == "active" and granularity == "day" else name]
    out = plain(frame)[columns].copy()
    for column in out.columns:
        if column == "partial":
            out[column] = out[column].astype(bool)
        elif column in ("stickiness", "retained_share", "quick_ratio"):
            out[column] = out[column].astype("float64")
        elif column not in ("period_start", "period_end", "cohort_start"):
            out[column] = out[column].astype("int64")
    out.attrs = dict(meta)
    first = period_start(rng.start, granularity)
    end = next_period(period_start(rng.end, granularity), granularity) - timedelta(days=1)
    return Table(
        table=name,
        frame=out,
        granularity=granularity,
        range=rng,
        first=first,
        end=end,
        tz=tz,
        computed_at=meta["computed_at"],
        from_cache=meta["from_cache"],
        stale=bool(meta.get("stale")),
        db_ms=0.0 if meta["from_cache"] else float(meta.get("db_ms") or 0.0),
    )


@dataclass(frozen=True)
class Card:
    label: str
    value: float | int | None
    previous: float | int | None
    help: str

    def delta_text(self) -> str | None:
        """'+12 (+8.5%)' against the span before; None when there is nothing to compare."""
        if self.value is None or self.previous is None:
            return None
        if isinstance(self.value, float):
            return f"{(self.value - self.previous) * 100:+.1f} pts"
        change = int(self.value) - int(self.previous)
        if self.previous == 0:
            return f"{change:+,} (none before)" if change else "no change"
        return f"{change:+,} ({100.0 * change / self.previous:+.1f}%)"


def cards(days: Table) -> list[Card]:
    """DAU, WAU and MAU of the last complete day against the same span before it, and
    the average stickiness over the range's complete days. `days` is the active table
    per day from at least KPI_DAYS before today (see `kpi_range`)."""
    frame = plain(days.frame)
    rows = {r.period_start: r for r in frame.itertuples(index=False)}
    last = days.range.today - timedelta(days=1)

    def at(day: date, column: str) -> int | None:
        row = rows.get(day)
        return None if row is None else int(getattr(row, column))

    in_range = frame[
        (frame["period_start"] >= days.range.start) & (frame["period_start"] <= days.range.end) & ~frame["partial"]
    ]
    sticky = in_range["stickiness"].dropna()
    return [
        Card("DAU", at(last, "active_users"), at(last - timedelta(days=7), "active_users"),
             f"Users active on {last:%a %d %b} (the last complete day), against the same weekday a week before."),
        Card("WAU", at(last, "wau"), at(last - timedelta(days=7), "wau"),
             f"Users active in the 7 days ending {last:%a %d %b}, against the 7 days before."),
        Card("MAU", at(last, "mau"), at(last - timedelta(days=28), "mau"),
             f"Users active in the 28 days ending {last:%a %d %b}, against the 28 days before."),
        Card("Stickiness (DAU/MAU)", float(sticky.mean()) if len(sticky) else None, None,
             "The average over the range's complete days of each day's active users divided by the users "
             "active in the 28 days ending that day."),
    ]  # fmt: skip


def kpi_range(rng: DateRange) -> DateRange:
    """The day range the cards need: the chosen range, reaching back at least KPI_DAYS."""
    start = min(rng.start, rng.today - timedelta(days=KPI_DAYS))
    return DateRange(preset=rng.preset, start=start, end=rng.today, today=rng.today)


def within(days: Table, rng: DateRange) -> Table:
    """The days of `rng` out of a per-day active table over a longer range (the cards'):
    the same rows `table("active", rng=rng, granularity="day")` gives, without asking again."""
    if days.table != "active" or days.granularity != "day" or not (days.range.start <= rng.start <= rng.end):
        raise ValueError("within() takes a per-day active table covering the range")
    frame = plain(days.frame)
    frame = frame[(frame["period_start"] >= rng.start) & (frame["period_end"] <= rng.end)].reset_index(drop=True)
    frame.attrs = dict(days.frame.attrs)
    return replace(days, frame=frame, range=rng, first=rng.start, end=rng.end)


def average_curve(retention: pd.DataFrame) -> pd.DataFrame:
    """The average retention curve: for each k, the retained of every cohort whose k-th
    period is over, divided by those cohorts' sizes (cohorts weighted by their size)."""
    retention = plain(retention)
    done = retention[~retention["partial"]]
    grouped = done.groupby("period_index", as_index=False)[["retained", "cohort_size"]].sum()
    grouped = grouped[grouped["cohort_size"] > 0]
    grouped["retained_share"] = (grouped["retained"] / grouped["cohort_size"]).round(4)
    return grouped.rename(columns={"cohort_size": "cohorts_size"}).reset_index(drop=True)


def excluded(*, rng: DateRange, granularity: str, tz: str, fresh: bool = False) -> tuple[int, int]:
    """(orphan posts, posts dated before their author's sign-up) in the whole periods of the range."""
    row = excluded_frame(rng=rng, granularity=granularity, tz=tz, fresh=fresh).iloc[0]
    return int(row["orphan_posts"]), int(row["early_posts"])


def excluded_frame(*, rng: DateRange, granularity: str, tz: str, fresh: bool = False) -> pd.DataFrame:
    """The read behind `excluded` (its attrs say when, and how long the database took)."""
    tz = valid_timezone(tz)
    kept = state(tz, today=rng.today, fresh=fresh)
    params: dict[str, Any] = {"tz": tz, "start_day": rng.start, "end_day": rng.end, "unit": granularity}
    if kept.through == rng.today and not kept.dirty:
        params |= _today_counts("excluded", granularity, tz=tz, today=rng.today, fresh=fresh)
        return run("engagement.rolled.excluded_posts", fresh=fresh, today=rng.today, **params)
    return run("engagement.excluded_posts", fresh=fresh, **params)
