"""The investor demo in headless Chromium (issue 15): calm freshness, last good numbers
through an outage, the presenter's view, nothing fetched from elsewhere, the Admin
form's manners and a sign-in that survives a reload.

One app on a database server of its own, so that the last tests can stop and start it.
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import expect

from db import embedded
from db.migrate import migrate
from tests.browser import browser, fill_activity_form, running_app, screenshot, visible_errors, wait_for_app
from tests.conftest import server_dir
from tests.helpers import add_post, add_user

pytestmark = pytest.mark.browser
PASSWORD = "demo-browser-secret"
CACHE_TTL_S = 4  # short, so that the freshness tests see results expire and refresh


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = server_dir("demo")
    pgdata = base / "pg"
    try:  # the server is stopped whatever fails, its setup included
        url = embedded.ensure_database(embedded.start(pgdata, log=lambda m: None), "cruddur")
        migrate(url, log=lambda m: None)
        now = datetime.now(UTC).replace(tzinfo=None)
        with psycopg.connect(url, autocommit=True) as conn:
            users = [add_user(conn, f"person{i}", now - timedelta(days=i, minutes=10)) for i in range(10)]
            for i in range(60):
                add_post(conn, users[i % 10], now - timedelta(hours=i * 3, minutes=1))
        env = {
            "CONNECTION_URL": url,
            "ADMIN_PASSWORD": PASSWORD,
            "CACHE_TTL": str(CACHE_TTL_S),
            "POOL_TIMEOUT_MS": "1500",
            "STATEMENT_TIMEOUT_MS": "3000",
        }
        log = tmp_path_factory.mktemp("demo") / "streamlit.log"
        with running_app(env, log) as app_url:
            yield {"base": app_url, "db": url, "pgdata": pgdata, "log": log}
    finally:
        embedded.destroy(pgdata)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def posts_in(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM activities").fetchone()[0]


def cards(page) -> dict[str, str]:
    found = {}
    for metric in page.get_by_test_id("stMetric").all():
        lines = [line.strip() for line in metric.inner_text().splitlines() if line.strip()]
        found[lines[0]] = lines[1]
    return found


def open_growth(page, base: str, query: str = "") -> None:
    page.goto(base + "/" + query)
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    wait_for_app(page)


def sign_in(page, base: str) -> None:
    page.goto(base + "/admin")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Message").wait_for(timeout=30_000)
    wait_for_app(page)


# Samples the page every 25 ms: script runs started, and how often a running
# indicator, a faded (stale) element or a spinner was on screen.
WATCH_RUNS = """() => { window._watch = [0, 0, 0, 0]; let last = null;
  setInterval(() => {
    const state = document.querySelector('[data-testid=stApp]').dataset.testScriptState;
    if (state === 'running' && last !== 'running') window._watch[0]++;
    last = state;
    const status = document.querySelector('[data-testid=stStatusWidget]');
    if (status && status.offsetParent !== null && status.innerText.trim()) window._watch[1]++;
    const faded = [...document.querySelectorAll('[data-stale=true]')].filter(e => getComputedStyle(e).opacity < 0.99);
    if (faded.length) window._watch[2]++;
    if (document.querySelector('[data-testid=stSpinner]')) window._watch[3]++;
  }, 25); }"""


def test_every_request_of_every_page_stays_on_the_apps_origin(demo, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1200})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    open_growth(page, demo["base"])
    links = page.get_by_test_id("stSidebarNav").get_by_role("link").all()
    paths = sorted({"/" + (link.get_attribute("href") or "").split("/", 3)[-1] for link in links} | {"/?present=1"})
    assert len(paths) >= 5, paths
    for signed_in in (False, True):
        if signed_in:
            sign_in(page, demo["base"])
        for path in paths:
            page.goto(demo["base"] + path)
            wait_for_app(page)
            page.wait_for_timeout(1500)  # charts, icons and fonts load after the script run
    favicons = page.locator("link[rel~='icon']").all()
    assert favicons and all(demo["base"] in (f.evaluate("e => e.href")) for f in favicons)
    elsewhere = sorted({u for u in requests if not u.startswith(demo["base"] + "/") and not u.startswith("data:")})
    assert elsewhere == [], elsewhere
    assert len(requests) > 50  # the recorder saw the app's own traffic
    context.close()


def test_the_presenters_view_shows_only_what_a_ceo_shows(demo, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1200})
    open_growth(page, demo["base"])
    text = page.get_by_test_id("stApp").inner_text()
    assert "Provenance in downloads" not in text
    assert "Database (" not in text and "cruddur" not in text.lower().replace("cruddur growth", "")
    assert page.get_by_test_id("stSidebar").get_by_role("button", name="Cache").count() == 0
    assert page.get_by_role("heading", name="Cruddur growth").is_visible()
    assert page.get_by_test_id("stSidebarLogo").count() >= 1
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    assert page.get_by_test_id("stVegaLiteChart").count() == 2
    assert re.search(r"As of \d\d:\d\d UTC, .* · updated", text)
    screenshot(page, "demo-growth")

    open_growth(page, demo["base"], "?present=1")
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    page.locator("[data-testid=stVegaLiteChart] svg g.mark-rect path").first.wait_for(state="attached")
    for hidden in ("stSidebar", "stHeader", "stToolbar"):
        assert not page.get_by_test_id(hidden).first.is_visible() if page.get_by_test_id(hidden).count() else True
    assert page.get_by_role("button", name="Refresh").count() == 0
    assert page.get_by_role("button", name="Table and downloads").count() == 0
    assert page.get_by_role("heading", name="Cruddur growth").is_visible()
    assert visible_errors(page) == []
    screenshot(page, "demo-present")
    page.close()


def test_a_card_opens_the_matching_explore_view(demo, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1200})
    open_growth(page, demo["base"])
    [first] = page.get_by_test_id("stMetric").filter(has_text="Total users").all()
    assert first.is_visible()
    page.get_by_role("link", name="Explore").nth(1).click()  # nth(0): the sidebar's page list
    page.get_by_role("heading", name="Explore").first.wait_for(timeout=30_000)
    assert "/explore" in page.url and "metric=new_users" in page.url and "cumulative=true" in page.url
    page.close()


def test_double_clicking_create_activity_stores_one_row(demo, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1300})
    sign_in(page, demo["base"])
    before = posts_in(demo["db"])
    page.get_by_test_id("stSelectbox").nth(1).click()  # the author picker (nth(0): the sidebar's time zone)
    page.keyboard.type("nobody-here")
    assert page.get_by_role("option", name=re.compile("Add")).count() == 0  # only existing handles
    page.keyboard.press("Escape")
    fill_activity_form(page, "person3", "Twice clicked, once posted", "7-days")
    page.get_by_role("button", name="Create activity").dblclick()
    page.get_by_text("Posted.").wait_for(timeout=30_000)
    wait_for_app(page)
    page.wait_for_timeout(1500)  # a second post, if any, would have landed by now
    assert posts_in(demo["db"]) == before + 1
    assert page.get_by_label("Message").input_value() == ""  # the form cleared
    grid = page.get_by_test_id("stMain").get_by_test_id("stDataFrame")  # and shows what was posted
    grid.locator("tbody td").first.wait_for(state="attached")
    assert "Twice clicked, once posted" in [c.text_content().strip() for c in grid.locator("tbody td").all()]
    assert visible_errors(page) == []
    screenshot(page, "demo-admin-posted")
    page.close()


def test_a_reload_keeps_the_admin_signed_in_and_sign_out_ends_it(demo, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    sign_in(page, demo["base"])
    deadline = time.monotonic() + 10
    while not [c for c in context.cookies() if c["name"] == "cruddur_admin"] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    [cookie] = [c for c in context.cookies() if c["name"] == "cruddur_admin"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["expires"] > time.time() + 7 * 3600  # ADMIN_SESSION_HOURS, 8 by default

    page.reload()
    page.get_by_label("Message").wait_for(timeout=30_000)  # still signed in: the form, no password box
    assert page.get_by_label("Admin password").count() == 0

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    page.get_by_label("Admin password").wait_for(timeout=30_000)
    deadline = time.monotonic() + 10
    while [c for c in context.cookies() if c["name"] == "cruddur_admin"] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert not [c for c in context.cookies() if c["name"] == "cruddur_admin"]
    page.reload()
    page.get_by_label("Admin password").wait_for(timeout=30_000)

    # A copy of the signed-out cookie is refused too: sign-out ended the session, not just the cookie.
    context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": demo["base"]}])
    page.reload()
    page.get_by_label("Admin password").wait_for(timeout=30_000)
    context.close()


def test_freshness_reads_calmly_and_the_page_updates_itself(demo, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1200})
    open_growth(page, demo["base"])
    page.evaluate(WATCH_RUNS)
    before = int(cards(page)["Total posts"].replace(",", ""))
    with psycopg.connect(demo["db"], autocommit=True) as conn:
        add_post(conn, conn.execute("SELECT uuid FROM users LIMIT 1").fetchone()[0])
    seen = set()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:  # no reload, no click
        line = page.get_by_text(re.compile(r"^As of ")).first.inner_text()
        seen.add(re.sub(r"\d+", "N", line))
        if int(cards(page).get("Total posts", "0").replace(",", "")) == before + 1:
            break
        page.wait_for_timeout(500)
    assert int(cards(page)["Total posts"].replace(",", "")) == before + 1, seen
    assert not any("expired" in s or "rerun" in s or "cached" in s for s in seen), seen
    assert all(re.search(r"· updated (just now|N s ago|N min ago)", s) for s in seen), seen
    runs, status, dimmed, spinners = page.evaluate("() => window._watch")
    assert runs >= 1  # the page reran by itself...
    assert status == dimmed == spinners == 0  # ...without a running indicator, faded elements or a spinner
    page.close()


def test_through_an_outage_the_last_good_numbers_stay_and_recovery_needs_no_click(demo, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1200})
    open_growth(page, demo["base"])
    shown = cards(page)
    embedded.stop(demo["pgdata"], log=lambda m: None)
    try:
        page.get_by_role("button", name="Refresh").click()
        banner = page.get_by_text(re.compile("Database unreachable since"))
        banner.wait_for(timeout=20_000)
        assert re.search(r"Database unreachable since \d\d:\d\d · showing numbers as of \d\d:\d\d", banner.inner_text())
        wait_for_app(page)
        assert cards(page) == shown  # the last good numbers, Refresh included
        assert page.get_by_test_id("stVegaLiteChart").count() == 2
        assert page.get_by_test_id("stException").count() == 0 and visible_errors(page) == []
        screenshot(page, "demo-outage")
        page.wait_for_timeout(8000)  # several retries while it is down
    finally:
        embedded.start(demo["pgdata"], log=lambda m: None)
    page.get_by_text(re.compile("Database unreachable since")).wait_for(state="detached", timeout=40_000)
    assert cards(page)["Total posts"] == shown["Total posts"]
    assert visible_errors(page) == []
    screenshot(page, "demo-recovered")
    page.close()
    log = demo["log"].read_text()
    assert log.count("the database is unreachable") == 1, log[-3000:]
    assert log.count("the database answers again") == 1, log[-3000:]
