"""Reads: named SQL in, DataFrames out, through a cache.

Long because it is the one read path: the cache, stale-while-revalidate, the
last good results through an outage and a page's watch over what it showed
share one key, one set of locks and one background refresh.

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

Last good results: the newest result of every key this process has read is
kept (`LAST_GOOD_KEPT` keys) however old. While the database cannot answer
(DatabaseUnavailable) run() serves it at once, Refresh included, labelled with
`outage_since`, and one background refresh per key tries again every
`OUTAGE_RETRY_S`; the first success ends the outage. The log says so once per
change of state. A key never read before still raises: a first visitor gets
the page's "unavailable" state.

Watching: `recording()` collects the keys a page read; `changed(seen)` tells
whether a newer result of any of them has been stored since (a few dict
lookups, for a polling fragment), and `revalidate(seen)` starts the background
refresh of those that expired.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from db import pool, statements
from db.errors import SCHEMA_BEHIND, DatabaseUnavailable, safe_message
from db.logs import logger
from db.settings import get_settings
from db.statements import prepare_params
from queries import catalog
from queries.cache import Backend, BackendUnavailable, CacheKey, Entry, KeyLocks, MemoryBackend, Stats
from queries.outage import LastGood, Outage, QuietPoolDuringOutage

log = logger("cruddur.cache")
stats = Stats()
_backend: Backend | None = None  # None: chosen from the settings on use (tests may set one)
_chosen: dict[tuple, Backend] = {}  # under _choose_lock
_choose_lock = threading.Lock()
_key_locks = KeyLocks()
_refreshers: set[threading.Thread] = set()  # under _refreshers_lock
_refreshers_lock = threading.Lock()

OUTAGE_RETRY_S = 5.0  # during an outage, one background retry per key at most this often


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
    except SCHEMA_BEHIND:
        if not query.fallback:
            raise
        # A database without the tables this answer is kept in (the growth rollup), or an older
        # shape of them: same answer, counted live.
        log.debug("%s: a table or column it reads is absent; answering with %s", query.name, query.fallback)
        frame, _ = _read(catalog.get_read(query.fallback), params, identifiers)
        return frame, (time.perf_counter() - started) * 1000
    db_ms = (time.perf_counter() - started) * 1000
    stats.database_read(query.name, db_ms)
    return pd.DataFrame.from_records(rows, columns=columns), db_ms


def _with_meta(
    entry: Entry, name: str, params: dict, from_cache: bool, stale: bool = False, identifiers: dict | None = None
) -> pd.DataFrame:
    frame = entry.frame.copy()
    frame.attrs = {
        "query": name,
        "params": dict(params),
        "computed_at": entry.computed_at,
        "from_cache": from_cache,
        "stale": stale,
        "age_s": entry.age() if from_cache else 0.0,
        "db_ms": entry.db_ms,
        "outage_since": outage.since,
        # Which answer this is: the same stamp, the same rows (queries.memo.per_answer).
        "answer": (
            name,
            repr(sorted(params.items())),
            repr(sorted((identifiers or {}).items())),
            entry.computed_at,
            from_cache,
            stale,
        ),
    }
    return frame


@dataclass(frozen=True)
class _Read:
    """One read as run() was asked for it: enough to run it again in the background."""

    key: CacheKey
    query: catalog.Query
    params: dict[str, Any]
    identifiers: dict[str, str]

    def compute(self, what: str = "") -> Entry:
        """Ask the database, store the answer (cache and last good) and end any outage."""
        try:
            frame, db_ms = _read(self.query, self.params, self.identifiers)
        except DatabaseUnavailable as exc:
            outage.failed(what or f"reading {self.query.name}", exc)
            raise
        entry = Entry(frame=frame, computed_at=datetime.now(UTC), db_ms=db_ms)
        ttl = get_settings().cache_ttl
        if ttl > 0:
            try:
                backend().set(self.key, entry, ttl + stale_ttl())
            except Exception as exc:
                _cache_failed("set", self.query.name, exc)
        _last_good.keep(self.key, entry)
        outage.answered()
        return entry

    def refresh(self) -> Entry:
        return self.compute(f"background refresh of {self.query.name}")


def run(name: str, /, *, fresh: bool = False, identifiers: dict[str, str] | None = None, **params: Any) -> pd.DataFrame:
    """A cached read. `fresh=True` skips the cache and stores the new result.
    While the database is unreachable, the last good result (if any) is served."""
    query = catalog.get_read(name)
    params = prepare_params(query, params)
    identifiers = identifiers or {}
    key = CacheKey.of(query, {**params, **{f"ident:{k}": v for k, v in identifiers.items()}})
    read = _Read(key, query, params, identifiers)
    if outage.since is not None and (good := _last_good.get(key)) is not None:
        # Known outage: answer at once; a background retry finds out when it is over.
        _retry_in_background(read, force=fresh)
        return _served(read, good, from_cache=True, stale=True)
    try:
        return _cached_or_computed(read, fresh)
    except DatabaseUnavailable:
        good = _last_good.get(key)
        if good is None:
            raise
        return _served(read, good, from_cache=True, stale=True)


def _served(read: _Read, entry: Entry, *, from_cache: bool, stale: bool = False) -> pd.DataFrame:
    _recorded(read, entry)
    return _with_meta(
        entry, read.query.name, read.params, from_cache=from_cache, stale=stale, identifiers=read.identifiers
    )


def _cached_or_computed(read: _Read, fresh: bool) -> pd.DataFrame:
    name, key = read.query.name, read.key
    ttl = get_settings().cache_ttl
    keep = ttl + stale_ttl() if ttl > 0 else 0
    cache = backend()

    def lookup(max_age: float) -> Entry | None:
        try:
            return cache.get(key, max_age)
        except Exception as exc:  # a broken cache is a miss, never an error page
            _cache_failed("get", name, exc)
            return None

    if not fresh and ttl > 0:
        entry = lookup(keep)
        if entry is not None and entry.age() < ttl:
            stats.count("hits", name)
            _last_good.keep(key, entry)
            return _served(read, entry, from_cache=True)
        if entry is not None:
            stats.count("stale", name)
            _last_good.keep(key, entry)
            _refresh_in_background(key, name, read.refresh)
            return _served(read, entry, from_cache=True, stale=True)
        stats.count("misses", name)
    with _key_locks(key):
        # Another thread may have filled it while we waited for the lock.
        entry = None if fresh or ttl <= 0 else _peek(cache, key, ttl)
        if entry is None:
            return _served(read, read.compute(), from_cache=False)
    return _served(read, entry, from_cache=True)


def _refresh_in_background(key: CacheKey, name: str, compute: Callable[[], Entry]) -> None:
    """Start one refresh of `key` unless one (or a blocking miss) is already running."""
    if not _key_locks.acquire(key, blocking=False):
        return
    stats.count("refreshes", name)

    def work() -> None:
        try:
            compute()
        except DatabaseUnavailable:  # logged by `outage`, once per change of state
            stats.count("errors", name)
            log.debug("background refresh of %s failed: the database is unreachable", name, exc_info=True)
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


def _retry_in_background(read: _Read, *, force: bool = False) -> None:
    """During an outage: one background retry of `read` per OUTAGE_RETRY_S (now when forced)."""
    now = time.monotonic()
    with _refreshers_lock:
        if not force and _retried.get(read.key, 0.0) > now - OUTAGE_RETRY_S:
            return
        _retried[read.key] = now
    _refresh_in_background(read.key, read.query.name, read.refresh)


_retried: dict[CacheKey, float] = {}  # under _refreshers_lock: the last outage retry per key


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


_last_good = LastGood()
outage = Outage()
logging.getLogger("psycopg.pool").addFilter(QuietPoolDuringOutage(outage))


def outage_since() -> datetime | None:
    """When this process found the database unreachable (UTC), or None while it answers."""
    return outage.since


# --- watching what a page showed ------------------------------------------------

_recording: contextvars.ContextVar[dict[CacheKey, tuple[_Read, datetime]] | None] = contextvars.ContextVar(
    "cruddur_reads_recording", default=None
)


def _recorded(read: _Read, entry: Entry) -> None:
    seen = _recording.get()
    if seen is not None:
        seen[read.key] = (read, entry.computed_at)


@contextmanager
def recording() -> Iterator[dict[CacheKey, tuple[_Read, datetime]]]:
    """Collect every read run() serves inside the block, with the age of what it served:
    hand the result to `changed()` and `revalidate()` later."""
    seen: dict[CacheKey, tuple[_Read, datetime]] = {}
    token = _recording.set(seen)
    try:
        yield seen
    finally:
        _recording.reset(token)


def changed(seen: dict[CacheKey, tuple[_Read, datetime]]) -> bool:
    """Whether a newer result of any of these reads has been stored since they were served."""
    for key, (_, computed_at) in seen.items():
        newest = _last_good.computed_at(key)
        if newest is not None and newest > computed_at:
            return True
    return False


def revalidate(seen: dict[CacheKey, tuple[_Read, datetime]]) -> int:
    """Start the background refresh of every read here older than CACHE_TTL (one per key;
    during an outage at most one per OUTAGE_RETRY_S); how many were looked at as expired."""
    ttl = get_settings().cache_ttl
    if ttl <= 0:
        return 0
    now = datetime.now(UTC)
    expired = 0
    for key, (read, computed_at) in seen.items():
        newest = _last_good.computed_at(key) or computed_at
        if (now - newest).total_seconds() < ttl:
            continue
        expired += 1
        if outage.since is not None:
            _retry_in_background(read)
        else:
            _refresh_in_background(key, read.query.name, read.refresh)
    return expired


def invalidate(tables: Iterable[str]) -> int:
    """Drop cached results of every query that reads any of `tables`."""
    try:
        return backend().invalidate(frozenset(tables))
    except Exception as exc:  # the write itself succeeded; the TTL bounds the staleness
        _cache_failed("invalidate", "invalidate", exc)
        return 0


def clear_cache() -> None:
    """Drop every cached result; the last good results and the outage state go too."""
    _last_good.clear()
    outage.reset()
    with _refreshers_lock:
        _retried.clear()
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
