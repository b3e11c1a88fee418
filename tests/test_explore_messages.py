"""The Explore page's message metrics (issue 14, part 4): messages and conversations
started per local day, week and month, their running totals and "all time", against
hand-built rows in the message tables (migration 0005)."""

from datetime import date, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.helpers import add_message

EXPLORE = str(ROOT / "pages" / "explore.py")
NY = "America/New_York"


@pytest.fixture
def conversations(db):
    """Conversations whose messages span days, weeks and months (and New York's spring-forward day)."""
    start = datetime(2026, 1, 20, 4, 50)
    for i in range(40):
        group = add_message(db, start + timedelta(days=i * 2, hours=i))
        for k in range(i % 4):
            add_message(db, start + timedelta(days=i * 2 + k * 3, hours=i, minutes=7 * k), group)
    for t in ["2026-03-08 06:59:59", "2026-03-08 07:00:00", "2026-03-08 04:59:59", "2026-03-08 05:00:00"]:
        add_message(db, t)
    return db


# Each metric's timestamp and table, for counting the truth directly.
SOURCES = {"messages": ("sent_at", "message_events"), "conversations_started": ("started_at", "message_groups")}


@pytest.mark.parametrize("metric", list(SOURCES))
@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_explore_message_metrics_equal_a_direct_count(conversations, metric, granularity):
    from queries.explore import explore, resolve_range

    rng = resolve_range("custom", tz=NY, start=date(2026, 1, 25), end=date(2026, 3, 20))
    result = explore(metric, rng=rng, granularity=granularity, tz=NY, cumulative=True)
    column, table = SOURCES[metric]
    local = f"(({column} AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)"
    params = {"unit": granularity, "tz": NY, "s": rng.start, "e": rng.end}
    truth = dict(
        conversations.execute(
            f"SELECT greatest(date_trunc(%(unit)s, {local})::date, %(s)s::date), count(*) FROM {table} "
            f"WHERE {local}::date BETWEEN %(s)s AND %(e)s GROUP BY 1",
            params,
        ).fetchall()
    )
    got = dict(zip(result.frame["period_start"], result.frame["count"].astype(int), strict=True))
    assert {k: v for k, v in got.items() if v} == truth and sum(truth.values()) > 0
    [(to_end, total)] = conversations.execute(
        f"SELECT count(*) FILTER (WHERE {local}::date <= %(e)s), count(*) FROM {table}", params
    ).fetchall()
    assert int(result.frame["cumulative"].iloc[-1]) == to_end
    assert result.total == total > to_end


def test_explore_message_metrics_on_a_legacy_database_say_so(legacy_db_url, capsys):
    from queries.__main__ import main
    from queries.explore import NO_MESSAGES, ExploreError, explore, resolve_range

    rng = resolve_range("last_7_days", tz="UTC")
    for metric in ("messages", "conversations_started"):
        with pytest.raises(ExploreError, match="No messaging data connected"):
            explore(metric, rng=rng, granularity="day", tz="UTC")
    assert main(["export", "explore", "--metric", "messages", "-o", "-"]) == 2
    assert NO_MESSAGES.rstrip(".") in capsys.readouterr().err


def test_explore_page_counts_messages(conversations):
    at = AppTest.from_file(EXPLORE, default_timeout=30).run()
    at.selectbox(key="explore_metric").select("messages").run()
    at.selectbox(key="explore_range").select("all_time").run()
    assert not at.exception and not at.error
    frame = at.dataframe[0].value
    [(total,)] = conversations.execute("SELECT count(*) FROM message_events").fetchall()
    assert int(frame["count"].sum()) == total


def test_all_time_for_messages_starts_at_the_first_message(conversations):
    from queries.explore import resolve_range

    rng = resolve_range("all_time", tz=NY, metric="messages")
    assert rng.start == date(2026, 1, 19)  # 2026-01-20 04:50 UTC is the evening of the 19th in New York
    assert resolve_range("all_time", tz=NY).start == rng.today  # no users or posts here


def test_explore_page_on_a_legacy_database_says_no_messaging_data(legacy_db_url):
    at = AppTest.from_file(EXPLORE, default_timeout=30).run()
    at.selectbox(key="explore_metric").select("conversations_started").run()
    assert not at.exception and not at.error
    assert "No messaging data connected" in at.warning[0].value
