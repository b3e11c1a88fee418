"""Finding 2: production recognised under any spelling, and every writing entry point refused there.

The test server listens on a Unix socket only; a small TCP relay in a thread
gives it a 127.0.0.1 address too, so `localhost`, `LOCALHOST.`, port `0NNNN`,
a trailing slash and a key=value DSN all reach the very same server.
Long because every writing entry point is enumerated here, against one relay
and one production fixture: split, each file would rebuild both.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

import pytest

from db import conninfo, guard
from tests.helpers import add_post, add_user


class Relay:
    """127.0.0.1:<port> -> the server's Unix socket, one thread pair per connection."""

    def __init__(self, socket_path: str):
        self.socket_path = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.socket_path)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.closed = True
        self.listener.close()


@pytest.fixture
def tcp(db_url):
    """(port, dbname) of the test database over TCP on 127.0.0.1."""
    p = conninfo.parse(db_url)
    relay = Relay(f"{p['host']}/.s.PGSQL.{p.get('port') or 5432}")
    yield relay.port, p["dbname"]
    relay.close()


@pytest.fixture
def production(tcp, db_url, db, monkeypatch):
    """PROD_CONNECTION_URL names the test database over TCP; CONNECTION_URL names the same
    database through its Unix socket (another address, the same server). Rows are in it."""
    port, name = tcp
    monkeypatch.setenv("PROD_CONNECTION_URL", f"postgresql://postgres:Prod-Pw-77@127.0.0.1:{port}/{name}")
    guard.forget()
    users = [add_user(db, f"person{i}") for i in range(3)]
    add_post(db, users[0])
    yield port, name
    guard.forget()


def counts(db) -> tuple[int, int, int]:
    return db.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM activities), (SELECT count(*) FROM pg_database)"
    ).fetchone()


SPELLINGS = {
    "trailing slash": "postgresql://postgres@127.0.0.1:{port}/{name}/",
    "localhost": "postgresql://postgres@localhost:{port}/{name}",
    "host case and trailing dot": "postgresql://postgres@LOCALHOST.:{port}/{name}",
    "port with a leading zero": "postgresql://postgres@127.0.0.1:0{port}/{name}",
    "key=value": "host=127.0.0.1 port={port} dbname={name} user=postgres",
    "hostaddr": "hostaddr=127.0.0.1 port={port} dbname={name} user=postgres",
    "another database on the server": "postgresql://postgres@127.0.0.1:{port}/postgres",
    "second in a host list": "postgresql://postgres@/{name}?host=/nonexistent,127.0.0.1&port=1,{port}",
    "first in a host list": "postgresql://postgres@/{name}?host=127.0.0.1,/nonexistent&port={port},1",
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_production_is_production(spelling, production, monkeypatch):
    port, name = production
    url = SPELLINGS[spelling].format(port=port, name=name)
    verdict = guard.production(url)
    assert verdict.is_prod and "same address and port" in verdict.reason


def test_the_same_server_at_another_address_is_production_by_its_system_identifier(production, db_url):
    verdict = guard.production(db_url)  # the Unix socket: no address in common with 127.0.0.1
    assert verdict.is_prod and "system identifier" in verdict.reason


def test_another_server_is_not_production(production, pg_server, monkeypatch, tmp_path):
    from db import embedded
    from tests.conftest import server_dir

    other = server_dir("other")
    try:
        url = embedded.start(other / "data", log=lambda m: None)
        verdict = guard.production(url)
        assert not verdict.is_prod and "differs" in verdict.reason
    finally:
        embedded.destroy(other / "data")


def test_when_production_cannot_be_asked_it_cannot_be_ruled_out(production, db, monkeypatch, capsys):
    """A stale PROD_CONNECTION_URL password (or production down) while CONNECTION_URL reaches the same
    server through another address: refused, saying why, until production can be asked."""
    port, name = production
    monkeypatch.setenv("PROD_CONNECTION_URL", f"postgresql://nosuchrole@127.0.0.1:{port}/{name}?connect_timeout=1")
    monkeypatch.setenv("PGSSLMODE", "disable")
    guard.forget()
    verdict = guard.production()  # CONNECTION_URL: the same server through its Unix socket
    assert verdict.is_prod and not verdict.settled and "cannot be ruled out" in verdict.reason
    from db.__main__ import main

    before = counts(db)
    assert main(["drop"]) == 2 and "cannot be ruled out" in capsys.readouterr().err
    assert _seed("create-activity", "--handle", "person0", "--message", "hi", "--ttl", "7-days")() == 2
    assert counts(db) == before
    # Production reachable again: asked anew within UNSURE_TTL_S, not trusted for five minutes.
    monkeypatch.setattr(guard, "UNSURE_TTL_S", 0)
    monkeypatch.setenv("PROD_CONNECTION_URL", "postgresql://u:pw@127.0.0.1:9/cruddur?connect_timeout=1")
    assert not guard.production().settled


def test_the_embedded_server_of_make_run_is_never_production(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PROD_CONNECTION_URL", "postgresql://u:pw@db.example.invalid/cruddur")
    verdict = guard.production(f"postgresql://postgres@/cruddur?host={tmp_path / 'pg'}")
    assert not verdict.is_prod and "embedded" in verdict.reason


def test_a_host_list_is_the_embedded_server_only_if_every_host_is(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PROD_CONNECTION_URL", "postgresql://u:pw@db.example.invalid/cruddur?connect_timeout=1")
    guard.forget()
    url = f"postgresql://postgres@/cruddur?host=/nonexistent,{tmp_path / 'pg'}&port=1,5432"
    verdict = guard.production(url)
    assert verdict.is_prod and "embedded" not in verdict.reason  # /nonexistent:1 could be anything


# ---------------------------------------------------------------- every writing entry point


def _db(*argv):
    from db.__main__ import main

    return lambda: main(list(argv))


def _seed(*argv):
    from seed.__main__ import main

    return lambda: main(list(argv))


def _action(name, **kw):
    def call():
        from seed import actions

        return getattr(actions, name)(**kw)

    return call


def _create_activity():
    from actions.activities import create_activity

    return create_activity(handle="person0", message="hello", ttl="7-days", by="test")


def _terminate(db_url):
    def call():
        from actions import sessions as session_actions
        from queries import sessions
        from tests.background import Background

        victim = Background(db_url, "victim")
        try:
            row = next(r for r in sessions.snapshot().sessions.to_dict("records") if r["pid"] == victim.pid)
            outcome = session_actions.terminate(sessions.SessionChoice.from_row(row), actor="admin")
            assert outcome.outcome == "refused" and victim.alive(), outcome.message
            raise guard.WriteRefused(outcome.message)
        finally:
            victim.close()

    return call


def _writing():
    from actions.writing import writing

    with writing("users") as conn:
        conn.execute("DELETE FROM users")


def _rollup_refresh():
    from actions import rollup

    return rollup.refresh()


ENTRY_POINTS = {
    "db setup": _db("setup"),
    "db drop": _db("drop"),
    "db kill-all": _db("kill-all"),
    "db create": _db("create"),
    "db migrate": _db("migrate"),
    "db roles": _db("roles"),
    "db seed": _db("seed", "--demo"),
    "db rollup": _db("rollup", "--rebuild"),
    "seed sample": _seed("sample"),
    "seed generate": _seed("generate", "--users", "5", "--posts", "5"),
    "seed reset": _seed("reset", "--yes"),
    "seed create-activity": _seed("create-activity", "--handle", "person0", "--message", "hi", "--ttl", "7-days"),
    "admin page: sample rows": _action("seed_sample", by="admin"),
    "admin page: generate": _action("seed_generate", users=5, posts=5, days=1, seed=1, by="admin"),
    "admin page: reset": _action("reset", confirmed=True, by="admin"),
    "admin page: create activity": _create_activity,
    "rollup refresh": _rollup_refresh,
    "writer pool": _writing,
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_writing_entry_point_asks_the_guard_and_is_refused(entry, production, db, db_url, monkeypatch, capsys):
    """CONNECTION_URL names production through another address; nothing may change, and
    every path must have asked db.guard (the spy) before refusing."""
    asked = []
    real = guard.production
    monkeypatch.setattr(guard, "production", lambda *a, **k: asked.append(1) or real(*a, **k))
    before = counts(db)
    try:
        result = ENTRY_POINTS[entry]()
    except guard.WriteRefused:
        result = "refused"
    out, err = capsys.readouterr()
    assert asked, f"{entry} did not ask the production guard"
    assert result in ("refused", 2), (entry, result, out, err)
    assert "production" in (out + err if result == 2 else "production")
    assert counts(db) == before


def test_sessions_actions_are_refused_on_production(production, db_url):
    with pytest.raises(guard.WriteRefused):
        _terminate(db_url)()


def test_a_page_view_starts_no_rollup_write_on_production(production, db, monkeypatch):
    from actions import rollup
    from queries.growth import growth

    refreshed = []
    monkeypatch.setattr(rollup, "refresh", lambda **k: refreshed.append(1))
    db.execute("UPDATE dashboard_rollup_state SET through = '-infinity'")
    rollup.keep_up(growth(fresh=True))  # what the Growth page does
    assert rollup.wait_idle()
    assert refreshed == []
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    rollup._next_try.clear()
    rollup.keep_up(growth(fresh=True))
    assert rollup.wait_idle() and refreshed == [1]


def test_admin_page_says_so_before_anyone_clicks(production):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=30)
    at.session_state["admin_user"] = "admin"
    at.run()
    assert not at.exception
    assert any("production" in w.value and "ALLOW_PROD_WRITES" in w.value for w in at.warning)


def test_with_prod_and_the_name_typed_back_drop_still_works_deliberately(production, monkeypatch, capsys):
    """The guard refuses the accident, not the deliberate act: --prod selects PROD_CONNECTION_URL."""
    from db.__main__ import main

    assert main(["drop"]) == 2 and "--prod" in capsys.readouterr().err
    assert main(["--prod", "--yes-i-mean-prod", "kill-all"]) == 0
    assert "terminated" in capsys.readouterr().out


def test_migrate_itself_refuses_production_unless_deliberate(production, db):
    """MIGRATE_ON_START in a container pointed at production must not change its schema."""
    from db.migrate import migrate

    port, name = production
    with pytest.raises(guard.WriteRefused, match="db --prod migrate"):
        migrate(f"postgresql://postgres@127.0.0.1:{port}/{name}?sslmode=disable", log=lambda m: None)
    assert (
        migrate(
            f"postgresql://postgres@127.0.0.1:{port}/{name}?sslmode=disable", log=lambda m: None, production_ok=True
        )
        == []
    )  # deliberate: allowed (nothing pending)


def test_a_dedicated_writer_connection_asks_the_guard_too(production):
    from db import pool

    with pytest.raises(guard.WriteRefused), pool.dedicated("probe", role=pool.WRITER):
        pass


def test_the_settings_passed_decide_allow_prod_writes(monkeypatch):
    from dataclasses import replace

    from db.settings import get_settings

    monkeypatch.setenv("CONNECTION_URL", "postgresql://u@h/db")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", "postgresql://u@h/db")
    allowed = replace(get_settings(), allow_prod_writes=True)
    guard.require_writable("x", settings=allowed)  # no exception: the settings given say yes
    with pytest.raises(guard.WriteRefused):
        guard.require_writable("x")


def test_a_new_database_on_another_server_can_be_created_while_production_is_known(
    production, pg_server, monkeypatch, capsys
):
    """The identity is asked of the maintenance database: a database that does not exist yet
    is no reason to doubt that its server is not production's."""
    from db import embedded
    from db.__main__ import main
    from tests.conftest import server_dir

    other = server_dir("other")
    try:
        server = embedded.start(other / "data", log=lambda m: None)
        monkeypatch.setenv("CONNECTION_URL", server.replace("/postgres?", "/brand_new?"))
        guard.forget()
        assert main(["create"]) == 0, capsys.readouterr().err
        assert "brand_new created" in capsys.readouterr().out
    finally:
        embedded.destroy(other / "data")


def test_make_run_skips_migrate_on_start_on_production_and_still_serves(production, monkeypatch, capsys):
    import serve

    port, name = production
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", f"postgresql://postgres@127.0.0.1:{port}/{name}?sslmode=disable")
    monkeypatch.setenv("MIGRATE_ON_START", "1")
    started = []
    monkeypatch.setattr(serve, "_port_problem", lambda host, port: None)
    monkeypatch.setattr(
        serve.subprocess, "Popen", lambda *a, **k: started.append(a) or (_ for _ in ()).throw(KeyboardInterrupt)
    )
    assert serve.main() == 0
    out = capsys.readouterr().out
    assert "MIGRATE_ON_START skipped: Refused to migrate" in out and started
