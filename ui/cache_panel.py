"""The cache panel in the sidebar: which backend, how it is doing, and a clear button for admins."""

from __future__ import annotations

import streamlit as st

from db.errors import safe_message
from db.logs import logger
from queries import reads

log = logger("cruddur.page")


def cache_panel(where=st.sidebar) -> None:
    try:
        info = reads.cache_info()
    except Exception as exc:  # the panel must never take the page down
        log.warning("cache panel failed", exc_info=True)
        where.caption(f"Cache status unavailable: {safe_message(exc)}")
        return
    rows = info["queries"]
    total = {c: sum(r[c] for r in rows) for c in ("hits", "misses", "stale", "errors", "db_queries")}
    # A popover, not an expander: its contents are built in the browser only when
    # opened, so every page's first paint skips the table grid's code and layout.
    with where.popover("Cache", icon=":material/cached:", width="stretch"):
        st.caption(info["description"])
        st.markdown(
            f"hits **{total['hits']}** · misses **{total['misses']}** · stale **{total['stale']}** · "
            f"errors **{total['errors']}** · database queries **{total['db_queries']}**"
        )
        if info["backend_counts"]:
            st.caption("Momento: " + " · ".join(f"{k} {v}" for k, v in sorted(info["backend_counts"].items())))
        if rows:
            st.markdown(table(rows))
        st.caption("Counts since this replica started.")
        from ui.auth import current_admin, is_admin

        if is_admin() and st.button(
            "Clear cache", icon=":material/delete_sweep:", help="Every page asks the database on its next load"
        ):
            reads.clear_cache()
            st.toast(f"Cache cleared by {current_admin()}.")


COLUMNS = (
    ("query", "query"),
    ("hits", "hits"),
    ("misses", "misses"),
    ("stale", "stale"),
    ("errors", "errors"),
    ("db_queries", "DB queries"),
    ("last_db_ms", "last DB ms"),
)


def table(rows: list[dict]) -> str:
    """A Markdown table: on every page of every visit, so no data grid to build
    on the server (Arrow) or in the browser. Query names are plain identifiers."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [f"`{row['query']}`"] + [str(row[key]) for key, _ in COLUMNS[1:-1]]
        last = row["last_db_ms"]
        cells.append("" if last is None else f"{last:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
