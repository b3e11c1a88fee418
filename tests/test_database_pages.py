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
