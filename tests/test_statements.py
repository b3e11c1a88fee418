"""The one runner (db/statements.py): a `-- plan: generic` statement is planned once per
connection, when the connection opens, and only executed after; its setting ends with it."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from db import pool, statements
from queries import catalog

GROWTH = "%dashboard_rollup_quarter%users u%"
MESSAGES = "%message_counts%"


def _plans(conn: psycopg.Connection, pattern: str) -> list[tuple[int, int]]:
    """(generic, custom) plans of this session's prepared statements whose text matches."""
    return conn.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
        (pattern,),
        prepare=False,
    ).fetchall()


def _plan_cache_mode(conn: psycopg.Connection) -> str:
    return conn.execute("SHOW plan_cache_mode").fetchone()[0]


def _posts(db: psycopg.Connection) -> None:
    """Users and posts over the last two weeks, for answers that are not all zero."""
    now = datetime.now(UTC)
    db.execute(
        "INSERT INTO users (display_name, handle, email, cognito_user_id, created_at)"
        " SELECT 'u' || i, 'u' || i, i || '@x', 'c' || i, %(now)s - i * interval '5 hours'"
        " FROM generate_series(1, 60) i",
        {"now": now},
    )
    db.execute(
        "INSERT INTO activities (user_uuid, message, created_at)"
        " SELECT (SELECT uuid FROM users LIMIT 1), 'm', %(now)s - i * interval '97 minutes'"
        " FROM generate_series(1, 300) i",
        {"now": now - timedelta(seconds=1)},
    )


def test_a_new_reader_connection_has_the_generic_statements_planned_and_pages_only_execute_them(db, db_url):
    _posts(db)
    with pool.connection(pool.READER) as conn:
        assert _plans(conn, GROWTH) == [(1, 0)]  # readied on connect: one generic plan, run once
        assert _plans(conn, MESSAGES) == [(1, 0)]
        first = statements.execute(conn, "growth_summary").fetchall()
        second = statements.execute(conn, "growth_summary").fetchall()
        assert _plans(conn, GROWTH) == [(3, 0)]  # the same prepared statement, its one plan
        assert _plan_cache_mode(conn) == "auto"  # the setting ended with the statement
        with conn.transaction():  # inside a transaction: planned for its values, as any statement
            custom = statements.execute(conn, "growth_summary").fetchall()
            assert _plan_cache_mode(conn) == "auto"
    assert first == second == custom
    assert sum(row[3] for row in first if row[1] == "total") == 360


def test_on_a_connection_in_a_transaction_a_generic_statement_runs_plainly(db_url):
    with psycopg.connect(db_url) as conn:  # not autocommit: a writer's, a test's
        statements.execute(conn, "growth_summary").fetchall()
        assert _plan_cache_mode(conn) == "auto"
        assert _plans(conn, GROWTH) == []


def test_a_failing_generic_statement_raises_its_error_and_keeps_the_others_prepared(db, db_url):
    with pool.connection(pool.READER) as conn:
        db.execute("DROP TABLE public.message_counts")
        with pytest.raises(psycopg.errors.UndefinedTable):
            statements.execute(conn, "messages_summary")
        assert _plan_cache_mode(conn) == "auto"
        statements.execute(conn, "growth_summary").fetchall()
        assert _plans(conn, GROWTH) == [(2, 0)]  # still the one prepared on connect


def test_readying_a_statement_on_connect_gives_up_after_its_time_and_the_connection_serves(db_url, caplog, monkeypatch):
    slow = catalog.Query(name="slow", doc="", text="SELECT pg_sleep(5)", path=Path("slow.sql"), plan="generic")
    monkeypatch.setattr(catalog, "catalog", lambda: {"slow": slow})
    with caplog.at_level(logging.DEBUG, logger="cruddur.sql"), pool.connection(pool.READER) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
        assert _plan_cache_mode(conn) == "auto"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] != "100ms"
    messages = [r.getMessage() for r in caplog.records]
    assert "slow: not planned on connect, cancelled (its 100 ms limit, or an operator)" in messages
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_readying_on_connect_leaves_a_connection_in_a_transaction_alone(db_url):
    with psycopg.connect(db_url) as conn:  # not autocommit: its settings would outlive the statement
        statements.plan_on_connect(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _plans(conn, GROWTH) == [] and _plan_cache_mode(conn) == "auto"
