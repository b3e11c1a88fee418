"""The Engagement page's files, made one way for the page and `python -m queries
export engagement`: provenance of its tables (queries/engagement.py) and its chart
specs (active users, the retention triangle and average curve, growth accounting).

Charts follow exports.charts (specs built once per distinct input, partial
periods lighter); the PNG downloads render these specs with vl-convert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import altair as alt
import pandas as pd

from exports.charts import BAR, PARTIAL, _memoised_spec, count_axis, period_labels, period_x
from exports.files import Provenance, frame_provenance
from queries.engagement import Table, average_curve, plain, table

RULE = "posts_by_a_user_not_before_sign_up"  # queries/engagement.py: what counts as activity

LIFECYCLE_COLOURS = {"new": "#2E9E5B", "resurrected": "#F2A93B", "retained": BAR, "churned": "#D64545"}
WAU, MAU = "#E07B39", "#2A9D8F"


def period_text(start: date | str, granularity: str) -> str:
    """'Mon 2 Mar 26' (day), 'wk 2 Mar 26' (ISO week from that Monday), 'Mar 2026' (month)."""
    d = date.fromisoformat(start) if isinstance(start, str) else start
    if granularity == "month":
        return f"{d:%b %Y}"
    return ("wk " if granularity == "week" else f"{d:%a} ") + f"{d.day} {d:%b %y}"


@_memoised_spec
def active_chart(frame: pd.DataFrame, title: str, granularity: str) -> alt.Chart:
    """Active users per period as bars (partial lighter); per day also the trailing
    7- and 28-day counts (WAU, MAU) as lines."""
    data = pd.DataFrame(
        {
            "label": period_labels(frame, granularity),
            "start": [str(d) for d in frame["period_start"]],
            "value": frame["active_users"].astype(int),
            "partial": frame["partial"].astype(bool),
        }
    )
    x = period_x(list(data["label"]))
    trailing = granularity == "day" and "mau" in frame  # MAU >= DAU: it sets the axis's reach
    base = alt.Chart(data, title=title)
    bars = base.mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2).encode(
        x=x,
        y=alt.Y("value:Q", title="active users", axis=count_axis(frame["mau"] if trailing else data["value"])),
        color=alt.condition("datum.partial", alt.value(PARTIAL), alt.value(BAR)),
        tooltip=[
            alt.Tooltip("start:N", title="From"),
            alt.Tooltip("value:Q", title="Active users", format=","),
            alt.Tooltip("partial:N", title="Partial"),
        ],
    )
    if not trailing:
        return bars.properties(height=280)
    lines = pd.DataFrame(
        {
            "label": list(data["label"]) * 2,
            "window": ["WAU (7 days)"] * len(frame) + ["MAU (28 days)"] * len(frame),
            "value": list(frame["wau"].astype(int)) + list(frame["mau"].astype(int)),
        }
    )
    trail = (
        alt.Chart(lines)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y="value:Q",
            color=alt.Color(
                "window:N",
                title=None,
                scale=alt.Scale(domain=["WAU (7 days)", "MAU (28 days)"], range=[WAU, MAU]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[alt.Tooltip("window:N", title="Window"), alt.Tooltip("value:Q", title="Users", format=",")],
        )
    )
    return (bars + trail).properties(height=300)


@_memoised_spec
def retention_heatmap(frame: pd.DataFrame, title: str, granularity: str) -> alt.Chart:
    """The cohort triangle: one row per cohort (labelled with its size), one column per
    period since sign-up, coloured by the share retained; counts on hover. Cells of a
    period not over yet are hatched lighter (opacity)."""
    size = frame.groupby("cohort_start", sort=True)["cohort_size"].first()
    in_progress = frame[frame["period_index"] == 0].set_index("cohort_start")["partial"]
    names = {
        c: f"{period_text(c, granularity)} · {int(n):,}" + (" (in progress)" if bool(in_progress.get(c)) else "")
        for c, n in size.items()
    }
    data = pd.DataFrame(
        {
            "cohort": [names[c] for c in frame["cohort_start"]],
            "cohort_start": [str(c) for c in frame["cohort_start"]],
            "k": frame["period_index"].astype(int),
            "size": frame["cohort_size"].astype(int),
            "retained": frame["retained"].astype(int),
            "share": frame["retained_share"].astype(float),
            "partial": frame["partial"].astype(bool),
        }
    )
    order = [names[c] for c in size.index]
    # An empty cohort has no share to colour: its row stays (the explicit domain), blank.
    base = alt.Chart(data[data["share"].notna()], title=title)
    y = alt.Y(
        "cohort:N",
        sort=order,
        scale=alt.Scale(domain=order),
        title=f"cohort ({granularity} of sign-up) · size",
        axis=alt.Axis(labelLimit=320, labelOverlap=False),
    )
    x = alt.X(
        "k:O",
        title=f"{granularity}s since sign-up",
        scale=alt.Scale(domain=list(range(len(size)))),
        axis=alt.Axis(labelAngle=0),
    )
    cells = base.mark_rect().encode(
        x=x,
        y=y,
        color=alt.Color("share:Q", title="retained", scale=alt.Scale(scheme="purples", domain=[0, 1]),
                        legend=alt.Legend(format=".0%")),
        opacity=alt.condition("datum.partial", alt.value(0.55), alt.value(1.0)),
        tooltip=[
            alt.Tooltip("cohort_start:N", title="Cohort from"),
            alt.Tooltip("size:Q", title="Cohort size", format=","),
            alt.Tooltip("k:O", title=f"{granularity.capitalize()}s since sign-up"),
            alt.Tooltip("retained:Q", title="Active", format=","),
            alt.Tooltip("share:Q", title="Retained", format=".1%"),
            alt.Tooltip("partial:N", title="Period not over yet"),
        ],
    )  # fmt: skip
    chart = cells
    if len(size) <= 26:
        text = base.mark_text(fontSize=10).encode(
            x=x,
            y=y,
            text=alt.Text("share:Q", format=".0%"),
            color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")),
        )
        chart = cells + text
    return chart.properties(height=max(160, 24 * len(size)))


@_memoised_spec
def retention_curve(curve: pd.DataFrame, title: str, granularity: str) -> alt.Chart:
    """The average retention curve: share of cohorts retained k periods after sign-up."""
    data = pd.DataFrame(
        {"k": curve["period_index"].astype(int), "share": curve["retained_share"].astype(float),
         "retained": curve["retained"].astype(int), "size": curve["cohorts_size"].astype(int)}
    )  # fmt: skip
    base = alt.Chart(data, title=title)
    x = alt.X("k:Q", title=f"{granularity}s since sign-up", axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("share:Q", title="retained", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    tooltip = [
        alt.Tooltip("k:Q", title=f"{granularity.capitalize()}s since sign-up"),
        alt.Tooltip("share:Q", title="Retained", format=".1%"),
        alt.Tooltip("retained:Q", title="Active", format=","),
        alt.Tooltip("size:Q", title="Of cohorts totalling", format=","),
    ]
    line = base.mark_line(color=BAR, strokeWidth=2).encode(x=x, y=y)
    points = base.mark_point(filled=True, color=BAR, size=50).encode(x=x, y=y, tooltip=tooltip)
    return (line + points).properties(height=260)


@_memoised_spec
def lifecycle_chart(frame: pd.DataFrame, title: str, granularity: str) -> alt.Chart:
    """New, retained and resurrected stacked above zero, churned below it."""
    labels = period_labels(frame, granularity)
    parts = []
    for kind, sign in (("retained", 1), ("resurrected", 1), ("new", 1), ("churned", -1)):
        parts.append(
            pd.DataFrame(
                {
                    "label": labels,
                    "start": [str(d) for d in frame["period_start"]],
                    "kind": kind,
                    "count": frame[kind].astype(int),
                    "value": sign * frame[kind].astype(int),
                    "order": ["retained", "resurrected", "new", "churned"].index(kind),
                }
            )
        )
    data = pd.concat(parts, ignore_index=True)
    # How far the stacked bars reach, above zero and below it: what the axis must label.
    reach = pd.concat([frame[["retained", "resurrected", "new"]].sum(axis=1), frame["churned"]]).astype(int)
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            x=period_x(labels),
            y=alt.Y("value:Q", title="users", axis=count_axis(reach), stack="zero"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=list(LIFECYCLE_COLOURS), range=list(LIFECYCLE_COLOURS.values())),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("start:N", title="From"),
                alt.Tooltip("kind:N", title="Users"),
                alt.Tooltip("count:Q", title="Count", format=","),
            ],
        )
        .properties(height=300)
    )


def provenance(t: Table) -> Provenance:
    """Provenance of one engagement table: its whole periods, zone and counting rule."""
    return frame_provenance(
        t.frame,
        dataset=t.dataset,
        tz=t.tz,
        granularity=t.granularity,
        range_start=t.first,
        range_end=t.end,
        extra={"range_preset": t.range.preset, "asked": t.range.text, "counted": RULE},
    )


def chart(t: Table) -> dict:
    """The chart of a table, as the page shows it (retention: the triangle)."""
    frame = plain(t.frame)
    if t.table == "active":
        return active_chart(frame, t.chart_title, t.granularity)
    if t.table == "retention":
        return retention_heatmap(frame, t.chart_title, t.granularity)
    return lifecycle_chart(frame, t.chart_title, t.granularity)


def curve_chart(t: Table) -> dict:
    return retention_curve(average_curve(t.frame), f"Average retention per {t.granularity} ({t.tz})", t.granularity)


def export_parts(
    name: str, *, granularity: str, preset: str, start: date | None, end: date | None, tz: str
) -> tuple[pd.DataFrame, Provenance, str, Callable[[], dict]]:
    """What `python -m queries export engagement` writes: the page's table, asked fresh,
    its provenance, file stem and chart (built only for an image format)."""
    from queries.explore import resolve_range

    rng = resolve_range(preset, tz=tz, start=start, end=end, fresh=True)
    t = table(name, rng=rng, granularity=granularity, tz=tz, fresh=True)
    return t.frame, provenance(t), t.file_stem, lambda: chart(t)
