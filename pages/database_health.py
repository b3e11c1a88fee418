"""Database health: sizes, index usage (unused, duplicate), dead rows and vacuum, wraparound, cache
hits and replication, each against the threshold pghero uses."""

import streamlit as st

from queries import database
from ui.common import database_guard
from ui.database import indexes_table, tables_table
from web.routing import ensure_routed

ensure_routed()
P = database.PGHERO

st.title("Database health")
st.button("Refresh", icon=":material/refresh:", help="Read from the statistics views on every refresh; never cached")
with database_guard("the database health"):
    h = database.health()
d = h.database
left, before_freeze, xid_warn = h.wraparound()
cols = st.columns(5)
cols[0].metric("Database size", f"{d['database_bytes'] / 1024**2:,.1f} MB", border=True)
for col, key, label in (
    (cols[1], "table_hit_pct", "Cache hits, tables"),
    (cols[2], "index_hit_pct", "Cache hits, indexes"),
):
    value = d[key]
    col.metric(
        label,
        "–" if value is None else f"{value:.2f}%",
        border=True,
        help=f"pghero: ≥ {P['cache_hit_rate_threshold']}% (– : no block read yet)",
    )
cols[3].metric(
    "XIDs left (wraparound)",
    f"{left / 1e9:.2f} B",
    border=True,
    help=f"{left:,} transactions left before wraparound (the oldest unfrozen transaction ID is {d['xid_age']:,} "
    f"old); pghero warns below {P['transaction_id_danger_left'] / 1e9:.1f} billion left",
)
if d["is_replica"]:
    lag = d["replica_lag_seconds"]  # None until a transaction is replayed (or WAL received) after its start
    cols[4].metric(
        "Replica lag",
        "–" if lag is None else f"{lag:.1f} s",
        border=True,
        help=f"pghero: < {P['replication_lag_seconds']} s (– : not known yet, nothing replayed since it started)",
    )
else:
    cols[4].metric("Replicas streaming", len(h.replicas), border=True)
reset = d.get("stats_reset")
st.caption(
    f"As of {h.taken_at:%H:%M:%S} UTC · index scans and dead rows count since "
    + (f"the statistics reset of {reset:%Y-%m-%d %H:%M} UTC" if reset else "the server started (never reset)")
)
if h.cache_ok() is False:
    st.warning(
        f"Cache hit ratio below pghero's {P['cache_hit_rate_threshold']}%: the working set may not fit in memory."
    )
if xid_warn:
    st.error(
        f"Transaction ID wraparound approaching: {left:,} transactions left ({before_freeze:,} before "
        "autovacuum_freeze_max_age forces anti-wraparound vacuums). VACUUM (FREEZE) the oldest tables below."
    )
if d["is_replica"] and d["replica_lag_seconds"] and d["replica_lag_seconds"] >= P["replication_lag_seconds"]:
    st.warning(
        f"This replica is {d['replica_lag_seconds']:.0f} s behind (pghero: under {P['replication_lag_seconds']} s)."
    )
for note in h.notes:
    st.info(note, icon=":material/visibility_off:")

st.subheader("Tables")
due = int(h.tables["vacuum_due"].sum()) if len(h.tables) else 0
st.caption(
    f"{len(h.tables)} table(s); {due} with more dead rows than autovacuum's trigger (autovacuum_vacuum_threshold + "
    "scale_factor × rows): autovacuum is due or falling behind. "
    "Estimated bloat = the dead rows' share of the table's size."
)
tables_table(h.tables)
if len(h.tables) and h.tables["size_estimated"].any():
    busy = ", ".join(h.tables[h.tables["size_estimated"]]["table"])
    st.caption(
        f"Sizes of {busy} are estimates from pg_class (as of the last VACUUM/ANALYZE): an ACCESS EXCLUSIVE "
        "lock is held or queued on them, and measuring would wait behind it."
    )

st.subheader("Indexes")
unused, dupes = h.unused_indexes(), h.duplicate_indexes()
st.caption(
    f"{len(unused)} unused (no scan since the statistics reset; unique indexes enforce constraints and are "
    f"never counted), {int(unused['pghero_lists'].sum()) if len(unused) else 0} of them at least "
    f"{P['unused_index_megabytes']} MB, pghero's cut-off; {len(dupes)} duplicate (another index on the same "
    "table starts with the same columns: pghero's rule). "
    "Check replicas before dropping one: they count their own scans."
)
indexes_table(h.indexes)

st.subheader("Replication")
if d["is_replica"]:
    lag = d["replica_lag_seconds"]
    behind = "its lag is not known yet" if lag is None else f"{lag:.1f} s behind its primary"
    st.caption(f"This server is a replica, {behind}.")
elif h.replicas.empty:
    st.caption("No replica is streaming from this server (pg_stat_replication is empty).")
else:
    st.dataframe(h.replicas, hide_index=True, width="stretch")
