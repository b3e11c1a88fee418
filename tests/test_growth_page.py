"""The Growth page (pages/growth.py) through Streamlit's AppTest, on a real database."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from exports.formats import to_csv
from queries.growth import growth
from queries.reads import run
from tests.conftest import ROOT
from tests.helpers import add_post, add_user, popovers, tables_open

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
    week = growth(tz="UTC", fresh=True).weekly
    assert shown["New posts, last 7 days"][0] == f"{week['posts'].current:,}"
    assert shown["New users, last 7 days"][0] == f"{week['users'].current:,}"
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
    at = tables_open(AppTest.from_file(PAGE, default_timeout=30)).run()
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
    assert "updated" in at.caption[0].value and "expired" not in at.caption[0].value
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert metrics(at)["Total posts"][0] != before
    assert "updated just now" in at.caption[0].value


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

    from tests.helpers import Downloads

    downloads = Downloads(monkeypatch)
    at = tables_open(AppTest.from_file(PAGE, default_timeout=30)).run()
    shown = at.dataframe[1].value
    [csv_button] = [b for b in at.download_button if b.key == "table-posts-new_posts_per_day.csv"]
    # The CSV opens as it is (byte-order mark, the screen's labels); provenance beside it.
    import json

    from exports.columns import label
    from exports.formats import BOM

    rest = downloads.bytes_of(csv_button).decode()
    assert rest == BOM + shown.rename(columns=label).to_csv(index=False, lineterminator="\n")
    [json_button] = [b for b in at.download_button if b.key == "table-posts-new_posts_per_day.csv.provenance.json"]
    meta = {k: str(v) for k, v in json.loads(downloads.bytes_of(json_button)).items()}
    assert (meta["dataset"], meta["rows"], meta["granularity"]) == ("new_posts_per_day", "7", "day")
    assert meta["range"] == f"{shown['day'].iloc[0]}..{shown['day'].iloc[-1]}"
    [parquet_button] = [b for b in at.download_button if b.key == "table-posts-new_posts_per_day.parquet"]
    table = pq.read_table(io.BytesIO(downloads.bytes_of(parquet_button)))
    assert table.to_pandas()["count"].tolist() == shown["count"].tolist()
    assert {b.key for b in at.download_button} >= {"chart-users-png", "chart-users-svg"}


def test_the_cache_panel_and_connection_are_for_signed_in_admins(some_rows):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    assert not at.exception
    assert popovers(at.sidebar, "Cache") == []
    assert not [c for c in at.sidebar.caption if "Database" in c.value]
    at.session_state["admin_user"] = "admin"
    at.run()
    [panel] = popovers(at.sidebar, "Cache")
    text = " ".join(m.value for m in panel.markdown) + " ".join(c.value for c in panel.caption)
    assert "in-process" in text and "database queries" in text
    assert [b for b in at.sidebar.button if b.label == "Clear cache"]
    assert any("Database (development)" in c.value for c in at.sidebar.caption)


def test_an_expired_result_is_served_at_once_and_the_page_updates_itself(some_rows):
    from queries import reads

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    before = metrics(at)["Total posts"][0]
    add_post(some_rows, add_user(some_rows, "late"))
    for entry, _ in reads.backend()._entries.values():
        entry.stored_at -= 90  # older than CACHE_TTL (60 s)
        entry.computed_at -= timedelta(seconds=90)
    at.run()  # served at once from the expired entry; its refresh runs in the background
    assert reads.wait_for_refreshes(10)
    at.run()  # what the freshness fragment's tick does once the refresh has landed
    assert metrics(at)["Total posts"][0] != before
    line = at.caption[0].value
    assert "updated just now" in line and "expired" not in line and "refreshing" not in line, line


def test_the_freshness_line_reads_calmly():
    from ui.freshness import age_words, freshness_text, outage_text

    now = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert [age_words(s) for s in (3, 40, 130, 7300, 200000)] == [
        "just now",
        "40 s ago",
        "2 min ago",
        "2 h ago",
        "2 days ago",
    ]
    text = freshness_text(now - timedelta(seconds=130), "Europe/Berlin", refreshing=True, now=now)
    assert text == "As of 15:02 Europe/Berlin, Fri 27 Nov · updated 2 min ago · refreshing"
    assert outage_text(now, now - timedelta(minutes=4), "UTC").startswith(
        "Database unreachable since 14:05 · showing numbers as of 14:01"
    )


def test_an_anonymous_visitor_gets_the_presenters_view(some_rows):
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    assert not at.exception and not at.error
    assert not [r for r in at.radio if r.label == "Provenance in downloads"]
    assert not at.expander  # the analysts' tools are for signed-in users
    assert [m.label for m in at.metric] == [
        "Total users",
        "Total posts",
        "New users, last 7 days",
        "New posts, last 7 days",
    ]
    at.session_state["admin_user"] = "admin"
    at.run()
    assert [r.label for r in at.radio] == ["Provenance in downloads"]


def test_present_mode_draws_only_title_cards_charts_and_freshness(some_rows):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception and not at.error
    assert not at.button and not at.download_button and not popovers(at, "Table and downloads")
    assert len(at.metric) == 4 and len(at.get("vega_lite_chart")) == 2
    assert [c.value for c in at.caption][0].startswith("As of")
    assert "stSidebar" in at.get("html")[0].proto.body  # the CSS that hides the chrome


def test_each_card_carries_a_trend_from_the_same_counts(some_rows):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    cards = {m.label: m for m in at.metric}
    users = list(cards["Total users"].proto.chart_data)
    assert len(users) == 90 and users[-1] == int(cards["Total users"].value.replace(",", ""))
    assert users == sorted(users)  # a running total never falls
    daily = list(cards["New posts, last 7 days"].proto.chart_data)
    assert len(daily) == 30 and sum(daily[-7:]) == int(cards["New posts, last 7 days"].value)


def test_through_an_outage_the_page_keeps_its_last_good_numbers(some_rows, tmp_path, monkeypatch, caplog):
    import logging

    from queries import reads

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    before = metrics(at)
    url = some_rows.info.dsn
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://nobody@/cruddur?host={tmp_path}")  # nobody listens
    monkeypatch.setenv("POOL_TIMEOUT_MS", "300")
    with caplog.at_level(logging.INFO, logger="cruddur"):
        next(b for b in at.button if b.label == "Refresh").click().run()
        assert not at.exception and not at.error
        assert metrics(at) == before  # Refresh included
        [banner] = [w.value for w in at.warning if "Database unreachable since" in w.value]
        assert re.search(r"since \d\d:\d\d · showing numbers as of \d\d:\d\d", banner)
        for _ in range(3):  # more views and retries during the outage
            at.run()
            assert metrics(at) == before
        assert reads.wait_for_refreshes(10)
    down = [r for r in caplog.records if "the database is unreachable" in r.getMessage()]
    assert len(down) == 1 and down[0].levelno == logging.WARNING  # once per change of state
    ours = [r for r in caplog.records if r.name.startswith(("cruddur", "psycopg"))]
    assert not [r for r in ours if r.levelno >= logging.WARNING and r not in down and "error connecting" not in r.msg]
    noisy = [
        r
        for r in ours
        if str(r.msg).startswith(("error connecting", "reconnection attempt")) and r.created > down[0].created
    ]
    assert noisy == []  # psycopg's line per connection attempt is quiet once the outage is known

    monkeypatch.setenv("CONNECTION_URL", url)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cruddur"):
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while reads.outage_since() is not None and datetime.now(UTC) < deadline:
            at.run()  # what the freshness fragment's ticks lead to: a retry in the background
            reads.wait_for_refreshes(5)
    assert reads.outage_since() is None
    at.run()
    assert not [w for w in at.warning if "Database unreachable" in w.value]
    assert len([r for r in caplog.records if "answers again" in r.getMessage()]) == 1


def test_a_first_visitor_during_an_outage_gets_the_unavailable_state(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "500")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert "database is unavailable" in at.error[0].value and not at.metric


@pytest.mark.parametrize(
    "value, presenting",
    [("yes", True), ("true", True), ("0", False), ("<script>alert(1)</script>", False), ("x" * 20_000, False)],
)
def test_odd_present_values_neither_fail_nor_echo(some_rows, value, presenting):
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["present"] = value
    at.query_params["tz"] = value  # another parameter a shared link may carry
    at.run()
    assert not at.exception and not at.error and len(at.metric) == 4
    assert bool(at.main.button) is not presenting  # Refresh is hidden only when presenting
    # Only st.html draws raw HTML (markdown shows a tag as text): the value never reaches it.
    assert not [h for h in at.get("html") if value in h.proto.body]
    assert all(len(w.value) < 300 for w in at.warning)  # a link's junk is not repeated at length


def test_repeated_present_keys_take_one_value(some_rows):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["present"] = ["<b>", "1"]  # ?present=<b>&present=1: the last one counts
    at.run()
    assert not at.exception and not at.error and len(at.metric) == 4
