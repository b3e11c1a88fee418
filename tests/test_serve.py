"""`make run`'s launcher (serve.py): embedded database, demo data, admin password, clean shutdown, no orphans."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import tomllib

import psutil
import pytest

from serve import ensure_admin_password
from tests.conftest import ROOT, server_dir


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

    from db import embedded

    path = server_dir("serve")
    yield path
    embedded.destroy(path / "pg")
    shutil.rmtree(path, ignore_errors=True)


def start(tmp_path, port, data_dir):
    env = {k: v for k, v in os.environ.items() if k != "CONNECTION_URL"}
    env.update(PORT=str(port), DASHBOARD_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1",
               DASHBOARD_SECRETS_FILE=str(tmp_path / "secrets.toml"))
    log = open(tmp_path / f"serve-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
    secrets.write_text('ADMIN_PASSWORD = ""\nREPORT_TZ = "Asia/Tokyo"\n\n[connections.x]\nurl = "postgresql://u@h/db"\n')
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
