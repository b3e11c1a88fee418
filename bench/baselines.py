"""The two ways the Growth page is measured against, each returning the same `Growth` as ours.

original      the original project's way: one plain psycopg connection with the
              server's defaults, whole-table count(*), per-day grouping planned
              without a created_at index (the original schema had none), every
              result wrapped in JSON by PostgreSQL as lib/db.py did
              (row_to_json / array_to_json(array_agg(...))), UTC days.
st_connection Streamlit's idiomatic `st.connection("sql").query(sql, ttl=...)` over
              SQLAlchemy and pandas, running our indexed live queries (queries/sql/live); measured
              with its cache cleared (cold).
Each loader returns (Growth, seconds spent in database calls).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime

import pandas as pd
import psycopg

from bench import BENCH_SQL
from queries import catalog
from queries.growth import Delta, Growth

_original: dict[tuple[str, bool], psycopg.Connection] = {}
_lock = threading.Lock()


def _original_conn(url: str, indexes: bool) -> psycopg.Connection:
    with _lock:
        conn = _original.get((url, indexes))
        if conn is None or conn.closed:
            conn = psycopg.connect(url, autocommit=True)
            if not indexes:
                conn.execute(catalog.text("no_index_session", BENCH_SQL))
            _original[(url, indexes)] = conn
        return conn


def _days(items: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(items, columns=["day", "count", "partial"])
    frame["day"] = [date.fromisoformat(d) for d in frame["day"]]
    frame["count"] = frame["count"].astype("int64")
    frame["partial"] = frame["partial"].astype(bool)
    return frame


def original(url: str, *, indexes: bool = False) -> tuple[Growth, float]:
    """indexes=True: the same SQL planned with our created_at indexes (bench growth_history)."""
    conn = _original_conn(url, indexes)
    started = time.perf_counter()
    got = {}
    with _lock:
        for name in ("total_users", "total_posts", "new_users_per_day", "new_posts_per_day", "weekly_new_counts"):
            got[name] = conn.execute(catalog.text(f"original_{name}", BENCH_SQL)).fetchone()[0]
    db_s = time.perf_counter() - started
    weekly = {row["metric"]: Delta(int(row["current"]), int(row["previous"])) for row in got["weekly_new_counts"]}
    return Growth(
        totals={"users": int(got["total_users"]["count"]), "posts": int(got["total_posts"]["count"])},
        per_day={"users": _days(got["new_users_per_day"]), "posts": _days(got["new_posts_per_day"])},
        weekly=weekly,
        computed_at=datetime.now(UTC),
        from_cache=False,
        tz="UTC",
    ), db_s


def _sqlalchemy_text(name: str) -> str:
    """Our SQL file with SQLAlchemy's bind style (`:name`, casts spelled CAST)."""
    text = re.sub(r"%\((\w+)\)s::(\w+)", r"CAST(:\1 AS \2)", catalog.text(name))
    return re.sub(r"%\((\w+)\)s", r":\1", text)


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def st_connection(url: str, tz: str = "UTC") -> tuple[Growth, float]:
    import streamlit as st

    conn = st.connection("bench_growth", type="sql", url=sqlalchemy_url(url))
    started = time.perf_counter()
    frames = {}
    for name in ("total_users", "total_posts", "new_users_per_day", "new_posts_per_day", "weekly_new_counts"):
        params = {} if name.startswith("total") else {"tz": tz, "as_of": None}
        frames[name] = conn.query(_sqlalchemy_text(f"live.{name}"), params=params, ttl=60)
    db_s = time.perf_counter() - started
    weekly = {r.metric: Delta(int(r.current), int(r.previous)) for r in frames["weekly_new_counts"].itertuples()}
    per_day = {}
    for kind in ("users", "posts"):
        frame = frames[f"new_{kind}_per_day"][["day", "count", "partial"]].copy()
        frame["count"] = frame["count"].astype("int64")
        per_day[kind] = frame
    return Growth(
        totals={
            "users": int(frames["total_users"]["count"].iloc[0]),
            "posts": int(frames["total_posts"]["count"].iloc[0]),
        },
        per_day=per_day,
        weekly=weekly,
        computed_at=datetime.now(UTC),
        from_cache=False,
        tz=tz,
    ), db_s


LOADERS = {"original": original, "st_connection": st_connection}
