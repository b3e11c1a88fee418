"""The Momento backend (queries/momento_cache.py).

Momento's cloud is the only thing faked here, and the fake answers with the
SDK's own response types. Everything else is real: PostgreSQL, the query
layer, the encoding, and in the last tests the SDK's CacheClient itself.
"""

from __future__ import annotations

import datetime as dt
import inspect
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from momento.errors import SdkException, exceptions
from momento.internal.services import Service
from momento.responses import CacheDictionaryFetch, CacheDictionaryIncrement, CacheGet, CacheSet, CreateCache

from actions.writing import writing
from queries import reads
from queries.cache import Entry
from queries.momento_cache import MomentoBackend, decode, encode
from queries.reads import run
from tests.helpers import add_user

SDK_ERRORS = sorted(
    (
        cls
        for _, cls in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(cls, SdkException) and cls is not SdkException
    ),
    key=lambda c: c.__name__,
)


class FakeMomentoCloud:
    """Momento's service: items with TTLs, dictionaries, and injectable failures."""

    def __init__(self) -> None:
        self.caches: dict[str, dict] = {}
        self.calls: Counter[str] = Counter()
        self.fail: dict[str, SdkException] = {}

    def _failure(self, op: str):
        self.calls[op] += 1
        return self.fail.get(op)

    def _items(self, cache_name):
        return self.caches.get(cache_name)

    def create_cache(self, cache_name):
        if err := self._failure("create_cache"):
            return CreateCache.Error(err)
        if cache_name in self.caches:
            return CreateCache.CacheAlreadyExists()
        self.caches[cache_name] = {}
        return CreateCache.Success()

    def _missing(self, cache_name):
        return exceptions.NotFoundException(f"cache {cache_name} not found", Service.CACHE)

    def get(self, cache_name, key):
        if err := self._failure("get"):
            return CacheGet.Error(err)
        items = self._items(cache_name)
        if items is None:
            return CacheGet.Error(self._missing(cache_name))
        found = items.get(key)
        if found is None or found[1] < time.monotonic():
            return CacheGet.Miss()
        return CacheGet.Hit(found[0])

    def set(self, cache_name, key, value, ttl=None):
        if err := self._failure("set"):
            return CacheSet.Error(err)
        items = self._items(cache_name)
        if items is None:
            return CacheSet.Error(self._missing(cache_name))
        items[key] = (value, time.monotonic() + ttl.total_seconds())
        return CacheSet.Success()

    def dictionary_fetch(self, cache_name, dictionary_name):
        if err := self._failure("dictionary_fetch"):
            return CacheDictionaryFetch.Error(err)
        items = self._items(cache_name)
        if items is None:
            return CacheDictionaryFetch.Error(self._missing(cache_name))
        found = items.get(dictionary_name)
        return CacheDictionaryFetch.Hit(dict(found[0])) if found else CacheDictionaryFetch.Miss()

    def dictionary_increment(self, cache_name, dictionary_name, field, amount=1, *, ttl=None):
        if err := self._failure("dictionary_increment"):
            return CacheDictionaryIncrement.Error(err)
        items = self._items(cache_name)
        if items is None:
            return CacheDictionaryIncrement.Error(self._missing(cache_name))
        fields = items.setdefault(dictionary_name, ({}, float("inf")))[0]
        value = int(fields.get(field.encode(), b"0")) + amount
        fields[field.encode()] = str(value).encode()
        return CacheDictionaryIncrement.Success(value)


@pytest.fixture
def cloud():
    return FakeMomentoCloud()


def replica(cloud, **kw) -> MomentoBackend:
    """A dashboard replica's backend talking to the (fake) cloud."""
    return MomentoBackend(client=cloud, **kw)


def awkward_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [dt.date(2026, 3, 8), dt.date(2026, 3, 9), None],
            "count": np.array([3, 0, 7], dtype="int64"),
            "ratio": [0.5, np.nan, 1.25],
            "partial": [False, False, True],
            "handle": ["ada", None, "grace"],
            "at_utc": pd.to_datetime(
                ["2026-03-08 10:00:00", None, "2026-03-10 23:59:59.999999"], format="ISO8601"
            ).tz_localize("UTC"),
            # 2026-03-08 is the US spring-forward day: offsets differ within the column.
            "at_ny": pd.to_datetime(["2026-03-08 01:30", "2026-03-08 03:30", "2026-11-01 01:30"]).tz_localize(
                "America/New_York", ambiguous=[True, True, False]
            ),
            "maybe": pd.array([1, None, 3], dtype="Int64"),
        }
    )


def test_a_frame_round_trips_exactly():
    computed = dt.datetime(2026, 3, 10, 15, 0, 1, 123456, tzinfo=dt.UTC)
    frame = awkward_frame()
    back = decode(encode(Entry(frame=frame, computed_at=computed, db_ms=1.5)))
    pd.testing.assert_frame_equal(back.frame, frame, check_exact=True)
    assert list(back.frame.dtypes.astype(str)) == list(frame.dtypes.astype(str))
    assert np.isnan(back.frame["ratio"].iloc[1])
    assert back.computed_at == computed and back.db_ms == 1.5


def test_an_empty_result_round_trips():
    frame = pd.DataFrame({"day": pd.Series([], dtype=object), "count": pd.Series([], dtype="int64")})
    back = decode(encode(Entry(frame=frame, computed_at=dt.datetime.now(dt.UTC), db_ms=0.1)))
    pd.testing.assert_frame_equal(back.frame, frame)


def test_a_result_is_shared_between_replicas(db, cloud, monkeypatch):
    add_user(db, "a")
    monkeypatch.setattr(reads, "_backend", replica(cloud))
    first = run("new_users_per_day", tz="Europe/Berlin")
    assert first.attrs["from_cache"] is False
    assert cloud.calls["create_cache"] == 1  # created because it was absent
    monkeypatch.setattr(reads, "_backend", replica(cloud))  # another replica, empty local layer
    second = run("new_users_per_day", tz="Europe/Berlin")
    assert second.attrs["from_cache"] is True
    assert reads.stats.db_queries["new_users_per_day"] == 1
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs["computed_at"] == first.attrs["computed_at"]


def test_the_local_layer_saves_the_round_trip_of_a_rerun(db, cloud, monkeypatch):
    monkeypatch.setattr(reads, "_backend", replica(cloud))
    run("total_users")
    gets = cloud.calls["get"]
    for _ in range(3):
        assert run("total_users").attrs["from_cache"] is True
    assert cloud.calls["get"] == gets


def test_a_write_on_one_replica_is_seen_by_the_others(db, cloud, monkeypatch):
    writer, reader = replica(cloud), replica(cloud, local_ttl=0)
    monkeypatch.setattr(reads, "_backend", reader)
    assert int(run("total_users")["count"].iloc[0]) == 0
    monkeypatch.setattr(reads, "_backend", writer)
    with writing("users") as conn:
        add_user(conn, "new")
    monkeypatch.setattr(reads, "_backend", reader)
    after = run("total_users")
    assert int(after["count"].iloc[0]) == 1 and after.attrs["from_cache"] is False
    run("total_posts")  # reads activities only: its generation did not move
    assert cloud.calls["dictionary_increment"] == 1


def test_clear_makes_every_result_unreachable(db, cloud, monkeypatch):
    monkeypatch.setattr(reads, "_backend", replica(cloud, local_ttl=0))
    run("total_users")
    reads.clear_cache()
    assert run("total_users").attrs["from_cache"] is False
    assert reads.stats.db_queries["total_users"] == 2


@pytest.mark.parametrize("op", ["get", "set", "dictionary_fetch", "dictionary_increment", "create_cache"])
def test_every_sdk_error_falls_back_to_the_database(db, monkeypatch, op):
    add_user(db, "a")
    expected = 1
    for error in SDK_ERRORS:
        if op == "create_cache" and error in (exceptions.PermissionDeniedException, exceptions.AlreadyExistsException):
            continue  # a key scoped to an existing cache may not create it: not a failure
        cloud = FakeMomentoCloud()
        backend = replica(cloud)
        monkeypatch.setattr(reads, "_backend", backend)
        reads.stats.reset()
        cloud.fail[op] = error("injected", Service.CACHE)
        if op == "dictionary_increment":
            with writing("users") as conn:  # the write succeeds although the cache could not be told
                add_user(conn, f"b{expected}")
            expected += 1
            assert reads.stats.errors["invalidate"] == 1, error
        frame = run("total_users")
        assert int(frame["count"].iloc[0]) == expected, error
        assert frame.attrs["from_cache"] is False, error
        assert sum(reads.stats.errors.values()) >= 1, error
        assert any(k.startswith("error:") for k in backend.counts), error


def test_after_a_failure_momento_is_skipped_for_a_while(db, cloud, monkeypatch):
    backend = replica(cloud, local_ttl=0)
    monkeypatch.setattr(reads, "_backend", backend)
    cloud.fail["dictionary_fetch"] = exceptions.TimeoutException("slow", Service.CACHE)
    for _ in range(5):
        run("total_users", fresh=True)
        run("total_posts")
    assert cloud.calls["dictionary_fetch"] == 1
    assert backend.counts["skipped"] >= 9
    assert "unreachable" in backend.describe()


def test_a_missed_invalidation_is_sent_before_the_next_read(db, cloud, monkeypatch):
    backend = replica(cloud, local_ttl=0, breaker_s=0)
    monkeypatch.setattr(reads, "_backend", backend)
    run("total_users")
    cloud.fail["dictionary_increment"] = exceptions.ServerUnavailableException("down", Service.CACHE)
    with writing("users") as conn:
        add_user(conn, "b")
    del cloud.fail["dictionary_increment"]
    fresh = run("total_users")  # the pending bump goes first, so the old result is out of reach
    assert int(fresh["count"].iloc[0]) == 1 and fresh.attrs["from_cache"] is False


def test_momento_is_chosen_by_setting_and_built_lazily(db, monkeypatch):
    monkeypatch.setenv("MOMENTO_API_KEY", "not-a-real-key")
    monkeypatch.setenv("MOMENTO_CACHE_NAME", "dash-test")
    chosen = reads.backend()
    assert chosen.name == "momento" and chosen.cache_name == "dash-test"
    assert chosen._client is None  # nothing connects until a query runs
    add_user(db, "a")
    assert int(run("total_users")["count"].iloc[0]) == 1  # an unusable key: the database answers
    assert "not-a-real-key" not in repr(chosen.counts) + (chosen.last_error or "")
    monkeypatch.delenv("MOMENTO_API_KEY")
    assert reads.backend().name == "in-process"


@pytest.mark.parametrize("host", ["127.0.0.1", "10.255.255.1"], ids=["refused", "black-hole"])
def test_a_real_client_at_an_unreachable_endpoint_falls_back_within_its_timeout(db, monkeypatch, host):
    from momento.auth import CredentialProvider

    from queries.momento_cache import make_client

    credential = CredentialProvider("token", host, host, host, 9)
    timeout = 0.3
    backend = MomentoBackend(
        timeout_s=timeout,
        client_factory=lambda: make_client(api_key=None, endpoint=None, timeout_s=timeout, credential=credential),
    )
    monkeypatch.setattr(reads, "_backend", backend)
    add_user(db, "a")
    started = time.perf_counter()
    frame = run("total_users")
    first = time.perf_counter() - started
    assert int(frame["count"].iloc[0]) == 1
    assert first < timeout * 2 + 1.0  # one timeout (create cache), then the breaker
    started = time.perf_counter()
    run("total_posts")
    assert time.perf_counter() - started < timeout  # skipped: no second wait
    assert any(k.startswith("error:") for k in backend.counts)
