"""Demo data (seed/): the sample rows and the synthetic generator."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from actions.writing import writing
from seed import generate, load_sample
from seed.__main__ import main as seed_cli

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def counts(conn):
    return conn.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM activities)").fetchone()


def test_sample_seed_is_idempotent(db):
    with writing("users", "activities") as conn:
        assert load_sample(conn) == (4, 1)
    with writing("users", "activities") as conn:
        assert load_sample(conn) == (0, 0)
    assert counts(db) == (4, 1)
    handle, message, ttl = db.execute(
        "SELECT u.handle, a.message, a.expires_at - a.created_at FROM activities a JOIN users u ON u.uuid = a.user_uuid"
    ).fetchone()
    assert (handle, message, ttl) == ("andrewbrown", "This was imported as seed data!", timedelta(days=10))


def test_generator_is_deterministic_and_consistent(db, db_url):
    with writing("users", "activities") as conn:
        result = generate(conn, users=300, posts=5000, days=30, seed=7, now=NOW)
    assert counts(db) == (300, 5000)
    assert result.rows_per_second > 0
    snapshot = db.execute(
        "SELECT md5(string_agg(uuid::text || created_at::text, ',' ORDER BY uuid)) FROM activities"
    ).fetchone()
    # every post by an existing user who had signed up by then; nothing in the future; D days covered
    assert (
        db.execute(
            "SELECT count(*) FROM activities a LEFT JOIN users u ON u.uuid = a.user_uuid "
            "WHERE u.uuid IS NULL OR u.created_at > a.created_at"
        ).fetchone()[0]
        == 0
    )
    lo, hi = db.execute("SELECT min(created_at), max(created_at) FROM activities").fetchone()
    assert hi <= NOW.replace(tzinfo=None) and lo >= datetime(2026, 10, 23)
    # growth: the last week is busier than the first
    first, last = db.execute(
        "SELECT count(*) FILTER (WHERE created_at < '2026-10-30'), "
        "count(*) FILTER (WHERE created_at >= '2026-11-14') FROM activities"
    ).fetchone()
    assert last > 2 * first
    assert db.execute("SELECT max(char_length(message)) FROM activities").fetchone()[0] <= 280
    db.execute("TRUNCATE activities, users")
    with writing("users", "activities") as conn:
        generate(conn, users=300, posts=5000, days=30, seed=7, now=NOW)
    again = db.execute(
        "SELECT md5(string_agg(uuid::text || created_at::text, ',' ORDER BY uuid)) FROM activities"
    ).fetchone()
    assert again == snapshot


def test_generate_adds_to_existing_data(db):
    with writing("users", "activities") as conn:
        load_sample(conn)
        generate(conn, users=10, posts=20, days=3, seed=1, now=NOW)
        generate(conn, users=10, posts=20, days=3, seed=2, now=NOW)
    assert counts(db) == (24, 41)


def test_cli_generate_reports_rows_per_second(db, capsys):
    assert seed_cli(["generate", "--users", "50", "--posts", "500", "--days", "7"]) == 0
    out = capsys.readouterr()
    assert "rows/s" in out.out and "COPY" in out.out
    assert "100.0%" in out.err  # the progress bar reached the end
    assert counts(db) == (50, 500)


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("--users", "-1", "--users: -1 is out of range"),
        ("--users", "99999999999999999999", "--users: 99999999999999999999 is out of range"),
        ("--days", "100000000", "--days: 100000000 is out of range"),
        ("--seed", "-1", "--seed: -1 is out of range"),
        ("--posts", "1e3", "--posts: not a whole number"),
    ],
)
def test_cli_generate_refuses_numbers_it_cannot_use_naming_the_option(db, capsys, option, value, says):
    with pytest.raises(SystemExit) as exit_:
        seed_cli(["generate", "--users", "5", "--posts", "5", "--days", "2", option, value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and says in err and "Traceback" not in err
    assert counts(db) == (0, 0)


def test_cli_reset_needs_confirmation(db, capsys):
    seed_cli(["sample"])
    assert seed_cli(["reset"]) == 2
    assert counts(db) == (4, 1)
    assert seed_cli(["reset", "--yes"]) == 0
    assert counts(db) == (0, 0)


def test_cli_refuses_production_without_permission(db, db_url, monkeypatch, capsys):
    monkeypatch.delenv("CONNECTION_URL")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    for argv in (
        ["sample"],
        ["generate", "--users", "1", "--posts", "1"],
        ["reset", "--yes"],
        ["create-activity", "--handle", "andrewbrown", "--message", "hi", "--ttl", "1-day"],
    ):
        assert seed_cli(argv) == 2
        err = capsys.readouterr().err
        # Demo data and resets never run on production; a post needs ALLOW_PROD_WRITES=1.
        assert ("ALLOW_PROD_WRITES" if argv[0] == "create-activity" else "never runs there") in err, err
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    for argv in (["sample"], ["generate", "--users", "1", "--posts", "1"], ["reset", "--yes"]):
        assert seed_cli(argv) == 2 and "never runs there" in capsys.readouterr().err
    assert counts(db) == (0, 0)


def test_cli_seeds_100k_posts_through_copy_and_reports_rows_per_second(db, capsys):
    assert seed_cli(["generate", "--users", "2000", "--posts", "100000", "--days", "30", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"generated 2,000 users and 100,000 posts in [\d.]+ s \(([\d,]+) rows/s, COPY\)", out)
    assert match and int(match.group(1).replace(",", "")) > 0
    assert counts(db) == (2000, 100_000)


def test_cli_create_activity_shares_the_page_rules(db, capsys):
    from tests.helpers import add_user

    add_user(db, "andrewbrown")
    assert seed_cli(["create-activity", "--handle", "@andrewbrown", "--message", "🚀" * 280, "--ttl", "7-days"]) == 0
    out = capsys.readouterr().out
    uuid = db.execute("SELECT uuid::text FROM activities").fetchone()[0]
    assert uuid in out and "andrewbrown" in out and "expires_at" in out
    assert seed_cli(["create-activity", "--message", "x" * 281, "--ttl", "forever"]) == 2
    err = capsys.readouterr().err
    assert [line.split("(")[-1].rstrip(")") for line in err.splitlines()] == [
        "user_handle_blank",
        "message_exceed_max_chars",
        "ttl_blank",
    ]
    assert seed_cli(["create-activity", "--handle", "ghost", "--message", "boo", "--ttl", "1-hour"]) == 2
    assert "No user has the handle @ghost" in capsys.readouterr().err
    assert counts(db) == (1, 1)


@pytest.mark.parametrize("bad", [{"users": 0, "posts": 5, "days": 3}, {"users": 5, "posts": 5, "days": 0}])
def test_generator_rejects_impossible_requests(db, bad):
    with pytest.raises(ValueError), writing("users", "activities") as conn:
        generate(conn, **bad)


def test_the_progress_bar_redraws_on_a_terminal_and_writes_whole_lines_to_a_log():
    import io

    from seed.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        bar = ProgressBar("[serve] demo data", stream=stream)
        bar(1, 10)
        bar(10, 10)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 2
    assert lines[0].startswith("[serve] demo data [###") and lines[1].count("[serve]") == 1 and "100.0%" in lines[1]
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().endswith("rows/s\n")
