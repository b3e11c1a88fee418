"""Chart builders; pages call these and never style charts themselves.

Builders return Vega-Lite specs (dicts) for `st.vega_lite_chart` and the image
exports. Altair validates every channel against the Vega-Lite JSON schema,
which cost about 0.3 s of CPU per Growth page run; specs are therefore built
once per distinct input and reused (the data change only when the cache does).
"""

from __future__ import annotations

import copy
import functools
from datetime import date
from typing import Any

import altair as alt
import pandas as pd

_SPECS_KEPT = 256


def _memoised_spec(builder):
    """Build the Altair chart once per (rows, arguments) and keep its spec; each call
    gets its own copy, so a caller may change it freely."""

    @functools.lru_cache(maxsize=_SPECS_KEPT)
    def cached(columns: tuple, rows: tuple, args: tuple, kwargs: tuple) -> dict:
        frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
        return builder(frame, *args, **dict(kwargs)).to_dict()

    @functools.wraps(builder)
    def wrapper(frame: pd.DataFrame, *args: Any, **kwargs: Any) -> dict:
        rows = tuple(map(tuple, frame.itertuples(index=False, name=None)))
        return copy.deepcopy(cached(tuple(frame.columns), rows, args, tuple(sorted(kwargs.items()))))

    return wrapper


BAR = "#5B4FE9"
PARTIAL = "#B9B3F5"
INK = "#1F2233"
MUTED = "#5E6278"
FONT = "sans-serif"
MAX_X_LABELS = 12  # more labels than this on one axis crowd each other: every k-th is shown


def count_axis(values: pd.Series, **extra: Any) -> alt.Axis:
    """The one y axis of counts: whole numbers only, with thousands separators up
    to 99,999 and SI suffixes above (12k, 1.5M), never '0k' or '0.5'."""
    top = int(values.max()) if len(values) else 0
    if top < 100_000:
        return alt.Axis(tickMinStep=1, format=",d", labelColor=MUTED, **extra)
    # Vega picks one SI prefix for every tick, which prints zero as "0k": zero is written out.
    return alt.Axis(
        tickMinStep=1, labelExpr="datum.value == 0 ? '0' : format(datum.value, '~s')", labelColor=MUTED, **extra
    )


def labelled(labels: list[str], most: int = MAX_X_LABELS) -> list[str]:
    """The x labels to print: all when few, else every k-th counted back from the
    last, so the latest bucket is always labelled."""
    step = max(1, -(-len(labels) // most))
    return labels[::-1][::step][::-1]


def short_date(d: date) -> str:
    """'7 Sep' (no zero padding: readable at a glance)."""
    return f"{d.day} {d:%b}"


def day_label(day: date | str, partial: bool) -> str:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d:%a}|{short_date(d)}" + ("|(partial)" if partial else "")


@_memoised_spec
def per_day_bars(frame: pd.DataFrame, title: str) -> alt.Chart:
    """One labelled bar per day, oldest first; today's bar lighter and labelled partial."""
    data = pd.DataFrame(
        {
            "day": [str(d) for d in frame["day"]],
            "label": [day_label(d, p) for d, p in zip(frame["day"], frame["partial"], strict=True)],
            "count": frame["count"].astype(int),
            "partial": frame["partial"].astype(bool),
        }
    )
    order = list(data["label"])
    x = alt.X(
        "label:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=0, labelOverlap=False, labelExpr="split(datum.label, '|')"),
    )
    base = alt.Chart(data, title=title)
    bars = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        x=x,
        y=alt.Y("count:Q", title=None, axis=count_axis(data["count"])),
        color=alt.condition("datum.partial", alt.value(PARTIAL), alt.value(BAR)),
        tooltip=[
            alt.Tooltip("day:N", title="Day"),
            alt.Tooltip("count:Q", title="Count", format=","),
            alt.Tooltip("partial:N", title="Partial day"),
        ],
    )
    labels = base.mark_text(dy=-6, fontSize=12).encode(x=x, y="count:Q", text=alt.Text("count:Q", format=","))
    return (bars + labels).properties(height=280)


def period_label(start: date | str, granularity: str, partial: bool, *, years: bool = False) -> str:
    """'Mon 2 Mar' (day), '2 Mar' (the week from that Monday), 'Mar 2026' (month); with
    `years` (a range over more than one year) days and weeks add '26; '|partial' adds a
    second line."""
    d = date.fromisoformat(start) if isinstance(start, str) else start
    year = f" '{d:%y}" if years else ""
    text = {"day": f"{d:%a} {short_date(d)}{year}", "week": f"{short_date(d)}{year}", "month": f"{d:%b %Y}"}[
        granularity
    ]
    return text + ("|partial" if partial else "")


def period_labels(frame: pd.DataFrame, granularity: str) -> list[str]:
    """One x label per period of `frame` (period_start, partial), as period_label writes
    them, with the year when the periods span more than one."""
    starts = [date.fromisoformat(str(d)) for d in frame["period_start"]]
    years = len({d.year for d in starts}) > 1
    return [period_label(d, granularity, bool(p), years=years) for d, p in zip(starts, frame["partial"], strict=True)]


def period_x(labels: list[str]) -> alt.X:
    """The periods in order; every k-th labelled, counted back from the latest."""
    return alt.X(
        "label:N",
        sort=labels,
        title=None,
        axis=alt.Axis(
            values=labelled(labels),
            labelAngle=0,
            labelLimit=160,
            labelOverlap=False,
            labelExpr="split(datum.label, '|')",
        ),
    )


@_memoised_spec
def bucket_chart(frame: pd.DataFrame, title: str, granularity: str, *, cumulative: bool = False) -> alt.Chart:
    """Counts per bucket as bars (partial buckets lighter), or the running total as a
    line with the same marks; x follows the table's order."""
    value = "cumulative" if cumulative else "count"
    data = pd.DataFrame(
        {
            "start": [str(d) for d in frame["period_start"]],
            "end": [str(d) for d in frame["period_end"]],
            "label": period_labels(frame, granularity),
            "value": frame[value].astype(int),
            "partial": frame["partial"].astype(bool),
        }
    )
    many = len(data) > 40
    x = period_x(list(data["label"]))
    y = alt.Y("value:Q", title="running total" if cumulative else None, axis=count_axis(data["value"]))
    tooltip = [
        alt.Tooltip("start:N", title="From"),
        alt.Tooltip("end:N", title="To"),
        alt.Tooltip("value:Q", title="Running total" if cumulative else "Count", format=","),
        alt.Tooltip("partial:N", title="Partial"),
    ]
    base = alt.Chart(data, title=title)
    color = alt.condition("datum.partial", alt.value(PARTIAL), alt.value(BAR))
    if cumulative:
        line = base.mark_line(color=BAR, strokeWidth=2).encode(x=x, y=y)
        points = base.mark_point(filled=True, size=60).encode(x=x, y=y, color=color, tooltip=tooltip)
        return (line + points).properties(height=300)
    bars = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(x=x, y=y, color=color, tooltip=tooltip)
    if many:
        return bars.properties(height=300)
    labels = base.mark_text(dy=-6, fontSize=12).encode(x=x, y="value:Q", text=alt.Text("value:Q", format=","))
    return (bars + labels).properties(height=300)
