"""The Database section's pages through AppTest: Connections, Top statements, Health, and the
Sessions page's counts (shown + hidden = all)."""

from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from tests.background import Background, wait_until
from tests.conftest import ROOT

DASHBOARD = str(ROOT / "dashboard.py")


def page(name: str, admin: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=30)
    if admin:
        at.session_state["admin_user"] = "admin"
    return at.run()


def test_sessions_counts_agree_with_the_rows_shown(db_url):
    idle = [Background(db_url, f"idle-{i}") for i in range(2)]
    sleeper = Background(db_url, "counted-sleeper").start("SELECT pg_sleep(10)")
    try:
        for s in idle:
            s.execute("SELECT 1")
        at = page("sessions.py", admin=True)
        wait_until(lambda: sleeper.pid in set(at.run().dataframe[0].value["pid"]))
        shown = at.dataframe[0].value
        metrics = {m.label: m.value for m in at.metric}
        assert int(metrics["Sessions shown"]) == len(shown)
        caption = next(c.value for c in at.caption if " shown" in c.value and " of " in c.value)
        total = int(caption.split(" of ")[1].split()[0])
        hidden = int(caption.split("; ")[1].split(" hidden")[0]) if "hidden" in caption else 0
        assert len(shown) + hidden == total and "idle (Hide idle sessions)" in caption
        # Idle rows: no "None", no "0.0 s"; durations humanised, the exact seconds beside.
        at.toggle[0].set_value(False).run()  # show idle sessions
        table = at.dataframe[0].value.set_index("pid")
        for s in idle:
            row = table.loc[s.pid]
            assert row["state"] == "idle" and "None" not in row.astype(str).tolist()
            assert row["wait"] == "Client: ClientRead" and row["duration"]  # time idle, humanised
        assert table.loc[sleeper.pid, "duration"].endswith(" s")
        assert not (table.astype(str) == "None").any().any()
    finally:
        for s in (*idle, sleeper):
            s.close()


def test_connections_page(db_url, monkeypatch):
    monkeypatch.setenv("CONNECTIONS_WARN_PERCENT", "0")
    at = page("database_connections.py", admin=True)
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    used, usable = (int(x) for x in metrics["Connections in use"].split(" / "))
    assert usable == int(metrics["max_connections"]) - int(metrics["Reserved slots"]) and used >= 1
    assert "CONNECTIONS_WARN_PERCENT" in at.warning[0].value
    visitor = page("database_connections.py")
    assert any("signed-in admins only" in c.value for c in visitor.caption)


def test_statements_page_without_and_with_the_extension(db, db_url):
    at = page("database_statements.py", admin=True)
    assert not at.exception
    assert "not installed" in at.warning[0].value
    assert any("parameter group" in m.value for m in at.markdown)
    db.execute("CREATE EXTENSION pg_stat_statements")
    marker = f"m_{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        db.execute(f"SELECT 1 AS {marker}")
    at = page("database_statements.py", admin=True)
    assert not at.exception and not at.warning
    frame = at.dataframe[0].value
    assert frame[frame["query"].str.contains(marker)]["calls"].tolist() == [3]
    # The reset needs a confirmation, then is done and audited.
    next(b for b in at.button if b.label == "Reset statement statistics…").click().run()
    assert "Reset pg_stat_statements?" in at.warning[0].value
    next(b for b in at.button if b.label == "Yes, reset").click().run()
    assert not at.exception and "reset" in at.success[0].value
    assert db.execute("SELECT outcome FROM dashboard_audit_log").fetchall() == [("done",)]
    # A visitor sees the figures, not the text, and no reset.
    visitor = page("database_statements.py")
    assert not visitor.exception
    assert not visitor.dataframe[0].value["query"].str.contains(marker).any()
    assert not [b for b in visitor.button if b.label.startswith("Reset")]


def test_health_page(db):
    db.execute("CREATE TABLE lonely (id int PRIMARY KEY, v int)")
    db.execute("CREATE INDEX lonely_v_unused ON lonely (v)")
    at = page("database_health.py")
    assert not at.exception and not at.error
    indexes = at.dataframe[1].value.set_index("index")
    assert indexes.loc["lonely_v_unused", "unused"]
    labels = [m.label for m in at.metric]
    assert "Cache hits, tables" in labels and "XIDs left (wraparound)" in labels


@pytest.mark.parametrize(
    "path, title",
    [
        ("pages/database_connections.py", "Database connections"),
        ("pages/database_statements.py", "Top statements"),
        ("pages/database_health.py", "Database health"),
    ],
)
def test_dashboard_routes_to_the_database_pages(db_url, path, title):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    at.switch_page(path).run()
    assert not at.exception
    assert at.title[0].value == title


def test_database_down_is_a_plain_message(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody:s3cretpw@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    for name in ("database_connections.py", "database_statements.py", "database_health.py"):
        at = page(name)
        assert not at.exception
        assert "database is unavailable" in at.error[0].value and "s3cretpw" not in at.error[0].value


def test_every_database_page_on_a_database_without_tables(empty_db_url):
    for name in ("sessions.py", "database_connections.py", "database_statements.py", "database_health.py"):
        for admin in (False, True):
            at = page(name, admin=admin)
            assert not at.exception and not at.error, (name, admin)


def test_fifty_sessions_a_huge_query_and_unicode_names_for_visitor_and_admin(db_url):
    """50 sessions (idle and active), one running a 100 kB statement with a secret in it, one with a
    non-ASCII application_name: the counts equal the rows plus the stated hidden ones for both the
    visitor and the admin; the visitor never reads the text; the admin reads it in the panel."""
    from tests.test_sessions_page import everything_shown

    secret = "pw-Zq9-" + "x" * 8
    huge = f"SELECT pg_sleep(20) /* {secret} {'y' * 100_000} */"
    crowd = [Background(db_url, f"crowd-{i}") for i in range(46)]
    active = [Background(db_url, f"busy-{i}").start("SELECT pg_sleep(20)") for i in range(2)]
    big = Background(db_url, "huge-query").start(huge)
    named = Background(db_url, "Zoë 数据 🚀")
    named.execute("SELECT 1")
    try:
        for s in crowd:
            s.execute("SELECT 1")
        for admin in (False, True):
            at = page("sessions.py", admin=admin)
            wait_until(lambda at=at: big.pid in set(at.run().dataframe[0].value["pid"]), timeout=15)
            next(t for t in at.toggle if t.label == "Hide idle sessions").set_value(False).run()
            assert not at.exception and not at.error
            shown = at.dataframe[0].value
            assert len(shown) >= 50 and {big.pid, named.pid} <= set(shown["pid"])
            assert int({m.label: m.value for m in at.metric}["Sessions shown"]) == len(shown)
            caption = next(c.value for c in at.caption if " sessions of this database shown" in c.value)
            total = int(caption.split(" of ")[1].split()[0])
            hidden = int(caption.split("; ")[1].split(" hidden")[0]) if " hidden:" in caption else 0
            assert len(shown) + hidden == total, caption
            # The server keeps ASCII only in application_name: whatever it shows, it shows as given.
            assert shown.set_index("pid").loc[named.pid, "application"].startswith("Zo")
            assert len(shown.set_index("pid").loc[big.pid, "query"]) <= 80  # one line in the table
            at.selectbox(key="sessions-pid").set_value(big.pid).run()
            assert not at.exception
            if admin:
                assert any(secret in c.value for c in at.code)  # the whole (server-truncated) text
            else:
                assert secret not in everything_shown(at) and "pg_sleep" not in everything_shown(at)
    finally:
        for s in (*crowd, *active, big, named):
            s.close()


def test_connections_page_warns_on_idle_in_transaction_like_pghero(db_url, monkeypatch):
    """pghero's idle-connections warning counts sessions idle in a transaction, not plain idle ones."""
    from queries import database

    monkeypatch.setitem(database.PGHERO, "idle_connections", 2)
    plain = [Background(db_url, f"plain-idle-{i}") for i in range(3)]
    in_tx = [Background(db_url, f"idle-in-tx-{i}") for i in range(2)]
    try:
        for s in plain:
            s.execute("SELECT 1")
        at = page("database_connections.py", admin=True)
        assert not any("idle in a transaction" in w.value for w in at.warning)
        for s in in_tx:
            s.execute("BEGIN")
            s.execute("SELECT 1")
        wait_until(lambda: any("2 connections idle in a transaction" in w.value for w in at.run().warning))
    finally:
        for s in (*plain, *in_tx):
            s.close()
