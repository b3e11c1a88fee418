"""The four growth questions against hand-built rows (queries/sql/*_per_day.sql, totals, weekly)."""

from datetime import date, datetime, timedelta

import pytest

from queries.reads import fetch, run
from tests.helpers import add_post, add_user

# 2026-03-10 15:00 UTC: a fixed "now" so day boundaries are exact.
AS_OF = "2026-03-10 15:00:00+00"


def per_day(name, tz="UTC", as_of=AS_OF):
    frame = fetch(name, tz=tz, as_of=as_of)
    return [(d.isoformat(), int(c), bool(p)) for d, c, p in frame.itertuples(index=False)]


def test_totals_count_every_row(db):
    u = add_user(db, "a")
    add_user(db, "b", "2001-01-01 00:00:00")
    add_post(db, u)
    add_post(db, u, "1999-12-31 23:59:59")
    assert int(run("total_users")["count"].iloc[0]) == 2
    assert int(run("total_posts")["count"].iloc[0]) == 2


def test_per_day_has_seven_zero_filled_days_oldest_first(db):
    rows = per_day("new_posts_per_day")
    assert [r[0] for r in rows] == [(date(2026, 3, 4) + timedelta(days=i)).isoformat() for i in range(7)]
    assert [r[1] for r in rows] == [0] * 7
    assert [r[2] for r in rows] == [False] * 6 + [True]


def test_utc_day_boundaries_and_old_rows(db):
    u = add_user(db, "author", "2026-01-01 00:00:00")
    add_post(db, u, "2026-03-03 23:59:59")  # 8 days back: outside the window
    add_post(db, u, "2026-03-04 00:00:00")  # first second of the window
    add_post(db, u, "2026-03-05 23:59:59")
    add_post(db, u, "2026-03-06 00:00:00")
    add_post(db, u, "2026-03-10 14:59:59")  # today, before now
    rows = dict((d, c) for d, c, _ in per_day("new_posts_per_day"))
    assert rows == {
        "2026-03-04": 1,
        "2026-03-05": 1,
        "2026-03-06": 1,
        "2026-03-07": 0,
        "2026-03-08": 0,
        "2026-03-09": 0,
        "2026-03-10": 1,
    }


def test_non_utc_zone_moves_rows_across_midnight(db):
    # Asia/Tokyo is UTC+9: 2026-03-09 15:00 UTC is 2026-03-10 00:00 in Tokyo.
    # "Now" is 12:00 UTC on the 10th, 21:00 in Tokyo: both zones are on the 10th.
    noon = "2026-03-10 12:00:00+00"
    u = add_user(db, "author", "2026-03-09 14:59:59")  # 23:59:59 on the 9th in Tokyo
    add_user(db, "second", "2026-03-09 15:00:00")  # 00:00:00 on the 10th in Tokyo
    add_post(db, u, "2026-03-03 15:00:00")  # 00:00 on the 4th in Tokyo: inside the window
    add_post(db, u, "2026-03-03 14:59:59")  # 23:59:59 on the 3rd in Tokyo: outside
    users = dict((d, c) for d, c, _ in per_day("new_users_per_day", tz="Asia/Tokyo", as_of=noon))
    assert users["2026-03-09"] == 1 and users["2026-03-10"] == 1
    posts = per_day("new_posts_per_day", tz="Asia/Tokyo", as_of=noon)
    assert posts[0] == ("2026-03-04", 1, False)
    assert sum(c for _, c, _ in posts) == 1
    # In UTC the same rows fall on other days.
    utc_users = dict((d, c) for d, c, _ in per_day("new_users_per_day", as_of=noon))
    assert utc_users["2026-03-09"] == 2 and utc_users["2026-03-10"] == 0


def test_today_follows_the_report_zone(db):
    # At 2026-03-10 15:00 UTC it is already the 11th in Auckland (UTC+13).
    rows = per_day("new_users_per_day", tz="Pacific/Auckland")
    assert rows[-1][0] == "2026-03-11" and rows[-1][2] is True


def test_dst_change_keeps_every_day_once(db):
    # America/New_York springs forward on 2026-03-08: that day has 23 hours.
    u = add_user(db, "author", "2026-01-01 00:00:00")
    for hour in range(0, 24 * 7):
        add_post(db, u, datetime(2026, 3, 4, 5) + timedelta(hours=hour))  # from 00:00 EST on the 4th
    rows = per_day("new_posts_per_day", tz="America/New_York", as_of="2026-03-11 03:30:00+00")
    counts = dict((d, c) for d, c, _ in rows)
    assert counts["2026-03-08"] == 23
    assert counts["2026-03-05"] == 24
    assert sum(counts.values()) == 24 * 7 - 1 + 0  # the last post (03:00 UTC on the 11th) is 23:00 on the 10th
    assert rows[-1] == ("2026-03-10", counts["2026-03-10"], True)


def test_weekly_counts_match_the_buckets_and_compare_like_for_like(db):
    u = add_user(db, "author", "2026-02-26 00:00:00")  # inside the previous window
    for ts in [
        "2026-03-04 00:00:00",
        "2026-03-09 12:00:00",
        "2026-03-10 10:00:00",  # current window
        "2026-02-25 00:00:00",
        "2026-03-03 14:59:59",  # previous window, before 15:00 a week ago
        "2026-03-03 15:00:01",  # a week ago but after the same time of day: not comparable
        "2026-02-24 23:59:59",
    ]:  # before the previous window
        add_post(db, u, ts)
    weekly = fetch("live.weekly_new_counts", tz="UTC", as_of=AS_OF).set_index("metric")
    buckets = sum(c for _, c, _ in per_day("new_posts_per_day"))
    assert int(weekly.loc["posts", "current"]) == buckets == 3
    assert int(weekly.loc["posts", "previous"]) == 2
    assert int(weekly.loc["users", "current"]) == 0 and int(weekly.loc["users", "previous"]) == 1


@pytest.mark.parametrize(
    "name", ["new_users_per_day", "new_posts_per_day", "total_users", "total_posts", "live.weekly_new_counts"]
)
def test_answers_on_a_database_our_migrations_never_touched(legacy_db_url, name):
    import psycopg

    with psycopg.connect(legacy_db_url, autocommit=True) as conn:
        u = add_user(conn, "legacy", "2026-03-10 01:00:00")
        add_post(conn, u, "2026-03-10 02:00:00")
    params = {} if name.startswith("total") else {"tz": "UTC", "as_of": AS_OF}
    frame = fetch(name, **params)
    assert not frame.empty
    if name.endswith("per_day"):
        assert int(frame["count"].iloc[-1]) == 1
    elif name.startswith("total"):
        assert int(frame["count"].iloc[0]) == 1
    else:
        assert set(frame["current"].astype(int)) == {1}
