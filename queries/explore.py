"""The Explore page's questions: a metric counted per day, week or month over a
date range of the report time zone, zero-filled, optionally as a running total.

Ranges are calendar dates in the report zone, both ends included; the SQL turns
them into UTC bounds. Everything a user picks is checked against an allow-list
here before any SQL runs.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import psycopg

from db.settings import valid_timezone
from queries.memo import per_answer
from queries.reads import run

PRESETS = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_month": "This month",
    "all_time": "All time",
    "custom": "Custom",
}
GRANULARITIES = {"day": "Day", "week": "Week (from Monday)", "month": "Month"}
METRICS = {
    "new_users": "New users",
    "new_posts": "New posts",
    "active_authors": "Active authors",
    "messages": "Messages",
    "conversations_started": "Conversations started",
}
# The platform total a running total must end at, per metric.
TOTALS = {
    "new_users": "total_users",
    "new_posts": "total_posts",
    "active_authors": "explore.total_authors",
    "messages": "explore.total_messages",
    "conversations_started": "explore.total_conversations",
}
# Metrics from the message tables (migration 0005), absent where it never ran.
MESSAGE_METRICS = frozenset({"messages", "conversations_started"})
NO_MESSAGES = "No messaging data connected: this database has no message tables."
# Above this many buckets the chart is unreadable: ask for a coarser granularity.
MAX_BUCKETS = 4000

RAW_KINDS = ("users", "activities")  # the tables a raw extract can hold (exports.raw)


class ExploreError(ValueError):
    """A choice that cannot be answered; the message is safe to show."""


@dataclass(frozen=True)
class DateRange:
    preset: str
    start: date
    end: date
    today: date

    @property
    def text(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def today_in(tz: str, now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return now.astimezone(zoneinfo.ZoneInfo(valid_timezone(tz))).date()


def resolve_range(
    preset: str,
    *,
    tz: str,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
    fresh: bool = False,
    metric: str | None = None,
) -> DateRange:
    """Turn a preset (or a custom start/end) into local dates, today included.
    "All time" starts at the first user or post, or for a message metric at the first message."""
    if preset not in PRESETS:
        raise ExploreError(f"Unknown range {preset!r}; choose one of: {', '.join(PRESETS)}")
    today = today_in(tz, now)
    if preset.startswith("last_"):
        days = int(preset.split("_")[1])
        start, end = today - timedelta(days=days - 1), today
    elif preset == "this_month":
        start, end = today.replace(day=1), today
    elif preset == "all_time":
        first = _first_day(tz, fresh=fresh, messages=metric in MESSAGE_METRICS)
        start, end = (first if isinstance(first, date) and first <= today else today), today
    else:
        if start is None or end is None:
            raise ExploreError("A custom range needs a start and an end date.")
        if start > end:
            raise ExploreError(f"The start date {start} is after the end date {end}.")
        if end > today:
            raise ExploreError(f"The end date {end} is in the future (today is {today} in {tz}).")
    return DateRange(preset=preset, start=start, end=end, today=today)


def _first_day(tz: str, *, fresh: bool, messages: bool) -> object:
    if not messages:
        return run("explore.first_day", fresh=fresh, tz=tz)["first_day"].iloc[0]
    try:
        return run("explore.first_message_day", fresh=fresh, tz=tz)["first_day"].iloc[0]
    except psycopg.errors.UndefinedTable as exc:
        raise ExploreError(NO_MESSAGES) from exc


def bucket_count(rng: DateRange, granularity: str) -> int:
    if granularity == "day":
        return (rng.end - rng.start).days + 1
    if granularity == "week":
        return (
            (rng.end - timedelta(days=rng.end.weekday())) - (rng.start - timedelta(days=rng.start.weekday()))
        ).days // 7 + 1
    return (rng.end.year - rng.start.year) * 12 + rng.end.month - rng.start.month + 1


@dataclass(frozen=True)
class Explored:
    frame: pd.DataFrame  # period_start, period_end, count, [cumulative], partial
    metric: str
    granularity: str
    range: DateRange
    tz: str
    cumulative: bool
    total: int | None  # the platform total (only with cumulative)
    computed_at: datetime
    from_cache: bool

    @property
    def dataset(self) -> str:
        return f"explore.{self.metric}"

    @property
    def chart_title(self) -> str:
        running = " (running total)" if self.cumulative else ""
        return f"{METRICS[self.metric]} per {self.granularity}{running} ({self.tz})"

    @property
    def file_stem(self) -> str:
        suffix = "_cumulative" if self.cumulative else ""
        return f"{self.metric}_by_{self.granularity}_{self.range.start}_{self.range.end}{suffix}"


def explore(
    metric: str, *, rng: DateRange, granularity: str, tz: str, cumulative: bool = False, fresh: bool = False
) -> Explored:
    if metric not in METRICS:
        raise ExploreError(f"Unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    if granularity not in GRANULARITIES:
        raise ExploreError(f"Unknown granularity {granularity!r}; choose one of: {', '.join(GRANULARITIES)}")
    tz = valid_timezone(tz)
    n = bucket_count(rng, granularity)
    if n > MAX_BUCKETS:
        raise ExploreError(
            f"That is {n:,} {granularity}s, more than {MAX_BUCKETS:,}: choose a coarser granularity or a shorter range."
        )
    try:
        frame = run(
            f"explore.{metric}",
            fresh=fresh,
            tz=tz,
            start_day=rng.start,
            end_day=rng.end,
            today=rng.today,
            unit=granularity,
            cumulative=cumulative,
        )
        parts = [frame]
        total = None
        if cumulative:
            totals = run(TOTALS[metric], fresh=fresh)
            parts.append(totals)
            total = int(totals["count"].iloc[0])
    except psycopg.errors.UndefinedTable as exc:
        if metric in MESSAGE_METRICS:
            raise ExploreError(NO_MESSAGES) from exc
        raise
    return Explored(
        frame=_buckets(frame, cumulative),
        metric=metric,
        granularity=granularity,
        range=rng,
        tz=tz,
        cumulative=cumulative,
        total=total,
        computed_at=min(p.attrs["computed_at"] for p in parts),
        from_cache=all(p.attrs["from_cache"] for p in parts),
    )


@per_answer
def _buckets(frame: pd.DataFrame, cumulative: bool) -> pd.DataFrame:
    shaped = (frame if cumulative else frame.drop(columns=["cumulative"])).astype({"partial": bool})
    shaped.attrs["answer"] = None  # not the read's answer any more (queries.memo)
    return shaped


def raw_count(kind: str, *, rng: DateRange, tz: str, fresh: bool = False) -> int:
    """Rows a raw extract of `kind` (users or activities) holds, before any cap."""
    if kind not in RAW_KINDS:
        raise ExploreError(f"Unknown raw extract {kind!r}; choose one of: {', '.join(RAW_KINDS)}")
    return int(
        run(f"explore.count_raw_{kind}", fresh=fresh, tz=tz, start_day=rng.start, end_day=rng.end)["count"].iloc[0]
    )
