"""Shared machinery for tests that drive the real app in headless Chromium.

Debian's Chromium (/usr/bin/chromium) driven by Playwright; Playwright's own
browser download does not work here. Tests skip, saying why, when it is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import pytest

from tests.conftest import _ISOLATED, ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )


def require_chromium() -> str:
    path = chromium_path()
    if not path:
        pytest.skip("browser tests skipped: Chromium not found (apt-get install chromium; .ci/run installs it)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict[str, str], log_path: Path):
    """`python -m web run app.py` (what `make run` serves) on a free port with `env`; yields the base URL."""
    port = free_port()
    # Only `env` decides the settings: not a developer's shell, nor what an earlier test left in os.environ.
    inherited = {k: v for k, v in os.environ.items() if k not in _ISOLATED}
    # Nor the developer's .streamlit/secrets.toml (make run writes one): Streamlit copies its
    # top-level keys into the process environment, over the values given here.
    secrets = env.get("DASHBOARD_SECRETS_FILE") or str(log_path.parent / "no-secrets.toml")
    full_env = {**inherited, **env, "DASHBOARD_SECRETS_FILE": secrets, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "web",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--secrets.files",
        secrets,
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("app did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def app_on_a_week_of_rows(
    pg_server,
    template: str,
    log_dir: Path,
    env: dict[str, str],
    *,
    prefix: str,
    message=lambda i: "hello",
    more_rows=None,
):
    """The app served (running_app, with `env`) against a new database made from
    `template` and holding the same known rows for every app-level test: 10 users,
    one a day over 10 days, and 60 posts, one every 3 hours. `message(i)` words post
    i; `more_rows(conn, users, now)` may add more. Yields (base URL, database URL);
    the database is dropped afterwards."""
    import uuid
    from datetime import datetime, timedelta

    import psycopg

    from tests.conftest import create_database, drop_database
    from tests.helpers import add_post, add_user

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server, name, template)
    now = datetime.now(UTC).replace(tzinfo=None)
    with psycopg.connect(url, autocommit=True) as conn:
        users = [add_user(conn, f"person{i}", now - timedelta(days=i, minutes=10)) for i in range(10)]
        for i in range(60):
            add_post(conn, users[i % 10], now - timedelta(hours=i * 3, minutes=1), message=message(i))
        if more_rows:
            more_rows(conn, users, now)
    try:
        with running_app({"CONNECTION_URL": url, **env}, log_dir / "streamlit.log") as base:
            yield base, url
    finally:
        drop_database(pg_server, name)


@contextmanager
def browser():
    path = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """Until the script run has finished: the app root says `notRunning` (the
    frontend's own test hook) and the main area exists."""
    page.wait_for_selector(
        "[data-testid=stApp][data-test-script-state=notRunning] [data-testid=stMain]", timeout=timeout_ms
    )
    # Widgets whose code is still loading show as skeletons.
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=timeout_ms)


def visible_errors(page) -> list[str]:
    """Texts of exception boxes and error alerts shown on the page."""
    texts = [e.inner_text() for e in page.locator("[data-testid=stException]").all()]
    texts += [e.inner_text() for e in page.locator("[data-testid=stAlertContentError]").all()]
    return texts


def fill_activity_form(page, handle: str, message: str, ttl: str) -> None:
    """Fill the Admin page's "Create activity" form, each choice settled on the page
    before the next (a click racing a rerun could send the form without one)."""
    from playwright.sync_api import expect

    page.get_by_test_id("stSelectbox").nth(1).click()  # the author picker (nth(0): the sidebar's time zone)
    page.keyboard.type(handle)
    page.get_by_role("option", name=handle, exact=True).click()
    wait_for_app(page)
    expect(page.get_by_label("Message")).to_have_count(1)  # the run's old elements are gone
    page.get_by_label("Message").fill(message)
    page.get_by_label("Message").press("Tab")
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").nth(2).click()
    page.get_by_role("option", name=ttl, exact=True).click()
    wait_for_app(page)
    expect(page.get_by_role("combobox", name="Author handle")).to_have_value(handle)
    expect(page.get_by_label("Message")).to_have_value(message)
    expect(page.get_by_role("combobox", name="TTL")).to_have_value(ttl)
