"""The growth rollup: quarter hours and a running total (migrations 0004, 0006,
actions/rollup.py, queries/sql/growth_summary.sql and the rollup-backed totals and
per-day statements).

The rollup answer must equal the live answer (the plain created_at queries in
queries/sql/live) and count(*) in every situation: after the generator, a single
insert, a backfill, deletes, a changed created_at, a truncate, in zones whose
midnight is not on a UTC hour, and across a refresh; and the running total must
equal the rolled-up buckets it stands for.

Long because each way the rollup can be moved (generate, insert, late commit,
backfill, delete, update, truncate, refresh, rebuild, the page's keep_up) needs
its own setup, and all share the one exactness check.
"""

import logging
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from actions import rollup
from actions.writing import writing
from db.__main__ import main as db_main
from db.errors import SchemaBehind
from db.migrate import MIGRATIONS_DIR, migrate
from queries import catalog, reads
from queries.__main__ import main as queries_main
from queries.growth import _legacy_until, growth
from queries.reads import fetch
from seed import generate
from tests.helpers import add_post, add_user, rows_read_from

ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Pacific/Chatham", "Australia/Lord_Howe"]


def utc_now():
    return datetime.now(UTC).replace(tzinfo=None)


def assert_exact(db, zones=ZONES, as_ofs=(None,)):
    """The rollup statement agrees with the live queries and with count(*)."""
    users, posts = db.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM activities)").fetchone()
    for tz in zones:
        for as_of in as_ofs:
            summary = fetch("growth_summary", tz=tz, as_of=as_of)
            weekly = fetch("live.weekly_new_counts", tz=tz, as_of=as_of).set_index("metric")
            for metric, per_day, total in (
                ("users", "new_users_per_day", users),
                ("posts", "new_posts_per_day", posts),
            ):
                rows = summary[summary["metric"] == metric]
                days = rows[rows["kind"] == "day"]
                live = fetch(f"live.{per_day}", tz=tz, as_of=as_of)
                from_rollup = fetch(per_day, tz=tz, as_of=as_of)  # what `python -m queries run` answers
                where = f"{metric} in {tz} as of {as_of}"
                assert list(days["day"]) == list(live["day"]) == list(from_rollup["day"]), where
                assert list(days["count"]) == list(live["count"]) == list(from_rollup["count"]), where
                assert list(days["partial"]) == list(live["partial"]) == list(from_rollup["partial"]), where
                assert int(fetch(f"total_{metric}")["count"].iloc[0]) == total, where
                assert int(rows[rows["kind"] == "total"]["count"].iloc[0]) == total, where
                assert int(rows[rows["kind"] == "previous"]["count"].iloc[0]) == int(weekly.loc[metric, "previous"]), (
                    where
                )
                assert int(days["count"].sum()) == int(weekly.loc[metric, "current"]), where
    # The running total is exactly the rolled-up buckets it stands for.
    for table, total, summed in db.execute(
        "SELECT s.tbl, s.total, (SELECT coalesce(sum(q.n), 0) FROM dashboard_rollup_quarter q WHERE q.tbl = s.tbl)"
        " FROM dashboard_rollup_state s"
    ).fetchall():
        assert total == summed, table
    # Each rolled-up quarter hour's minute counts are its rows' minutes, and sum to it.
    for table in ("users", "activities"):
        wrong = db.execute(
            sql.SQL(
                "WITH live AS (SELECT date_trunc('minute', t.created_at) AS minute, count(*) AS n FROM {} t,"
                " dashboard_rollup_state s WHERE s.tbl = %(tbl)s AND t.created_at < s.through GROUP BY 1),"
                " rolled AS (SELECT q.bucket + (i - 1) * interval '1 minute' AS minute, q.minutes[i] AS n,"
                " q.n AS total, (SELECT sum(v) FROM unnest(q.minutes) v) AS summed"
                " FROM dashboard_rollup_quarter q, generate_series(1, 15) i WHERE q.tbl = %(tbl)s)"
                " SELECT count(*) FROM rolled r FULL JOIN live l USING (minute)"
                " WHERE coalesce(r.n, 0) <> coalesce(l.n, 0) OR r.total <> r.summed"
            ).format(sql.Identifier(table)),
            {"tbl": table},
        ).fetchone()[0]
        assert wrong == 0, table


def rolled(db, table="activities"):
    return db.execute("SELECT coalesce(sum(n), 0) FROM dashboard_rollup_quarter WHERE tbl = %s", (table,)).fetchone()[0]


@pytest.fixture
def generated(db):
    with writing("users", "activities") as conn:
        generate(conn, users=150, posts=2500, days=16, seed=3)
    marks = rollup.refresh()
    assert marks and all(m is not None for m in marks.values())
    return db


def test_exact_after_generate_and_refresh_in_every_kind_of_zone(generated):
    assert rolled(generated) > 0  # most rows now come from the rollup
    now = utc_now()
    assert_exact(generated, as_ofs=(None, (now - timedelta(days=3, minutes=17)).isoformat() + "+00"))


def test_exact_after_a_single_insert(generated):
    u = add_user(generated, "fresh")
    add_post(generated, u)
    assert_exact(generated, zones=["UTC", "Asia/Kolkata"])


def test_a_row_committed_late_into_a_closed_hour_is_recounted_by_the_next_refresh(generated):
    # A transaction that began before the mark and wrote after the refresh: its
    # created_at (its start) lies in an hour already rolled up.
    u = add_user(generated, "late", utc_now() - timedelta(hours=3))
    add_post(generated, u, utc_now() - timedelta(hours=20))
    assert rollup.refresh() is not None
    assert_exact(generated, zones=["UTC", "Asia/Kathmandu"])


def test_a_manual_backfill_older_than_the_recheck_needs_a_rebuild(generated):
    u = add_user(generated, "old", utc_now() - timedelta(days=5))
    rollup.refresh()
    users = generated.execute("SELECT count(*) FROM users").fetchone()[0]
    total = fetch("growth_summary", tz="UTC").query("metric == 'users' and kind == 'total'")["count"].iloc[0]
    assert total == users - 1  # the documented blind spot
    rollup.rebuild()
    assert_exact(generated, zones=["UTC"])
    assert u


@pytest.mark.parametrize("minutes", [0, 0.5, 4, 4.25, 4.5, 7.5, 11, 11.75, 14, 14.99])
def test_the_same_time_last_week_is_exact_wherever_it_falls_in_its_quarter_hour(generated, minutes):
    # Past the middle of its minute, the statement takes the whole minute and subtracts its rest.
    as_of = rollup.floor_bucket(utc_now() - timedelta(days=3)) + timedelta(minutes=minutes)
    cut = as_of - timedelta(days=7)
    quarter, minute = rollup.floor_bucket(cut), cut.replace(second=0, microsecond=0)
    tick = timedelta(microseconds=1)
    u = add_user(generated, "edge", cut)
    edges = (quarter, minute - tick, minute, cut - tick, cut, cut + tick, minute + timedelta(minutes=1) - tick)
    for at in (*edges, minute + timedelta(minutes=1), quarter + timedelta(minutes=15) - tick):
        add_post(generated, u, at)
    rollup.rebuild()
    assert_exact(generated, as_ofs=(as_of.isoformat() + "+00",))


@pytest.mark.parametrize(("seconds", "before", "after"), [(4 * 60 + 20, 2, 10), (11 * 60 + 40, 10, 2)])
def test_at_most_half_a_minute_is_counted_live_at_the_cut_off(db, seconds, before, after):
    as_of = rollup.floor_bucket(utc_now() - timedelta(days=3)) + timedelta(seconds=seconds)
    cut = as_of - timedelta(days=7)
    quarter, minute = rollup.floor_bucket(cut), cut.replace(second=0)
    u = add_user(db, "edge", quarter - timedelta(days=1))
    for at in (quarter, minute - timedelta(seconds=1), minute + timedelta(minutes=1), quarter + timedelta(minutes=14)):
        add_post(db, u, at)  # the rest of the quarter hour: from its minute counts
    for i in range(before):
        add_post(db, u, minute + (cut - minute) * i / before)
    for i in range(after):
        add_post(db, u, cut + (minute + timedelta(minutes=1) - cut) * i / after)
    assert rollup.refresh()  # the first refresh rolls up everything before its mark
    # Only the smaller side of the cut-off within its minute is read from the table: 2 rows, not 10 or 16.
    assert rows_read_from(db, "activities", "growth_summary", as_of=as_of.isoformat() + "+00") == 2
    assert_exact(db, zones=["UTC"], as_ofs=(as_of.isoformat() + "+00",))


def test_exact_after_deletes_old_and_new(generated):
    generated.execute(
        "DELETE FROM activities WHERE created_at < now() - interval '4 days' AND created_at > now() - interval '6 days'"
    )
    generated.execute(
        "DELETE FROM activities WHERE uuid IN (SELECT uuid FROM activities ORDER BY created_at DESC LIMIT 5)"
    )
    generated.execute("DELETE FROM users WHERE uuid IN (SELECT uuid FROM users ORDER BY created_at LIMIT 3)")
    assert_exact(generated, zones=["UTC", "America/New_York"])


def test_a_row_dated_infinity_counts_in_the_totals(generated):
    u = add_user(generated, "far")
    generated.execute("INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, 'x', 'infinity')", (u,))
    rollup.refresh()
    assert_exact(generated, zones=["UTC"])
    assert fetch("total_posts")["count"].iloc[0] == generated.execute("SELECT count(*) FROM activities").fetchone()[0]


def test_exact_after_created_at_changes(generated):
    generated.execute(
        "UPDATE activities SET created_at = created_at - interval '3 days 30 minutes' "
        "WHERE uuid IN (SELECT uuid FROM activities ORDER BY created_at LIMIT 40)"
    )
    generated.execute("UPDATE activities SET likes_count = likes_count + 1")  # other columns: no trigger
    assert_exact(generated, zones=["UTC", "Pacific/Chatham"])


def test_exact_after_truncate_and_a_second_generate(generated):
    generated.execute("TRUNCATE activities")
    assert rolled(generated) == 0
    assert_exact(generated, zones=["UTC"])
    with writing("users", "activities") as conn:  # bulk load into hours that are already rolled up
        generate(conn, users=20, posts=700, days=10, seed=9)
    assert_exact(generated, zones=["UTC", "Asia/Kolkata"])


def test_a_refresh_waits_for_transactions_that_were_writing(generated, db_url):
    with psycopg.connect(db_url) as writer:
        u = add_user(writer, "slow")  # not committed yet
        assert rollup.refresh(wait_s=0.3) is None  # gave up: it might have written into a closed hour
        writer.commit()
    assert rollup.refresh(wait_s=0.3) is not None
    assert_exact(generated, zones=["UTC"])
    assert u


def test_a_rebuild_does_not_deadlock_with_a_writer_changing_old_rows_of_both_tables(generated, db_url):
    # The writer's triggers take the rollup's locks shared in the order it meets the tables
    # (activities, then users); a rebuild holding both exclusively at once would deadlock with it.
    rollup.refresh()
    old = utc_now() - timedelta(days=3)
    errors = []
    with psycopg.connect(db_url) as writer:
        assert writer.execute("DELETE FROM activities WHERE created_at < %s", (old,)).rowcount > 0
        thread = threading.Thread(target=lambda: _catching(errors, rollup.rebuild))
        thread.start()
        with psycopg.connect(db_url, autocommit=True) as watch:
            for _ in range(200):  # until the rebuild waits for the writer's activities lock
                waiting = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting
        writer.execute("UPDATE users SET created_at = created_at - interval '1 minute' WHERE created_at < %s", (old,))
        writer.commit()
    thread.join(60)
    assert not thread.is_alive() and not errors
    assert_exact(generated, zones=["UTC"])


def _catching(errors: list, work) -> None:
    try:
        work()
    except Exception as exc:  # reported by the test
        errors.append(exc)


def test_only_one_refresher_at_a_time(generated, db_url):
    with psycopg.connect(db_url, autocommit=True) as other:
        assert other.execute(catalog.text("rollup.try_refresher")).fetchone()[0]
        assert rollup.refresh() is None


def test_the_page_query_starts_the_first_refresh_in_the_background(db):
    u = add_user(db, "a", utc_now() - timedelta(days=2))
    add_post(db, u, utc_now() - timedelta(days=1))
    assert fetch("rollup.state")["through"].isna().all()  # nothing rolled up yet
    data = growth(tz="UTC")
    assert data.totals == {"users": 1, "posts": 1}
    assert rollup.wait_idle(30) and fetch("rollup.state")["through"].isna().all()  # a read never writes
    assert rollup.keep_up(data)  # what the Growth page does with a fresh answer
    assert rollup.wait_idle(30)
    through = fetch("rollup.state").set_index("tbl")["through"]
    assert through.notna().all()
    assert rolled(db) == 1
    reads.clear_cache()
    assert growth(tz="UTC").totals == {"users": 1, "posts": 1}


def test_growth_matches_the_live_path_on_a_legacy_database(legacy_db_url):
    with psycopg.connect(legacy_db_url, autocommit=True) as conn:
        u = add_user(conn, "legacy", utc_now() - timedelta(hours=2))
        add_post(conn, u, utc_now() - timedelta(hours=1))
    data = growth(tz="Asia/Kolkata")
    assert data.totals == {"users": 1, "posts": 1}
    assert data.weekly["posts"].current == 1
    assert legacy_db_url in _legacy_until
    _legacy_until.clear()


def test_a_database_not_yet_migrated_to_minute_counts_answers_live(empty_db_url, tmp_path, capsys, caplog):
    # This code on a database an operator has migrated only to 0008, its rollup built by the code of then.
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if migration.name < "0009":
            shutil.copy(migration, tmp_path)
    migrate(empty_db_url, tmp_path, log=lambda _: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        u = add_user(conn, "then", utc_now() - timedelta(days=9))
        for days in (8, 3, 0):
            add_post(conn, u, utc_now() - timedelta(days=days, minutes=7))
        conn.execute(
            "INSERT INTO dashboard_rollup_quarter (tbl, bucket, n) SELECT 'activities',"
            " date_bin('15 minutes', created_at, timestamp '2000-01-01'), count(*) FROM activities GROUP BY 2"
        )
    with caplog.at_level(logging.WARNING, logger="cruddur.growth"):
        data = growth(tz="Asia/Kathmandu", fresh=True)
    assert data.totals == {"users": 1, "posts": 3} and not data.rolled_up
    assert "answering live until the database is migrated" in caplog.text
    _legacy_until.clear()
    # The refresh, the CLI's and seeding's, says what to run instead of failing in SQL.
    assert db_main(["rollup"]) == 1
    err = capsys.readouterr().err
    assert "predates migration 0009" in err and "python -m db migrate" in err and "Traceback" not in err
    with writing("users", "activities") as conn, pytest.raises(SchemaBehind, match="python -m db migrate"):
        generate(conn, users=1, posts=1, days=1, seed=1)
    # A statement the CLI runs by name points at the pending migration.
    assert queries_main(["run", "growth_summary"]) == 1
    assert "python -m db status" in capsys.readouterr().err


def test_the_inlined_minute_helpers_of_0010_answer_as_those_of_0009(empty_db_url, tmp_path):
    import random

    rng = random.Random(10)
    cases = [([], [])] + [
        (minutes, [rng.randint(-5, 10**12) for _ in minutes])
        for minutes in (rng.sample(range(15), rng.randint(1, 15)) for _ in range(60))
    ]
    pairs = [
        ([rng.randint(-(10**9), 10**9) for _ in range(15)], [rng.randint(0, 10**6) for _ in range(15)])
        for _ in range(20)
    ]

    def answers(conn):
        of = [
            conn.execute("SELECT dashboard_rollup_minutes_of(%s::int[], %s::bigint[])", c).fetchone()[0] for c in cases
        ]
        plus_sql = "SELECT dashboard_rollup_minutes_plus(%s::bigint[], %s::bigint[], %s)"
        plus = [conn.execute(plus_sql, (a, b, f)).fetchone()[0] for a, b in pairs for f in (1, -1, 3)]
        return of, plus

    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if migration.name < "0010":
            shutil.copy(migration, tmp_path)
    migrate(empty_db_url, tmp_path, log=lambda _: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        before = answers(conn)
    migrate(empty_db_url, log=lambda _: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert answers(conn) == before
        assert before[0][0] == [0] * 15
        minutes, counts = cases[1]
        assert before[0][1] == [counts[minutes.index(i)] if i in minutes else 0 for i in range(15)]
        # Inlined: the statement's plan shows the expression, not a call.
        plan = conn.execute(
            "EXPLAIN VERBOSE SELECT dashboard_rollup_minutes_of(array_agg(k), array_agg(n)) "
            "FROM (VALUES (1, 2::bigint)) AS v(k, n)"
        ).fetchall()
        assert "array_position" in " ".join(r[0] for r in plan)


def test_concurrent_deletes_during_refreshes_stay_exact(db, db_url):
    with writing("users", "activities") as conn:
        generate(conn, users=50, posts=3000, days=10, seed=5)
    errors = []

    def deleter():
        try:
            with psycopg.connect(db_url, autocommit=True) as conn:
                for _ in range(20):
                    conn.execute(
                        "DELETE FROM activities WHERE uuid = (SELECT uuid FROM activities ORDER BY random() LIMIT 1)"
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=deleter)
    thread.start()
    rollup.refresh()
    thread.join()
    assert not errors
    assert_exact(db, zones=["UTC"])
    rollup.rebuild()
    assert_exact(db, zones=["UTC"])


def test_cli_advances_and_rebuilds(generated, capsys):
    from db.__main__ import main

    generated.execute("UPDATE dashboard_rollup_quarter SET n = n + 100")  # damage it
    assert main(["rollup", "--rebuild"]) == 0
    assert "rolled up before" in capsys.readouterr().out
    assert_exact(generated, zones=["UTC"])


def test_after_a_rebuild_the_rollup_is_all_visible(generated):
    """The first read after `python -m db rollup --rebuild` is index-only, like the hundredth."""
    from db.__main__ import main

    assert main(["rollup", "--rebuild"]) == 0
    pages, visible = generated.execute(
        "SELECT relpages, relallvisible FROM pg_class WHERE oid = 'dashboard_rollup_quarter'::regclass"
    ).fetchone()
    assert pages > 0 and visible == pages


def test_deleting_a_row_not_yet_rolled_up_leaves_the_total_alone(generated):
    """Only rolled-up rows touch the state row, so recent deletes never queue behind each other there."""
    state = "SELECT xmin::text, total FROM dashboard_rollup_state WHERE tbl = 'activities'"
    before = generated.execute(state).fetchone()
    u = add_user(generated, "recent")
    add_post(generated, u)
    generated.execute("DELETE FROM activities WHERE user_uuid = %s", (u,))
    assert generated.execute(state).fetchone() == before
    generated.execute(
        "DELETE FROM activities WHERE uuid = (SELECT uuid FROM activities WHERE created_at < now() - interval '2 days'"
        " LIMIT 1)"
    )
    assert generated.execute(state).fetchone()[1] == before[1] - 1
    assert_exact(generated, zones=["UTC"])


def test_named_totals_and_per_day_answer_live_without_the_rollup(legacy_db_url):
    """`python -m queries run total_posts` on a database our migrations never touched: same answer, counted live."""
    with psycopg.connect(legacy_db_url, autocommit=True) as conn:
        u = add_user(conn, "legacy", utc_now() - timedelta(hours=2))
        add_post(conn, u, utc_now() - timedelta(hours=1))
    assert int(fetch("total_posts")["count"].iloc[0]) == 1
    assert int(fetch("total_users")["count"].iloc[0]) == 1
    assert int(fetch("new_posts_per_day", tz="Asia/Kathmandu")["count"].sum()) == 1
    today = utc_now().date()
    explored = fetch(
        "explore.new_posts",
        start_day=today - timedelta(days=3),
        end_day=today,
        today=today,
        tz="UTC",
        unit="day",
        cumulative=True,
    )
    assert int(explored["count"].sum()) == 1 and int(explored["cumulative"].iloc[-1]) == 1


def test_a_rebuild_is_not_cut_short_by_the_page_statement_timeout(generated, monkeypatch):
    """A rebuild counts whole tables: at ten million rows that is longer than the pool's 5 s for pages."""
    from db import pool

    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "300")
    pool.close_all()
    timeouts = []
    recount = rollup._recount

    def watched(conn, table, **kwargs):
        timeouts.append(conn.execute("SHOW statement_timeout").fetchone()[0])
        found = recount(conn, table, **kwargs)
        timeouts.append(conn.execute("SHOW statement_timeout").fetchone()[0])
        return found

    monkeypatch.setattr(rollup, "_recount", watched)
    rollup.rebuild()
    assert timeouts == ["300ms", "1h"] * len(rollup.TABLES)
    pool.close_all()
    monkeypatch.delenv("STATEMENT_TIMEOUT_MS")
    assert_exact(generated, zones=["UTC"])


@pytest.mark.parametrize("unit", ["day", "week", "month"])
def test_explore_counts_from_the_rollup_equal_the_live_counts(generated, unit):
    """Explore's new users and posts per local day/week/month, cumulative too, before and after a mark."""
    u = add_user(generated, "now")  # something in the live tail as well
    add_post(generated, u)
    today = utc_now().date()
    for tz in ZONES:
        for start in (today - timedelta(days=40), today - timedelta(days=9), today - timedelta(days=1)):
            for cumulative in (False, True):
                params = dict(start_day=start, end_day=today, today=today, tz=tz, unit=unit, cumulative=cumulative)
                for metric in ("new_users", "new_posts"):
                    got = fetch(f"explore.{metric}", **params)
                    want = fetch(f"live.explore.{metric}", **params)
                    assert got.equals(want), (metric, tz, start, cumulative)


def test_a_cached_answer_keeps_the_rollup_moving_and_a_current_mark_recounts_nothing(db):
    """Most views are served from the cache: they must move the mark on too; a refresh
    asked by an old cached mark finds the rollup current and recounts nothing."""
    u = add_user(db, "a", utc_now() - timedelta(days=2))
    add_post(db, u, utc_now() - timedelta(days=1))
    growth(tz="UTC")  # fills the cache: nothing rolled up yet
    cached = growth(tz="UTC")
    assert cached.from_cache and cached.rollup_through is None
    assert rollup.keep_up(cached) and rollup.wait_idle(30)
    assert fetch("rollup.state")["through"].notna().all()
    before = db.execute("SELECT xmin::text FROM dashboard_rollup_state ORDER BY tbl").fetchall()
    rollup._next_try.clear()
    assert rollup.keep_up(cached) and rollup.wait_idle(30)  # the cached mark is still the old one
    assert db.execute("SELECT xmin::text FROM dashboard_rollup_state ORDER BY tbl").fetchall() == before
