"""Reader and writer pools (db/pool.py): the reader cannot write, has timeouts, may use a
replica; dedicated connections."""

import logging
import uuid

import psycopg
import pytest

from db import pool
from db.errors import safe_message
from tests.conftest import create_database, drop_database


def test_an_insert_through_the_reader_fails_read_only_even_inside_a_transaction(db):
    with (
        pool.connection(pool.READER) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as caught,
        conn.transaction(),
    ):
        conn.execute("INSERT INTO activities (user_uuid, message) VALUES (gen_random_uuid(), 'x')")
    assert safe_message(caught.value) == "This connection is read-only."
    assert db.execute("SELECT count(*) FROM activities").fetchone()[0] == 0


def test_reader_sessions_carry_their_timeouts(db_url, monkeypatch):
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "4000")
    with pool.connection(pool.READER) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4s"
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "10s"
    with pool.connection(pool.WRITER) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "off"


def test_read_replica_url_takes_the_reads_and_only_the_reads(db_url, pg_server, templates, monkeypatch):
    replica = f"t_replica_{uuid.uuid4().hex[:8]}"
    replica_url = create_database(pg_server, replica, templates["migrated"])
    try:
        monkeypatch.setenv("READ_REPLICA_URL", replica_url)
        with pool.connection(pool.READER) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == replica
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute(
                    "INSERT INTO users (display_name, handle, email, cognito_user_id) VALUES ('a','a','a','a')"
                )
        with pool.connection(pool.WRITER) as conn:
            assert (
                conn.execute("SELECT current_database()").fetchone()[0]
                == psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
            )
    finally:
        pool.close_all()
        drop_database(pg_server, replica)


def test_a_dedicated_connection_has_the_readers_settings_its_own_name_and_no_pool(db_url, pg_server, monkeypatch):
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "4000")
    with pool.dedicated("export") as conn:
        assert conn.execute("SHOW application_name").fetchone()[0] == "cruddur-dashboard:export"
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4s"
    assert conn.closed and pool.pool_stats() == {}


def test_a_dedicated_connection_that_is_refused_is_database_unavailable(db_url, monkeypatch):
    from db.errors import DatabaseUnavailable

    monkeypatch.setenv("CONNECTION_URL", db_url.replace("/t_", "/missing_t_"))
    with pytest.raises(DatabaseUnavailable, match="Cannot reach the database"), pool.dedicated("export"):
        pass


def test_a_pool_that_cannot_connect_says_why_to_admins_and_only_how_long_to_visitors(db_url, monkeypatch):
    from db.errors import DatabaseUnavailable, public_detail

    monkeypatch.setenv("CONNECTION_URL", db_url.replace("/t_", "/missing_t_"))
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    with pytest.raises(DatabaseUnavailable) as caught, pool.connection(pool.READER):
        pass
    said = str(caught.value)
    assert said.startswith("No connection to the database within 1 s. Cannot reach the database: ")
    assert "does not exist" in said  # the pool's own attempt, not a second connection
    assert public_detail(caught.value) == "No connection to the database within 1 s."
    pool.close_all()


def _planned_on_connect(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("planned on connect")]


def test_a_new_reader_connection_plans_a_first_pages_statements_and_a_writer_does_not(db_url, caplog):
    with caplog.at_level(logging.DEBUG, logger="cruddur.sql"):
        with pool.connection(pool.READER) as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pool.connection(pool.WRITER):
            pass
    planned = _planned_on_connect(caplog)
    assert planned and all(pool.application_name(pool.READER) in line for line in planned)
    for name in ("growth_summary", "messages_summary", "explore.new_posts", "explore.new_users"):
        assert name in planned[0]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_on_a_database_without_the_rollup_the_absent_statements_are_skipped_quietly(legacy_db_url, caplog):
    with caplog.at_level(logging.DEBUG, logger="cruddur.sql"), pool.connection(pool.READER) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    planned = _planned_on_connect(caplog)
    assert planned and all(line.endswith("ms: ") for line in planned)  # each reads the rollup
    absent = "growth_summary: not planned on connect, a table or column it reads is absent"
    assert any(absent in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_new_reader_connection_does_not_queue_behind_a_locked_table(db_url, caplog):
    with psycopg.connect(db_url) as holder:
        holder.execute("LOCK TABLE activities IN ACCESS EXCLUSIVE MODE")  # a migration, a VACUUM FULL
        with caplog.at_level(logging.DEBUG, logger="cruddur.sql"), pool.connection(pool.READER) as conn:
            # A page that does not read the locked table answers (it used to wait out the pool timeout).
            assert conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0] >= 2
        holder.rollback()
    assert any("a table it reads is locked" in r.getMessage() for r in caplog.records)


def test_a_bug_in_planning_on_connect_costs_the_saving_not_the_connection(db_url, caplog, monkeypatch):
    from db import statements

    def broken(conn):
        raise RuntimeError("a bug")

    monkeypatch.setattr(statements, "plan_on_connect", broken)
    with caplog.at_level(logging.WARNING, logger="cruddur.pool"), pool.connection(pool.READER) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    records = [r for r in caplog.records if r.name == "cruddur.pool"]  # one per connection opened
    assert records and all("planning on connect failed" in r.getMessage() and r.exc_info for r in records)
