"""Growth at a glance: totals, the last 7 days, honest deltas.

What a CEO shows: title, KPI cards with small trends, the charts and one
freshness line. Analyst tools (provenance choice, cache, connection) are for
signed-in users; `?present=1` hides everything but the page for a projector.
"""

import pandas as pd
import streamlit as st

from actions import rollup
from db.logs import logger
from db.settings import get_settings
from exports.files import per_day_provenance
from exports.slides import Caption, Kpi, source_line
from queries import reads
from queries.growth import Messages, growth, messages
from ui import brand, growth_cards
from ui.auth import is_admin
from ui.charts import show_chart
from ui.common import database_guard, report_tz
from ui.exports import provenance_style, table_downloads
from ui.freshness import freshness, freshness_text
from ui.slides import chart_slide_downloads, range_text, snapshot_downloads
from ui.tables import show_table, table_popover
from web.routing import ensure_routed

ensure_routed()
log = logger("cruddur.page")

WEEK_HELP = (
    "The 7 calendar days ending today (today so far), compared with the same span one week "
    "earlier, up to the same time of day."
)
TITLE = "Cruddur growth"

present = brand.presenting()
if present:
    brand.hide_chrome()
brand.title(TITLE)
tz = report_tz()
tools = st.container(horizontal=True, vertical_alignment="center")  # Refresh now, the snapshot once drawn
refresh = False
if not present:
    refresh = tools.button("Refresh", icon=":material/refresh:", help="Ask the database now instead of the cache")
freshness_slot = st.container()

with reads.recording() as seen:
    with database_guard("the growth numbers"):
        data = growth(tz=tz, fresh=refresh)
    if reads.outage_since() is None:  # a write now would only fail, and log the outage a second time
        rollup.keep_up(data)  # move the growth rollup on in the background when it fell behind

    # Messaging (DynamoDB, migration 0005) has its own guard: a failure there shows a
    # small warning and never stops the page before the user and post numbers.
    msgs: Messages | None = None
    try:
        msgs = messages(tz=tz, fresh=refresh)
    except Exception:
        log.warning("the messaging numbers failed; the page goes on without them", exc_info=True)
    shown = msgs if msgs is not None and msgs.connected else None
    kinds = ["users", "posts"] + (["messages"] if shown is not None else [])
    trends = growth_cards.trends(kinds, tz, fresh=refresh)
outage_at_render = reads.outage_since()

computed_at = data.computed_at
if shown is not None and shown.computed_at is not None:
    computed_at = min(computed_at, shown.computed_at)
with freshness_slot:
    freshness(seen, computed_at, data.tz, outage_at_render)

# One row of four cards; with messages, the totals on one row and the three
# last-7-days cards on the next, rather than a fifth card wrapping alone.
totals = [
    growth_cards.Card(
        label,
        f"{data.totals[kind]:,}",
        f"{data.weekly[kind].current:+,}" if data.weekly[kind].current else None,
        kind,
        total=True,
        delta_description="in the last 7 days",
    )
    for kind, label in (("users", "Total users"), ("posts", "Total posts"))
]
weeks = [
    growth_cards.Card(
        label, f"{data.weekly[kind].current:,}", data.weekly[kind].text(), kind, total=False, help=WEEK_HELP
    )
    for kind, label in (("users", "New users, last 7 days"), ("posts", "New posts, last 7 days"))
]
if shown is not None:
    weeks.append(
        growth_cards.Card(
            "Messages, last 7 days", f"{shown.weekly.current:,}", shown.weekly.text(), "messages", False, WEEK_HELP
        )
    )
rows = [totals + weeks] if shown is None else [totals, weeks]
for cards in rows:
    row = st.container(horizontal=True)
    for card in cards:
        total = data.totals.get(card.kind) if card.total else None
        points = growth_cards.trend_points(card, trends.get(card.kind), total)
        growth_cards.draw(row, card, points, data.tz, link=not present)

counted = "New users, posts and messages" if shown is not None else "New users and posts"
if not present:
    st.caption(f"{counted}: the 7 calendar days ending today, compared with the same span one week earlier.")
if msgs is None:
    st.warning("The messaging numbers could not be loaded right now.", icon=":material/warning:")
elif shown is None and not present:
    st.caption("No messaging data connected.")

TITLES = {"users": "New users per day", "posts": "New posts per day", "messages": "New messages per day"}
source = source_line(production=get_settings().is_prod, messages=shown is not None)
specs: dict[str, dict] = {}
ranges: dict[str, str] = {}  # the days each chart shows, as the captions write them


def caption_of(kind: str, per_day: pd.DataFrame) -> Caption:
    at = per_day.attrs.get("computed_at") or computed_at
    return Caption(TITLES[kind], ranges[kind], data.tz, at, source)


def per_day_chart(kind: str, per_day: pd.DataFrame) -> None:
    """One per-day chart with its table, downloads and provenance one click away."""
    parts = growth_cards.per_day_parts(per_day, f"{TITLES[kind]} ({data.tz})")
    frame, chart = parts.table, parts.spec
    specs[kind] = chart
    ranges[kind] = range_text(parts.first, parts.last)
    show_chart(chart, width="stretch")
    if present:
        return
    # The bars carry their numbers; the table and the files sit one click away.
    box = table_popover(f"table-and-downloads-{kind}")
    if box is None:
        return
    with box:
        # The labels of exports.columns, the same headers the CSV and XLSX carry.
        show_table(per_day, frame, partial="Today so far: the day is not over yet.")
        provenance = per_day_provenance(per_day, dataset=f"new_{kind}_per_day", tz=data.tz)
        table_downloads(per_day, provenance, f"new_{kind}_per_day", key=f"table-{kind}")
        chart_slide_downloads(chart, caption_of(kind, per_day), f"new_{kind}_per_day", key=f"chart-{kind}")


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
if not present:
    st.caption("Days are calendar days in the report time zone. The lighter bar is today so far.")
    kpis = [Kpi(c.label, c.value, c.delta, c.delta_description) for c in totals + weeks]
    snapshot_downloads(
        tools,
        TITLE,
        freshness_text(computed_at, data.tz, refreshing=False),
        kpis,
        [specs["users"], specs["posts"]],
        Caption(TITLE, ranges["users"], data.tz, computed_at, source),
    )
    if is_admin():
        with st.expander("For analysts", icon=":material/science:"):
            provenance_style()
            st.caption("Cache and connection details are in the sidebar; Explore has every metric and range.")
