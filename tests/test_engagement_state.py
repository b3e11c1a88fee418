"""Keeping the engagement state (actions/engagement.py, migration 0007): the command
line, loaders, the production guard."""

from datetime import UTC, datetime, timedelta

from actions import engagement as state
from actions.writing import writing
from seed import generate
from tests.helpers import add_post, add_user


def zones(db):
    return {
        tz: (through, dirty) for tz, through, dirty in db.execute("SELECT tz, through, dirty FROM engagement_zones")
    }


def test_the_command_line_brings_zones_up_to_today(db, capsys):
    now = datetime.now(UTC).replace(tzinfo=None)
    uid = add_user(db, "poster", now - timedelta(days=20))
    for i in range(10):
        add_post(db, uid, now - timedelta(days=i * 2, hours=1))
    assert state.main(["--tz", "Asia/Kathmandu", "--tz", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "Asia/Kathmandu: counted up to" in out and "UTC: counted up to" in out
    assert set(zones(db)) == {"Asia/Kathmandu", "UTC"}
    # Without --tz: every kept zone again (nothing new to count), and REPORT_TZ.
    assert state.main([]) == 0 and "UTC: counted up to" in capsys.readouterr().out


def test_the_seed_generator_marks_the_state_for_counting_again(db):
    state.refresh("UTC")
    assert zones(db)["UTC"][1] is False
    with writing("users", "activities") as conn:
        generate(conn, users=20, posts=200, days=10, seed=3)
    assert zones(db)["UTC"][1] is True  # old rows were loaded: rebuilt before use
    state.refresh("UTC")
    assert zones(db)["UTC"][1] is False


def test_inserting_posts_fires_nothing(db):
    state.refresh("UTC")
    before = zones(db)
    uid = add_user(db, "fresh")
    add_post(db, uid)
    assert zones(db) == before  # the app's inserts pay nothing


def test_production_is_not_written_without_permission(db, db_url, monkeypatch, capsys):
    monkeypatch.delenv("CONNECTION_URL")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    assert state.main(["--tz", "UTC"]) == 1
    assert "ALLOW_PROD_WRITES" in capsys.readouterr().err
    assert zones(db) == {}


def test_a_day_closes_by_the_database_s_zone_rules_a_settle_time_after_it_ended(db):
    # The database's rules, not the host Python's: where the two disagree (older tz data on
    # the host), a day closed early by Python's clock would never get its last posts.
    settle = state.SETTLE
    for tz, midnight_utc in (("UTC", datetime(2026, 11, 28)), ("Asia/Kathmandu", datetime(2026, 11, 27, 18, 15))):
        day = db.execute("SELECT ((%s AT TIME ZONE 'UTC') AT TIME ZONE %s)::date", (midnight_utc, tz)).fetchone()[0]
        assert state.closed_until(db, midnight_utc + settle - timedelta(microseconds=1), tz) == day - timedelta(days=1)
        assert state.closed_until(db, midnight_utc + settle, tz) == day
    now = datetime.now(UTC).replace(tzinfo=None)
    for tz in ("Africa/Casablanca", "America/Vancouver", "America/Havana"):
        expected = db.execute(
            "SELECT (((%s::timestamp - %s::interval) AT TIME ZONE 'UTC') AT TIME ZONE %s)::date", (now, settle, tz)
        ).fetchone()[0]
        assert state.closed_until(db, now, tz) == expected


def test_rows_dated_plus_or_minus_infinity_do_not_stop_the_state(db):
    u = add_user(db, "far")
    add_post(db, u, "-infinity")
    add_post(db, u, "infinity")
    add_post(db, u, datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3))
    assert state.refresh("UTC") is not None
    first = db.execute("SELECT through FROM engagement_zones WHERE tz = 'UTC'").fetchone()[0]
    assert first is not None
