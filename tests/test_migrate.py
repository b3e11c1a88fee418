"""Ordered, recorded, all-or-nothing migrations (db/migrate.py)."""

import psycopg
import pytest

from db.migrate import MigrationError, discover, migrate, pending


def tables(conn):
    return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_fresh_database_gets_tables_indexes_and_our_own_ledger(empty_db_url):
    applied = migrate(empty_db_url, log=lambda m: None)
    assert [m.version for m in applied] == [m.version for m in discover()]
    with psycopg.connect(empty_db_url) as conn:
        assert {"users", "activities", "dashboard_migrations"} <= tables(conn)
        assert "schema_information" not in tables(conn)
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        assert {"users_created_at_idx", "activities_created_at_idx"} <= indexes
        assert pending(conn) == []


def test_running_twice_changes_nothing(empty_db_url):
    migrate(empty_db_url, log=lambda m: None)
    assert migrate(empty_db_url, log=lambda m: None) == []


def test_production_shaped_database_keeps_its_rows(legacy_db_url):
    with psycopg.connect(legacy_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_information (id integer UNIQUE, last_successful_run text)")
        conn.execute("INSERT INTO schema_information VALUES (1, '0')")
        conn.execute("INSERT INTO users (display_name, handle, email, cognito_user_id) VALUES ('A','a','a@x','c')")
    migrate(legacy_db_url, log=lambda m: None)
    with psycopg.connect(legacy_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1
        assert conn.execute("SELECT last_successful_run FROM schema_information").fetchone()[0] == "0"


def test_numeric_order_and_a_failure_leaves_nothing_half_applied(empty_db_url, tmp_path):
    (tmp_path / "0002_second.sql").write_text("CREATE TABLE second_ok (id int);")
    (tmp_path / "0010_tenth.sql").write_text("CREATE TABLE tenth_partial (id int); SELECT 1/0;")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE first_ok (id int);")
    assert [m.version for m in discover(tmp_path)] == [1, 2, 10]
    with pytest.raises(MigrationError, match="0010_tenth.sql failed and was rolled back"):
        migrate(empty_db_url, tmp_path, log=lambda m: None)
    with psycopg.connect(empty_db_url) as conn:
        assert {"first_ok", "second_ok"} <= tables(conn)
        assert "tenth_partial" not in tables(conn)
        assert [m.version for m in pending(conn, tmp_path)] == [10]


def test_badly_named_files_are_refused(tmp_path):
    (tmp_path / "1679873400.123_add_bio.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_lower_snake"):
        discover(tmp_path)
