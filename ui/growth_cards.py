"""The Growth page's KPI cards: number, honest delta, a small trend, and one click
to the matching Explore view.

Trends come from Explore's cached per-day counts (queries.explore) over the
last TREND_DAYS days in the report zone: a total's card draws its running
total (the total minus what came after each day), a last-7-days card the daily
counts of the last 30 days. A trend that cannot be read leaves the card without
one; the numbers never wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import pandas as pd

from db.errors import DatabaseUnavailable
from db.logs import logger
from exports import charts
from exports.formats import presentable
from queries.explore import explore, resolve_range
from queries.memo import per_frame

log = logger("cruddur.page")
TREND_DAYS = 90
DAILY_DAYS = 30
EXPLORE_PAGE = "pages/explore.py"
METRIC = {"users": "new_users", "posts": "new_posts", "messages": "messages"}


class PerDayParts(NamedTuple):
    table: pd.DataFrame  # the rows as text (exports.formats.presentable)
    spec: dict  # the chart (exports.charts.per_day_bars)
    first: date
    last: date


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    delta: str | None
    kind: str  # users, posts, messages
    total: bool  # a platform total (running-total trend) or a last-7-days count
    help: str | None = None
    delta_description: str | None = None


def trends(kinds: list[str], tz: str, *, fresh: bool = False) -> dict[str, pd.Series]:
    """Per-day counts (indexed by day) of the last TREND_DAYS days for each kind that
    answered; a kind that failed is left out and logged."""
    found: dict[str, pd.Series] = {}
    for kind in kinds:
        try:
            rng = resolve_range(f"last_{TREND_DAYS}_days", tz=tz)
            frame = explore(METRIC[kind], rng=rng, granularity="day", tz=tz, fresh=fresh).frame
        except DatabaseUnavailable:  # the read layer logs an outage once
            log.debug("the %s trend could not be read: the database is unreachable", kind, exc_info=True)
            continue
        except Exception:
            log.warning("the %s trend could not be read; its card goes without one", kind, exc_info=True)
            continue
        found[kind] = _per_day_series(frame)
    return found


@per_frame
def _per_day_series(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(frame["count"].astype(int).to_list(), index=list(frame["period_start"]))


@per_frame
def per_day_parts(per_day: pd.DataFrame, title: str) -> PerDayParts:
    """What a per-day chart shows, made once per answer (queries.memo). Shared: not to be
    changed. Not its files' provenance: that says when each file was made."""
    table = presentable(per_day)
    days = per_day["day"].to_list()
    return PerDayParts(table, charts.per_day_bars(table, title), min(days), max(days))


def trend_points(card: Card, per_day: pd.Series | None, total: int | None) -> list[int] | None:
    """What the card's small chart draws: a total's running total, else daily counts."""
    if per_day is None or per_day.empty:
        return None
    counts = [int(v) for v in per_day.to_list()]
    if card.total and total is not None:
        # The total at the end of each day: the total minus what came after that day.
        ends, after = [], 0
        for count in reversed(counts):
            ends.append(total - after)
            after += count
        return ends[::-1]
    return counts[-DAILY_DAYS:]


def explore_params(card: Card, tz: str) -> dict[str, str]:
    """The Explore view behind a card (Explore reads these query parameters)."""
    if card.total:
        return {
            "metric": METRIC[card.kind],
            "range": f"last_{TREND_DAYS}_days",
            "granularity": "day",
            "cumulative": "true",
            "tz": tz,
        }
    return {
        "metric": METRIC[card.kind],
        "range": f"last_{DAILY_DAYS}_days",
        "granularity": "day",
        "cumulative": "false",
        "tz": tz,
    }


def draw(row, card: Card, points: list[int] | None, tz: str, *, link: bool) -> None:
    """One card in `row`; with `link`, a small link to Explore under it."""
    cell = row.container(border=True, width="stretch", gap=None)
    cell.metric(
        card.label,
        card.value,
        card.delta,
        help=card.help,
        delta_description=card.delta_description,
        chart_data=points,
        chart_type="line" if card.total else "bar",
        width="stretch",
    )
    if link:
        try:
            cell.page_link(
                EXPLORE_PAGE,
                label="Explore",
                icon=":material/query_stats:",
                query_params=explore_params(card, tz),
                help=f"{card.label} in Explore: per day, with the table and downloads",
            )
        except Exception:  # the page run alone (no navigation): the card stands without its link
            log.debug("no Explore link for %s", card.label, exc_info=True)
