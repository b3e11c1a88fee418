"""The query layer: named SQL files in, DataFrames out, through a cache.

    run(name, **params)      cached read (reader pool); result.attrs has
                             computed_at, from_cache, db_ms
    fetch(name, **params)    uncached read (reader pool)
    with writing("activities") as conn:
        execute(conn, name, **params)
                             writes in one transaction on the writer pool;
                             on commit, cached reads of those tables are dropped
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

import psycopg

import pandas as pd

from db import pool
from db.settings import get_settings, valid_timezone
from queries import catalog
from queries.cache import Entry, KeyLocks, MemoryBackend, Stats, make_key

stats = Stats()
_backend = MemoryBackend()
_key_locks = KeyLocks()


def backend():
    return _backend


def prepare_params(query: catalog.Query, params: dict[str, Any]) -> dict[str, Any]:
    """Fill the conventions (report `tz`, NULL optionals) and check the rest."""
    params = dict(params)
    needed = query.params
    if "tz" in needed:
        params["tz"] = valid_timezone(params.get("tz") or get_settings().report_tz)
    for name in query.optional & needed:
        params.setdefault(name, None)
    missing = sorted(needed - params.keys())
    if missing:
        raise ValueError(f"Query {query.name!r} needs parameter(s): {', '.join(missing)}")
    unknown = sorted(params.keys() - needed)
    if unknown:
        raise ValueError(f"Query {query.name!r} takes no parameter(s): {', '.join(unknown)}")
    return params


def _read(query: catalog.Query, params: dict[str, Any], identifiers: dict[str, str]) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    with pool.connection(pool.READER) as conn:
        cur = conn.execute(query.sql(**identifiers), params)
        rows = cur.fetchall()
        columns = [c.name for c in cur.description]
    db_ms = (time.perf_counter() - started) * 1000
    stats.count("db_queries", query.name)
    stats.last_db_ms[query.name] = db_ms
    return pd.DataFrame.from_records(rows, columns=columns), db_ms


def _with_meta(entry: Entry, name: str, params: dict, from_cache: bool) -> pd.DataFrame:
    frame = entry.frame.copy()
    frame.attrs = {
        "query": name,
        "params": dict(params),
        "computed_at": entry.computed_at,
        "from_cache": from_cache,
        "db_ms": entry.db_ms,
    }
    return frame


def run(name: str, /, *, fresh: bool = False, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """A cached read. `fresh=True` skips the cache and stores the new result."""
    query = catalog.get(name)
    params = prepare_params(query, params)
    identifiers = identifiers or {}
    key = make_key(name, {**params, **{f"ident:{k}": v for k, v in identifiers.items()}})
    ttl = get_settings().cache_ttl
    cache = backend()

    def lookup() -> Entry | None:
        if fresh or ttl <= 0:
            return None
        try:
            entry = cache.get(key, ttl)
        except Exception:  # a broken cache is a miss, never an error page
            stats.count("errors", name)
            return None
        stats.count("hits" if entry else "misses", name)
        return entry

    entry = lookup()
    if entry is not None:
        return _with_meta(entry, name, params, from_cache=True)
    with _key_locks(key):
        # Another thread may have filled it while we waited for the lock.
        entry = None if fresh else _peek(cache, key, ttl)
        if entry is None:
            frame, db_ms = _read(query, params, identifiers)
            entry = Entry(frame=frame, computed_at=datetime.now(timezone.utc), db_ms=db_ms)
            if ttl > 0:
                try:
                    cache.set(key, entry, ttl)
                except Exception:
                    stats.count("errors", name)
            return _with_meta(entry, name, params, from_cache=False)
    return _with_meta(entry, name, params, from_cache=True)


def _peek(cache, key: str, ttl: float) -> Entry | None:
    try:
        return cache.get(key, ttl)
    except Exception:
        return None


def fetch(name: str, /, *, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """An uncached read through the reader pool."""
    query = catalog.get(name)
    frame, db_ms = _read(query, prepare_params(query, params), identifiers or {})
    frame.attrs = {"query": name, "computed_at": datetime.now(timezone.utc), "from_cache": False, "db_ms": db_ms}
    return frame


def invalidate(tables: Iterable[str]) -> int:
    """Drop cached results of every query that reads any of `tables`."""
    tables = set(tables)
    names = {q.name for q in catalog.catalog().values() if q.reads & tables}
    try:
        return backend().delete_where(lambda key: key.split(":", 2)[1] in names)
    except Exception:  # the write itself succeeded; the TTL bounds the staleness
        stats.count("errors", "invalidate")
        return 0


def clear_cache() -> None:
    try:
        backend().clear()
    except Exception:
        stats.count("errors", "clear")


def query_names() -> list[str]:
    return sorted(catalog.catalog())


def execute(conn: psycopg.Connection, name: str, /, *, identifiers: dict[str, str] | None = None, **params: Any) -> psycopg.Cursor:
    """Run a catalog statement on a connection the caller holds (see `writing`)."""
    query = catalog.get(name)
    return conn.execute(query.sql(**(identifiers or {})), prepare_params(query, params))


@contextmanager
def writing(*tables: str) -> Iterator[psycopg.Connection]:
    """A writer-pool connection in one transaction; after it commits, cached
    results that read `tables` are invalidated so the next render is current."""
    with pool.connection(pool.WRITER) as conn:
        with conn.transaction():
            yield conn
    invalidate(tables)
