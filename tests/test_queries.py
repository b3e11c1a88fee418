"""The cached query layer (queries/__init__.py, queries/cache.py)."""
import threading

import psycopg
import pytest

import queries
from queries import fetch, run, writing
from tests.helpers import add_user


def test_second_read_comes_from_cache_without_a_database_round_trip(db):
    add_user(db, "a")
    first = run("total_users")
    assert first.attrs["from_cache"] is False
    add_user(db, "b")  # a change the cache must not see yet
    second = run("total_users")
    assert second.attrs["from_cache"] is True
    assert int(second["count"].iloc[0]) == 1
    assert queries.stats.db_queries["total_users"] == 1
    assert second.attrs["computed_at"] == first.attrs["computed_at"]
    fresh = run("total_users", fresh=True)
    assert int(fresh["count"].iloc[0]) == 2 and fresh.attrs["from_cache"] is False
    assert queries.stats.db_queries["total_users"] == 2


def test_parameters_are_part_of_the_key(db):
    run("new_users_per_day", tz="UTC")
    run("new_users_per_day", tz="Asia/Tokyo")
    run("new_users_per_day")  # defaults to REPORT_TZ=UTC: same entry as the first
    assert queries.stats.db_queries["new_users_per_day"] == 2


def test_ttl_zero_disables_caching(db, monkeypatch):
    monkeypatch.setenv("CACHE_TTL", "0")
    run("total_posts")
    run("total_posts")
    assert queries.stats.db_queries["total_posts"] == 2


def test_concurrent_misses_cause_one_query(db):
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        run("total_posts")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert queries.stats.db_queries["total_posts"] == 1


def test_writes_invalidate_only_what_they_change(db):
    run("total_users")
    run("total_posts")
    with writing("activities") as conn:
        conn.execute("INSERT INTO activities (user_uuid, message) VALUES (gen_random_uuid(), 'x')")
    run("total_users")
    posts = run("total_posts")
    assert int(posts["count"].iloc[0]) == 1 and posts.attrs["from_cache"] is False
    assert queries.stats.db_queries == {"total_users": 1, "total_posts": 2}


def test_a_broken_cache_falls_back_to_the_database(db, monkeypatch):
    class Broken:
        name = "broken"

        def get(self, key, ttl):
            raise ConnectionError("cache down")

        def set(self, key, entry, ttl):
            raise ConnectionError("cache down")

    monkeypatch.setattr(queries, "_backend", Broken())
    add_user(db, "a")
    assert int(run("total_users")["count"].iloc[0]) == 1
    assert queries.stats.errors["total_users"] >= 1


def test_reads_cannot_write(db):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        from db import pool

        with pool.connection(pool.READER) as conn:
            conn.execute("INSERT INTO users (display_name, handle, email, cognito_user_id) VALUES ('a','a','a','a')")


def test_each_pool_names_itself(db):
    from db import pool

    with pool.connection(pool.READER) as conn:
        assert conn.execute("SHOW application_name").fetchone()[0] == "cruddur-dashboard:reader"
    with pool.connection(pool.WRITER) as conn:
        assert conn.execute("SHOW application_name").fetchone()[0] == "cruddur-dashboard:writer"


def test_parameter_mistakes_are_clear(db):
    with pytest.raises(ValueError, match="takes no parameter"):
        run("total_users", bogus=1)
    from db.settings import ConfigError

    with pytest.raises(ConfigError, match="Unknown time zone"):
        run("new_users_per_day", tz="Mars/Olympus")
    with pytest.raises(KeyError, match="No query named"):
        run("drop_everything")


def test_hostile_parameter_values_are_only_values(db):
    frame = fetch("new_users_per_day", tz="UTC", as_of="2026-01-01 00:00:00+00")
    assert len(frame) == 7
    with pytest.raises(psycopg.errors.InvalidDatetimeFormat):
        fetch("new_users_per_day", tz="UTC", as_of="'); DROP TABLE users; --")
    assert int(run("total_users", fresh=True)["count"].iloc[0]) == 0  # table still there
