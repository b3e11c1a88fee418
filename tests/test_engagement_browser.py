"""The Engagement page as a person sees it: the real app in headless Chromium."""

import csv
import io
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from queries.engagement import period_count
from tests.browser import app_on_a_week_of_rows, browser, screenshot, visible_errors, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(pg_server, templates, tmp_path_factory):
    with app_on_a_week_of_rows(
        pg_server, templates["migrated"], tmp_path_factory.mktemp("engagement"), {}, prefix="engagement"
    ) as (base, url):
        yield {"base": base, "db": url}


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def opened(chromium, app):
    page = chromium.new_page(viewport={"width": 1400, "height": 2600}, accept_downloads=True)
    page.goto(app["base"] + "/engagement")
    page.get_by_role("heading", name="Growth accounting").wait_for(timeout=30_000)
    wait_for_app(page)
    return page


def test_the_page_renders_its_three_parts_and_one_heatmap_row_per_cohort(app, chromium):
    page = opened(chromium, app)
    for heading in ("Engagement", "Active users", "Retention by sign-up cohort", "Growth accounting"):
        assert page.get_by_role("heading", name=heading).first.is_visible()
    assert visible_errors(page) == []
    assert [m.inner_text().splitlines()[0] for m in page.get_by_test_id("stMetricLabel").all()] == [
        "DAU",
        "WAU",
        "MAU",
        "Stickiness (DAU/MAU)",
    ]
    charts = page.locator("[data-testid=stVegaLiteChart]")
    assert charts.count() == 4
    heatmap = charts.nth(1).locator("svg").first
    heatmap.locator("g.mark-rect path").first.wait_for(state="attached")
    today = datetime.now(UTC).date()
    cohorts = period_count(today - timedelta(days=89), today, "week")  # the default: last 90 days, weekly cohorts
    y_labels = heatmap.locator("g.role-axis[aria-label^='Y-axis'] g.role-axis-label text").all()
    assert len(y_labels) == cohorts, [t.text_content() for t in y_labels]
    # The triangle: a cell for each later week of every cohort that has users (an empty cohort's row is blank).
    with psycopg.connect(app["db"]) as conn:
        signed_up = [r[0].date() for r in conn.execute("SELECT created_at FROM users")]
    first = today - timedelta(days=89)
    first -= timedelta(days=first.weekday())
    weeks = {(d - first).days // 7 for d in signed_up if d >= first}
    assert heatmap.locator("g.mark-rect.role-mark path").count() == sum(cohorts - w for w in weeks)
    assert "(in progress)" in y_labels[-1].text_content()
    screenshot(page, "engagement")
    page.close()


def test_a_csv_equals_its_table(app, chromium):
    """The growth accounting table (14 weeks) against its CSV; AppTest checks every table's files."""
    page = opened(chromium, app)
    page.get_by_test_id("stMain").get_by_role("button", name="Table and downloads").nth(2).click()
    body = page.get_by_test_id("stPopoverBody")
    grid = body.get_by_test_id("stDataFrame")
    grid.locator("tbody td").first.wait_for(state="attached")
    headers = [h.text_content().strip() for h in grid.locator("thead th").all()]
    # The grid mirrors only the rows it has drawn (it virtualises): scroll it through and collect them.
    seen: dict[str, list[str]] = {}
    for _ in range(3):
        for r in grid.locator("tbody tr").all():
            cells = [c.text_content().strip() for c in r.locator("td").all()]
            if cells and cells[0]:
                seen[cells[0]] = cells
        grid.hover()
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(500)
    rows = sorted(seen.values())
    with page.expect_download() as info:
        body.get_by_role("button", name="Download CSV").click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    if text.startswith("# "):
        text = text.partition("\n")[2]
    parsed = list(csv.reader(io.StringIO(text)))
    assert [h for h in headers if h] == parsed[0]
    assert len(rows) == len(parsed) - 1 > 0

    def same(a: str, b: str) -> bool:
        if a.lower() == b.lower():
            return True
        try:
            return abs(float(a.replace(",", "")) - float(b.replace(",", ""))) < 1e-9
        except ValueError:
            return False

    for shown, filed in zip(rows, sorted(parsed[1:]), strict=True):
        shown = shown[-len(filed) :]  # a leading row-number cell, when the grid has one
        assert all(same(s, f) for s, f in zip(shown, filed, strict=True)), (shown, filed)
    assert visible_errors(page) == []
    page.close()
