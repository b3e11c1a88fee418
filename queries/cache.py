"""The query cache: keys built once as values, entries that know when they were computed.

`CacheKey` is made once per `queries.reads.run()` from the catalog entry and
the checked parameters, and handed to the backend as it is: the query name,
its parameters (sorted, each as canonical JSON, so hashable), the tables the
statement reads (its `-- reads:` line) and a hash of its SQL. A backend needs
no text parsing and no catalog lookup; `key.text` renders it for a backend
that needs a string (Momento).

Backends implement `Backend`: `MemoryBackend` (in-process, the default) and
`MomentoBackend` (queries/momento_cache.py, shared by every replica, chosen
when MOMENTO_API_KEY is set), which keeps a `MemoryBackend` in front of
itself as its short-lived local layer. A backend may fail in any way; callers
treat a failure as a miss and ask the database (see `queries.reads.run`).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any, Protocol, runtime_checkable

import pandas as pd

KEY_VERSION = "v1"


@lru_cache(maxsize=1024)
def statement_hash(text: str) -> str:
    """A short hash of a statement's SQL: a changed query never meets an old result."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


@dataclass(frozen=True)
class CacheKey:
    """What a cached result is stored under. Equal keys mean the same statement
    with the same parameters; values compare as their JSON (so 1, 1.0 and True differ)."""

    name: str
    params: tuple[tuple[str, str], ...]  # (parameter, JSON value), sorted by parameter
    reads: frozenset[str] = frozenset()  # tables whose writes invalidate the result
    statement_hash: str = ""

    @classmethod
    def of(cls, query: Any, params: Mapping[str, Any]) -> CacheKey:
        """The key of a catalog `Query` run with `params`."""
        return cls(
            name=query.name,
            params=tuple(sorted((k, _json(v)) for k, v in params.items())),
            reads=query.reads,
            statement_hash=statement_hash(query.text),
        )

    @cached_property
    def text(self) -> str:
        """The key as one stable string: version, name, parameters as a sorted JSON object."""
        body = ",".join(f"{json.dumps(k)}:{v}" for k, v in self.params)
        return f"{KEY_VERSION}:{self.name}:{{{body}}}"

    def __str__(self) -> str:
        return self.text


@dataclass
class Entry:
    frame: pd.DataFrame
    computed_at: datetime  # timezone-aware, UTC
    db_ms: float
    stored_at: float = field(default_factory=time.monotonic)

    def age(self) -> float:
        return time.monotonic() - self.stored_at

    @classmethod
    def restored(cls, frame: pd.DataFrame, computed_at: datetime, db_ms: float) -> Entry:
        """An entry read back from a shared cache: its age counts from computed_at
        (wall clock, the only clock replicas share)."""
        age = max(0.0, (datetime.now(UTC) - computed_at).total_seconds())
        return cls(frame=frame, computed_at=computed_at, db_ms=db_ms, stored_at=time.monotonic() - age)


class BackendUnavailable(RuntimeError):
    """A backend could not answer and has already reported why (logged, counted);
    the caller falls back to the database without logging it again."""


@runtime_checkable
class Backend(Protocol):
    """What `queries.reads` needs of a cache backend."""

    name: str

    def get(self, key: CacheKey, max_age: float) -> Entry | None:
        """An entry younger than `max_age` seconds, or None."""

    def set(self, key: CacheKey, entry: Entry, retain: float) -> None:
        """Keep `entry` for `retain` seconds (of its age)."""

    def invalidate(self, tables: frozenset[str]) -> int:
        """Drop the results that read any of `tables`; how many were dropped here."""

    def clear(self) -> None:
        """Drop everything."""

    def describe(self) -> str:
        """One line for the cache panel."""

    def counters(self) -> dict[str, int]:
        """The backend's own counters for the cache panel (empty when it has none)."""


class MemoryBackend:
    """A dict guarded by a lock. Entries older than `max_age` are not returned; an
    entry is forgotten once older than the retention it was stored with, or, with
    `ttl`, `ttl` seconds after it was stored here (a short-lived front layer)."""

    name = "in-process"
    MAX_BEFORE_SWEEP = 256

    def __init__(self, ttl: float | None = None) -> None:
        self.ttl = ttl
        # key -> (entry, monotonic deadline after which it is forgotten)
        self._entries: dict[CacheKey, tuple[Entry, float]] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "in-process (this replica only)"

    def counters(self) -> dict[str, int]:
        return {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def peek(self, key: CacheKey) -> Entry | None:
        """The entry held for `key`, whatever its age, unless it is past its deadline."""
        with self._lock:
            found = self._entries.get(key)
        if found is None or time.monotonic() >= found[1]:
            return None
        return found[0]

    def get(self, key: CacheKey, max_age: float) -> Entry | None:
        entry = self.peek(key)
        if entry is None or entry.age() >= max_age:
            return None
        return entry

    def set(self, key: CacheKey, entry: Entry, retain: float = math.inf) -> None:
        now = time.monotonic()
        deadline = entry.stored_at + retain
        if self.ttl is not None:
            deadline = min(deadline, now + self.ttl)
        with self._lock:
            self._entries[key] = (entry, deadline)
            if len(self._entries) > self.MAX_BEFORE_SWEEP:  # forget what nobody can be served any more
                for k in [k for k, (_, until) in self._entries.items() if until <= now]:
                    del self._entries[k]

    def invalidate(self, tables: frozenset[str]) -> int:
        with self._lock:
            doomed = [k for k in self._entries if k.reads & tables]
            for k in doomed:
                del self._entries[k]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Stats:
    """Counters shown in the cache panel and used by tests to count round trips.
    `stale`: expired entries served while a refresh ran; `refreshes`: those refreshes."""

    COUNTERS = ("hits", "misses", "stale", "errors", "db_queries", "refreshes")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zero()

    def _zero(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.stale: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.db_queries: Counter[str] = Counter()
        self.refreshes: Counter[str] = Counter()
        self.last_db_ms: dict[str, float] = {}

    def count(self, counter: str, name: str) -> None:
        with self._lock:
            getattr(self, counter)[name] += 1

    def database_read(self, name: str, db_ms: float) -> None:
        with self._lock:
            self.db_queries[name] += 1
            self.last_db_ms[name] = db_ms

    def reset(self) -> None:
        with self._lock:
            self._zero()

    def table(self) -> list[dict]:
        """One row per query name: every counter and the last database time."""
        with self._lock:
            names = sorted(set().union(*(getattr(self, c) for c in self.COUNTERS), self.last_db_ms))
            return [
                {"query": n, **{c: getattr(self, c)[n] for c in self.COUNTERS}, "last_db_ms": self.last_db_ms.get(n)}
                for n in names
            ]


class KeyLocks:
    """One lock per key while anyone holds or waits for it, so concurrent misses on
    one key cause one database query. A key's lock is removed when its last user
    releases it: the table holds only keys in use, however many keys there are.

        with locks(key): ...                       blocking
        if locks.acquire(key, blocking=False):     elsewhere, later (any thread):
                                                   locks.release(key)
    """

    class _Slot:
        __slots__ = ("lock", "users")

        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.users = 0  # threads holding or waiting for `lock`

    def __init__(self) -> None:
        self._slots: dict[Hashable, KeyLocks._Slot] = {}
        self._guard = threading.Lock()

    def __len__(self) -> int:
        with self._guard:
            return len(self._slots)

    def acquire(self, key: Hashable, blocking: bool = True) -> bool:
        with self._guard:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = self._Slot()
            slot.users += 1
        if slot.lock.acquire(blocking):
            return True
        self._leave(key, slot)
        return False

    def release(self, key: Hashable) -> None:
        with self._guard:
            slot = self._slots[key]
            slot.lock.release()
        self._leave(key, slot)

    def _leave(self, key: Hashable, slot: KeyLocks._Slot) -> None:
        with self._guard:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(key) is slot:
                del self._slots[key]

    @contextmanager
    def __call__(self, key: Hashable) -> Iterator[None]:
        self.acquire(key)
        try:
            yield
        finally:
            self.release(key)
