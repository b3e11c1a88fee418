"""Explore's buckets against hand-built rows (queries/explore.py, queries/sql/explore/*)."""

import zoneinfo
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from queries.explore import ExploreError, bucket_count, explore, raw_count, resolve_range
from tests.helpers import add_post, add_user

NY = "America/New_York"
NOW = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # a Tuesday


def custom(start, end, tz=NY, now=NOW):
    return resolve_range("custom", tz=tz, start=start, end=end, now=now)


def rows(result):
    return [
        (r.period_start.isoformat(), r.period_end.isoformat(), int(r.count), bool(r.partial))
        for r in result.frame.itertuples()
    ]


def local_bucket(utc_naive: datetime, tz: str, unit: str) -> date:
    """Reference bucketing in Python: the local calendar date of the instant, truncated."""
    d = utc_naive.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(tz)).date()
    if unit == "week":
        return d - timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    return d


def hourly_posts(db, start: datetime, hours: int, step_minutes: int = 37):
    """A post every `step_minutes` from `start` (UTC), so every local hour of a DST day is hit."""
    u = add_user(db, "author", "2020-01-01 00:00:00")
    stamps = [start + timedelta(minutes=step_minutes * i) for i in range(hours * 60 // step_minutes)]
    db.cursor().executemany(
        "INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, 'x', %s)", [(u, s) for s in stamps]
    )
    return stamps


@pytest.mark.parametrize("unit", ["week", "month", "day"])
@pytest.mark.parametrize(
    "span",
    [
        (date(2026, 2, 20), date(2026, 3, 20)),  # spring forward: Sun 8 Mar
        (date(2026, 10, 20), date(2026, 11, 20)),
    ],  # fall back: Sun 1 Nov
    ids=["march", "november"],
)
def test_buckets_across_dst_count_every_row_once(db, unit, span):
    start, end = span
    # From well before the range to well after, so the range edges cut through the data.
    stamps = hourly_posts(db, datetime.combine(start, datetime.min.time()) - timedelta(days=3), 24 * 36)
    result = explore("new_posts", rng=custom(start, end), granularity=unit, tz=NY)
    got = {r.period_start: int(r.count) for r in result.frame.itertuples()}
    inside = [s for s in stamps if start <= local_bucket(s, NY, "day") <= end]
    expected = Counter(local_bucket(s, NY, unit) for s in inside)
    # The first bucket starts at the range start when the range cuts it.
    expected = {max(k, start): v for k, v in expected.items()}
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert sum(got.values()) == len(inside)  # every row in the range exactly once


def test_week_and_month_edges_follow_local_midnight_on_both_sides_of_dst(db):
    u = add_user(db, "author", "2020-01-01 00:00:00")
    edges = {
        # 1 March 00:00 EST is 05:00 UTC (a Sunday: both in the week of 23 February).
        "2026-03-01 04:59:59": "2026-02-23",
        "2026-03-01 05:00:00": "2026-02-23",
        # Monday 2 March 00:00 EST is 05:00 UTC; Monday 9 March 00:00 EDT is 04:00 UTC.
        "2026-03-02 04:59:59": "2026-02-23",
        "2026-03-02 05:00:00": "2026-03-02",
        "2026-03-09 03:59:59": "2026-03-02",
        "2026-03-09 04:00:00": "2026-03-09",
        # 1 November 00:00 EDT is 04:00 UTC; Monday 2 November 00:00 EST is 05:00 UTC.
        "2026-11-01 03:59:59": "2026-10-26",
        "2026-11-01 04:00:00": "2026-10-26",
        "2026-11-02 04:59:59": "2026-10-26",
        "2026-11-02 05:00:00": "2026-11-02",
    }
    for stamp in edges:
        add_post(db, u, stamp)
    weeks = explore("new_posts", rng=custom(date(2026, 2, 23), date(2026, 11, 8)), granularity="week", tz=NY)
    counts = {r.period_start.isoformat(): int(r.count) for r in weeks.frame.itertuples() if r.count}
    assert counts == dict(Counter(edges.values()))
    months = explore("new_posts", rng=custom(date(2026, 2, 1), date(2026, 11, 30)), granularity="month", tz=NY)
    by_month = {r.period_start.isoformat(): int(r.count) for r in months.frame.itertuples() if r.count}
    # 04:59:59 UTC on 1 March is 23:59:59 on 28 February (EST); 03:59:59 UTC on
    # 1 November is 23:59:59 on 31 October (EDT).
    assert by_month == {"2026-02-01": 1, "2026-03-01": 5, "2026-10-01": 1, "2026-11-01": 3}


def test_every_bucket_zero_filled_and_current_one_partial(db):
    rng = resolve_range("last_30_days", tz="UTC", now=NOW)
    assert (rng.start, rng.end) == (date(2026, 11, 16), date(2026, 12, 15))
    weeks = explore("new_users", rng=rng, granularity="week", tz="UTC")
    assert rows(weeks) == [
        ("2026-11-16", "2026-11-22", 0, False),
        ("2026-11-23", "2026-11-29", 0, False),
        ("2026-11-30", "2026-12-06", 0, False),
        ("2026-12-07", "2026-12-13", 0, False),
        ("2026-12-14", "2026-12-15", 0, True),
    ]
    months = explore("new_users", rng=rng, granularity="month", tz="UTC")
    assert rows(months) == [("2026-11-16", "2026-11-30", 0, True), ("2026-12-01", "2026-12-15", 0, True)]
    days = explore("new_users", rng=rng, granularity="day", tz="UTC")
    assert len(days.frame) == 30 and days.frame["partial"].tolist() == [False] * 29 + [True]


def test_active_authors_are_distinct_per_bucket(db):
    a, b = add_user(db, "a", "2026-01-01"), add_user(db, "b", "2026-01-01")
    for stamp in ["2026-12-01 10:00", "2026-12-01 11:00", "2026-12-02 10:00", "2026-12-08 10:00"]:
        add_post(db, a, stamp)
    add_post(db, b, "2026-12-02 12:00")
    weeks = explore(
        "active_authors", rng=custom(date(2026, 11, 30), date(2026, 12, 13), tz="UTC"), granularity="week", tz="UTC"
    )
    assert [int(c) for c in weeks.frame["count"]] == [2, 1]


@pytest.mark.parametrize("metric", ["new_users", "new_posts", "active_authors"])
@pytest.mark.parametrize("preset", ["last_7_days", "this_month", "all_time"])
def test_cumulative_ends_at_the_platform_totals(db, metric, preset):
    now = datetime.now(UTC)
    users = [add_user(db, f"u{i}", (now - timedelta(days=40 * i, hours=1)).replace(tzinfo=None)) for i in range(5)]
    for i in range(30):
        add_post(db, users[i % 4], (now - timedelta(days=3 * i, minutes=5)).replace(tzinfo=None))
    rng = resolve_range(preset, tz=NY)
    result = explore(metric, rng=rng, granularity="week", tz=NY, cumulative=True)
    totals = {
        "new_users": "SELECT count(*) FROM users",
        "new_posts": "SELECT count(*) FROM activities",
        "active_authors": "SELECT count(DISTINCT user_uuid) FROM activities",
    }
    truth = db.execute(totals[metric]).fetchone()[0]
    assert int(result.frame["cumulative"].iloc[-1]) == truth == result.total
    # The running total is the rows before the range plus the running sum of the buckets.
    if metric != "active_authors":
        steps = result.frame["cumulative"].diff().iloc[1:].astype(int).tolist()
        assert steps == result.frame["count"].iloc[1:].astype(int).tolist()


def test_all_time_starts_at_the_first_row_and_raw_counts_match(db):
    u = add_user(db, "old", "2026-01-05 12:00:00")
    add_post(db, u, "2026-03-08 06:59:59")  # 01:59:59 EST, the last second before the spring gap
    add_post(db, u, "2026-03-08 07:00:00")  # 03:00:00 EDT
    rng = resolve_range("all_time", tz=NY, now=NOW)
    assert rng.start == date(2026, 1, 5)
    result = explore("new_posts", rng=rng, granularity="month", tz=NY)
    assert int(result.frame["count"].sum()) == 2 and len(result.frame) == 12
    march_8 = custom(date(2026, 3, 8), date(2026, 3, 8))
    assert raw_count("activities", rng=march_8, tz=NY) == 2
    assert raw_count("users", rng=march_8, tz=NY) == 0


def test_all_time_starts_at_the_first_dated_row_when_some_are_dated_infinity(db):
    u = add_user(db, "old", "2026-01-05 12:00:00")
    add_post(db, u, "-infinity")
    add_post(db, u, "2026-02-01 12:00:00")
    add_user(db, "never", "infinity")
    rng = resolve_range("all_time", tz=NY, now=NOW)
    assert rng.start == date(2026, 1, 5)
    result = explore("new_posts", rng=rng, granularity="month", tz=NY, cumulative=True)
    assert int(result.frame["count"].sum()) == 1
    assert int(result.frame["cumulative"].iloc[-1]) == 2 == result.total  # it counts before every range


def test_bad_choices_are_refused_with_a_clear_message(db):
    with pytest.raises(ExploreError, match="after the end"):
        custom(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ExploreError, match="future"):
        custom(date(2026, 3, 2), date(2027, 3, 1))
    with pytest.raises(ExploreError, match="Unknown range"):
        resolve_range("last_week", tz="UTC")
    rng = custom(date(2026, 3, 1), date(2026, 3, 2))
    with pytest.raises(ExploreError, match="granularity"):
        explore("new_posts", rng=rng, granularity="hour; DROP TABLE users", tz=NY)
    with pytest.raises(ExploreError, match="metric"):
        explore("users", rng=rng, granularity="day", tz=NY)
    with pytest.raises(ExploreError, match="coarser"):
        explore("new_posts", rng=custom(date(2000, 1, 1), date(2026, 3, 1)), granularity="day", tz=NY)


def test_bucket_count_matches_the_query(db):
    rng = custom(date(2025, 12, 31), date(2026, 3, 2))
    for unit in ("day", "week", "month"):
        assert bucket_count(rng, unit) == len(explore("new_users", rng=rng, granularity=unit, tz=NY).frame)
