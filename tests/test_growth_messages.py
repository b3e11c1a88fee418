"""Messages on the Growth page (issue 14, part 4): new_messages_per_day, messages_summary,
queries.growth.messages, the page's card and chart, and the CLI export, against
hand-built rows in the three message tables (migration 0005)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from exports import files
from queries.growth import messages
from queries.reads import fetch
from tests.conftest import ROOT
from tests.helpers import add_message, add_post, add_user, rows_read_from, tables_open

PAGE = str(ROOT / "pages" / "growth.py")
# Not on a quarter hour, so the "same time last week" cut-off falls inside a bucket.
AS_OF = "2026-03-10 15:07:30+00"
ZONES = ["UTC", "Asia/Kathmandu", "America/New_York"]  # New York springs forward on 2026-03-08


def edge_times(now: datetime) -> list[datetime]:
    """Messages around every local midnight of the last 15 days in each zone, and every 7 hours."""
    from zoneinfo import ZoneInfo

    times = []
    for tz in ZONES:
        for d in range(16):
            local = datetime(now.year, now.month, now.day, tzinfo=ZoneInfo(tz)) - timedelta(days=d)
            midnight = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz))
            utc = midnight.astimezone(UTC).replace(tzinfo=None)
            times += [utc - timedelta(seconds=1), utc, utc + timedelta(minutes=14, seconds=59)]
    times += [now - timedelta(hours=7 * i, minutes=3) for i in range(50)]
    return times


@pytest.fixture
def messaged(db):
    now = datetime(2026, 3, 10, 15, 7, 30)
    for t in edge_times(now):
        add_message(db, t)
    # The same-time-last-week cut-off (2026-03-03 15:07:30 UTC) inside its quarter hour.
    for t in ["2026-03-03 15:00:00", "2026-03-03 15:07:29.999999", "2026-03-03 15:07:30", "2026-03-03 15:14:59"]:
        add_message(db, t)
    return db


def direct_per_day(conn, tz, days):
    rows = conn.execute(
        "SELECT ((sent_at AT TIME ZONE 'UTC') AT TIME ZONE %s)::date, count(*) FROM message_events GROUP BY 1",
        (tz,),
    ).fetchall()
    counted = dict(rows)
    return [counted.get(d, 0) for d in days]


@pytest.mark.parametrize("tz", ZONES)
def test_per_day_equals_a_direct_count_of_message_events(messaged, tz):
    frame = fetch("new_messages_per_day", tz=tz, as_of=AS_OF)
    assert list(frame.columns) == ["day", "count", "partial"] and len(frame) == 7
    days = list(frame["day"])
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [1] * 6
    assert frame["partial"].tolist() == [False] * 6 + [True]
    assert frame["count"].tolist() == direct_per_day(messaged, tz, days)
    assert frame["count"].sum() > 0


@pytest.mark.parametrize("tz", ZONES)
def test_weekly_delta_is_exact_to_the_same_local_time(messaged, tz):
    summary = fetch("messages_summary", tz=tz, as_of=AS_OF).iloc[0]
    per_day = fetch("new_messages_per_day", tz=tz, as_of=AS_OF)
    assert int(summary["current"]) == int(per_day["count"].sum())
    [(previous,)] = messaged.execute(
        "WITH b AS (SELECT %(as_of)s::timestamptz AT TIME ZONE %(tz)s AS local_now) "
        "SELECT count(*) FROM message_events, b "
        "WHERE ((sent_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= local_now::date - 13 "
        "AND sent_at < ((local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'",
        {"as_of": AS_OF, "tz": tz},
    ).fetchall()
    assert int(summary["previous"]) == previous > 0
    assert bool(summary["has_data"])


@pytest.mark.parametrize("seconds", [0, 240, 450, 451, 660, 899.999999])
def test_the_cut_off_inside_a_quarter_hour_counts_only_messages_before_it(db, seconds):
    # Messages only around last week's cut-off; past the quarter's middle the statement
    # takes the whole quarter hour and subtracts what follows the cut-off.
    as_of = datetime(2026, 3, 10, 15, 0) + timedelta(seconds=seconds)
    cut, tick = as_of - timedelta(days=7), timedelta(microseconds=1)
    quarter = datetime(2026, 3, 3, 15, 0)
    times = [quarter, cut - tick, cut, cut + tick, quarter + timedelta(minutes=15) - tick]
    for t in times:
        add_message(db, t)
    summary = fetch("messages_summary", tz="UTC", as_of=as_of.isoformat() + "+00").iloc[0]
    assert (int(summary["current"]), int(summary["previous"])) == (0, sum(t < cut for t in times))


@pytest.mark.parametrize(("seconds", "before", "after"), [(240, 2, 10), (660, 10, 2)])
def test_at_most_half_a_quarter_hour_of_messages_is_counted_at_the_cut_off(db, seconds, before, after):
    as_of = datetime(2026, 3, 10, 15, 0) + timedelta(seconds=seconds)
    cut, quarter = as_of - timedelta(days=7), datetime(2026, 3, 3, 15, 0)
    for i in range(before):
        add_message(db, quarter + (cut - quarter) * i / before)
    for i in range(after):
        add_message(db, cut + (quarter + timedelta(minutes=15) - cut) * i / after)
    # Only the smaller side of the cut-off is read from message_events: 2 rows, not 10.
    assert rows_read_from(db, "message_events", "messages_summary", as_of=as_of.isoformat() + "+00") == 2
    summary = fetch("messages_summary", tz="UTC", as_of=as_of.isoformat() + "+00").iloc[0]
    assert int(summary["previous"]) == before


def test_not_connected_on_an_empty_migrated_database(db):
    summary = fetch("messages_summary", tz="UTC").iloc[0]
    assert (int(summary["current"]), int(summary["previous"]), bool(summary["has_data"])) == (0, 0, False)
    got = messages(tz="UTC")
    assert not got.connected and got.per_day is None


def test_not_connected_on_a_legacy_database(legacy_db_url):
    got = messages(tz="UTC")
    assert not got.connected and got.per_day is None
    assert not messages(tz="UTC").connected  # remembered: no second failing statement needed


def test_connected_as_soon_as_a_message_exists(db):
    add_message(db, datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30))  # old: zero this week
    got = messages(tz="UTC", fresh=True)
    assert got.connected and got.per_day is not None
    assert got.per_day["count"].tolist() == [0] * 7
    assert (got.weekly.current, got.weekly.previous) == (0, 0)


# --- the page -------------------------------------------------------------------


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)


def metrics(at):
    return {m.label: (m.value, m.delta) for m in at.metric}


def some_posts(conn):
    ids = [add_user(conn, f"user{i}", now_utc() - timedelta(days=i * 3)) for i in range(4)]
    for i in range(20):
        add_post(conn, ids[i % 4], now_utc() - timedelta(hours=i * 7))


def posts_kpis(at):
    return {k: v for k, v in metrics(at).items() if not k.startswith("Messages")}


@pytest.fixture
def live(db):
    some_posts(db)
    for i in range(60):
        add_message(db, now_utc() - timedelta(hours=i * 4, minutes=1))
    return db


def test_page_shows_the_messages_card_and_chart(live):
    at = tables_open(AppTest.from_file(PAGE, default_timeout=30)).run()
    assert not at.exception and not at.error and not at.warning
    summary = fetch("messages_summary").iloc[0]
    value, delta = metrics(at)["Messages, last 7 days"]
    assert value == f"{int(summary['current']):,}"
    from queries.growth import Delta

    assert delta == Delta(int(summary["current"]), int(summary["previous"])).text()
    assert len(at.get("vega_lite_chart")) == 3
    assert "No messaging data connected." not in [c.value for c in at.caption]
    assert "As of" in at.caption[0].value
    shown = at.dataframe[2].value
    assert list(shown.columns) == ["day", "count", "partial"]
    days = [date.fromisoformat(str(d)[:10]) for d in shown["day"]]
    assert shown["count"].tolist() == direct_per_day(live, "UTC", days)


def test_posts_kpis_do_not_change_with_messages(db):
    some_posts(db)
    before = posts_kpis(AppTest.from_file(PAGE, default_timeout=30).run())
    for i in range(10):
        add_message(db, now_utc() - timedelta(hours=i))
    from queries import reads

    reads.clear_cache()
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert "Messages, last 7 days" in metrics(at)
    assert posts_kpis(at) == before


def test_cli_export_equals_the_page_download(live, monkeypatch, capsys):
    from queries.__main__ import main
    from tests.helpers import Downloads

    downloads = Downloads(monkeypatch)
    from exports.columns import label
    from exports.formats import BOM

    at = tables_open(AppTest.from_file(PAGE, default_timeout=30))
    at.session_state["provenance_style"] = "header"  # provenance as a first line, as the CLI's below
    at.run()
    [button] = [b for b in at.download_button if b.key == "table-messages-new_messages_per_day.csv"]
    page_first, page_rest = downloads.bytes_of(button).decode().removeprefix(BOM).split("\n", 1)
    assert page_rest == at.dataframe[2].value.rename(columns=label).to_csv(index=False, lineterminator="\n")
    capsys.readouterr()
    argv = ["export", "growth", "--table", "new_messages_per_day", "-f", "csv", "-o", "-", "--provenance", "header"]
    assert main(argv) == 0
    cli_first, cli_rest = capsys.readouterr().out.removeprefix(BOM).split("\n", 1)
    assert cli_rest == page_rest
    page_meta, cli_meta = files.parse_header_line(page_first), files.parse_header_line(cli_first)
    assert page_meta["dataset"] == cli_meta["dataset"] == "new_messages_per_day"
    for key in ("rows", "range", "tz", "granularity"):
        assert page_meta[key] == cli_meta[key], key


@pytest.mark.parametrize("fixture", ["legacy_db_url", "db_url"])
def test_no_messaging_data_is_one_calm_caption(fixture, request):
    import psycopg

    url = request.getfixturevalue(fixture)
    with psycopg.connect(url, autocommit=True) as conn:
        some_posts(conn)
        users, posts = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("users", "activities"))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception and not at.error and not at.warning
    captions = [c.value for c in at.caption]
    assert captions.count("No messaging data connected.") == 1
    shown = metrics(at)
    assert not [label for label in shown if "essage" in label]
    assert len(at.get("vega_lite_chart")) == 2
    assert shown["Total users"][0] == f"{users:,}" and shown["Total posts"][0] == f"{posts:,}"


def test_a_messages_failure_leaves_the_posts_numbers(live, monkeypatch):
    import queries.growth

    def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries.growth, "messages", broken)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception and not at.error
    assert "could not be loaded" in at.warning[0].value
    shown = metrics(at)
    assert "Total posts" in shown and "New posts, last 7 days" in shown
    assert "Messages, last 7 days" not in shown
    assert len(at.get("vega_lite_chart")) == 2


def test_cli_export_on_a_legacy_database_says_no_messaging_data(legacy_db_url, capsys):
    from queries.__main__ import main

    assert main(["export", "growth", "--table", "new_messages_per_day", "-o", "-"]) == 2
    assert "No messaging data connected" in capsys.readouterr().err
