"""The Sessions page in headless Chromium at 1440×900, the reviewer's window: PID, user, application,
state, duration, wait and the query's first characters visible together without scrolling sideways,
and the counts equal to the visible rows plus the stated hidden ones."""

from __future__ import annotations

import re

import pytest

from queries import sessions
from tests.background import Background, wait_until
from tests.browser import browser, running_app, screenshot, visible_errors, wait_for_app

pytestmark = pytest.mark.browser

# The a11y table glide-data-grid keeps in step with the canvas: it holds the columns and rows
# drawn in the visible part of the grid (partly visible ones included), with their text.
GRID = """(index) => {
  const df = document.querySelectorAll('[data-testid=stDataFrame]')[index];
  const scroller = df.querySelector('.dvn-scroller');
  const heads = [...df.querySelectorAll('table thead th')].map(t => t.textContent.trim());
  const rows = [...df.querySelectorAll('table tbody tr')]
    .map(r => [...r.querySelectorAll('td')].map(td => td.textContent.trim()));
  return {heads, rows, scrollLeft: scroller.scrollLeft, clientWidth: scroller.clientWidth};
}"""


def grid(page, index: int = 0) -> dict:
    return page.evaluate(GRID, index)


def test_sessions_readable_at_1440(db_url, tmp_path):
    # Listed first (oldest query): the session panel starts on it, until a row is picked.
    first = Background(db_url, "report-runner").start("SELECT pg_sleep(30) /* weekly report */")
    wait_until(lambda: first.pid in set(sessions.snapshot().sessions.query("state == 'active'")["pid"]))
    sleeper = Background(db_url, "billing-worker").start("SELECT pg_sleep(30) /* nightly invoice run */")
    idle = [Background(db_url, f"idle-client-{i}") for i in range(3)]
    for s in idle:
        s.execute("SELECT 1")
    try:
        env = {"CONNECTION_URL": db_url, "ADMIN_PASSWORD": "browser-secret"}
        with running_app(env, tmp_path / "streamlit.log") as base, browser() as chromium:
            page = chromium.new_page(viewport={"width": 1440, "height": 900})
            page.goto(base + "/sessions")
            page.get_by_role("heading", name="Database sessions").wait_for(timeout=30_000)
            wait_for_app(page)
            page.get_by_text("Admin sign-in").click()
            page.get_by_label("Admin password").fill("browser-secret")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Download CSV (whole queries)").wait_for(timeout=30_000)
            wait_for_app(page)
            page.get_by_role("heading", name="Database sessions").scroll_into_view_if_needed()

            g = wait_until(
                lambda: (
                    (g := grid(page)) and "User" in g["heads"] and any(str(sleeper.pid) in r for r in g["rows"]) and g
                ),
                20,
            )
            screenshot(page, "database-sessions-1440")
            assert g["scrollLeft"] == 0
            wanted = ["PID", "User", "Application", "State", "For", "Wait", "Query"]
            assert g["heads"][: len(wanted)] == wanted, g["heads"]
            # The column after Query is drawn too: Query's right edge is inside the window.
            assert len(g["heads"]) > len(wanted), g["heads"]
            row = next(r for r in g["rows"] if str(sleeper.pid) in r)
            cells = dict(zip(g["heads"], row[-len(g["heads"]) :], strict=True))
            assert cells["Application"] == "billing-worker" and cells["State"] == "active"
            assert re.fullmatch(r"\d+(\.\d)? s|\d+ min( \d+ s)?", cells["For"]), cells["For"]
            assert cells["Wait"] == "Timeout: PgSleep"
            assert cells["Query"].startswith("SELECT pg_sleep(30)")
            # Counts: the metric equals the rows drawn; the caption's hidden ones make up the total.
            shown = int(page.get_by_test_id("stMetricValue").first.inner_text())
            assert shown == len(g["rows"])
            caption = page.get_by_text(re.compile(r"^\d+ of \d+ sessions of this database shown")).inner_text()
            of, total = (int(x) for x in re.match(r"(\d+) of (\d+)", caption).groups())
            hidden = re.search(r"; (\d+) hidden: ([^.]*)\.", caption)
            assert of == shown and shown + int(hidden.group(1)) == total, caption
            assert "idle (Hide idle sessions)" in hidden.group(2)
            # Picking the row (its checkbox, left of the PID) opens that session below, ready to act on.
            box = page.get_by_test_id("stDataFrame").first.bounding_box()
            index = next(i for i, r in enumerate(g["rows"]) if str(sleeper.pid) in r)
            page.mouse.click(box["x"] + 16, box["y"] + 35 * (index + 1) + 17)
            code = page.get_by_test_id("stCode")
            try:
                code.filter(has_text="nightly invoice run").wait_for(timeout=20_000)
            finally:
                screenshot(page, "database-sessions-picked")
            assert "weekly report" not in code.first.inner_text()
            assert page.get_by_role("button", name="Cancel query…").is_enabled()
            assert not visible_errors(page)
            page.close()
    finally:
        for s in (first, sleeper, *idle):
            s.close()
