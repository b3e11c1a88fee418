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


def day_label(day: date | str, partial: bool) -> str:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d:%a}|{d:%d %b}" + ("|(partial)" if partial else "")


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
        y=alt.Y("count:Q", title=None, axis=alt.Axis(tickMinStep=1, format=",d")),
        color=alt.condition("datum.partial", alt.value(PARTIAL), alt.value(BAR)),
        tooltip=[
            alt.Tooltip("day:N", title="Day"),
            alt.Tooltip("count:Q", title="Count", format=","),
            alt.Tooltip("partial:N", title="Partial day"),
        ],
    )
    labels = base.mark_text(dy=-6, fontSize=12).encode(x=x, y="count:Q", text=alt.Text("count:Q", format=","))
    return (bars + labels).properties(height=280)


def period_label(start: date | str, granularity: str, partial: bool) -> str:
    """'Mon 02 Mar' (day), 'wk 02 Mar' (week), 'Mar 2026' (month); '|partial' adds a second line."""
    d = date.fromisoformat(start) if isinstance(start, str) else start
    text = {"day": f"{d:%a %d %b}", "week": f"wk {d:%d %b %y}", "month": f"{d:%b %Y}"}[granularity]
    return text + ("|partial" if partial else "")


@_memoised_spec
def bucket_chart(frame: pd.DataFrame, title: str, granularity: str, *, cumulative: bool = False) -> alt.Chart:
    """Counts per bucket as bars (partial buckets lighter), or the running total as a
    line with the same marks; x follows the table's order."""
    value = "cumulative" if cumulative else "count"
    data = pd.DataFrame(
        {
            "start": [str(d) for d in frame["period_start"]],
            "end": [str(d) for d in frame["period_end"]],
            "label": [
                period_label(d, granularity, p) for d, p in zip(frame["period_start"], frame["partial"], strict=True)
            ],
            "value": frame[value].astype(int),
            "partial": frame["partial"].astype(bool),
        }
    )
    many = len(data) > 40
    x = alt.X(
        "label:N",
        sort=list(data["label"]),
        title=None,
        axis=alt.Axis(
            labelAngle=-45 if many else 0, labelLimit=160, labelOverlap=True, labelExpr="split(datum.label, '|')"
        ),
    )
    y = alt.Y("value:Q", title="running total" if cumulative else None, axis=alt.Axis(tickMinStep=1, format="~s"))
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
