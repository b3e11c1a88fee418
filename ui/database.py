"""Database pages furniture: small count tables, bar charts, byte and percent columns."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st


def count_table(frame: pd.DataFrame, label: str) -> None:
    """A 'value → connections' table under its own heading."""
    column = frame.columns[0]
    st.markdown(f"**By {label.lower()}**")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={column: label, "connections": st.column_config.NumberColumn("Connections", format="%d")},
    )


def bars(frame: pd.DataFrame, x: str, y: str) -> None:
    """Bars in the frame's own order (buckets are ordered, not alphabetical)."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(x=alt.X(f"{x}:N", sort=list(frame[x]), title=x), y=alt.Y(f"{y}:Q", title=y), tooltip=[x, y])
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(frame, hide_index=True)


def size(label: str, **kw) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="bytes", **kw)


def percent(label: str, **kw) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="%.1f%%", **kw)


def _never(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Timestamps as 'YYYY-MM-DD HH:MM UTC' text, 'never' where there is none (not 'None')."""
    out = frame.copy()
    for col in columns:
        out[col] = [
            "never" if v is None or pd.isna(v) else f"{pd.Timestamp(v).tz_convert('UTC'):%Y-%m-%d %H:%M}"
            for v in out[col]
        ]
    return out


def tables_table(frame: pd.DataFrame) -> None:
    frame = _never(frame, ["last_autovacuum", "last_vacuum", "last_autoanalyze", "last_analyze"])
    frame[["dead_pct", "bloat_bytes"]] = frame[["dead_pct", "bloat_bytes"]].fillna(0)  # no rows: nothing dead
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=[
            "schema",
            "table",
            "total_bytes",
            "table_bytes",
            "index_bytes",
            "live_rows",
            "dead_rows",
            "dead_pct",
            "bloat_bytes",
            "vacuum_due",
            "last_autovacuum",
            "last_vacuum",
            "last_autoanalyze",
            "last_analyze",
            "xid_age",
            "seq_scan",
            "idx_scan",
        ],
        column_config={
            "schema": "Schema",
            "table": "Table",
            "total_bytes": size("Total"),
            "table_bytes": size("Table"),
            "index_bytes": size("Indexes"),
            "live_rows": st.column_config.NumberColumn("Live rows", format="%,d"),
            "dead_rows": st.column_config.NumberColumn("Dead rows", format="%,d"),
            "dead_pct": percent("Dead"),
            "bloat_bytes": size("Est. bloat"),
            "vacuum_due": st.column_config.CheckboxColumn("Vacuum due"),
            "last_autovacuum": st.column_config.TextColumn("Last autovacuum", help="UTC"),
            "last_vacuum": st.column_config.TextColumn("Last vacuum", help="UTC"),
            "last_autoanalyze": st.column_config.TextColumn("Last autoanalyze", help="UTC"),
            "last_analyze": st.column_config.TextColumn("Last analyze", help="UTC"),
            "xid_age": st.column_config.NumberColumn("XID age", format="%,d"),
            "seq_scan": "Seq scans",
            "idx_scan": "Index scans",
        },
    )


def indexes_table(frame: pd.DataFrame) -> None:
    frame = frame.assign(definition=frame["definition"].fillna("(not read: the table is locked ACCESS EXCLUSIVE)"))
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=[
            "schema",
            "table",
            "index",
            "size_bytes",
            "scans",
            "unused",
            "covered_by",
            "is_unique",
            "definition",
        ],
        column_config={
            "schema": "Schema",
            "table": "Table",
            "index": "Index",
            "size_bytes": size("Size"),
            "scans": st.column_config.NumberColumn("Scans", format="%,d"),
            "unused": st.column_config.CheckboxColumn("Unused"),
            "covered_by": "Duplicate of",
            "is_unique": st.column_config.CheckboxColumn("Unique"),
            "definition": st.column_config.TextColumn("Definition", width="large"),
        },
    )
