"""The query cache: key = query name + parameters; every entry knows when it was computed.

Backends: `MemoryBackend` (in-process, the default) and `MomentoBackend`
(queries/momento_cache.py, shared by every replica, chosen when
MOMENTO_API_KEY is set). A backend may fail in any way; callers treat a
failure as a miss and ask the database (see `queries.run`).

Backend interface:
    get(key, max_age) -> Entry | None     an entry younger than max_age seconds
    set(key, entry, retain)               keep it for `retain` seconds
    invalidate(names, tables) -> int      drop results of these queries
    clear()
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

KEY_VERSION = "v1"


def make_key(name: str, params: dict) -> str:
    """A stable text key; parameters in sorted order, values as JSON."""
    return f"{KEY_VERSION}:{name}:" + json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


def key_name(key: str) -> str:
    """The query name inside a key made by `make_key`."""
    return key.split(":", 2)[1]


@dataclass
class Entry:
    frame: pd.DataFrame
    computed_at: datetime  # timezone-aware, UTC
    db_ms: float
    stored_at: float = field(default_factory=time.monotonic)

    def age(self) -> float:
        return time.monotonic() - self.stored_at

    @classmethod
    def restored(cls, frame: pd.DataFrame, computed_at: datetime, db_ms: float) -> "Entry":
        """An entry read back from a shared cache: its age counts from computed_at
        (wall clock, the only clock replicas share)."""
        age = max(0.0, (datetime.now(timezone.utc) - computed_at).total_seconds())
        return cls(frame=frame, computed_at=computed_at, db_ms=db_ms, stored_at=time.monotonic() - age)


class MemoryBackend:
    """A dict guarded by a lock. Entries older than `max_age` are not returned and
    are dropped once older than the retention they were stored with."""

    name = "in-process"

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Entry, float]] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "in-process (this replica only)"

    def get(self, key: str, max_age: float) -> Entry | None:
        with self._lock:
            found = self._entries.get(key)
        if found is None or found[0].age() >= max_age:
            return None
        return found[0]

    def set(self, key: str, entry: Entry, retain: float) -> None:
        with self._lock:
            self._entries[key] = (entry, retain)
            if len(self._entries) > 256:  # forget what nobody can be served any more
                for k in [k for k, (e, r) in self._entries.items() if e.age() >= r]:
                    del self._entries[k]

    def delete_where(self, predicate) -> int:
        with self._lock:
            doomed = [k for k in self._entries if predicate(k)]
            for k in doomed:
                del self._entries[k]
        return len(doomed)

    def invalidate(self, names: set[str], tables: set[str]) -> int:
        return self.delete_where(lambda key: key_name(key) in names)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Stats:
    """Counters shown in the cache panel and used by tests to count round trips.
    `stale`: expired entries served while a refresh ran; `refreshes`: those refreshes."""

    COUNTERS = ("hits", "misses", "stale", "errors", "db_queries", "refreshes")

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.stale: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.db_queries: Counter[str] = Counter()
        self.refreshes: Counter[str] = Counter()
        self.last_db_ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def count(self, counter: str, name: str) -> None:
        with self._lock:
            getattr(self, counter)[name] += 1

    def reset(self) -> None:
        self.__init__()

    def table(self) -> list[dict]:
        """One row per query name: every counter and the last database time."""
        names = sorted(set().union(*(getattr(self, c) for c in self.COUNTERS), self.last_db_ms))
        return [{"query": n, **{c: getattr(self, c)[n] for c in self.COUNTERS},
                 "last_db_ms": self.last_db_ms.get(n)} for n in names]


class KeyLocks:
    """One lock per key, so concurrent misses on one key cause one database query."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
