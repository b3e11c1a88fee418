"""Engagement: active users, retention by sign-up cohort and growth accounting."""

from datetime import timedelta

import streamlit as st

from actions import engagement as engagement_state
from exports import engagement as files_of
from exports.formats import presentable
from queries import engagement, reads
from queries.explore import GRANULARITIES, PRESETS, resolve_range, today_in
from ui.charts import show_chart
from ui.common import database_guard, report_tz
from ui.exports import chart_downloads, provenance_style, table_downloads
from ui.freshness import freshness
from ui.tables import show_table, table_popover
from web.routing import ensure_routed

ensure_routed()

st.title("Engagement")
tz = report_tz()
COHORT_UNITS = {"week": "Weeks (from Monday)", "month": "Months"}
range_col, unit_col, cohort_col = st.columns(3)
preset = range_col.selectbox(
    "Range", list(PRESETS), index=list(PRESETS).index("last_90_days"), format_func=PRESETS.get, key="engagement_range"
)
granularity = (
    unit_col.segmented_control(
        "Active users per", list(GRANULARITIES), format_func=GRANULARITIES.get, default="day", key="engagement_unit"
    )
    or "day"
)
cohort_unit = (
    cohort_col.segmented_control(
        "Cohorts and lifecycle per",
        list(COHORT_UNITS),
        format_func=COHORT_UNITS.get,
        default="week",
        key="engagement_cohort_unit",
    )  # fmt: skip
    or "week"
)
start = end = None
if preset == "custom":
    today = today_in(tz)
    picked = st.date_input(
        "From – to (both included)", (today - timedelta(days=89), today), max_value=today, key="engagement_dates"
    )
    if len(picked) != 2:
        st.info("Pick an end date to finish the range.")
        st.stop()
    start, end = picked
refresh = st.button("Refresh", icon=":material/refresh:", help="Ask the database now instead of the cache")
freshness_slot = st.container()

with reads.recording() as seen, database_guard("the engagement numbers"):
    try:
        rng = resolve_range(preset, tz=tz, start=start, end=end, fresh=refresh)
        days = engagement.table("active", rng=engagement.kpi_range(rng), granularity="day", tz=tz, fresh=refresh)
        if granularity == "day":
            active = engagement.within(days, rng)
        else:
            active = engagement.table("active", rng=rng, granularity=granularity, tz=tz, fresh=refresh)
        retention = engagement.table("retention", rng=rng, granularity=cohort_unit, tz=tz, fresh=refresh)
        lifecycle = engagement.table("lifecycle", rng=rng, granularity=cohort_unit, tz=tz, fresh=refresh)
        orphans, early = engagement.excluded(rng=rng, granularity=cohort_unit, tz=tz, fresh=refresh)
    except engagement.EngagementError as exc:
        st.warning(str(exc), icon=":material/tune:")
        st.stop()

outage_at_render = reads.outage_since()
# Move the zone's engagement state on in the background when it does not reach today.
if days.kept is not None and days.kept.present and not days.from_cache and outage_at_render is None:
    engagement_state.keep_up(tz, None if days.kept.dirty else days.kept.through, rng.today)

with freshness_slot:
    freshness(seen, min(p.computed_at for p in (days, active, retention, lifecycle)), tz, outage_at_render)
st.caption(f"{PRESETS[preset]}: {rng.start:%a %d %b %Y} to {rng.end:%a %d %b %Y}, as whole periods.")

cards = st.container(horizontal=True)
for card in engagement.cards(days):
    if card.value is None:
        shown = "–"
    elif isinstance(card.value, float):
        shown = f"{card.value:.1%}"
    else:
        shown = f"{card.value:,}"
    cards.metric(card.label, shown, card.delta_text(), border=True, help=card.help, width="stretch")


def table_and_files(t: engagement.Table, chart: dict, key: str, **help_texts: str) -> None:
    """The table behind a chart and its files, one click away (as on Growth)."""
    box = table_popover(f"table-and-downloads-{key}")
    if box is None:
        return
    frame = engagement.plain(t.frame)  # without the read's metadata, which pandas copies into every step
    with box:
        show_table(frame, presentable(frame), **help_texts)
        table_downloads(frame, files_of.provenance(t), t.file_stem, key=f"{key}-table")
        chart_downloads(chart, t.file_stem, key=f"{key}-chart")


st.subheader("Active users")
chart = files_of.chart(active)
show_chart(chart, width="stretch")
table_and_files(
    active,
    chart,
    "engagement-active",
    partial="The period is not over yet.",
    wau="Users active in the 7 days ending that day.",
    mau="Users active in the 28 days ending that day.",
    stickiness="That day's active users divided by MAU.",
)

st.subheader("Retention by sign-up cohort")
chart = files_of.chart(retention)
show_chart(chart, width="stretch")
show_chart(files_of.curve_chart(retention), width="stretch")
table_and_files(
    retention,
    chart,
    "engagement-retention",
    period_index=f"{cohort_unit.capitalize()}s after the sign-up {cohort_unit} (0: the sign-up {cohort_unit}).",
    partial="That period is not over yet: the share can still grow.",
)
st.caption(
    f"Each row is the cohort of users who signed up in one {cohort_unit} (its size after the dot); a cell is the "
    f"share of it active k {cohort_unit}s later. Lighter cells and '(in progress)' cohorts are not over yet. "
    f"The curve averages the cells whose {cohort_unit} is over, weighting cohorts by size."
)

st.subheader("Growth accounting")
chart = files_of.chart(lifecycle)
show_chart(chart, width="stretch")
closed = engagement.plain(lifecycle.frame)
closed = closed[~closed["partial"]]
if len(closed) and closed["churned"].sum() > 0:
    ratio = (closed["new"].sum() + closed["resurrected"].sum()) / closed["churned"].sum()
    st.caption(
        f"Quick ratio over the complete {cohort_unit}s: {ratio:.2f} (new + resurrected) / churned; "
        "above 1 the active base grows."
    )
table_and_files(
    lifecycle,
    chart,
    "engagement-lifecycle",
    quick_ratio="(new + resurrected) / churned; empty when nobody churned.",
    partial="The period is not over yet.",
)

st.subheader("Definitions")
st.markdown(
    f"""
- **Active** in a period: at least one post with `created_at` inside the period's bounds in {tz}. Periods are
  calendar days, ISO weeks (Monday to Sunday) or months of that zone, so DST days of 23 or 25 hours and offsets
  such as +05:45 are counted exactly. WAU and MAU per day are the trailing 7 and 28 days ending that day.
- **Cohort**: the period holding the user's `users.created_at`; retained at k: active k periods later.
- **Lifecycle** of period P: **new** (active in P, signed up in P), **retained** (active in P and the period
  before), **resurrected** (active in P, not in the period before, signed up before P), **churned** (active in the
  period before, not in P; drawn below zero). New + retained + resurrected = active users.
- **What counts as a post**: one whose author has a `users` row and that is not dated before that user's sign-up.
  Orphan posts (no such user: {orphans:,} in these periods) and posts dated before their author's sign-up
  ({early:,}) count for nobody.
- Ranges are widened to the whole periods they touch; a period that is not over yet is marked partial.
"""
)
provenance_style()
