"""Reads: named SQL in, DataFrames out, through a cache.

    run(name, **params)      cached read (reader pool); result.attrs has
                             computed_at, from_cache, stale, age_s, db_ms
    fetch(name, **params)    uncached read (reader pool)
    invalidate(tables)       drop cached results that read these tables
                             (actions.writing calls it after a commit)

Stale-while-revalidate: a result older than CACHE_TTL but younger than
CACHE_TTL + CACHE_STALE_TTL is served at once, labelled stale with its age,
while one background refresh per key asks the database.

Each run() builds its `CacheKey` once (queries/cache.py) and hands it to the
backend. A failing backend is a miss: the failure is counted (`stats.errors`)
and logged with its traceback on `cruddur.cache`, like a failed refresh.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import psycopg

from db import pool, statements
from db.errors import safe_message
from db.logs import logger
from db.settings import get_settings
from db.statements import prepare_params
from queries import catalog
from queries.cache import Backend, BackendUnavailable, CacheKey, Entry, KeyLocks, MemoryBackend, Stats

log = logger("cruddur.cache")
stats = Stats()
_backend: Backend | None = None  # None: chosen from the settings on use (tests may set one)
_chosen: dict[tuple, Backend] = {}  # under _choose_lock
_choose_lock = threading.Lock()
_key_locks = KeyLocks()
_refreshers: set[threading.Thread] = set()  # under _refreshers_lock
_refreshers_lock = threading.Lock()


def stale_ttl() -> float:
    """Seconds an expired result may still be served while it is refreshed (CACHE_STALE_TTL)."""
    return get_settings().cache_stale_ttl


def backend() -> Backend:
    """The cache backend: Momento when MOMENTO_API_KEY is set, else in-process.
    Built on first use (never at import) and kept per configuration."""
    if _backend is not None:
        return _backend
    settings = get_settings()
    api_key = settings.momento_api_key
    conf: tuple[Any, ...] = ("memory",)
    if api_key:
        conf = (
            "momento",
            hashlib.sha256(api_key.encode()).hexdigest(),  # the key itself is never kept in a dict key
            settings.momento_cache_name,
            settings.momento_endpoint,
            settings.momento_timeout_ms / 1000,
        )
    with _choose_lock:
        found = _chosen.get(conf)
        if found is None:
            if not api_key:
                found = MemoryBackend()
            else:
                from queries.momento_cache import MomentoBackend

                found = MomentoBackend(
                    cache_name=settings.momento_cache_name,
                    api_key=api_key,
                    endpoint=settings.momento_endpoint,
                    timeout_s=settings.momento_timeout_ms / 1000,
                )
            _chosen[conf] = found
    return found


def _cache_failed(what: str, name: str, exc: BaseException) -> None:
    """Count a cache failure and log it once, with its traceback. A backend that
    already reported its failure (BackendUnavailable: Momento down or skipped
    while its breaker is open) is logged at debug only, so an outage is not one
    line per query."""
    stats.count("errors", name)
    level = logging.DEBUG if isinstance(exc, BackendUnavailable) else logging.WARNING
    log.log(level, "cache %s failed for %s, using the database: %s", what, name, safe_message(exc), exc_info=True)


def _read(query: catalog.Query, params: dict[str, Any], identifiers: dict[str, str]) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    try:
        with pool.connection(pool.READER) as conn:
            cur = statements.execute(conn, query.name, identifiers=identifiers, **params)
            rows = cur.fetchall()
            columns = [c.name for c in cur.description or ()]
    except psycopg.errors.UndefinedTable:
        if not query.fallback:
            raise
        # A database without the tables this answer is kept in (the growth rollup): same answer, counted live.
        log.debug("%s: a table it reads is absent; answering with %s", query.name, query.fallback)
        frame, _ = _read(catalog.get_read(query.fallback), params, identifiers)
        return frame, (time.perf_counter() - started) * 1000
    db_ms = (time.perf_counter() - started) * 1000
    stats.database_read(query.name, db_ms)
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
    key = CacheKey.of(query, {**params, **{f"ident:{k}": v for k, v in identifiers.items()}})
    ttl = get_settings().cache_ttl
    keep = ttl + stale_ttl() if ttl > 0 else 0
    cache = backend()

    def lookup(max_age: float) -> Entry | None:
        try:
            return cache.get(key, max_age)
        except Exception as exc:  # a broken cache is a miss, never an error page
            _cache_failed("get", name, exc)
            return None

    def compute() -> Entry:
        frame, db_ms = _read(query, params, identifiers)
        entry = Entry(frame=frame, computed_at=datetime.now(UTC), db_ms=db_ms)
        if ttl > 0:
            try:
                cache.set(key, entry, keep)
            except Exception as exc:
                _cache_failed("set", name, exc)
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


def _refresh_in_background(key: CacheKey, name: str, compute: Callable[[], Entry]) -> None:
    """Start one refresh of `key` unless one (or a blocking miss) is already running."""
    if not _key_locks.acquire(key, blocking=False):
        return
    stats.count("refreshes", name)

    def work() -> None:
        try:
            compute()
        except Exception as exc:  # the stale value stays; the next request tries again
            stats.count("errors", name)
            log.warning(
                "background refresh of %s failed; the stale result stays: %s", name, safe_message(exc), exc_info=True
            )
        finally:
            _key_locks.release(key)
            with _refreshers_lock:
                _refreshers.discard(threading.current_thread())

    thread = threading.Thread(target=work, name=f"refresh:{name}", daemon=True)
    with _refreshers_lock:
        _refreshers.add(thread)
    thread.start()


def wait_for_refreshes(timeout: float = 10.0) -> bool:
    """Wait until background refreshes have finished (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    with _refreshers_lock:
        running = list(_refreshers)
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in running)


def _peek(cache: Backend, key: CacheKey, ttl: float) -> Entry | None:
    """A second look after waiting for the key's lock; a failure here was just
    counted and logged by the lookup before it, so it is logged at debug only."""
    try:
        return cache.get(key, ttl)
    except Exception:
        log.debug("cache get failed for %s (second look)", key.name, exc_info=True)
        return None


def fetch(name: str, /, *, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """An uncached read through the reader pool."""
    query = catalog.get_read(name)
    frame, db_ms = _read(query, prepare_params(query, params), identifiers or {})
    frame.attrs = {
        "query": name,
        "computed_at": datetime.now(UTC),
        "from_cache": False,
        "stale": False,
        "age_s": 0.0,
        "db_ms": db_ms,
    }
    return frame


def invalidate(tables: Iterable[str]) -> int:
    """Drop cached results of every query that reads any of `tables`."""
    try:
        return backend().invalidate(frozenset(tables))
    except Exception as exc:  # the write itself succeeded; the TTL bounds the staleness
        _cache_failed("invalidate", "invalidate", exc)
        return 0


def clear_cache() -> None:
    try:
        backend().clear()
    except Exception as exc:
        _cache_failed("clear", "clear", exc)


def cache_info() -> dict:
    """What the cache panel shows: the backend in use and the counters per query."""
    cache = backend()
    counters = getattr(cache, "counters", None)
    return {
        "backend": getattr(cache, "name", type(cache).__name__),
        "description": cache.describe() if hasattr(cache, "describe") else str(cache),
        "backend_counts": dict(counters()) if callable(counters) else {},
        "queries": stats.table(),
    }
