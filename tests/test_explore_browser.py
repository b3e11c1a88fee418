"""Explore's view in its URL, in real headless Chromium: a link copied from one
browser session opens the same view in a fresh one; a bad link falls back with a note."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import app_on_a_week_of_rows, browser, screenshot, visible_errors, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(pg_server, templates, tmp_path_factory):
    with app_on_a_week_of_rows(
        pg_server, templates["migrated"], tmp_path_factory.mktemp("explore-url"), {}, prefix="explore_url"
    ) as (base, url):
        yield {"base": base, "db": url}


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def pick(page, nth: int, option: str) -> None:
    """Choose `option` in the nth select box of the page (0: the sidebar's time zone)."""
    page.get_by_test_id("stSelectbox").nth(nth).click()
    page.keyboard.type(option)  # as a person finds a zone among hundreds: the list shows only what fits
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def view_of(page) -> dict:
    """What the person sees: the choices, the table (headers and rows) and the chart's title."""
    wait_for_app(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.locator("tbody td").first.wait_for(state="attached")
    return {
        "choices": [s.locator("input").input_value() for s in page.get_by_test_id("stSelectbox").all()],
        "granularity": page.get_by_test_id("stButtonGroup").locator("[aria-checked=true]").inner_text().strip(),
        "cumulative": page.get_by_role("switch").first.is_checked(),
        "headers": [h.text_content().strip() for h in grid.locator("thead th").all() if h.text_content().strip()],
        "rows": [[c.text_content().strip() for c in r.locator("td").all()] for r in grid.locator("tbody tr").all()],
        "caption": page.get_by_test_id("stCaptionContainer").first.inner_text().split(" · ")[0],
    }


def test_a_shared_link_opens_the_same_view_in_a_fresh_session(app, chromium):
    first = chromium.new_context(viewport={"width": 1400, "height": 1600})
    page = first.new_page()
    page.goto(app["base"] + "/explore")
    page.get_by_role("heading", name="Explore").wait_for(timeout=30_000)
    wait_for_app(page)
    pick(page, 0, "Asia/Tokyo")
    pick(page, 1, "New users")
    pick(page, 2, "Last 30 days")
    page.get_by_test_id("stButtonGroup").get_by_text("Week (from Monday)").click()
    wait_for_app(page)
    page.get_by_text("Cumulative (running total").click()
    wait_for_app(page)
    page.wait_for_function("() => location.search.includes('cumulative=true')", timeout=30_000)
    shared = page.url
    query = {k: v[0] for k, v in parse_qs(urlsplit(shared).query).items()}
    assert query == {
        "metric": "new_users",
        "range": "last_30_days",
        "granularity": "week",
        "cumulative": "true",
        "tz": "Asia/Tokyo",
    }
    seen = view_of(page)
    assert seen["headers"] == ["Period start", "Period end", "Count", "Running total", "Partial"]
    screenshot(page, "explore-before-sharing")
    first.close()

    fresh = chromium.new_context(viewport={"width": 1400, "height": 1600})  # no cookies, no session
    other = fresh.new_page()
    other.goto(shared)
    other.get_by_role("heading", name="Explore").wait_for(timeout=30_000)
    opened = view_of(other)
    assert opened == seen
    assert opened["choices"][:3] == ["Asia/Tokyo", "New users", "Last 30 days"]
    assert opened["granularity"] == "Week (from Monday)" and opened["cumulative"]
    assert visible_errors(other) == []
    screenshot(other, "explore-from-shared-link")
    fresh.close()


def test_a_link_with_unusable_values_falls_back_with_a_note(app, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.goto(app["base"] + "/explore?metric=%3Cscript%3Ealert(1)%3C/script%3E&granularity=fortnight&tz=Mars/Olympus")
    page.get_by_role("heading", name="Explore").wait_for(timeout=30_000)
    wait_for_app(page)
    text = page.get_by_test_id("stMain").inner_text() + page.get_by_test_id("stSidebar").inner_text()
    assert "cannot be used" in text and "fortnight" in text and "Mars/Olympus" in text
    assert visible_errors(page) == [] and not page.get_by_test_id("stException").count()
    page.get_by_test_id("stDataFrame").first.locator("tbody td").first.wait_for(state="attached")
    assert re.search(r"granularity=day", page.url) and "fortnight" not in page.url
    screenshot(page, "explore-bad-link")
    context.close()


def test_a_link_with_a_custom_range_opens_those_dates(app, chromium):
    from datetime import UTC, datetime, timedelta

    start, end = datetime.now(UTC).date() - timedelta(days=9), datetime.now(UTC).date() - timedelta(days=2)
    context = chromium.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.goto(f"{app['base']}/explore?metric=new_posts&range=custom&granularity=day&dates={start}..{end}")
    page.get_by_role("heading", name="Explore").wait_for(timeout=30_000)
    seen = view_of(page)
    assert seen["choices"][1:] == ["New posts", "Custom"] and seen["granularity"] == "Day"
    assert [row[0] for row in seen["rows"]] == [(start + timedelta(days=i)).isoformat() for i in range(8)]
    assert seen["caption"].startswith(f"Custom: {start:%a %d %b %Y} to {end:%a %d %b %Y}")
    assert visible_errors(page) == [] and f"dates={start}..{end}" in page.url
    context.close()
