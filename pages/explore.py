"""Explore: any metric per day, week or month over a chosen range, and exports to audit."""

from datetime import date, timedelta

import streamlit as st

from exports import charts, files
from exports.formats import presentable
from exports.raw import max_rows_setting
from queries import reads
from queries.explore import GRANULARITIES, METRICS, PRESETS, ExploreError, explore, raw_count, resolve_range, today_in
from ui.auth import is_admin
from ui.charts import show_chart
from ui.common import database_guard, report_tz
from ui.exports import chart_downloads, provenance_style, raw_download, table_downloads
from ui.freshness import freshness
from ui.tables import show_table
from ui.view_params import Param, adopt, publish
from web.routing import ensure_routed

ensure_routed()

st.title("Explore")
tz = report_tz()
EARLIEST = date(2000, 1, 1)


def last_30_days() -> tuple[date, date]:
    today = today_in(tz)
    return today - timedelta(days=29), today


# The view lives in the URL: a copied link opens it as shown (ui/view_params.py).
PARAMS = [
    Param.choice("metric", "explore_metric", METRICS, next(iter(METRICS))),
    Param.choice("range", "explore_range", PRESETS, next(iter(PRESETS))),
    Param.choice("granularity", "explore_unit", GRANULARITIES, "day"),
    Param.flag("cumulative", "explore_cumulative"),
    Param.date_range("dates", "explore_dates", EARLIEST, lambda: today_in(tz), last_30_days),
]
for note in adopt(PARAMS):
    st.info(note, icon=":material/link_off:")
metric_col, range_col, unit_col = st.columns(3)
metric = metric_col.selectbox("Count", list(METRICS), format_func=METRICS.get, key="explore_metric")
preset = range_col.selectbox("Range", list(PRESETS), format_func=PRESETS.get, key="explore_range")
granularity = (
    unit_col.segmented_control(
        "Granularity",
        list(GRANULARITIES),
        format_func=GRANULARITIES.get,
        key="explore_unit",
    )
    or "day"
)
start = end = None
if preset == "custom":
    today = today_in(tz)
    picked = st.date_input(
        "From – to (both included)",
        min_value=EARLIEST,
        max_value=today,
        key="explore_dates",
    )
    if len(picked) != 2:
        st.info("Pick an end date to finish the range.")
        st.stop()
    start, end = picked
cumulative = st.toggle("Cumulative (running total since the platform began)", key="explore_cumulative")
publish(
    {
        "metric": metric,
        "range": preset,
        "granularity": granularity,
        "cumulative": "true" if cumulative else "false",
        "tz": tz,
        "dates": f"{start}..{end}" if preset == "custom" else None,
    }
)
refresh = st.button("Refresh", icon=":material/refresh:", help="Ask the database now instead of the cache")

with reads.recording() as seen, database_guard("the explore numbers"):
    try:
        rng = resolve_range(preset, tz=tz, start=start, end=end, fresh=refresh, metric=metric)
        data = explore(metric, rng=rng, granularity=granularity, tz=tz, cumulative=cumulative, fresh=refresh)
    except ExploreError as exc:
        st.warning(str(exc), icon=":material/tune:")
        st.stop()

st.caption(f"{PRESETS[preset]}: {rng.start:%a %d %b %Y} to {rng.end:%a %d %b %Y}")
# As on Growth and Engagement: the age, "refreshing" while a stale result is renewed, and the outage banner.
freshness(seen, data.computed_at, data.tz, reads.outage_since())
chart = charts.bucket_chart(data.frame, data.chart_title, granularity, cumulative=cumulative)
show_chart(chart, width="stretch")
if cumulative:
    last = int(data.frame["cumulative"].iloc[-1])
    where = "the platform total" if rng.end == rng.today else f"the total up to {rng.end}"
    st.caption(f"The running total ends at {last:,}, {where}; all time on the platform: {data.total:,}.")

show_table(
    data.frame,
    presentable(data.frame),
    partial="The range covers only part of the period, or the period is not over yet.",
)
st.caption(
    f"Periods are calendar days, ISO weeks (Monday to Sunday) or months in {tz} (the sidebar's report time zone). "
    "Partial: the range covers only part of the period, or the period is not over yet (lighter in the chart)."
)

st.subheader("Downloads")
provenance_style()
table_downloads(data.frame, files.explore_provenance(data), data.file_stem, key="explore-table")
chart_downloads(chart, data.file_stem, key="explore-chart")

st.subheader("Raw rows")
cap = max_rows_setting()
admin = is_admin()
export_key = "analysis"
if not admin:
    export_key = (
        st.text_input(
            "Export key",
            "analysis",
            max_chars=100,
            key="explore_export_key",
            help="Extracts made with the same key give each person the same pseudonym, so they can be joined; "
            "another key gives pseudonyms that cannot be matched with these.",
        ).strip()
        or "analysis"
    )
    st.info(
        "E-mail addresses and Cognito ids are replaced by pseudonyms (a keyed hash, the same for one export "
        "key), and e-mail-like text in names and posts is masked; the file's provenance lists the columns "
        "changed. Admins get every column.",
        icon=":material/lock:",
    )
with database_guard("the raw row counts"):
    counts = {kind: raw_count(kind, rng=rng, tz=tz, fresh=refresh) for kind in ("users", "activities")}
for column, kind in zip(st.columns(2), counts, strict=True):
    with column:
        st.metric(f"Raw {kind} in the range", f"{counts[kind]:,}", border=True)
        if cap and counts[kind] > cap:
            st.warning(
                f"Downloads here stop at {cap:,} rows (RAW_EXPORT_MAX_ROWS): you get the oldest {cap:,} of "
                f"{counts[kind]:,}, and the file says so. For every row use "
                f"`python -m queries export raw {kind} --range {preset} --tz {tz}"
                + (f" --start {rng.start} --end {rng.end}`." if preset == "custom" else "`."),
                icon=":material/content_cut:",
            )
        raw_download(
            kind,
            tz=tz,
            start_day=rng.start,
            end_day=rng.end,
            max_rows=cap,
            key=f"raw-{kind}",
            pseudonym_key=None if admin else export_key,
        )
st.caption(
    "Raw rows are streamed from PostgreSQL with COPY when you click; counts are as of the line above, "
    "and the file states the exact rows it holds. Times are ISO 8601 with their UTC offset: "
    f"`Created at (UTC)` as stored, `Created at (local)` in {tz}. Download links work for a few minutes "
    "and renew while this page is open; anyone holding one can use it until then, so do not pass them on."
)
