"""Top statements: what this database spends its time on, from pg_stat_statements (admin-only reset)."""

import streamlit as st

from actions import sessions as session_actions
from queries import database, sessions
from ui.auth import is_admin, require_admin
from ui.common import csv_download, database_guard
from ui.database import percent
from web.routing import ensure_routed

ensure_routed()

RESET = "statements-reset-pending"
ORDER_LABELS = {"total": "Total time", "mean": "Mean time", "calls": "Calls", "rows": "Rows"}

st.title("Top statements")
admin = is_admin()
left, right = st.columns([3, 1])
by = left.segmented_control(
    "Order by", list(ORDER_LABELS), format_func=ORDER_LABELS.get, default="total", key="statements-by"
)
limit = right.number_input("Statements", min_value=1, max_value=500, value=20, step=10)
with database_guard("the top statements"):
    top = database.top_statements(by or "total", int(limit))

if not top.ok:
    st.warning(top.message, icon=":material/extension_off:")
    st.markdown(database.ENABLE_HELP)
    st.stop()

st.caption(
    f"As of {top.taken_at:%H:%M:%S} UTC · this database's statements since pg_stat_statements was last reset · "
    "times include planning · normalised text (constants shown as $1, $2, …) · "
    f"slow = mean ≥ {database.PGHERO['slow_query_ms']} ms over ≥ {database.PGHERO['slow_query_calls']} calls (pghero)."
)
if top.note and admin:
    st.info(top.note, icon=":material/visibility_off:")
frame = top.frame.copy()
frame["slow"] = database.slow(frame) if len(frame) else []
if not admin:
    frame["query"] = frame["query"].where(frame["query"].isna(), sessions.REDACTED)
    frame = frame.drop(columns=["user"])
full = frame["query"].tolist()
frame["query"] = frame["query"].map(lambda q: sessions.shorten(q, 300))  # one line; the whole one below
event = st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="statements-table",
    column_order=[c for c in ("calls", "total_ms", "mean_ms", "rows", "slow", "query", "user") if c in frame.columns],
    column_config={
        "calls": st.column_config.NumberColumn("Calls", format="%,d", width=80),
        "total_ms": st.column_config.NumberColumn("Total (ms)", format="%,.1f", width=100),
        "mean_ms": st.column_config.NumberColumn("Mean (ms)", format="%,.2f", width=90),
        "rows": st.column_config.NumberColumn("Rows", format="%,d", width=80),
        "slow": st.column_config.CheckboxColumn("Slow", width=60),
        "query": st.column_config.TextColumn("Statement (normalised)", width="large"),
        "user": "User",
        "cache_hit_pct": percent("Cache hits"),
    },
)
if not admin:
    st.caption("Statement text is shown to signed-in admins only.")
    st.stop()
picked = event.selection.rows
if picked:
    st.code(full[picked[0]], language="sql", wrap_lines=True)
else:
    st.caption("Pick a row to read its whole statement.")
csv_download(top.frame, "top_statements.csv", key="csv-statements")

st.subheader("Reset")
results = st.session_state.pop("statements-reset-result", None)
if results:
    (st.success if results.ok else st.error)(results.message)
if RESET not in st.session_state:
    if st.button("Reset statement statistics…", key="statements-reset", help="pg_stat_statements_reset()"):
        st.session_state[RESET] = True
        st.rerun()
else:
    with st.container(border=True):
        st.warning(
            "**Reset pg_stat_statements?** Every statement's counters (calls, times, rows) start again from "
            "zero, for every database on this server. The reset is audited.",
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        if yes.button("Yes, reset", type="primary", key="statements-reset-confirm"):
            actor = require_admin()  # checked again at the moment of acting
            del st.session_state[RESET]
            with database_guard("the reset"):
                st.session_state["statements-reset-result"] = session_actions.reset_statements(
                    actor=actor, schema=top.schema
                )
            st.rerun()
        if no.button("No, go back", key="statements-reset-back"):
            del st.session_state[RESET]
            st.rerun()
