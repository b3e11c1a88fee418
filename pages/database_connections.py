"""Database connections: slots used against max_connections less the reserved ones, by state, user,
application and client, and how long idle transactions have been idle."""

import streamlit as st

from queries import database
from ui.auth import is_admin
from ui.common import database_guard
from ui.database import bars, count_table
from web.routing import ensure_routed

ensure_routed()

st.title("Database connections")
st.button("Refresh", icon=":material/refresh:", help="Read from pg_stat_activity on every refresh; never cached")
with database_guard("the connections"):
    c = database.connections()
admin = is_admin()

cols = st.columns(4)
cols[0].metric("Connections in use", f"{c.used} / {c.usable}", border=True, help="Client backends / usable slots")
cols[1].metric("Share of usable slots", f"{c.percent:.0f}%", border=True, help="Warning from CONNECTIONS_WARN_PERCENT")
cols[2].metric("max_connections", c.max_connections, border=True)
cols[3].metric(
    "Reserved slots",
    c.superuser_reserved + c.reserved,
    border=True,
    help=f"superuser_reserved_connections {c.superuser_reserved}"
    + (f" + reserved_connections {c.reserved}" if c.server_version_num >= 160000 else " (reserved_connections: 16+)"),
)
st.caption(
    f"As of {c.taken_at:%H:%M:%S} UTC · server-wide (max_connections counts every database) · "
    f"usable = {c.max_connections} − {c.superuser_reserved} superuser-reserved − {c.reserved} reserved · "
    f"the tables below count {len(c.clients)} client session(s); with this page's own reading connection "
    f"that makes the {c.used} in use."
)
if c.warning:
    st.warning(c.warning, icon=":material/warning:")
else:
    st.success(f"Below the {c.warn_percent:g}% warning (CONNECTIONS_WARN_PERCENT).", icon=":material/check_circle:")
if c.note:
    st.info(c.note, icon=":material/visibility_off:")
# pghero's "idle connections" are the ones idle in a transaction (they hold locks and old snapshots).
idle = int(c.clients["state"].fillna("").str.startswith("idle in transaction").sum()) if len(c.clients) else 0
if idle >= database.PGHERO["idle_connections"]:
    st.warning(
        f"{idle} connections idle in a transaction (pghero warns from {database.PGHERO['idle_connections']}).",
        icon=":material/warning:",
    )

left, right = st.columns(2)
with left:
    count_table(c.by("state"), "State")
    count_table(c.by("application"), "Application")
with right:
    if admin:
        count_table(c.by("user"), "User")
        count_table(c.by("client"), "Client")
        count_table(c.by("database"), "Database")
    else:
        st.caption("Users, clients and databases are shown to signed-in admins only.")

st.subheader("Idle in transaction: how long")
ages = c.idle_in_transaction_ages()
st.caption(
    f"{int(ages['sessions'].sum())} session(s) idle inside an open transaction: they hold their locks and "
    "keep VACUUM from removing rows newer than their snapshot."
)
bars(ages, "idle for", "sessions")
