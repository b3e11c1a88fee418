"""The cached query layer (queries/__init__.py, queries/cache.py)."""

import threading

import psycopg
import pytest

from actions.writing import writing
from queries import reads
from queries.reads import fetch, run
from tests.helpers import BrokenCache, add_user


def test_second_read_comes_from_cache_without_a_database_round_trip(db):
    add_user(db, "a")
    first = run("total_users")
    assert first.attrs["from_cache"] is False
    add_user(db, "b")  # a change the cache must not see yet
    second = run("total_users")
    assert second.attrs["from_cache"] is True
    assert int(second["count"].iloc[0]) == 1
    assert reads.stats.db_queries["total_users"] == 1
    assert second.attrs["computed_at"] == first.attrs["computed_at"]
    fresh = run("total_users", fresh=True)
    assert int(fresh["count"].iloc[0]) == 2 and fresh.attrs["from_cache"] is False
    assert reads.stats.db_queries["total_users"] == 2


def test_parameters_are_part_of_the_key(db):
    run("new_users_per_day", tz="UTC")
    run("new_users_per_day", tz="Asia/Tokyo")
    run("new_users_per_day")  # defaults to REPORT_TZ=UTC: same entry as the first
    assert reads.stats.db_queries["new_users_per_day"] == 2


def test_ttl_zero_disables_caching(db, monkeypatch):
    monkeypatch.setenv("CACHE_TTL", "0")
    run("total_posts")
    run("total_posts")
    assert reads.stats.db_queries["total_posts"] == 2


def test_concurrent_misses_cause_one_query(db):
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        run("total_posts")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert reads.stats.db_queries["total_posts"] == 1


def test_writes_invalidate_only_what_they_change(db):
    run("total_users")
    run("total_posts")
    with writing("activities") as conn:
        conn.execute("INSERT INTO activities (user_uuid, message) VALUES (gen_random_uuid(), 'x')")
    run("total_users")
    posts = run("total_posts")
    assert int(posts["count"].iloc[0]) == 1 and posts.attrs["from_cache"] is False
    assert reads.stats.db_queries == {"total_users": 1, "total_posts": 2}


def test_a_broken_cache_falls_back_to_the_database(db, monkeypatch):
    monkeypatch.setattr(reads, "_backend", BrokenCache())
    add_user(db, "a")
    assert int(run("total_users")["count"].iloc[0]) == 1
    assert reads.stats.errors["total_users"] >= 1


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


def _age_cached_results(seconds: float) -> None:
    """Make every cached result look `seconds` older (instead of sleeping)."""
    for entry, _ in reads.backend()._entries.values():
        entry.stored_at -= seconds


def test_an_expired_result_is_served_at_once_while_one_refresh_runs(db, db_url):
    add_user(db, "a")
    assert int(run("total_users")["count"].iloc[0]) == 1
    add_user(db, "b")
    _age_cached_results(61)  # CACHE_TTL is 60 s
    barrier = threading.Barrier(10)
    results = []

    def worker():
        barrier.wait()
        results.append(run("total_users"))

    # Hold the table so the refresh cannot finish while the 10 requests arrive.
    with psycopg.connect(db_url) as blocker:
        blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        threads = [threading.Thread(target=worker) for _ in range(10)]
        [t.start() for t in threads]
        [t.join(5) for t in threads]
        assert len(results) == 10  # nobody waited for the database
        assert all(r.attrs["stale"] and r.attrs["from_cache"] and r.attrs["age_s"] >= 61 for r in results)
        assert {int(r["count"].iloc[0]) for r in results} == {1}
    assert reads.wait_for_refreshes(10)
    assert reads.stats.db_queries["total_users"] == 2  # the first read and ONE refresh
    assert reads.stats.refreshes["total_users"] == 1 and reads.stats.stale["total_users"] == 10
    after = run("total_users")
    assert int(after["count"].iloc[0]) == 2 and after.attrs["stale"] is False and after.attrs["from_cache"]


def test_fresh_skips_a_stale_result(db):
    run("total_users")
    add_user(db, "a")
    _age_cached_results(61)
    frame = run("total_users", fresh=True)
    assert int(frame["count"].iloc[0]) == 1 and frame.attrs["stale"] is False and not frame.attrs["from_cache"]
    assert reads.stats.refreshes["total_users"] == 0


def test_past_the_stale_window_a_request_waits_for_the_database(db, monkeypatch):
    monkeypatch.setenv("CACHE_STALE_TTL", "30")
    run("total_users")
    add_user(db, "a")
    _age_cached_results(91)
    frame = run("total_users")
    assert int(frame["count"].iloc[0]) == 1 and frame.attrs["from_cache"] is False
    assert reads.stats.stale["total_users"] == 0


def test_a_failed_refresh_keeps_the_stale_value_and_counts_the_error(db, tmp_path, monkeypatch):
    run("total_users")
    _age_cached_results(61)
    # The database goes away: nothing listens on this socket directory.
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://nobody@/cruddur?host={tmp_path}")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "300")
    assert run("total_users").attrs["stale"] is True
    assert reads.wait_for_refreshes(5)
    assert reads.stats.errors["total_users"] == 1
    assert run("total_users").attrs["stale"] is True  # still served, and a new refresh is tried
    assert reads.wait_for_refreshes(5)


@pytest.mark.parametrize(
    "name, params",
    [
        ("admin.terminate_database_sessions", ["name={db}"]),
        ("sessions.do_terminate", ["pid={pid}", "backend_start=", "wait_ms=100", "own_pids={{}}"]),
        ("sessions.do_cancel", ["pid={pid}", "backend_start=", "own_pids={{}}"]),
        ("seed.reset", []),
    ],
)
def test_the_query_cli_runs_reads_only(name, params, db_url, capsys, monkeypatch):
    """Finding 3: `python -m queries run` terminated production sessions with APP_ENV=prod."""
    from db import conninfo
    from queries.__main__ import main
    from tests.background import Background

    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    victim = Background(db_url, "victim")
    try:
        argv = ["run", name]
        for p in params:
            argv += ["-p", p.format(db=conninfo.parse(db_url)["dbname"], pid=victim.pid)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "only read statements run here" in err and "Traceback" not in err
        assert victim.alive()
    finally:
        victim.close()


def test_query_list_shows_each_class_and_survives_a_closed_pipe(db_url):
    import subprocess
    import sys

    from tests.conftest import ROOT

    listing = subprocess.run([sys.executable, "-m", "queries", "list"], cwd=ROOT, capture_output=True, text=True)
    assert listing.returncode == 0
    lines = {line.split()[0]: line.split()[1] for line in listing.stdout.splitlines()}
    assert lines["total_users"] == "read" and lines["sessions.do_terminate"] == "admin"
    assert lines["seed.reset"] == "write"
    # `| head -1`: the reader goes away after one line; no BrokenPipe traceback.
    for argv in (["queries", "list"], ["db", "--help"], ["seed", "--help"]):
        done = subprocess.run(
            f"{sys.executable} -m {' '.join(argv)} | head -1",
            shell=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
            executable="/bin/bash",
        )
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [("garbage", 'invalid input syntax for type timestamp with time zone: "garbage"'), ("infinity", "date too large")],
)
def test_the_query_cli_names_a_parameter_the_statement_cannot_use(value, says, db_url, capsys):
    from queries.__main__ import main

    assert main(["run", "growth_summary", "-p", f"as_of={value}", "--fresh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the statement cannot use the parameters given: ") and says in err
    assert "CONTEXT" not in err and "Traceback" not in err and len(err.splitlines()) == 1
