"""queries/sessions.py against real sessions started by the test, polled until they show up.

Long because each scenario starts real sessions (running, idle, blocked, blocking) that the
next scenario reuses; one file keeps that scaffolding in one place.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pandas as pd
import psycopg
import pytest

from actions import sessions as session_actions
from db import embedded
from queries import blocking, sessions
from tests.background import Background, wait_until
from tests.conftest import server_dir
from tests.helpers import add_user


@pytest.fixture
def started(db_url):
    """Factory of real background sessions, all closed at the end of the test."""
    opened: list[Background] = []

    def make(application: str | None = None, url: str | None = None, own: bool = False) -> Background:
        """`own`: one of this process's connections, as a pool of the dashboard's would register it."""
        s = Background(url or db_url, application or f"test-{len(opened)}")
        if own:
            from db.backends import register

            register(s.conn)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def row_of(pid: int, **kw) -> dict | None:
    frame = sessions.snapshot(**kw).sessions
    match = frame[frame["pid"] == pid]
    return match.iloc[0].to_dict() if len(match) else None


def target(pid: int) -> sessions.SessionChoice:
    return sessions.SessionChoice.from_row(wait_until(lambda: row_of(pid)))


def audit_rows(db) -> list[tuple]:
    return db.execute(
        "SELECT actor, action, pid, target_application, query, outcome FROM dashboard_audit_log ORDER BY id"
    ).fetchall()


def test_long_query_appears_with_duration_and_is_flagged(started, monkeypatch):
    monkeypatch.setenv("LONG_QUERY_SECONDS", "0.3")
    sleeper = started("sleeper").start("SELECT pg_sleep(10) /* slow report */")
    row = wait_until(lambda: (r := row_of(sleeper.pid)) and r["long_running"] and r)
    assert row["state"] == "active" and row["query_seconds"] >= 0.3
    assert "slow report" in row["query"] and row["application"] == "sleeper"
    assert row["wait_event"] == "PgSleep" and "long-running" in row["flags"]
    snap = sessions.snapshot()
    assert snap.counts()["long_running"] == 1
    assert sessions.table(snap.sessions).loc[lambda t: t.pid == sleeper.pid, "query_seconds"].iloc[0] >= 0.3


def test_idle_in_transaction_is_flagged(started, monkeypatch):
    monkeypatch.setenv("IDLE_IN_TRANSACTION_SECONDS", "0.2")
    s = started("forgetful")
    s.execute("BEGIN")
    s.execute("SELECT 1 AS forgotten")
    row = wait_until(lambda: (r := row_of(s.pid)) and r["idle_in_transaction"] and r)
    assert row["state"] == "idle in transaction" and row["transaction_seconds"] >= 0.2
    assert "idle in transaction" in row["flags"]
    assert sessions.snapshot().counts()["idle_in_transaction"] == 1


def test_a_session_blocked_on_a_row_lock_shows_its_blocker(started, db):
    user = add_user(db, "locked")
    holder = started("holder")
    holder.execute("BEGIN")
    holder.execute("SELECT 1 FROM users WHERE uuid = %s FOR UPDATE", [user])
    waiter = started("waiter").start("UPDATE users SET handle = 'changed' WHERE uuid = %s", [user])
    row = wait_until(lambda: (r := row_of(waiter.pid)) and r["blocked"] and r)
    assert row["blocked_by"] == [holder.pid] and row["wait_event_type"] == "Lock"
    assert row_of(holder.pid)["blocking"]
    tree = blocking.blocking_tree(sessions.snapshot().sessions)
    assert tree[["level", "pid"]].values.tolist() == [[0, holder.pid], [1, waiter.pid]]
    assert tree.iloc[0]["waiting_behind"] == 1 and tree.iloc[1]["blocked_by"] == str(holder.pid)


def test_with_two_blockers_both_appear(started, db):
    # Two FOR SHARE row locks would not do: PostgreSQL waits on a multixact's members one at a
    # time, so pg_blocking_pids names only the first. Two SHARE table locks block an UPDATE together.
    user = add_user(db, "shared")
    readers = [started(f"reader-{i}") for i in range(2)]
    for r in readers:
        r.execute("BEGIN")
        r.execute("LOCK TABLE users IN SHARE MODE")
    writer = started("writer").start("UPDATE users SET handle = 'x' WHERE uuid = %s", [user])
    row = wait_until(lambda: (r := row_of(writer.pid)) and len(r["blocked_by"]) == 2 and r)
    assert row["blocked_by"] == sorted(r.pid for r in readers)
    tree = blocking.blocking_tree(sessions.snapshot().sessions)
    # Both readers are roots, and the writer appears under each of them.
    roots = tree[tree["level"] == 0]["pid"].tolist()
    assert sorted(roots) == sorted(r.pid for r in readers)
    assert tree[tree["pid"] == writer.pid]["level"].tolist() == [1, 1]
    assert tree[tree["pid"] == writer.pid]["blocked_by"].tolist() == [", ".join(map(str, row["blocked_by"]))] * 2


def test_cancel_ends_the_query_and_the_session_survives(started, db):
    sleeper = started("sleeper").start("SELECT pg_sleep(10)")
    t = wait_until(lambda: (r := row_of(sleeper.pid)) and r["state"] == "active" and sessions.SessionChoice.from_row(r))
    outcome = session_actions.cancel(t, actor="admin")
    assert outcome.ok and outcome.outcome == "done", outcome.message
    sleeper.join()
    assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert sleeper.alive() and row_of(sleeper.pid) is not None
    assert outcome.audit == "dashboard_audit_log"
    assert audit_rows(db) == [("admin", "cancel", sleeper.pid, "sleeper", "SELECT pg_sleep(10)", "done")]


def test_terminate_ends_the_session(started, db):
    s = started("doomed")
    s.execute("BEGIN")
    s.execute("SELECT 1")
    outcome = session_actions.terminate(target(s.pid), actor="admin")
    assert outcome.ok, outcome.message
    assert row_of(s.pid) is None  # pg_terminate_backend waited for it to end
    assert not s.alive()
    assert audit_rows(db)[-1][1:3] == ("terminate", s.pid)


def test_the_dashboards_own_sessions_are_refused_twice(started, db):
    ours = started("any name at all", own=True)
    ours.execute("SELECT 1")
    t = target(ours.pid)
    assert t.is_dashboard
    outcome = session_actions.terminate(t, actor="admin")
    assert outcome.outcome == "refused" and "dashboard's own" in outcome.message
    # The SQL refuses it too, should a caller get past the Python check.
    from actions.writing import writing
    from db.backends import own_pids
    from db.statements import execute

    with writing() as conn:
        assert (
            execute(
                conn,
                "sessions.do_terminate",
                allow="admin",
                pid=ours.pid,
                backend_start=t.backend_start,
                wait_ms=100,
                own_pids=own_pids(),
            ).fetchall()
            == []
        )
    assert ours.alive()
    assert audit_rows(db)[-1][-1] == "refused"


def test_a_stranger_named_like_the_dashboard_is_not_shielded(started, db):
    """Finding 8: `python -m db connect` or anyone can set application_name cruddur-dashboard:*;
    only this process's own backends are the dashboard's."""
    impostor = started("cruddur-dashboard:writer")
    impostor.execute("SELECT 1")
    row = wait_until(lambda: row_of(impostor.pid))
    assert not row["own"] and row["flags"] == "named like the dashboard (another replica?)"
    assert impostor.pid in set(sessions.visible(sessions.snapshot().sessions, hide_idle=False)["pid"])
    t = sessions.SessionChoice.from_row(row)
    assert not t.is_dashboard
    assert impostor.pid in {c.pid for c in sessions.terminate_candidates()}
    assert session_actions.terminate(t, actor="admin").ok
    assert not impostor.alive()


def test_a_reused_pid_is_not_the_session_that_was_confirmed(started):
    s = started("victim")
    s.execute("SELECT 1")
    t = target(s.pid)
    stale = sessions.SessionChoice(**{**t.__dict__, "backend_start": t.backend_start - timedelta(minutes=5)})
    outcome = session_actions.terminate(stale, actor="admin")
    assert outcome.outcome == "gone" and s.alive()


def test_refused_against_production_unless_allowed(started, db_url, monkeypatch, tmp_path):
    s = started("prod-app")
    s.execute("SELECT 1")
    t = target(s.pid)
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.jsonl"))
    outcome = session_actions.terminate(t, actor="admin")
    assert outcome.outcome == "refused" and "ALLOW_PROD_WRITES" in outcome.message
    assert s.alive()
    logged = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert logged["pid"] == s.pid and logged["outcome"] == "refused" and logged["actor"] == "admin"
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    assert session_actions.terminate(t, actor="admin").ok
    assert not s.alive()


def test_terminate_all_others_keeps_the_dashboards_sessions(started, db):
    others = [started(f"app-{i}") for i in range(2)]
    ours = started("ours", own=True)
    for s in (*others, ours):
        s.execute("SELECT 1")
    candidates = sessions.terminate_candidates()
    assert {t.pid for t in candidates} >= {s.pid for s in others}
    assert ours.pid not in {t.pid for t in candidates}
    outcomes = [session_actions.terminate(t, actor="admin") for t in candidates]  # as the page does, one by one
    # A pool connection of ours still being opened when the list was read is refused at the signal.
    from db.backends import own_pids

    assert all(o.ok or o.pid in own_pids() for o in outcomes), [o.message for o in outcomes]
    assert not any(s.alive() for s in others) and ours.alive()


def test_audit_falls_back_to_a_file_without_the_table(legacy_db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.jsonl"))
    s = Background(legacy_db_url, "legacy-app")
    try:
        s.execute("SELECT 1")
        outcome = session_actions.terminate(target(s.pid), actor="admin")
    finally:
        s.close()
    assert outcome.ok and outcome.audit == str(tmp_path / "audit.jsonl")
    entry = json.loads((tmp_path / "audit.jsonl").read_text())
    assert (entry["action"], entry["pid"], entry["outcome"], entry["query"]) == ("terminate", s.pid, "done", "SELECT 1")
    assert session_actions.recent_audit().iloc[0]["pid"] == s.pid


def test_filters(started, monkeypatch):
    monkeypatch.setenv("LONG_QUERY_SECONDS", "0.2")
    sleeper = started("sleeper").start("SELECT pg_sleep(10) /* needle */")
    idle = started("idler")
    idle.execute("SELECT 1")
    ours = started("ours", own=True)
    ours.execute("SELECT 1")
    wait_until(lambda: (r := row_of(sleeper.pid)) and r["long_running"])
    frame = sessions.snapshot().sessions
    pids = lambda f: set(f["pid"])  # noqa: E731
    assert sleeper.pid in pids(sessions.visible(frame))
    assert idle.pid not in pids(sessions.visible(frame)) and idle.pid in pids(sessions.visible(frame, hide_idle=False))
    assert ours.pid not in pids(sessions.visible(frame, hide_idle=False))
    assert ours.pid in pids(sessions.visible(frame, hide_idle=False, include_own=True))
    assert pids(sessions.visible(frame, hide_idle=False, search="NEEDLE")) == {sleeper.pid}
    assert pids(sessions.visible(frame, hide_idle=False, search="idler")) == {idle.pid}
    assert sleeper.pid in pids(sessions.visible(frame, min_seconds=0.2))
    assert sleeper.pid not in pids(sessions.visible(frame, min_seconds=3600))
    assert sessions.visible(frame.iloc[0:0], search="anything").empty


def test_this_database_only_unless_all(started, pg_server):
    elsewhere = started("elsewhere", url=pg_server)
    elsewhere.execute("SELECT 1")
    assert row_of(elsewhere.pid) is None
    assert row_of(elsewhere.pid, all_databases=True)["database"] == "postgres"


def test_cli_lists_the_sessions(started, pg_server, capsys):
    from db.__main__ import main

    sleeper = started("cli-sleeper").start("SELECT pg_sleep(10) /* for the cli */")
    wait_until(lambda: row_of(sleeper.pid))
    elsewhere = started("cli-elsewhere", url=pg_server)
    elsewhere.execute("SELECT 1")
    assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert str(sleeper.pid) in out and "for the cli" in out and "cli-elsewhere" not in out
    assert main(["sessions", "--all"]) == 0
    assert "cli-elsewhere" in capsys.readouterr().out


def test_cli_does_not_list_its_own_connections(db_url, capsys):
    """The command's own pool connections are hidden (and counted as hidden), like the page's default."""
    from db import pool
    from db.__main__ import main

    with pool.connection(pool.READER) as held:  # busy: the command's snapshot takes another one
        own = held.info.backend_pid
        assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.split()[:1] == [str(own)]], out
    assert "the dashboard's own" in out.splitlines()[0]


def test_blocking_tree_with_several_blockers_chains_and_a_cycle():
    def frame(edges: dict[int, list[int]]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "pid": p,
                    "blocked_by": b,
                    "user": "u",
                    "application": "a",
                    "state": "active",
                    "wait_event": "tuple",
                    "duration_seconds": 1.0,
                    "query": f"q{p}",
                }
                for p, b in edges.items()
            ]
        )

    # 1 blocks 2 and 3; 2 blocks 4; 5 also blocks 4; 9 is not in the list.
    tree = blocking.blocking_tree(frame({1: [], 2: [1], 3: [1], 4: [2, 5], 5: [], 6: [9]}))
    assert tree[["level", "pid"]].values.tolist() == [
        [0, 1],
        [1, 2],
        [2, 4],
        [1, 3],  # 1 holds up three sessions: first
        [0, 5],
        [1, 4],
        [0, 9],
        [1, 6],
    ]
    assert tree[tree.pid == 9]["query"].iloc[0].startswith("(not in this list")
    assert tree[tree.pid == 4]["blocked_by"].tolist() == ["2, 5", "2, 5"]
    cycle = blocking.blocking_tree(frame({7: [8], 8: [7]}))
    assert cycle[["level", "pid"]].values.tolist() == [[0, 7], [1, 8]]
    assert blocking.blocking_tree(frame({1: [], 2: []})).empty


def test_without_pg_monitor_rows_are_hidden_and_ending_them_is_explained(started, unprivileged, monkeypatch, tmp_path):
    role, url = unprivileged
    sleeper = started("superuser-sleeper").start("SELECT pg_sleep(10)")
    monkeypatch.setenv("CONNECTION_URL", url)
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.jsonl"))
    row = wait_until(lambda: row_of(sleeper.pid))
    assert row["hidden"] and row["query"] == "<insufficient privilege>" and pd.isna(row["state"])
    snap = sessions.snapshot()
    assert snap.viewer["user"] == role and not snap.viewer["sees_all"]
    assert f'GRANT pg_read_all_stats TO "{role}"' in snap.grant_hint()
    assert sleeper.pid in set(sessions.visible(snap.sessions)["pid"])  # shown as such, not dropped
    outcome = session_actions.cancel(sessions.SessionChoice.from_row(row), actor="admin")
    assert outcome.outcome == "failed" and "pg_signal_backend" in outcome.message and "rds_superuser" in outcome.message
    assert sleeper.thread.is_alive()
    # The role may not write the audit table: the entry went to the file.
    assert json.loads((tmp_path / "audit.jsonl").read_text())["outcome"] == "failed"


@pytest.fixture(scope="module")
def crowded_server():
    """A dedicated embedded server with room for 200 extra connections (the shared one allows 100)."""
    import shutil

    base = server_dir("crowded")
    pgdata = base / "data"
    url = embedded.start(pgdata, log=lambda m: None)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_connections = 230")
    embedded._pkg().pg_ctl(
        ["-w", "-m", "fast", "restart"],
        pgdata=pgdata,
        timeout=30,
        user=embedded.SYSTEM_USER if os.geteuid() == 0 else None,
    )
    yield url
    embedded.destroy(pgdata)
    shutil.rmtree(base, ignore_errors=True)


def test_session_list_stays_cheap_with_200_idle_connections(crowded_server, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", crowded_server)
    monkeypatch.setenv("SESSIONS_TIMEOUT_MS", "300")
    conns = [psycopg.connect(crowded_server, autocommit=True, application_name=f"idle-{i}") for i in range(200)]
    try:
        snap = sessions.snapshot(all_databases=True)
    finally:
        for conn in conns:
            conn.close()
    # It returned under a 300 ms statement timeout and saw every idle connection.
    assert set(range(200)) <= {int(a[5:]) for a in snap.sessions["application"] if a.startswith("idle-")}
    assert sessions.visible(snap.sessions).empty or not (sessions.visible(snap.sessions)["state"] == "idle").any()
