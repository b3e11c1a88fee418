"""Server-level chores (db/server.py): least-privilege roles, targets, maintenance connections."""

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
    assert as_role(db, "dashboard_reader", "SELECT pg_has_role('pg_monitor', 'member')")[0][0] is True
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
