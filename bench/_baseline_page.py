"""The Growth page drawn from a baseline loader (bench/baselines.py), for whole-page render timing.
It draws the same elements as pages/growth.py; only where the numbers come from differs."""

import os

import streamlit as st

from bench import baselines
from exports import charts
from exports.formats import presentable
from ui.common import as_of_line, csv_download

way = st.session_state.get("bench_way") or os.environ.get("BENCH_WAY", "original")
st.title("Cruddur growth")
st.button("Refresh", icon=":material/refresh:")
data, _ = baselines.LOADERS[way](os.environ["CONNECTION_URL"])
st.caption(as_of_line(data.computed_at, data.tz, data.from_cache))
users, posts, new_users, new_posts = st.columns(4)
for column, kind, label in ((users, "users", "Total users"), (posts, "posts", "Total posts")):
    added = data.weekly[kind].current
    column.metric(
        label,
        f"{data.totals[kind]:,}",
        f"{added:+,}" if added else None,
        delta_description="in the last 7 days",
        border=True,
    )
new_users.metric(
    "New users, last 7 days",
    f"{data.weekly['users'].current:,}",
    data.weekly["users"].text(),
    delta_description="vs the same span a week earlier",
    border=True,
)
new_posts.metric(
    "New posts, last 7 days",
    f"{data.weekly['posts'].current:,}",
    data.weekly["posts"].text(),
    delta_description="vs the same span a week earlier",
    border=True,
)
for kind, title in (("users", "New users per day"), ("posts", "New posts per day")):
    frame = presentable(data.per_day[kind])
    st.subheader(title)
    # The usual way: an Altair chart built and validated on every run (ours reuses the spec).
    st.altair_chart(charts.per_day_bars.__wrapped__(frame, f"{title} ({data.tz})"), width="stretch")
    st.dataframe(frame, hide_index=True, width="stretch")
    csv_download(frame, f"new_{kind}_per_day.csv", key=f"csv-{kind}")
