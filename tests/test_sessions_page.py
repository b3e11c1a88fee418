"""The Sessions page (pages/sessions.py) through AppTest, with real sessions started by the test."""

from __future__ import annotations

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.background import Background, wait_until
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "sessions.py")
DASHBOARD = str(ROOT / "dashboard.py")


@pytest.fixture
def sleeper(db_url):
    s = Background(db_url, "page-sleeper").start("SELECT pg_sleep(10) /* page test */")
    yield s
    s.close()


def page(admin: bool = False) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if admin:
        at.session_state["admin_user"] = "admin"
    return at


def shown_pids(at) -> set[int]:
    return set(at.dataframe[0].value["pid"])


def until_listed(at, pid: int) -> AppTest:
    wait_until(lambda: pid in shown_pids(at.run()))
    return at


def buttons(at) -> dict[str, object]:
    return {b.label: b for b in at.button}


def test_lists_sessions_with_metrics_and_csv(sleeper, monkeypatch):
    monkeypatch.setenv("LONG_QUERY_SECONDS", "0.2")
    at = page(admin=True).run()
    wait_until(
        lambda: (
            not at.run().exception
            and sleeper.pid in shown_pids(at)
            and at.dataframe[0].value.set_index("pid").loc[sleeper.pid, "flags"] == "long-running"
        )
    )
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Long-running (≥ 0.2 s)"] == "1"
    assert at.download_button[0].label == "Download CSV (whole queries)"
    next(t for t in at.toggle if t.label.startswith("Auto refresh every 10 s")).set_value(True).run()
    assert not at.exception and sleeper.pid in shown_pids(at)
    # The chosen session's whole query is shown.
    at.selectbox(key="sessions-pid").set_value(sleeper.pid).run()
    assert any("page test" in c.value for c in at.code)


def everything_shown(at) -> str:
    """The text of every table cell, code block, caption, note and metric on the page."""
    parts = [str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel()]
    parts += [str(df.value.columns.tolist()) for df in at.dataframe]
    for kind in (at.code, at.caption, at.info, at.markdown, at.warning, at.error, at.success):
        parts += [e.value for e in kind]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def test_an_anonymous_visitor_sees_counts_not_queries(db_url, pg_server, monkeypatch):
    """Finding 4: query text (which can carry a password), clients, other databases and the
    CSV are for signed-in admins; a visitor sees counts, states, durations and applications."""
    monkeypatch.setenv("LONG_QUERY_SECONDS", "0.2")
    secret = "hunter2-Zq9"
    talker = Background(db_url, "billing-worker").start(f"SELECT pg_sleep(10) /* ALTER ROLE x PASSWORD '{secret}' */")
    elsewhere = Background(pg_server, "other-db-app")
    elsewhere.execute("SELECT 1")
    try:
        at = until_listed(page().run(), talker.pid)
        wait_until(
            lambda: at.run() and at.dataframe[0].value.set_index("pid").loc[talker.pid, "flags"] == "long-running"
        )
        table = at.dataframe[0].value.set_index("pid")
        assert table.loc[talker.pid, "application"] == "billing-worker" and table.loc[talker.pid, "state"] == "active"
        assert table.loc[talker.pid, "query"].startswith("(hidden")
        assert not {"user", "client", "database"} & set(table.columns)
        assert {m.label: m.value for m in at.metric}["Long-running (≥ 0.2 s)"] == "1"
        assert not at.download_button  # no CSV of sessions
        assert any("signed-in admins only" in i.value for i in at.info)
        this_db = next(t for t in at.toggle if t.label == "This database only")
        assert this_db.disabled
        # The chosen session's panel and a search cannot reveal the text either.
        at.selectbox(key="sessions-pid").set_value(talker.pid).run()
        at.text_input[0].input(secret).run()
        assert at.dataframe[0].value.empty
        shown = everything_shown(at) + everything_shown(at.text_input[0].input("").run())
        assert secret not in shown and "pg_sleep" not in shown and "postgres" not in shown
        assert elsewhere.pid not in shown_pids(at)
        # Signed in, the same page shows it all.
        at.session_state["admin_user"] = "admin"
        at.run()
        assert secret in at.dataframe[0].value.set_index("pid").loc[talker.pid, "query"]
        assert at.download_button[0].label == "Download CSV (whole queries)"
    finally:
        talker.close()
        elsewhere.close()


def test_a_non_admin_cannot_cancel_or_terminate(sleeper, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-admin")
    at = until_listed(page().run(), sleeper.pid)
    labels = buttons(at)
    assert not any(label.startswith(("Cancel", "Terminate", "Yes,")) for label in labels)
    assert "Cancelling and terminating sessions needs an admin." in [c.value for c in at.caption]
    assert any(t.label == "Admin password" for t in at.text_input)  # the way in is the sign-in form
    assert sleeper.thread.is_alive()


def test_admin_cancels_after_a_confirmation_showing_who_and_what(sleeper, db, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-admin")
    at = until_listed(page().run(), sleeper.pid)
    next(t for t in at.text_input if t.label == "Admin password").input("s3cret-admin")
    buttons(at)["Sign in"].click().run()
    at.selectbox(key="sessions-pid").set_value(sleeper.pid).run()
    buttons(at)["Cancel query…"].click().run()
    # The confirmation names the session's user, application and query; nothing happened yet.
    confirm = at.dataframe[-1].value
    assert confirm.to_dict("records") == [
        {
            "pid": sleeper.pid,
            "user": "postgres",
            "application": "page-sleeper",
            "database": db.info.dbname,
            "query": "SELECT pg_sleep(10) /* page test */",
        }
    ]
    assert sleeper.thread.is_alive()
    buttons(at)["Yes, cancel"].click().run()
    assert not at.exception
    assert at.success[0].value == f"Cancelled the running query of session {sleeper.pid}."
    sleeper.join()
    assert isinstance(sleeper.error, psycopg.errors.QueryCanceled) and sleeper.alive()
    assert db.execute("SELECT actor, action, pid, outcome FROM dashboard_audit_log").fetchall() == [
        ("admin", "cancel", sleeper.pid, "done")
    ]


def test_admin_can_go_back_without_terminating(sleeper, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-admin")
    at = until_listed(page().run(), sleeper.pid)
    at.session_state["admin_user"] = "admin"
    at.run()
    at.selectbox(key="sessions-pid").set_value(sleeper.pid).run()
    buttons(at)["Terminate session…"].click().run()
    assert "Terminate 1 session(s)?" in at.warning[0].value
    buttons(at)["No, go back"].click().run()
    assert sleeper.thread.is_alive() and "Terminate session…" in buttons(at)


def test_a_user_without_pg_monitor_sees_the_note_and_no_exception(sleeper, unprivileged, monkeypatch):
    role, url = unprivileged
    monkeypatch.setenv("CONNECTION_URL", url)
    at = until_listed(page(admin=True).run(), sleeper.pid)
    assert not at.exception and not at.error
    assert f'GRANT pg_read_all_stats TO "{role}"' in at.info[0].value
    row = at.dataframe[0].value.set_index("pid").loc[sleeper.pid]
    assert row["query"] == "<insufficient privilege>"


def test_database_down_shows_a_plain_message(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody:s3cretpw@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    at = page().run()
    assert not at.exception
    assert "database is unavailable" in at.error[0].value and "s3cretpw" not in at.error[0].value


def test_dashboard_routes_to_the_sessions_page(db_url):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    at.switch_page("pages/sessions.py").run()
    assert not at.exception
    assert at.title[0].value == "Database sessions"
