"""Cache internals (queries/cache.py, queries/reads.py, the Momento backend's layers):
keys built once as values, reference-counted per-key locks, and failures that are
counted and logged with their traceback."""

import datetime as dt
import logging
import threading
import time

import pandas as pd
import psycopg
from momento.errors import exceptions
from momento.internal.services import Service

from queries import catalog, reads
from queries.cache import Backend, CacheKey, Entry, KeyLocks, MemoryBackend
from queries.reads import run
from tests.helpers import BrokenCache
from tests.test_momento_cache import FakeMomentoCloud, replica
from tests.test_queries import _age_cached_results


def test_a_key_is_built_once_and_carries_what_backends_need(db, monkeypatch):
    seen = []

    class Recording(MemoryBackend):
        def get(self, key, max_age):
            seen.append(key)
            return super().get(key, max_age)

    monkeypatch.setattr(reads, "_backend", Recording())
    run("new_users_per_day", tz="Asia/Tokyo")
    run("new_users_per_day", tz="Asia/Tokyo")
    [first, second] = [k for k in seen if k.name == "new_users_per_day"][:2]
    assert isinstance(first, CacheKey) and first == second and hash(first) == hash(second)
    query = catalog.get("new_users_per_day")
    assert first.reads == query.reads == frozenset({"users"})
    assert dict(first.params)["tz"] == '"Asia/Tokyo"'
    # The text form is the one keys always had, so a shared cache keeps its entries.
    assert first.text.startswith('v1:new_users_per_day:{"as_of":null,') and first.text.endswith('"tz":"Asia/Tokyo"}')
    # Values compare as JSON: 1 and True are different parameters.
    assert CacheKey.of(query, {"x": 1}) != CacheKey.of(query, {"x": True})
    assert reads.stats.db_queries["new_users_per_day"] == 1


def test_key_locks_are_dropped_when_nobody_holds_or_waits(db, db_url):
    locks = KeyLocks()
    with locks("a"):
        assert len(locks) == 1
        assert locks.acquire("a", blocking=False) is False  # a failed try leaves nothing behind
        assert len(locks) == 1
    assert len(locks) == 0
    assert locks.acquire("b", blocking=False)
    releaser = threading.Thread(target=locks.release, args=("b",))  # released by another thread
    releaser.start()
    releaser.join()
    assert len(locks) == 0
    # Many parameter combinations: nothing stays behind.
    for zone in ("UTC", "Asia/Tokyo", "Europe/Berlin", "America/New_York"):
        run("new_users_per_day", tz=zone)
    assert len(reads._key_locks) == 0


def test_concurrent_misses_share_one_lock_that_goes_away_afterwards(db, db_url):
    n = 8
    started = threading.Barrier(n + 1)
    results = []

    def worker():
        started.wait()
        results.append(run("total_users"))

    # Hold the table so the first miss waits in the database while the others arrive.
    with psycopg.connect(db_url) as blocker:
        blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        threads = [threading.Thread(target=worker) for _ in range(n)]
        [t.start() for t in threads]
        started.wait()
        deadline = time.monotonic() + 5
        while reads.stats.misses["total_users"] < n and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(reads._key_locks) == 1  # one key, one lock, held by one and waited for by the rest
    [t.join(10) for t in threads]
    assert len(results) == n
    assert reads.stats.db_queries["total_users"] == 1
    assert sum(r.attrs["from_cache"] for r in results) == n - 1
    assert len(reads._key_locks) == 0


def test_a_broken_cache_is_counted_and_logged_with_its_traceback(db, monkeypatch, caplog):
    monkeypatch.setattr(reads, "_backend", BrokenCache())
    with caplog.at_level(logging.WARNING, logger="cruddur"):
        run("total_users")
    assert reads.stats.errors["total_users"] == 2  # the get and the set
    records = [r for r in caplog.records if r.name == "cruddur.cache"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert all(r.exc_info and r.exc_info[0] is ConnectionError for r in records)
    assert "cache get failed for total_users" in records[0].getMessage() and "cache down" in records[0].getMessage()
    assert "Traceback" in caplog.text and "ConnectionError: cache down" in caplog.text


def test_a_failed_refresh_is_logged(db, tmp_path, monkeypatch, caplog):
    run("total_users")
    _age_cached_results(61)
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://nobody:hunter2-secret@/cruddur?host={tmp_path}")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "300")
    with caplog.at_level(logging.WARNING, logger="cruddur"):
        assert run("total_users").attrs["stale"] is True
        assert reads.wait_for_refreshes(5)
    assert reads.stats.errors["total_users"] == 1
    [record] = [r for r in caplog.records if r.name == "cruddur.cache"]
    assert record.levelno == logging.WARNING and record.exc_info
    assert "background refresh of total_users failed" in record.getMessage()
    assert "hunter2-secret" not in caplog.text


def test_an_outage_is_logged_once_not_once_per_query(db, monkeypatch, caplog):
    cloud = FakeMomentoCloud()
    backend = replica(cloud, local_ttl=0)
    monkeypatch.setattr(reads, "_backend", backend)
    cloud.fail["dictionary_fetch"] = exceptions.TimeoutException("slow", Service.CACHE)
    with caplog.at_level(logging.DEBUG, logger="cruddur"):
        for _ in range(5):
            run("total_users", fresh=True)
            run("total_posts")
    assert backend.counts["skipped"] >= 9 and sum(reads.stats.errors.values()) >= 10
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    [line] = warnings  # the failure that opened the breaker; skipped calls are counted, not logged
    assert line.name == "cruddur.momento" and "TIMEOUT_ERROR" in line.getMessage()
    assert line.exc_info and isinstance(line.exc_info[1], exceptions.TimeoutException)


def test_the_local_layer_is_the_one_memory_backend():
    cloud = FakeMomentoCloud()
    backend = replica(cloud)
    assert isinstance(backend.front, MemoryBackend) and backend.front.ttl == backend.local_ttl
    assert isinstance(backend, Backend) and isinstance(MemoryBackend(), Backend)
    key = CacheKey.of(catalog.get("total_users"), {})
    entry = Entry(frame=pd.DataFrame({"count": [1]}), computed_at=dt.datetime.now(dt.UTC), db_ms=1.0)
    backend.set(key, entry, 60)
    assert backend.front.peek(key) is entry
    assert backend.invalidate(frozenset({"activities"})) == 0 and len(backend.front) == 1
    assert backend.invalidate(frozenset({"users"})) == 1 and len(backend.front) == 0
    assert backend.counters()["sets"] == 1
