"""What a person sees: the real app in headless Chromium against the test database."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import expect

from tests.browser import (
    app_on_a_week_of_rows,
    browser,
    fill_activity_form,
    screenshot,
    visible_errors,
    wait_for_app,
)
from tests.helpers import add_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(pg_server, templates, tmp_path_factory):
    """The dashboard served against its own database holding a week of known rows."""
    with app_on_a_week_of_rows(
        pg_server,
        templates["migrated"],
        tmp_path_factory.mktemp("app"),
        {"ADMIN_PASSWORD": "browser-secret"},
        prefix="browser",
    ) as (base, url):
        yield {"base": base, "db": url}


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def counts(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM activities)").fetchone()


def test_a_deep_link_as_the_very_first_request_gets_the_full_app(app, chromium):
    # Runs first in this module: no session has loaded dashboard.py yet.
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app["base"] + "/admin")
    page.get_by_text("Admin password").wait_for(timeout=30_000)
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "Report time zone" in sidebar  # dashboard.py's sidebar, not Streamlit's bare page list
    assert "dashboard" not in sidebar.lower().split()
    page.close()


@pytest.mark.parametrize(
    "path, title", [("/explore", "Explore"), ("/sessions", "Database sessions"), ("/admin", "Admin")]
)
def test_every_page_renders_without_errors(app, chromium, path, title):
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(app["base"] + path)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    wait_for_app(page)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    assert visible_errors(page) == []
    if path == "/admin":
        assert page.get_by_text("Sign in as an admin to use this page.").is_visible()
        assert page.get_by_label("Admin password").is_visible()
    if path == "/explore":
        page.locator("[data-testid=stVegaLiteChart] svg g.mark-rect path").first.wait_for(state="attached")
    screenshot(page, path.strip("/"))
    page.close()


def test_growth_page_shows_the_database_counts(app, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(app["base"])
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    wait_for_app(page)
    users, posts = counts(app["db"])
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    cards = [
        [line.strip() for line in m.inner_text().splitlines() if line.strip()]
        for m in page.get_by_test_id("stMetric").all()
    ]
    metrics = {card[0]: card[1] for card in cards}  # label, value, delta...
    assert metrics.get("Total users") == f"{users:,}", cards
    assert metrics["Total posts"] == f"{posts:,}"
    assert visible_errors(page) == []
    assert "As of" in page.get_by_text("As of").first.inner_text()
    screenshot(page, "growth")

    charts = page.locator("[data-testid=stVegaLiteChart]")
    charts.nth(1).locator("svg g.mark-rect path").nth(6).wait_for(state="attached")
    assert charts.count() == 2
    for i in range(2):
        svg = charts.nth(i).locator("svg").first
        bars = svg.locator("g.mark-rect path")
        assert bars.count() == 7
        labels = [t.text_content() for t in svg.locator("g.role-axis-label text").all()]
        assert sum(1 for t in labels if t[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")) == 7, labels
        assert any("(partial)" in t for t in labels)
    page.close()


def test_csv_download_equals_the_table_on_screen(app, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    page.goto(app["base"])
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    wait_for_app(page)
    # The second chart's table and files are behind its "Table and downloads" popover.
    page.get_by_test_id("stMain").get_by_role("button", name="Table and downloads").nth(1).click()
    grid = page.get_by_test_id("stPopoverBody").get_by_test_id("stDataFrame")
    grid.locator("tbody td").first.wait_for(state="attached")
    # Glide's data grid paints on a canvas and mirrors its cells in an accessible table.
    rows = [[c.text_content().strip() for c in r.locator("td").all()] for r in grid.locator("tbody tr").all()]
    assert len(rows) == 7
    with page.expect_download() as info:
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "new_posts_per_day.csv"
    content = open(download.path(), encoding="utf-8").read()
    # Opens as it is in a spreadsheet: a byte-order mark, no provenance line, the screen's headers.
    assert content.startswith("\ufeffDay,")
    parsed = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
    headers = [h.text_content().strip() for h in grid.locator("thead th").all()]
    assert parsed[0] == ["Day", "Count", "Partial"] == [h for h in headers if h], headers
    assert [[d, c, p.lower()] for d, c, p in parsed[1:]] == [[d, c, p.lower()] for d, c, p in rows]
    page.close()


def test_a_post_made_on_the_admin_page_moves_the_growth_numbers(app, chromium):
    with psycopg.connect(app["db"], autocommit=True) as conn:
        add_user(conn, "presenter")
    page = chromium.new_page(viewport={"width": 1400, "height": 1300})
    page.goto(app["base"])
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    wait_for_app(page)
    posts_before = counts(app["db"])[1]

    page.get_by_role("link", name="Admin").click()
    page.get_by_label("Admin password").fill("browser-secret")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Message").wait_for(timeout=30_000)
    wait_for_app(page)
    fill_activity_form(page, "presenter", "Live from the demo", "7-days")
    page.get_by_role("button", name="Create activity").click()
    # Posted, or the refusal that says why not.
    page.get_by_text("Posted.").or_(page.get_by_test_id("stAlertContentError")).first.wait_for(timeout=30_000)
    assert visible_errors(page) == []
    screenshot(page, "admin-created")
    assert counts(app["db"])[1] == posts_before + 1

    page.get_by_role("link", name="Growth").click()
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    wait_for_app(page)
    total = page.get_by_test_id("stMetric").nth(1).inner_text()
    assert f"{posts_before + 1:,}" in total  # the write invalidated the cached totals
    page.close()


def test_an_admin_downloads_a_raw_extract_streamed_by_the_server(app, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    page.goto(app["base"] + "/admin")
    page.get_by_label("Admin password").fill("browser-secret")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Message").wait_for(timeout=30_000)
    page.get_by_role("link", name="Explore").click()
    button = page.get_by_role("link", name="Download raw activities (ZIP: CSV + JSON)")
    button.wait_for(timeout=30_000)
    wait_for_app(page)
    shown = page.get_by_test_id("stMetric").filter(has_text="Raw activities in the range").inner_text()
    with context.expect_event("download") as info:  # the link opens a tab that turns into a download
        button.click()
    download = info.value
    start = datetime.now(UTC).date() - timedelta(days=6)
    name = f"raw_activities_{start}_{start + timedelta(days=6)}"
    assert download.suggested_filename == f"{name}.zip"  # the CSV and its provenance JSON
    with zipfile.ZipFile(download.path()) as zf:
        body = zf.read(f"{name}.csv").decode("utf-8-sig")
        provenance = json.loads(zf.read(f"{name}.csv.provenance.json"))
    with psycopg.connect(app["db"]) as conn:
        expected = conn.execute("SELECT count(*) FROM activities WHERE created_at >= %s", (start,)).fetchone()[0]
    assert provenance["rows"] == expected and provenance["personal_data"] == "full" and f"{expected:,}" in shown
    assert len(list(csv.DictReader(io.StringIO(body)))) == expected
    assert [p.url for p in context.pages] == [page.url]  # the app stays where it was
    assert visible_errors(page) == []
    context.close()
