"""Growth at a glance: totals, the last 7 days, honest deltas."""
import streamlit as st

from queries.formats import presentable
from queries.growth import growth
from ui import charts
from ui.common import as_of_line, csv_download, database_guard, report_tz

st.title("Cruddur growth")
tz = report_tz()
refresh = st.button("Refresh", icon=":material/refresh:", help="Ask the database now instead of the cache")

with database_guard("the growth numbers"):
    data = growth(tz=tz, fresh=refresh)

st.caption(as_of_line(data.computed_at, data.tz, data.from_cache, data.stale))

users, posts, new_users, new_posts = st.columns(4)
for column, kind, label in ((users, "users", "Total users"), (posts, "posts", "Total posts")):
    added = data.weekly[kind].current
    column.metric(label, f"{data.totals[kind]:,}", f"{added:+,}" if added else None,
                  delta_description="in the last 7 days", border=True)
new_users.metric("New users, last 7 days", f"{data.weekly['users'].current:,}", data.weekly["users"].text(),
                 delta_description="vs the same span a week earlier", border=True)
new_posts.metric("New posts, last 7 days", f"{data.weekly['posts'].current:,}", data.weekly["posts"].text(),
                 delta_description="vs the same span a week earlier", border=True)

for kind, title in (("users", "New users per day"), ("posts", "New posts per day")):
    frame = presentable(data.per_day[kind])
    st.subheader(title)
    st.altair_chart(charts.per_day_bars(frame, f"{title} ({data.tz})"), width="stretch")
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"day": "Day", "count": st.column_config.NumberColumn("Count", format="%d"),
                                "partial": st.column_config.CheckboxColumn("Partial (today)")})
    csv_download(frame, f"new_{kind}_per_day.csv", key=f"csv-{kind}")
st.caption("Days are calendar days in the report time zone. The lighter bar is today so far.")
