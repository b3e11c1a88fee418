"""Chart builders; pages call these and never style charts themselves."""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

BAR = "#5B4FE9"
PARTIAL = "#B9B3F5"


def day_label(day: date | str, partial: bool) -> str:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d:%a}|{d:%d %b}" + ("|(partial)" if partial else "")


def per_day_bars(frame: pd.DataFrame, title: str) -> alt.Chart:
    """One labelled bar per day, oldest first; today's bar lighter and labelled partial."""
    data = pd.DataFrame({
        "day": [str(d) for d in frame["day"]],
        "label": [day_label(d, p) for d, p in zip(frame["day"], frame["partial"])],
        "count": frame["count"].astype(int),
        "partial": frame["partial"].astype(bool),
    })
    order = list(data["label"])
    x = alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=False, labelExpr="split(datum.label, '|')"))
    base = alt.Chart(data, title=title)
    bars = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        x=x,
        y=alt.Y("count:Q", title=None, axis=alt.Axis(tickMinStep=1, format=",d")),
        color=alt.condition("datum.partial", alt.value(PARTIAL), alt.value(BAR)),
        tooltip=[alt.Tooltip("day:N", title="Day"), alt.Tooltip("count:Q", title="Count", format=","),
                 alt.Tooltip("partial:N", title="Partial day")],
    )
    labels = base.mark_text(dy=-6, fontSize=12).encode(x=x, y="count:Q", text=alt.Text("count:Q", format=","))
    return (bars + labels).properties(height=280)
