"""The Growth page (pages/growth.py) through Streamlit's AppTest, on a real database."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from exports.formats import to_csv
from queries.reads import fetch, run
from tests.conftest import ROOT
from tests.helpers import add_post, add_user, popovers

PAGE = str(ROOT / "pages" / "growth.py")
DASHBOARD = str(ROOT / "dashboard.py")


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def some_rows(db):
    ids = [add_user(db, f"user{i}", now_utc() - timedelta(days=i * 3)) for i in range(6)]
    for i in range(40):
        add_post(db, ids[i % 6], now_utc() - timedelta(hours=i * 5))
    return db


def metrics(at):
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_metrics_equal_the_database(some_rows):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert not at.error
    users = some_rows.execute("SELECT count(*) FROM users").fetchone()[0]
    posts = some_rows.execute("SELECT count(*) FROM activities").fetchone()[0]
    shown = metrics(at)
    assert shown["Total users"][0] == f"{users:,}"
    assert shown["Total posts"][0] == f"{posts:,}"
    week = fetch("weekly_new_counts").set_index("metric")
    assert shown["New posts, last 7 days"][0] == f"{int(week.loc['posts', 'current']):,}"
    assert shown["New users, last 7 days"][0] == f"{int(week.loc['users', 'current']):,}"
    assert len(at.get("vega_lite_chart")) == 2
    assert "As of" in at.caption[0].value


def test_no_fake_percentage_when_previous_week_was_empty(db):
    u = add_user(db, "new", now_utc() - timedelta(minutes=5))
    add_post(db, u, now_utc() - timedelta(minutes=1))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    value, delta = metrics(at)["New posts, last 7 days"]
    assert value == "1"
    assert "%" not in delta and "none before" in delta


def test_download_is_exactly_the_table_and_the_cli_output(some_rows, capsys):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    tables = at.dataframe
    assert len(tables) == 2
    shown = tables[1].value
    assert list(shown.columns) == ["day", "count", "partial"] and len(shown) == 7
    page_csv = shown.to_csv(index=False, lineterminator="\n")
    from queries.__main__ import main

    assert main(["run", "new_posts_per_day", "--format", "csv"]) == 0
    assert capsys.readouterr().out == page_csv == to_csv(run("new_posts_per_day"))


def test_cached_until_refresh(some_rows):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    before = metrics(at)["Total posts"][0]
    add_post(some_rows, add_user(some_rows, "late"))
    at.run()
    assert metrics(at)["Total posts"][0] == before  # served from the cache
    assert "cached" in at.caption[0].value
    at.button[0].click().run()  # Refresh
    assert metrics(at)["Total posts"][0] != before
    assert "fresh from the database" in at.caption[0].value


def test_report_zone_from_setting(some_rows, monkeypatch):
    monkeypatch.setenv("REPORT_TZ", "Asia/Kolkata")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert "Asia/Kolkata" in at.caption[0].value


def test_database_down_shows_a_plain_message(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody:s3cretpw@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "database is unavailable" in at.error[0].value
    assert "s3cretpw" not in at.error[0].value
    assert any(b.label == "Retry" for b in at.button)


def test_dashboard_routes_to_growth_with_sidebar(some_rows):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Cruddur growth"
    assert at.sidebar.selectbox[0].label == "Report time zone"


def test_downloads_carry_provenance_and_parquet(some_rows, monkeypatch):
    import io

    import pyarrow.parquet as pq

    from exports import files
    from tests.helpers import Downloads

    downloads = Downloads(monkeypatch)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    shown = at.dataframe[1].value
    [csv_button] = [b for b in at.download_button if b.key == "table-posts-new_posts_per_day.csv"]
    first, rest = downloads.bytes_of(csv_button).decode().split("\n", 1)
    assert rest == shown.to_csv(index=False, lineterminator="\n")
    meta = files.parse_header_line(first)
    assert (meta["dataset"], meta["rows"], meta["granularity"]) == ("new_posts_per_day", "7", "day")
    assert meta["range"] == f"{shown['day'].iloc[0]}..{shown['day'].iloc[-1]}"
    [parquet_button] = [b for b in at.download_button if b.key == "table-posts-new_posts_per_day.parquet"]
    table = pq.read_table(io.BytesIO(downloads.bytes_of(parquet_button)))
    assert table.to_pandas()["count"].tolist() == shown["count"].tolist()
    assert {b.key for b in at.download_button} >= {"chart-users-png", "chart-users-svg"}


def test_sidebar_cache_panel_shows_backend_and_counts(some_rows):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    assert not at.exception
    [panel] = popovers(at.sidebar, "Cache")
    text = " ".join(m.value for m in panel.markdown) + " ".join(c.value for c in panel.caption)
    assert "in-process" in text and "database queries" in text
    assert not [b for b in at.sidebar.button if b.label == "Clear cache"]  # admins only


def test_an_expired_result_is_shown_at_once_labelled_with_its_age(some_rows):
    from queries import reads

    AppTest.from_file(PAGE, default_timeout=30).run()
    for entry, _ in reads.backend()._entries.values():
        entry.stored_at -= 90  # older than CACHE_TTL (60 s)
        entry.computed_at -= timedelta(seconds=90)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    line = at.caption[0].value
    assert re.search(r"cached 9\d s ago", line) and "refreshing" in line, line
    assert reads.wait_for_refreshes(10)
    assert "refreshing" not in AppTest.from_file(PAGE, default_timeout=30).run().caption[0].value
