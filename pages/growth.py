"""Growth at a glance: totals, the last 7 days, honest deltas."""

import pandas as pd
import streamlit as st

from actions import rollup
from db.logs import logger
from exports import charts
from exports.files import per_day_provenance
from exports.formats import presentable
from queries.growth import Messages, growth, messages
from ui.common import as_of_line, database_guard, report_tz
from ui.exports import chart_downloads, provenance_style, table_downloads
from web.routing import ensure_routed

ensure_routed()
log = logger("cruddur.page")

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

# Messaging (DynamoDB, migration 0005) has its own guard: a failure there shows a
# small warning and never stops the page before the user and post numbers.
msgs: Messages | None = None
try:
    msgs = messages(tz=tz, fresh=refresh)
except Exception:
    log.warning("the messaging numbers failed; the page goes on without them", exc_info=True)
shown = msgs if msgs is not None and msgs.connected else None

computed_at, from_cache, stale = data.computed_at, data.from_cache, data.stale
if shown is not None and shown.computed_at is not None:
    computed_at = min(computed_at, shown.computed_at)
    from_cache, stale = from_cache and shown.from_cache, stale or shown.stale
st.caption(as_of_line(computed_at, data.tz, from_cache, stale))

# One row of four cards (one block, not columns); with messages, the totals on one row
# and the three last-7-days cards on the next, rather than a fifth card wrapping alone.
kpis = totals_row = st.container(horizontal=True)
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
kpis = totals_row if shown is None else st.container(horizontal=True)
for kind, label in (("users", "New users, last 7 days"), ("posts", "New posts, last 7 days")):
    kpis.metric(
        label, f"{data.weekly[kind].current:,}", data.weekly[kind].text(), border=True, help=WEEK_HELP, width="stretch"
    )
if shown is not None:
    kpis.metric(
        "Messages, last 7 days",
        f"{shown.weekly.current:,}",
        shown.weekly.text(),
        border=True,
        help=WEEK_HELP,
        width="stretch",
    )

counted = "New users, posts and messages" if shown is not None else "New users and posts"
st.caption(f"{counted}: the 7 calendar days ending today, compared with the same span one week earlier.")
if msgs is None:
    st.warning("The messaging numbers could not be loaded right now.", icon=":material/warning:")
elif shown is None:
    st.caption("No messaging data connected.")

TITLES = {"users": "New users per day", "posts": "New posts per day", "messages": "New messages per day"}


def per_day_chart(kind: str, per_day: pd.DataFrame) -> None:
    """One per-day chart with its table, downloads and provenance one click away."""
    frame = presentable(per_day)
    chart = charts.per_day_bars(frame, f"{TITLES[kind]} ({data.tz})")
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
        provenance = per_day_provenance(per_day, dataset=f"new_{kind}_per_day", tz=data.tz)
        table_downloads(per_day, provenance, f"new_{kind}_per_day", key=f"table-{kind}")
        chart_downloads(chart, f"new_{kind}_per_day", key=f"chart-{kind}")


for column, kind in zip(st.columns(2), ("users", "posts"), strict=True):
    with column:
        per_day_chart(kind, data.per_day[kind])
if shown is not None and shown.per_day is not None:
    try:
        with st.columns(2)[0]:
            per_day_chart("messages", shown.per_day)
    except Exception:
        log.warning("the messages chart failed; the page goes on without it", exc_info=True)
        st.warning("The messages chart could not be drawn right now.", icon=":material/warning:")
st.caption("Days are calendar days in the report time zone. The lighter bar is today so far.")
provenance_style()
