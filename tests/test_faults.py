"""Faults a demo can meet: the database stops and returns, the pool runs dry."""

import threading
import time

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from db import embedded, pool
from db.migrate import migrate
from tests.browser import browser, running_app, screenshot, visible_errors
from tests.conftest import ROOT, server_dir
from tests.helpers import add_post, add_user

PAGE = str(ROOT / "pages" / "growth.py")


@pytest.fixture
def own_server():
    """A server this test may stop and start, away from the shared one."""
    import shutil

    base = server_dir("fault")
    url = embedded.ensure_database(embedded.start(base / "pg", log=lambda m: None), "cruddur")
    migrate(url, log=lambda m: None)
    with psycopg.connect(url, autocommit=True) as conn:
        add_post(conn, add_user(conn, "someone"))
    yield base / "pg", url
    embedded.destroy(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.browser
def test_outage_is_shown_plainly_and_the_page_recovers_by_itself(own_server, tmp_path):
    pgdata, url = own_server
    env = {"CONNECTION_URL": url, "CACHE_TTL": "0", "POOL_TIMEOUT_MS": "2000", "STATEMENT_TIMEOUT_MS": "5000"}
    with browser() as chromium, running_app(env, tmp_path / "app.log") as base:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        # A first visitor while the database is down: this process holds no last good
        # numbers yet (with them, a page shows those instead: tests/test_demo_browser.py).
        embedded.stop(pgdata)
        started = time.monotonic()
        page.goto(base)
        alert = page.get_by_test_id("stAlertContentError")
        alert.wait_for(timeout=15_000)
        shown_after = time.monotonic() - started
        assert "The database is unavailable right now." in alert.inner_text()
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_test_id("stMetricValue").count() == 0
        assert shown_after < 5 + 5, f"outage message took {shown_after:.1f} s"  # statement timeout + first load
        screenshot(page, "growth-database-down")

        embedded.start(pgdata, log=lambda m: None)
        # No reload and no click: the page retries on its own every few seconds.
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
        assert visible_errors(page) == []
        screenshot(page, "growth-recovered")


def test_an_exhausted_pool_waits_briefly_then_says_so_and_leaks_nothing(db, monkeypatch):
    monkeypatch.setenv("POOL_MAX_SIZE", "2")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    release = threading.Event()
    held = threading.Barrier(3)

    def hog():
        with pool.connection(pool.READER):
            held.wait()
            release.wait(30)

    hogs = [threading.Thread(target=hog) for _ in range(2)]
    [t.start() for t in hogs]
    held.wait()
    try:
        started = time.monotonic()
        at = AppTest.from_file(PAGE, default_timeout=30).run()
        waited = time.monotonic() - started
        assert not at.exception
        assert "All 2 database connections stayed busy" in at.error[0].value
        assert waited >= 1.0  # it waited for a connection before giving up
    finally:
        release.set()
        [t.join() for t in hogs]
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.error and at.metric[0].value == "0"
    stats = pool.get_pool(pool.READER).get_stats()
    assert stats.get("requests_waiting", 0) == 0
    assert stats["pool_available"] == stats["pool_size"]  # every connection came back
