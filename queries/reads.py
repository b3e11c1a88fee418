"""Reads: named SQL in, DataFrames out, through a cache.

    run(name, **params)      cached read (reader pool); result.attrs has
                             computed_at, from_cache, stale, age_s, db_ms
    fetch(name, **params)    uncached read (reader pool)
    invalidate(tables)       drop cached results that read these tables
                             (actions.writing calls it after a commit)

Stale-while-revalidate: a result older than CACHE_TTL but younger than
CACHE_TTL + CACHE_STALE_TTL is served at once, labelled stale with its age,
while one background refresh per key asks the database.
"""
from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timezone
from typing import Any, Iterable

import pandas as pd

from db import pool, statements
from db.settings import ConfigError, get_settings, setting
from db.statements import prepare_params
from queries import catalog
from queries.cache import Entry, KeyLocks, MemoryBackend, Stats, make_key

stats = Stats()
_backend = None  # None: chosen from the settings on use (tests may set one)
_chosen: dict[tuple, Any] = {}
_choose_lock = threading.Lock()
_key_locks = KeyLocks()
_refreshers: set[threading.Thread] = set()

DEFAULT_STALE_TTL = 600


def _number(name: str, default: float) -> float:
    raw = setting(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def stale_ttl() -> float:
    """Seconds an expired result may still be served while it is refreshed."""
    return _number("CACHE_STALE_TTL", DEFAULT_STALE_TTL)


def backend():
    """The cache backend: Momento when MOMENTO_API_KEY is set, else in-process.
    Built on first use (never at import) and kept per configuration."""
    if _backend is not None:
        return _backend
    api_key = setting("MOMENTO_API_KEY")
    if api_key:
        from queries import momento_cache

        conf = (
            "momento",
            hashlib.sha256(api_key.encode()).hexdigest(),  # the key itself is never kept in a dict key
            setting("MOMENTO_CACHE_NAME", momento_cache.DEFAULT_CACHE_NAME),
            setting("MOMENTO_ENDPOINT"),
            _number("MOMENTO_TIMEOUT_MS", momento_cache.DEFAULT_TIMEOUT_S * 1000) / 1000,
        )
    else:
        conf = ("memory",)
    found = _chosen.get(conf)
    if found is None:
        with _choose_lock:
            found = _chosen.get(conf)
            if found is None:
                if conf[0] == "memory":
                    found = MemoryBackend()
                else:
                    from queries.momento_cache import MomentoBackend

                    found = MomentoBackend(cache_name=conf[2], api_key=api_key, endpoint=conf[3], timeout_s=conf[4])
                _chosen[conf] = found
    return found


def _read(query: catalog.Query, params: dict[str, Any], identifiers: dict[str, str]) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    with pool.connection(pool.READER) as conn:
        cur = statements.execute(conn, query.name, identifiers=identifiers, **params)
        rows = cur.fetchall()
        columns = [c.name for c in cur.description]
    db_ms = (time.perf_counter() - started) * 1000
    stats.count("db_queries", query.name)
    stats.last_db_ms[query.name] = db_ms
    return pd.DataFrame.from_records(rows, columns=columns), db_ms


def _with_meta(entry: Entry, name: str, params: dict, from_cache: bool, stale: bool = False) -> pd.DataFrame:
    frame = entry.frame.copy()
    frame.attrs = {
        "query": name,
        "params": dict(params),
        "computed_at": entry.computed_at,
        "from_cache": from_cache,
        "stale": stale,
        "age_s": entry.age() if from_cache else 0.0,
        "db_ms": entry.db_ms,
    }
    return frame


def run(name: str, /, *, fresh: bool = False, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """A cached read. `fresh=True` skips the cache and stores the new result."""
    query = catalog.get_read(name)
    params = prepare_params(query, params)
    identifiers = identifiers or {}
    key = make_key(name, {**params, **{f"ident:{k}": v for k, v in identifiers.items()}})
    ttl = get_settings().cache_ttl
    keep = ttl + stale_ttl() if ttl > 0 else 0
    cache = backend()

    def lookup(max_age: float) -> Entry | None:
        try:
            return cache.get(key, max_age)
        except Exception:  # a broken cache is a miss, never an error page
            stats.count("errors", name)
            return None

    def compute() -> Entry:
        frame, db_ms = _read(query, params, identifiers)
        entry = Entry(frame=frame, computed_at=datetime.now(timezone.utc), db_ms=db_ms)
        if ttl > 0:
            try:
                cache.set(key, entry, keep)
            except Exception:
                stats.count("errors", name)
        return entry

    if not fresh and ttl > 0:
        entry = lookup(keep)
        if entry is not None and entry.age() < ttl:
            stats.count("hits", name)
            return _with_meta(entry, name, params, from_cache=True)
        if entry is not None:
            stats.count("stale", name)
            _refresh_in_background(key, name, compute)
            return _with_meta(entry, name, params, from_cache=True, stale=True)
        stats.count("misses", name)
    with _key_locks(key):
        # Another thread may have filled it while we waited for the lock.
        entry = None if fresh or ttl <= 0 else _peek(cache, key, ttl)
        if entry is None:
            return _with_meta(compute(), name, params, from_cache=False)
    return _with_meta(entry, name, params, from_cache=True)


def _refresh_in_background(key: str, name: str, compute) -> None:
    """Start one refresh of `key` unless one (or a blocking miss) is already running."""
    lock = _key_locks(key)
    if not lock.acquire(blocking=False):
        return
    stats.count("refreshes", name)

    def work() -> None:
        try:
            compute()
        except Exception:  # the stale value stays; the next request tries again
            stats.count("errors", name)
        finally:
            lock.release()
            _refreshers.discard(threading.current_thread())

    thread = threading.Thread(target=work, name=f"refresh:{name}", daemon=True)
    _refreshers.add(thread)
    thread.start()


def wait_for_refreshes(timeout: float = 10.0) -> bool:
    """Wait until background refreshes have finished (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    for thread in list(_refreshers):
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in list(_refreshers))


def _peek(cache, key: str, ttl: float) -> Entry | None:
    try:
        return cache.get(key, ttl)
    except Exception:
        return None


def fetch(name: str, /, *, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """An uncached read through the reader pool."""
    query = catalog.get_read(name)
    frame, db_ms = _read(query, prepare_params(query, params), identifiers or {})
    frame.attrs = {"query": name, "computed_at": datetime.now(timezone.utc), "from_cache": False, "stale": False,
                   "age_s": 0.0, "db_ms": db_ms}
    return frame


def invalidate(tables: Iterable[str]) -> int:
    """Drop cached results of every query that reads any of `tables`."""
    tables = set(tables)
    names = {q.name for q in catalog.catalog().values() if q.reads & tables}
    try:
        return backend().invalidate(names, tables)
    except Exception:  # the write itself succeeded; the TTL bounds the staleness
        stats.count("errors", "invalidate")
        return 0


def clear_cache() -> None:
    try:
        backend().clear()
    except Exception:
        stats.count("errors", "clear")


def cache_info() -> dict:
    """What the cache panel shows: the backend in use and the counters per query."""
    cache = backend()
    return {
        "backend": getattr(cache, "name", type(cache).__name__),
        "description": cache.describe() if hasattr(cache, "describe") else str(cache),
        "backend_counts": dict(getattr(cache, "counts", {})),
        "queries": stats.table(),
    }
