"""Through an outage: the last good result of each read, and whether the database answers.

`queries.reads` keeps one `LastGood` and one `Outage` per process: every result
it stores or serves is kept as the key's last good one; a read that finds the
database unreachable starts an outage, the first that gets an answer ends it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime

from db.errors import safe_message
from db.logs import logger
from queries.cache import CacheKey, Entry

log = logger("cruddur.cache")
LAST_GOOD_KEPT = 512  # keys whose newest result is kept (least recently read dropped first)


class LastGood:
    """The newest result of each key read by this process, whatever its age: what the
    pages show while the database cannot answer. Bounded, least recently read dropped."""

    def __init__(self, kept: int = LAST_GOOD_KEPT) -> None:
        self._kept = kept
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, key: CacheKey, entry: Entry) -> None:
        with self._lock:
            held = self._entries.get(key)
            if held is None or entry.computed_at >= held.computed_at:
                self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._kept:
                self._entries.popitem(last=False)

    def get(self, key: CacheKey) -> Entry | None:
        with self._lock:
            return self._entries.get(key)

    def computed_at(self, key: CacheKey) -> datetime | None:
        entry = self.get(key)
        return None if entry is None else entry.computed_at

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Outage:
    """Whether the database is answering, as this process last found out. Each change
    of state is logged once (not once per query or per page view)."""

    def __init__(self) -> None:
        self.since: datetime | None = None  # UTC, when a read first failed; None: answering
        self._lock = threading.Lock()

    def failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                log.debug("%s failed: the database is still unreachable", what, exc_info=True)
                return
            self.since = datetime.now(UTC)
        log.warning(
            "%s failed: the database is unreachable; pages show their last good results until it answers again: %s",
            what,
            safe_message(exc),
            exc_info=exc,
        )

    def answered(self) -> None:
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            down = (datetime.now(UTC) - since).total_seconds()
            log.warning("the database answers again after %.0f s unreachable; pages show current results", down)

    def reset(self) -> None:
        with self._lock:
            self.since = None


class QuietPoolDuringOutage(logging.Filter):
    """psycopg_pool logs a warning for every failed connection attempt (several a
    second across pools and retries); once the outage is known and logged, those
    lines are dropped: the log says so once per change of state."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    # A failed attempt, and the pool giving up its attempts (every reconnect_timeout).
    NOISE = ("error connecting", "reconnection attempt")

    def filter(self, record: logging.LogRecord) -> bool:
        return self.outage.since is None or not str(record.msg).startswith(self.NOISE)
