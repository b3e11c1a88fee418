"""Server-level chores (db/server.py): least-privilege roles, targets, maintenance connections."""

import uuid
from datetime import datetime

import psycopg
import pytest

from db import server
from db.settings import get_settings
from tests.helpers import add_user


def as_role(db, role, statement):
    """Run `statement` with only `role`'s privileges (the test user is a superuser)."""
    with db.transaction(force_rollback=True):
        db.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
        return db.execute(statement).fetchall()


def test_roles_are_created_once_with_least_privilege(db_url, db):
    t = server.target(get_settings())
    first = server.ensure_roles(t)
    again = server.ensure_roles(t)  # idempotent: a second run only re-grants
    assert "role dashboard_writer exists" in again and "role dashboard_reader exists" in again
    assert any("dashboard_reader" in line for line in first)
    uid = add_user(db, "ada")

    assert as_role(db, "dashboard_reader", "SELECT count(*) FROM users")[0][0] == 1
    assert as_role(db, "dashboard_reader", "SELECT count(*) FROM activities")[0][0] == 0
    assert as_role(db, "dashboard_reader", "SELECT pg_has_role('pg_read_all_stats', 'member')")[0][0] is True
    assert as_role(db, "dashboard_reader", "SELECT pg_has_role('pg_monitor', 'member')")[0][0] is False
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(db, "dashboard_reader", "INSERT INTO activities (user_uuid, message) VALUES (gen_random_uuid(), 'x')")

    inserted = as_role(
        db,
        "dashboard_writer",
        psycopg.sql.SQL("INSERT INTO activities (user_uuid, message) VALUES ({}, 'hi') RETURNING 1").format(
            psycopg.sql.Literal(uid)
        ),
    )
    assert inserted == [(1,)]
    for forbidden in (
        "UPDATE users SET handle = 'x'",
        "DELETE FROM users",
        "TRUNCATE activities",
        "DROP TABLE activities",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_role(db, "dashboard_writer", forbidden)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(db, "dashboard_reader", "DROP TABLE users")


def test_the_reader_reads_and_the_writer_keeps_the_rollup_and_the_engagement_state(db_url, db):
    """growth_summary and the Engagement page read these as dashboard_reader; their refreshes
    write them as dashboard_writer. Nothing more: no TRUNCATE, no DDL, no write for the reader."""
    server.ensure_roles(server.target(get_settings()))
    for table in (
        "dashboard_rollup_state",
        "dashboard_rollup_quarter",
        "engagement_zones",
        "engagement_users",
        "engagement_periods",
        "engagement_cells",
    ):
        assert privileges(db, "dashboard_reader", table) == {"SELECT"}, table
        assert privileges(db, "dashboard_writer", table) == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table
    assert as_role(db, "dashboard_reader", "SELECT count(*) FROM dashboard_rollup_state")[0][0] == 2


MESSAGE_TABLES = ("message_events", "message_groups", "message_counts")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def privileges(db, role: str, table: str) -> set[str]:
    """What `role` may do to `table`, by has_table_privilege (its own grants, its groups' and PUBLIC's)."""
    return {
        p for p in PRIVILEGES if db.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, p]).fetchone()[0]
    }


def test_message_tables_are_readable_by_the_reader_and_writable_only_by_the_metrics_writer(db_url, db):
    t = server.target(get_settings())
    first = server.ensure_roles(t)
    again = server.ensure_roles(t)  # idempotent: a second run only re-grants
    assert "role dashboard_metrics_writer created" in first or "role dashboard_metrics_writer exists" in first
    assert "role dashboard_metrics_writer exists" in again
    assert "dashboard_reader: SELECT on message_events, message_groups, message_counts" in again
    assert "dashboard_metrics_writer: CONNECT, SELECT, INSERT and UPDATE on" in "\n".join(again)
    assert not any("absent" in line for line in first + again)

    expected = {
        "dashboard_reader": dict.fromkeys(("users", "activities", *MESSAGE_TABLES), {"SELECT"}),
        "dashboard_writer": {
            "users": {"SELECT", "INSERT"},
            "activities": {"SELECT", "INSERT"},
            **dict.fromkeys(MESSAGE_TABLES, set()),
        },
        "dashboard_metrics_writer": {
            "users": set(),
            "activities": set(),
            **dict.fromkeys(MESSAGE_TABLES, {"SELECT", "INSERT", "UPDATE"}),
        },
    }
    for role, tables in expected.items():
        for table, allowed in tables.items():
            assert privileges(db, role, f"public.{table}") == allowed, (role, table)
    member = "SELECT pg_has_role(%s, 'pg_monitor', 'member')"
    assert db.execute(member, ["dashboard_metrics_writer"]).fetchone()[0] is False

    # The consumer's own statement runs with exactly these privileges, and nothing more does.
    from metrics import stream

    lam = stream.handler()
    message = lam.Message(
        message_uuid=uuid.uuid4(),
        message_group_uuid=uuid.uuid4(),
        sender_uuid=uuid.uuid4(),
        sent_at=datetime(2026, 3, 1, 9, 45),
    )
    with db.transaction(force_rollback=True):
        db.execute("SET LOCAL ROLE dashboard_metrics_writer")
        assert lam.save(db, [message]) == (1, 1)
        assert lam.save(db, [message]) == (0, 0)  # a replay: counted once
        assert as_role(db, "dashboard_reader", "SELECT count(*) FROM message_counts") == [(1,)]
    for forbidden in (
        "DELETE FROM message_events",
        "TRUNCATE message_counts",
        "DROP TABLE message_groups",
        "SELECT count(*) FROM users",
        "INSERT INTO activities (user_uuid, message) VALUES (gen_random_uuid(), 'x')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_role(db, "dashboard_metrics_writer", forbidden)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(db, "dashboard_reader", "INSERT INTO message_counts VALUES (now(), 1)")


def test_roles_without_the_message_tables_say_so_and_still_succeed(legacy_db_url):
    t = server.target(get_settings())
    for done in (server.ensure_roles(t), server.ensure_roles(t)):
        assert any(line.startswith("message tables absent: run migrations first") for line in done), done
        assert "dashboard_reader: CONNECT, SELECT on users and activities, member of pg_read_all_stats" in done
        assert not any(line.startswith("dashboard_metrics_writer:") for line in done)
    with psycopg.connect(legacy_db_url, autocommit=True) as db:
        assert privileges(db, "dashboard_reader", "public.users") == {"SELECT"}
        assert privileges(db, "dashboard_writer", "public.activities") == {"SELECT", "INSERT"}


def test_target_is_production_when_the_dev_url_is_production(db_url, monkeypatch):
    assert server.target(get_settings()).is_prod is False
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url.replace("postgres:@", "postgres:other@"))
    t = server.target(get_settings())
    assert t.is_prod is True and t.setting_name == "CONNECTION_URL"


def test_maintenance_connection_uses_the_postgres_database_of_the_same_server(db_url):
    t = server.target(get_settings())
    with server.maintenance(t) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "postgres"
    assert server.database_exists(t)


def test_system_databases_are_never_dropped(pg_server, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", pg_server)
    with pytest.raises(Exception, match="system database"):
        server.drop_database(server.target(get_settings()))
