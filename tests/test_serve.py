"""`make run`'s launcher (serve.py): embedded database, demo data, admin password, clean shutdown, no orphans."""

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import psutil
import pytest

import serve
from db import embedded
from serve import ensure_admin_password
from tests.conftest import ROOT, server_dir
from tests.helpers import ctrl_c_reaches_it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def our_postgres(data_dir) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and any(str(data_dir) in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.fixture
def data_dir():
    import shutil

    path = server_dir("serve")
    yield path
    embedded.destroy(path / "pg")
    shutil.rmtree(path, ignore_errors=True)


def start(tmp_path, port, data_dir):
    env = {k: v for k, v in os.environ.items() if k != "CONNECTION_URL"}
    env.update(
        PORT=str(port),
        DASHBOARD_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        DASHBOARD_SECRETS_FILE=str(tmp_path / "secrets.toml"),
    )
    log = open(tmp_path / f"serve-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=ctrl_c_reaches_it,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as resp:
                if resp.read() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
        assert proc.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
    raise AssertionError("dashboard did not become healthy")


@pytest.mark.slow
def test_run_seeds_serves_and_stops_everything_on_ctrl_c(tmp_path, data_dir):
    port = free_port()
    proc = start(tmp_path, port, data_dir)
    try:
        log = (tmp_path / f"serve-{port}.log").read_text()
        assert "loading demo data" in log
        password = tomllib.loads((tmp_path / "secrets.toml").read_text())["ADMIN_PASSWORD"]
        assert log.count(password) == 1  # printed once, at the first start
        assert our_postgres(data_dir), "embedded server should be running"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert not our_postgres(data_dir)
    assert not (data_dir / "embedded-url").exists()


@pytest.mark.slow
def test_a_killed_run_leaves_a_server_that_the_next_run_reuses_and_stops(tmp_path, data_dir):
    port = free_port()
    proc = start(tmp_path, port, data_dir)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait(10)
    assert our_postgres(data_dir), "the orphaned server is the case under test"
    port2 = free_port()
    proc = start(tmp_path, port2, data_dir)
    try:
        log = (tmp_path / f"serve-{port2}.log").read_text()
        assert "Reusing the embedded PostgreSQL" in log
        assert "not seeding" in log  # the data survived
        assert "Admin page password" not in log  # the stored one is kept and not printed again
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert not our_postgres(data_dir)


def test_a_password_is_generated_stored_privately_and_printed_once(tmp_path, monkeypatch):
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    said = []
    password = ensure_admin_password(said.append)
    assert len(password) >= 20
    assert tomllib.loads(secrets.read_text())["ADMIN_PASSWORD"] == password
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert len(said) == 1 and password in said[0]
    from ui.auth import admin_password

    assert admin_password() == password  # what the sign-in form compares with
    assert ensure_admin_password(said.append) is None and len(said) == 1


def test_existing_secrets_are_kept_and_tables_stay_tables(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'ADMIN_PASSWORD = ""\nREPORT_TZ = "Asia/Tokyo"\n\n[connections.x]\nurl = "postgresql://u@h/db"\n'
    )
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    password = ensure_admin_password(lambda line: None)
    loaded = tomllib.loads(secrets.read_text())
    assert loaded["ADMIN_PASSWORD"] == password and loaded["REPORT_TZ"] == "Asia/Tokyo"
    assert loaded["connections"] == {"x": {"url": "postgresql://u@h/db"}}


def test_nothing_is_generated_when_sign_in_is_configured(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("ADMIN_PASSWORD", "chosen")
    assert ensure_admin_password() is None and not secrets.exists()
    monkeypatch.delenv("ADMIN_PASSWORD")
    oidc = '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "c"\nclient_id = "i"\n'
    secrets.write_text(oidc)
    assert ensure_admin_password() is None and secrets.read_text() == oidc


# -- a port another program holds ------------------------------------------------


@pytest.fixture
def held_port():
    """A port some other program is listening on (it never accepts)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        other.setblocking(False)
        yield other


def test_a_port_in_use_is_one_clear_line_and_nothing_starts(tmp_path, data_dir, held_port):
    port = held_port.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "CONNECTION_URL"}
    env.update(
        PORT=str(port),
        DASHBOARD_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        DASHBOARD_SECRETS_FILE=str(tmp_path / "secrets.toml"),
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "serve.py")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert output.splitlines() == [
        f"[serve] error: port {port} on 127.0.0.1 is already in use by another program; set PORT=... to use another"
    ]
    with pytest.raises(BlockingIOError):
        held_port.accept()  # nobody knocked: no warm-up against the other program
    assert not our_postgres(data_dir) and not (data_dir / "embedded-url").exists()


def test_port_problem_binds_like_streamlit(held_port):
    port = held_port.getsockname()[1]
    assert "already in use by another program" in serve._port_problem("127.0.0.1", str(port))
    assert "already in use" in serve._port_problem("0.0.0.0", str(port))  # the wildcard overlaps it
    assert serve._port_problem("127.0.0.1", str(free_port())) is None
    assert serve._port_problem("127.0.0.1", "http") == "PORT must be a port number, got 'http'"
    assert "between 0 and 65535" in serve._port_problem("127.0.0.1", "70000")


def test_a_previous_runs_time_wait_connections_do_not_count_as_in_use():
    """Streamlit binds with SO_REUSEADDR, so connections the last run closed (TIME_WAIT)
    do not stop a restart; the check must not refuse what Streamlit would accept."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: TIME_WAIT on the server's port
        client.recv(1)
        client.close()
    assert serve._port_problem("127.0.0.1", str(port)) is None


def exited_child():
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child.wait(30)
    return child


def test_warm_up_stops_when_streamlit_has_exited(capsys):
    assert serve._warm_up(f"http://127.0.0.1:{free_port()}", exited_child(), timeout=30) is False
    assert "Streamlit exited (status 3)" in capsys.readouterr().out


def test_warm_up_does_not_take_another_programs_health_for_ours(capsys):
    """Another app answering /_stcore/health while our Streamlit has died is not the dashboard."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        assert serve._warm_up(f"http://127.0.0.1:{other.server_address[1]}", exited_child(), timeout=30) is False
    finally:
        other.shutdown()
        other.server_close()
    out = capsys.readouterr().out
    assert "Streamlit exited" in out and "warmed up" not in out


@pytest.mark.parametrize(
    "host, url",
    [
        ("127.0.0.1", "http://127.0.0.1:8501"),
        ("0.0.0.0", "http://127.0.0.1:8501"),
        ("::1", "http://[::1]:8501"),
        ("::", "http://[::1]:8501"),
        ("localhost", "http://localhost:8501"),
    ],
)
def test_the_warm_up_and_the_announcement_go_where_host_binds(host, url):
    assert serve._local_url(host, "8501") == url


@pytest.mark.slow
def test_a_second_run_that_stops_leaves_the_database_to_the_first(tmp_path, data_dir):
    first_port, second_port = free_port(), free_port()
    first = start(tmp_path, first_port, data_dir)
    try:
        second = start(tmp_path, second_port, data_dir)
        second.send_signal(signal.SIGTERM)
        second.wait(30)
        log = (tmp_path / f"serve-{second_port}.log").read_text()
        assert "Sharing the embedded PostgreSQL" in log and "left running for the run still serving" in log
        assert our_postgres(data_dir), "the first run's database must stay up"
        with urllib.request.urlopen(f"http://127.0.0.1:{first_port}/_stcore/health", timeout=5) as resp:
            assert resp.read() == b"ok"
        assert (data_dir / "embedded-url").exists()
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert "embedded PostgreSQL stopped" in (tmp_path / f"serve-{first_port}.log").read_text()
    assert not our_postgres(data_dir)


def test_a_holders_mark_whose_pid_now_belongs_to_another_process_is_not_a_holder(tmp_path):
    pgdata = tmp_path / "pg"
    embedded.hold(pgdata)
    assert embedded.holders(pgdata) == [os.getpid()]
    marks = tmp_path / "pg.holders"
    # Our pid recorded with another start time: the run that wrote it is gone, its pid reused.
    (marks / str(os.getpid())).write_text("1")
    # A dead run's mark, and an old run's mark without a start time (still honoured while alive).
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (marks / str(dead.pid)).write_text("")
    (marks / "1").write_text("")
    assert embedded.holders(pgdata) == [1]
    assert sorted(p.name for p in marks.iterdir()) == ["1"]
    assert embedded.release(pgdata) == [1]
