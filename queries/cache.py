"""The query cache: key = query name + parameters; every entry knows when it was computed.

The in-process backend is the default. A backend may fail in any way; callers
treat a failure as a miss and ask the database (see `queries.run`).
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

KEY_VERSION = "v1"


def make_key(name: str, params: dict) -> str:
    """A stable text key; parameters in sorted order, values as JSON."""
    return f"{KEY_VERSION}:{name}:" + json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


@dataclass
class Entry:
    frame: pd.DataFrame
    computed_at: datetime  # timezone-aware, UTC
    db_ms: float
    stored_at: float = field(default_factory=time.monotonic)

    def age(self) -> float:
        return time.monotonic() - self.stored_at


class MemoryBackend:
    """A dict guarded by a lock. Entries expire `ttl` seconds after they were stored."""

    name = "in-process"

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.age() >= ttl:
            return None
        return entry

    def set(self, key: str, entry: Entry, ttl: float) -> None:
        with self._lock:
            self._entries[key] = entry

    def delete_where(self, predicate) -> int:
        with self._lock:
            doomed = [k for k in self._entries if predicate(k)]
            for k in doomed:
                del self._entries[k]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Stats:
    """Counters shown in the cache panel and used by tests to count round trips."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.db_queries: Counter[str] = Counter()
        self.last_db_ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def count(self, counter: str, name: str) -> None:
        with self._lock:
            getattr(self, counter)[name] += 1

    def reset(self) -> None:
        self.__init__()


class KeyLocks:
    """One lock per key, so concurrent misses on one key cause one database query."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
