"""Growth at a glance: totals, the last 7 days, honest deltas."""

import streamlit as st

from actions import rollup
from exports import charts
from exports.files import per_day_provenance
from exports.formats import presentable
from queries.growth import growth
from ui.common import as_of_line, database_guard, report_tz
from ui.exports import chart_downloads, provenance_style, table_downloads
from web.routing import ensure_routed

ensure_routed()

WEEK_HELP = (
    "The 7 calendar days ending today (today so far), compared with the same span one week "
    "earlier, up to the same time of day."
)

st.title("Cruddur growth")
tz = report_tz()
refresh = st.button("Refresh", icon=":material/refresh:", help="Ask the database now instead of the cache")

with database_guard("the growth numbers"):
    data = growth(tz=tz, fresh=refresh)
rollup.keep_up(data)  # move the hourly rollup on in the background when it fell behind

st.caption(as_of_line(data.computed_at, data.tz, data.from_cache, data.stale))

kpis = st.container(horizontal=True)  # one block for the four cards (columns would be five)
for kind, label in (("users", "Total users"), ("posts", "Total posts")):
    added = data.weekly[kind].current
    kpis.metric(
        label,
        f"{data.totals[kind]:,}",
        f"{added:+,}" if added else None,
        delta_description="in the last 7 days",
        border=True,
        width="stretch",
    )
for kind, label in (("users", "New users, last 7 days"), ("posts", "New posts, last 7 days")):
    kpis.metric(
        label, f"{data.weekly[kind].current:,}", data.weekly[kind].text(), border=True, help=WEEK_HELP, width="stretch"
    )

st.caption("New users and posts: the 7 calendar days ending today, compared with the same span one week earlier.")

TITLES = {"users": "New users per day", "posts": "New posts per day"}
for column, (kind, title) in zip(st.columns(2), TITLES.items(), strict=True):
    frame = presentable(data.per_day[kind])
    chart = charts.per_day_bars(frame, f"{title} ({data.tz})")
    with column:
        st.vega_lite_chart(chart, width="stretch")
        # The bars carry their numbers; the table and the files sit one click away,
        # so the first paint is the KPIs and the charts (a popover's contents are
        # built in the browser only when it opens).
        with st.popover("Table and downloads", icon=":material/table_view:"):
            st.dataframe(
                frame,
                hide_index=True,
                width="stretch",
                column_config={
                    "day": "Day",
                    "count": st.column_config.NumberColumn("Count", format="%d"),
                    "partial": st.column_config.CheckboxColumn("Partial (today)"),
                },
            )
            provenance = per_day_provenance(data.per_day[kind], dataset=f"new_{kind}_per_day", tz=data.tz)
            table_downloads(data.per_day[kind], provenance, f"new_{kind}_per_day", key=f"table-{kind}")
            chart_downloads(chart, f"new_{kind}_per_day", key=f"chart-{kind}")
st.caption("Days are calendar days in the report time zone. The lighter bar is today so far.")
provenance_style()
