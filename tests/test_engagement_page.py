"""The Engagement page (pages/engagement.py) through Streamlit's AppTest, on a real database."""

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from exports.columns import names_of
from queries import engagement
from queries.explore import resolve_range
from tests.conftest import ROOT
from tests.helpers import Downloads, add_post, add_user, tables_open

PAGE = str(ROOT / "pages" / "engagement.py")
DASHBOARD = str(ROOT / "dashboard.py")


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def some_rows(db):
    ids = [add_user(db, f"user{i}", now_utc() - timedelta(days=i * 9, hours=2)) for i in range(10)]
    for i in range(120):
        add_post(db, ids[i % 7], now_utc() - timedelta(hours=i * 17))
    add_post(db, "ffffffff-0000-4000-8000-000000000001", now_utc() - timedelta(days=2))  # an orphan
    return db


@pytest.fixture
def downloads(monkeypatch):
    return Downloads(monkeypatch)


def page(tz="UTC", **choices):
    at = tables_open(AppTest.from_file(PAGE, default_timeout=60))
    at.session_state["report_tz"] = tz
    for key, value in choices.items():
        at.session_state[f"engagement_{key}"] = value
    return at.run()


def cells(frame: pd.DataFrame) -> list[list[str]]:
    """Every cell as the text a person reads: empty for no value, true/false for flags."""
    return [["" if pd.isna(v) else str(v).lower() for v in row] for row in frame.itertuples(index=False)]


def read_csv(data: bytes) -> pd.DataFrame:
    text = data.decode("utf-8-sig")
    if text.startswith("# "):
        text = text.partition("\n")[2]
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    return frame.set_axis(names_of(frame.columns), axis=1)


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu", "America/New_York"])
def test_the_page_shows_cards_three_parts_and_their_tables(some_rows, tz):
    at = page(tz)
    assert not at.exception and not at.error, [e.value for e in at.exception]
    assert [m.label for m in at.metric] == ["DAU", "WAU", "MAU", "Stickiness (DAU/MAU)"]
    assert [s.value for s in at.subheader] == ["Active users", "Retention by sign-up cohort", "Growth accounting",
                                               "Definitions"]  # fmt: skip
    assert len(at.get("vega_lite_chart")) == 4  # active, triangle, average curve, lifecycle
    rng = resolve_range("last_90_days", tz=tz)
    expected = engagement.table("retention", rng=rng, granularity="week", tz=tz).frame
    shown = at.dataframe[1].value
    assert shown["cohort_size"].tolist() == expected["cohort_size"].tolist()
    assert shown["retained"].tolist() == expected["retained"].tolist()
    life = at.dataframe[2].value
    assert (life["new"] + life["retained"] + life["resurrected"] == life["active_users"]).all()
    text = " ".join(m.value for m in at.markdown)
    assert "Orphan posts (no such user: 1 in these periods)" in text


def test_cards_match_the_per_day_table(some_rows):
    at = page("America/New_York")
    rng = resolve_range("last_90_days", tz="America/New_York")
    days = engagement.table("active", rng=engagement.kpi_range(rng), granularity="day", tz="America/New_York")
    dau, wau, mau, _ = engagement.cards(days)
    values = {m.label: m.value for m in at.metric}
    assert values["DAU"] == f"{dau.value:,}" and values["WAU"] == f"{wau.value:,}" and values["MAU"] == f"{mau.value:,}"


def test_each_csv_equals_its_table(some_rows, downloads):
    at = page("Asia/Kathmandu", unit="week", cohort_unit="month")
    assert not at.exception and not at.error
    for i, name in enumerate(("active", "retention", "lifecycle")):
        shown = at.dataframe[i].value
        [button] = [b for b in at.download_button if b.key.startswith(f"engagement-{name}-table") and
                    b.key.endswith(".csv")]  # fmt: skip
        got = read_csv(downloads.bytes_of(button))
        assert list(got.columns) == list(shown.columns)
        assert cells(got) == cells(shown), name


def test_a_bad_range_is_a_plain_warning(some_rows):
    at = page(range="all_time", cohort_unit="week")
    assert not at.exception and not at.error  # a short history: all time is a few weeks


def test_the_dashboard_routes_to_it(some_rows):
    at = AppTest.from_file(DASHBOARD, default_timeout=60).run()
    at.switch_page("pages/engagement.py").run()
    assert not at.exception and at.title[0].value == "Engagement"


def test_a_page_view_brings_the_zones_state_up_to_today(some_rows):
    from actions import engagement as state

    before = state.closed_until(some_rows, datetime.now(UTC).replace(tzinfo=None), "Australia/Lord_Howe")
    page("Australia/Lord_Howe")
    assert state.wait_idle(60)
    through, dirty = some_rows.execute(
        "SELECT through, dirty FROM engagement_zones WHERE tz = 'Australia/Lord_Howe'"
    ).fetchone()
    # Up to today, or, in the first SETTLE minutes after a local midnight, up to the
    # day that just ended: it is not closed yet.
    after = state.closed_until(some_rows, datetime.now(UTC).replace(tzinfo=None), "Australia/Lord_Howe")
    assert not dirty and through in {before, after}
    at = page("Australia/Lord_Howe")  # now read from the state: the same numbers
    assert not at.exception and not at.error


def test_a_visitor_cannot_make_the_server_keep_more_zones_than_it_allows(some_rows, monkeypatch):
    from actions import engagement as state

    monkeypatch.setenv("ENGAGEMENT_MAX_ZONES", "2")
    for tz in ("Asia/Kathmandu", "Australia/Lord_Howe"):
        page(tz)
        assert state.wait_idle(60)  # one background refresh at a time
    kept = {row[0] for row in some_rows.execute("SELECT tz FROM engagement_zones")}
    assert kept == {"Asia/Kathmandu", "Australia/Lord_Howe"}
    at = page("America/Havana")  # one zone too many: counted live, the same page
    assert not at.exception and not at.error and at.dataframe
    assert state.wait_idle(60)
    assert {row[0] for row in some_rows.execute("SELECT tz FROM engagement_zones")} == kept
    page("UTC")  # REPORT_TZ always gets its state
    assert state.wait_idle(60)
    assert "UTC" in {row[0] for row in some_rows.execute("SELECT tz FROM engagement_zones")}
