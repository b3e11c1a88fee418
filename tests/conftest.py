"""Test harness: one real PostgreSQL per test session, a fresh database per test.

The server is an embedded PostgreSQL in a temporary directory, or the one at
TEST_DATABASE_URL (which needs CREATEDB). Each test gets its own database,
cloned from a migrated template in a few milliseconds, and CONNECTION_URL
pointing at it; pools and the cache are reset around every test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "dashboard_test_template"
LEGACY_TEMPLATE = "dashboard_test_legacy"

# Settings that a developer's shell or secrets file could leak into tests: every field of
# db.settings.Settings (a new setting is isolated by being added there), except the two the
# fixture below points at the test's own directory, plus libpq's own variables.
_POINTED = ("DASHBOARD_SECRETS_FILE", "DASHBOARD_DATA_DIR")
_LIBPQ = ("PGSSLMODE", "PGHOST", "PGPASSWORD")


def _isolated() -> list[str]:
    from db.settings import ENV_NAMES

    return [name for name in ENV_NAMES if name not in _POINTED] + list(_LIBPQ)


_ISOLATED = _isolated()


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def server_dir(label: str) -> Path:
    """A directory for an embedded server's data. Not under pytest's tmp_path:
    pytest resets /tmp/pytest-of-<user> to mode 0700 at every session start,
    which locks out the server's own system user when sessions overlap."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"cruddur-{label}-"))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a PostgreSQL server's maintenance database for this test session."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    from db import embedded

    base = server_dir("test")
    url = embedded.start(base / "data", log=lambda m: None)
    preload_pg_stat_statements(base / "data", url)
    try:
        yield url
    finally:
        embedded.destroy(base / "data")
        shutil.rmtree(base, ignore_errors=True)


def preload_pg_stat_statements(pgdata: Path, url: str) -> None:
    """The Database pages' top statements need pg_stat_statements in shared_preload_libraries:
    set it and restart (0.25–0.6 s, median 0.36 s over 3 runs here; pg_ctl restart keeps the start options)."""
    from db import embedded

    with _admin(url) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    embedded._pkg().pg_ctl(
        ["-w", "-m", "fast", "restart"],
        pgdata=pgdata,
        timeout=30,
        user=embedded.SYSTEM_USER if os.geteuid() == 0 else None,
    )


def create_database(server: str, name: str, template: str | None = None) -> str:
    from db.embedded import with_database

    with _admin(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server, name)


def drop_database(server: str, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def templates(pg_server) -> dict[str, str]:
    """A fully migrated template, and a 'legacy' one with only production's two tables."""
    from db.migrate import MIGRATIONS_DIR, migrate

    migrated = create_database(pg_server, TEMPLATE)
    migrate(migrated, log=lambda m: None)
    legacy = create_database(pg_server, LEGACY_TEMPLATE)
    with psycopg.connect(legacy, autocommit=True) as conn:
        conn.execute((MIGRATIONS_DIR / "0001_original_tables.sql").read_text())
    yield {"migrated": TEMPLATE, "legacy": LEGACY_TEMPLATE}
    drop_database(pg_server, TEMPLATE)
    drop_database(pg_server, LEGACY_TEMPLATE)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    for name in _ISOLATED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "no-data"))
    yield
    # Put back what the test changed through monkeypatch first: done after the pops below, its undo
    # would restore a value the code under test set itself (`python -m db --prod` sets APP_ENV) and
    # a test then deleted with monkeypatch.delenv, for every later test.
    monkeypatch.undo()
    for name in _ISOLATED:  # what the code under test set itself
        os.environ.pop(name, None)
    _reset_process_state()


def _reset_process_state():
    from db import guard, pool
    from queries import reads
    from ui import auth

    pool.close_all()
    guard.forget()
    auth.THROTTLE.reset()
    reads.clear_cache()
    reads.stats.reset()


def _database(pg_server, template, monkeypatch):
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server, name, template)
    monkeypatch.setenv("CONNECTION_URL", url)
    _reset_process_state()
    yield url
    _reset_process_state()
    drop_database(pg_server, name)


@pytest.fixture
def db_url(pg_server, templates, monkeypatch) -> str:
    """A fresh, migrated, empty database; CONNECTION_URL points at it."""
    yield from _database(pg_server, templates["migrated"], monkeypatch)


@pytest.fixture
def legacy_db_url(pg_server, templates, monkeypatch) -> str:
    """A database shaped like production before any migration of ours: two tables, no indexes."""
    yield from _database(pg_server, templates["legacy"], monkeypatch)


@pytest.fixture
def empty_db_url(pg_server, monkeypatch) -> str:
    """A database with no tables at all."""
    yield from _database(pg_server, None, monkeypatch)


@pytest.fixture
def db(db_url):
    """An autocommit connection to the test database, for arranging rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def pytest_report_header(config):
    from tests.browser import chromium_path

    path = chromium_path()
    office = shutil.which("soffice")
    calc = (
        f"spreadsheet round trips: LibreOffice at {office}"
        if office
        else "spreadsheet round trips: SKIPPED, soffice not found (apt-get install libreoffice-calc; .ci/run does)"
    )
    if path:
        return [f"browser tests: headless Chromium at {path}", calc]
    return ["browser tests: SKIPPED, Chromium not found (apt-get install chromium; .ci/run installs it)", calc]


@pytest.fixture
def unprivileged(db_url, pg_server):
    """A LOGIN role without pg_monitor, and CONNECTION_URL switched to it."""
    role = f"viewer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    from tests.background import as_user

    yield role, as_user(db_url, role)
    from db import pool

    pool.close_all()
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
