"""python -m db (db/__main__.py): every command, production guards, and no password ever printed."""

import io
import os
import shutil
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from db.__main__ import main
from tests.conftest import ROOT, drop_database

SECRET = "Pw-c4a7e19b"


def with_password(url: str, password: str = SECRET) -> str:
    """The same URL with a password (the test server trusts its socket, so it is not checked)."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


@pytest.fixture
def fresh(pg_server, monkeypatch):
    """A URL (with a password) for a database that does not exist yet; dropped afterwards."""
    from db.embedded import with_database

    name = f"t_cli_{uuid.uuid4().hex[:10]}"
    url = with_password(with_database(pg_server, name))
    monkeypatch.setenv("CONNECTION_URL", url)
    yield url
    drop_database(pg_server, name)


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err, f"password printed by {argv}"
    return code, out + err


def exists(pg_server, name: str) -> bool:
    with psycopg.connect(pg_server) as conn:
        return conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()[0] == 1


def test_every_command_works_without_printing_the_password(fresh, pg_server, capsys):
    name = dbname(fresh)
    code, out = run(capsys, "create")
    assert code == 0 and f"database {name} created (postgresql://postgres@/{name}?host=" in out
    assert run(capsys, "create")[1].count("already exists") == 1
    code, out = run(capsys, "migrate")
    assert code == 0 and "migration(s) applied" in out
    code, out = run(capsys, "seed")
    assert code == 0 and "4 user(s) and 1 activity(ies) added" in out
    code, out = run(capsys, "status")
    assert (
        code == 0
        and "PENDING" not in out
        and "rows       users=4 activities=1" in out
        and "server     PostgreSQL" in out
    )
    code, out = run(capsys, "roles")
    assert code == 0 and "dashboard_reader" in out, out
    code, out = run(capsys, "kill-all")
    assert code == 0 and "session(s)" in out
    code, out = run(capsys, "setup")
    assert code == 0 and "dropped" in out and "created" in out and "4 user(s)" in out
    code, out = run(capsys, "drop")
    assert code == 0 and f"database {name} dropped" in out
    assert not exists(pg_server, name)
    code, out = run(capsys, "drop")
    assert code == 0 and "did not exist" in out


def test_errors_do_not_print_the_password_either(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://dashboard:{SECRET}@127.0.0.1:1/cruddur?connect_timeout=2")
    for command in ("status", "migrate", "create", "drop", "kill-all", "roles", "seed"):
        code, out = run(capsys, command)
        assert code == 1 and out.startswith("error: ") and "Traceback" not in out, command
    monkeypatch.setenv("PGSSLROOTCERT", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://dashboard:{SECRET}@db.example.com/cruddur")
    code, out = run(capsys, "status")
    assert code == 2 and "PGSSLROOTCERT" in out
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://dashboard:{SECRET}@db.example.com")
    code, out = run(capsys, "drop")
    assert code == 2 and "names no database" in out


def test_setup_refuses_production_outright(db_url, db, capsys, monkeypatch):
    from tests.helpers import add_user

    add_user(db, "keepme")
    monkeypatch.setenv("PROD_CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "--prod", "setup")
    assert code == 2 and "never runs against production" in out
    code, out = run(capsys, "--prod", "--yes-i-mean-prod", "setup")
    assert code == 2
    # A development URL that is really production's is refused as well.
    monkeypatch.delenv("APP_ENV")
    monkeypatch.setenv("CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "setup")
    assert code == 2 and "the database is production" in out
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_drop_against_production_needs_the_name_typed_back(db_url, pg_server, capsys, monkeypatch):
    name = dbname(db_url)
    monkeypatch.setenv("PROD_CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "--prod", "drop", stdin="", monkeypatch=monkeypatch)
    assert code == 2 and "Refused" in out and f"({name})" in out
    code, out = run(capsys, "--prod", "drop", stdin="cruddur\n", monkeypatch=monkeypatch)
    assert code == 2 and "did not match" in out
    code, out = run(capsys, "--prod", "kill-all", stdin="\n", monkeypatch=monkeypatch)
    assert code == 2 and "Refused" in out
    assert exists(pg_server, name)
    monkeypatch.delenv("APP_ENV")  # the same database reached through CONNECTION_URL without --prod
    monkeypatch.setenv("CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "drop")
    assert code == 2 and "Use --prod" in out and exists(pg_server, name)
    code, out = run(capsys, "--prod", "drop", stdin=f"{name}\n", monkeypatch=monkeypatch)
    assert code == 0 and "dropped" in out and not exists(pg_server, name)


def test_yes_i_mean_prod_is_the_automation_switch(db_url, pg_server, capsys, monkeypatch):
    monkeypatch.setenv("PROD_CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "--prod", "--yes-i-mean-prod", "drop")
    assert code == 0 and not exists(pg_server, dbname(db_url))


def test_seed_never_writes_to_production(db_url, db, capsys, monkeypatch):
    monkeypatch.setenv("PROD_CONNECTION_URL", with_password(db_url))
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    code, out = run(capsys, "--prod", "seed")
    assert code == 2 and db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_kill_all_terminates_the_other_sessions(db_url, capsys):
    other = psycopg.connect(db_url, autocommit=True)
    code, out = run(capsys, "kill-all")
    assert code == 0 and "1 session(s)" in out
    with pytest.raises(psycopg.OperationalError):
        other.execute("SELECT 1")
    other.close()


@pytest.mark.skipif(not shutil.which("psql"), reason="psql is not installed")
def test_connect_opens_psql_without_the_password_on_screen_or_command_line(db_url):
    env = {**os.environ, "CONNECTION_URL": with_password(db_url)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "db",
            "connect",
            "--",
            "-XAt",
            "-c",
            "SELECT current_database() || ' ' || current_setting('application_name')",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{dbname(db_url)} psql (python -m db connect)"
    assert SECRET not in proc.stdout + proc.stderr and "psql postgresql://postgres@/" in proc.stderr


def test_a_stopped_server_is_one_line_on_the_terminal(tmp_path):
    """The pool's warning per failed attempt stays out of a command's output: one clear line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTION_URL", "PROD_", "PG", "DASHBOARD_"))}
    env.update(
        CONNECTION_URL=f"postgresql://nobody@/cruddur?host={tmp_path}",  # a socket directory with no server
        POOL_TIMEOUT_MS="1500",
        DASHBOARD_DATA_DIR=str(tmp_path),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "db", "sessions"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_command_line_prints_no_traceback_when_the_database_is_down(tmp_path):
    """queries run/export log the outage (with its traceback in the server log); on a terminal
    that is one line per record and the command's own error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTION_URL", "PROD_", "PG", "DASHBOARD_"))}
    env.update(CONNECTION_URL="postgresql://postgres@127.0.0.1:1/x", POOL_TIMEOUT_MS="1500")
    env["DASHBOARD_DATA_DIR"] = str(tmp_path)
    for argv in (["run", "total_posts"], ["export", "explore", "-o", str(tmp_path / "x.csv")]):
        proc = subprocess.run(
            [sys.executable, "-m", "queries", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("error:"), proc.stderr
        assert not (tmp_path / "x.csv").exists()


def test_prod_after_the_command_is_the_same_switch(db_url, pg_server, capsys, monkeypatch):
    name = dbname(db_url)
    monkeypatch.setenv("PROD_CONNECTION_URL", with_password(db_url))
    code, out = run(capsys, "drop", "--prod", stdin="cruddur\n", monkeypatch=monkeypatch)
    assert code == 2 and "did not match" in out and exists(pg_server, name)  # production's own guard asked
    code, out = run(capsys, "status", "--prod")
    assert code == 0
    code, out = run(capsys, "setup", "--prod", "--yes-i-mean-prod")
    assert code == 2 and "never runs against production" in out
    code, out = run(capsys, "drop", "--prod", "--yes-i-mean-prod")
    assert code == 0 and not exists(pg_server, name)


@pytest.mark.parametrize("wait", ["abc", "-5", "nan", "inf", "99999"])
def test_rollup_wait_must_be_seconds_it_can_use(wait, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["rollup", "--wait", wait])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --wait:" in err and "Traceback" not in err
