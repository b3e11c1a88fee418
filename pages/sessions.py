"""Database sessions: who is connected, what runs, who blocks whom; cancel or terminate safely."""

import streamlit as st

from queries import blocking, sessions
from ui.auth import is_admin, rerun_if_admin_changed
from ui.common import csv_download, database_guard
from ui.sessions import (
    PENDING,
    TREE_ORDER,
    flag_rows,
    metrics_row,
    picked_pid,
    session_column_order,
    session_panel,
    session_table_config,
    tree_table_config,
)
from web.routing import ensure_routed

ensure_routed()

st.title("Database sessions")
with database_guard("the session settings"):
    lim = sessions.limits()
admin = is_admin()  # query text, clients, other databases and the CSV are for signed-in admins only
if not admin:
    st.info(
        "Queries, users, client addresses and other databases are shown to signed-in admins only "
        "(a query can carry a secret, such as a password in ALTER ROLE).",
        icon=":material/lock:",
    )

left, middle, right = st.columns(3)
hide_idle = left.toggle("Hide idle sessions", value=True)
this_db = left.toggle("This database only", value=True, disabled=not admin) or not admin
include_own = middle.toggle(
    "Include the dashboard's own sessions",
    value=False,
    help="This app's own connections, recognised by their backend pids",
)
min_seconds = middle.number_input(
    "Minimum duration (s)",
    min_value=0.0,
    value=0.0,
    step=5.0,
    help="Of the running query; for other states, time spent in that state",
)
search = right.text_input("Search query, user or application" if admin else "Search application")
auto = right.toggle(
    f"Auto refresh every {lim.refresh_s} s",
    value=False,
    help="SESSIONS_REFRESH_SECONDS; paused while a confirmation is open",
)
st.button(
    "Refresh", icon=":material/refresh:", help="The list is read from the database on every refresh; never cached"
)


@st.fragment(run_every=lim.refresh_s if auto and PENDING not in st.session_state else None)
def live() -> None:
    rerun_if_admin_changed(admin)  # an auto refresh after sign-out shows the visitor's view
    with database_guard("the sessions"):
        snap = sessions.snapshot(all_databases=not this_db, lim=lim)
    if not admin:
        snap = snap.redacted()  # before any filter: a search cannot probe hidden text
    who = f" · connected as `{snap.viewer['user']}` to `{snap.viewer['database']}`" if admin else ""
    st.caption(f"As of {snap.taken_at:%H:%M:%S} UTC · read in {snap.db_ms:.0f} ms{who}")
    hint = snap.grant_hint()
    if hint:
        st.info(hint, icon=":material/visibility_off:")

    shown, hidden = sessions.filtered(
        snap.sessions,
        hide_idle=hide_idle,
        include_own=include_own,
        min_seconds=min_seconds,
        search=search,
        search_in=sessions.SEARCHED if admin else ("application",),
    )
    metrics_row(sessions.counts(shown), lim)
    scope = "this database" if this_db else "all databases"
    note = sessions.hidden_note(hidden)
    st.caption(
        f"{len(shown)} of {len(snap.sessions)} sessions of {scope} shown"
        + (f"; {note}." if note else ".")
        + " Pick a row to read its whole query and act on it."
    )
    display = sessions.table(shown, short_query=True)
    if not admin:
        display = display.drop(columns=["user", "database", "client"])
    event = st.dataframe(
        flag_rows(display, shown),
        hide_index=True,
        width="stretch",
        column_config=session_table_config(),
        column_order=session_column_order(display),
        on_select="rerun",
        selection_mode="single-row",
        key="sessions-table",
    )
    picked = picked_pid(event, display)
    if admin:
        csv_download(sessions.table(shown), "sessions.csv", key="csv-sessions", label="Download CSV (whole queries)")

    st.subheader("Blocking")
    tree = blocking.blocking_tree(snap.sessions)
    if tree.empty:
        st.caption("No session is waiting on a lock held by another session.")
    else:
        tree_event = st.dataframe(
            tree.drop(columns=["level"] + ([] if admin else ["user"])),
            hide_index=True,
            width="stretch",
            column_config=tree_table_config(),
            column_order=[c for c in TREE_ORDER if admin or c != "user"],
            on_select="rerun",
            selection_mode="single-row",
            key="sessions-tree",
        )
        picked = picked_pid(tree_event, tree) or picked
        st.caption(
            "Root blockers first; a session waiting on several sessions appears under each of them. "
            "Pick a row to act on that session."
        )

    session_panel(shown if picked is None or picked in set(shown["pid"]) else snap.sessions, picked)


live()
