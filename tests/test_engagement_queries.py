"""Engagement's three tables against an independent computation in Python over the
same generated rows, in zones with 45- and 30-minute offsets and DST days of 23,
23.5, 24.5 and 25 hours (queries/engagement.py, queries/sql/engagement/*), counted
live and from the engagement state (actions/engagement.py).
(Long because the independent reference computation lives here, beside the tests it checks.)"""

from __future__ import annotations

import random
import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from queries import engagement
from queries.explore import resolve_range

ZONES = ["Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "UTC"]
# Around New York's spring forward (8 Mar 2026) and Lord Howe's fall back (5 Apr 2026, 30 minutes).
DATA_FROM = datetime(2026, 1, 20)
DATA_TO = datetime(2026, 4, 20)
NOW = datetime(2026, 4, 16, 3, 7, tzinfo=UTC)  # the last week and month are still in progress


def generated_rows(seed: int = 11):
    """Users signing up over the span and posting in bursts, plus orphan posts and
    posts dated before their author's sign-up (both excluded by the stated rule)."""
    rnd = random.Random(seed)
    span = (DATA_TO - DATA_FROM).total_seconds()
    users = []
    for i in range(70):
        created = DATA_FROM + timedelta(seconds=rnd.random() * span * 0.9)
        users.append((f"00000000-0000-4000-8000-{i:012d}", created))
    posts = []
    for uid, created in users:
        t = created + timedelta(minutes=rnd.randint(0, 600))
        while t < DATA_TO and len(posts) < 4000:
            posts.append((uid, t))
            # Mostly near the day boundaries of some zone: any second of the day is fair game.
            t += timedelta(seconds=rnd.choice([rnd.randint(60, 3600), rnd.randint(3600, 86400 * 3)]))
            if rnd.random() < 0.08:
                t += timedelta(days=rnd.randint(7, 30))  # away for a while, then back
            if rnd.random() < 0.03:
                break  # gone for good
    for _ in range(25):  # orphans: no users row
        posts.append(("ffffffff-0000-4000-8000-000000000001", DATA_FROM + timedelta(seconds=rnd.random() * span)))
    for uid, created in users[:5]:  # dated before the sign-up
        posts.append((uid, created - timedelta(hours=rnd.randint(1, 200))))
    # Exactly on local midnights of the zones under test, and a microsecond before.
    for tz in ZONES:
        for day in (date(2026, 3, 8), date(2026, 3, 9), date(2026, 4, 5), date(2026, 4, 6), date(2026, 3, 1)):
            midnight = datetime.combine(day, datetime.min.time(), zoneinfo.ZoneInfo(tz))
            utc = midnight.astimezone(UTC).replace(tzinfo=None)
            for uid, created in rnd.sample(users, 3):
                if created <= utc - timedelta(microseconds=1):
                    posts += [(uid, utc), (uid, utc - timedelta(microseconds=1))]
    return users, posts


def insert(db, users, posts) -> None:
    """(uuid, created_at) users and (user uuid, created_at) posts, as given."""
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id, created_at) "
            "VALUES (%s, 'x', 'x', 'x@test.com', 'T', %s)",
            users,
        )
        cur.executemany("INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, 'x', %s)", posts)


@pytest.fixture
def rows(db):
    users, posts = generated_rows()
    insert(db, users, posts)
    return users, posts


# --- the independent reference -----------------------------------------------------------


def local_day(ts: datetime, tz: str) -> date:
    return ts.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(tz)).date()


def bucket(d: date, unit: str) -> date:
    if unit == "week":
        return d - timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    return d


def shift(p: date, unit: str, n: int = 1) -> date:
    if unit == "day":
        return p + timedelta(days=n)
    if unit == "week":
        return p + timedelta(days=7 * n)
    months = p.year * 12 + p.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def periods(start: date, end: date, unit: str) -> list[date]:
    out, p = [], bucket(start, unit)
    while p <= bucket(end, unit):
        out.append(p)
        p = shift(p, unit)
    return out


def ratio(a: int, b: int) -> float | None:
    """a / b to 4 decimals, halves away from zero (as PostgreSQL's round(numeric))."""
    if not b:
        return None
    return float((Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def reference(users, posts, tz, unit, start, end, today):
    signed = dict(users)
    counted = [(u, t) for u, t in posts if u in signed and t >= signed[u]]
    days = defaultdict(set)  # local day -> users
    for u, t in counted:
        days[local_day(t, tz)].add(u)
    by_period = defaultdict(set)
    for d, who in days.items():
        by_period[bucket(d, unit)] |= who
    ps = periods(start, end, unit)

    def period_end(p):
        return shift(p, unit) - timedelta(days=1)

    active = []
    for p in ps:
        row = [p, period_end(p), len(by_period[p]), period_end(p) >= today]
        if unit == "day":
            wau = set().union(*(days[p - timedelta(days=i)] for i in range(7)))
            mau = set().union(*(days[p - timedelta(days=i)] for i in range(28)))
            row += [len(wau), len(mau), ratio(len(by_period[p]), len(mau))]
        active.append(row)

    cohort = {u: bucket(local_day(c, tz), unit) for u, c in users}
    retention = []
    for i, c in enumerate(ps):
        members = {u for u, p in cohort.items() if p == c}
        for k, p in enumerate(ps[i:]):
            kept = len(members & by_period[p])
            share = ratio(kept, len(members))
            retention.append([c, len(members), k, kept, share, period_end(p) >= today])

    lifecycle = []
    for p in ps:
        now, before = by_period[p], by_period[shift(p, unit, -1)]
        new = {u for u in now if cohort[u] == p}
        retained = now & before
        resurrected = {u for u in now - before if cohort[u] < p}
        churned = before - now
        assert len(new) + len(retained) + len(resurrected) == len(now)  # the definitions partition
        quick = ratio(len(new) + len(resurrected), len(churned))
        lifecycle.append(
            [p, period_end(p), len(new), len(retained), len(resurrected), len(churned), len(now), quick]
            + [period_end(p) >= today]
        )
    return {"active": active, "retention": retention, "lifecycle": lifecycle}


def as_rows(frame):
    def plain(v):
        if v != v:  # NaN: no value
            return None
        return v.item() if hasattr(v, "item") else v

    return [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("unit", ["day", "week", "month"])
def test_all_three_tables_equal_a_count_over_the_raw_rows(rows, tz, unit):
    users, posts = rows
    start, end = (date(2026, 2, 25), date(2026, 4, 12)) if unit == "day" else (date(2026, 1, 20), date(2026, 4, 15))
    rng = resolve_range("custom", tz=tz, start=start, end=end, now=NOW)
    expected = reference(users, posts, tz, unit, start, end, rng.today)
    for name in engagement.TABLES:
        if name == "retention" and unit == "day":
            rng_r = resolve_range("custom", tz=tz, start=date(2026, 3, 1), end=date(2026, 4, 12), now=NOW)
            want = reference(users, posts, tz, unit, rng_r.start, rng_r.end, rng_r.today)[name]
            got = engagement.table(name, rng=rng_r, granularity=unit, tz=tz)
        else:
            want = expected[name]
            got = engagement.table(name, rng=rng, granularity=unit, tz=tz)
        assert (
            list(got.frame.columns) == engagement.COLUMNS["active_day" if name == "active" and unit == "day" else name]
        )
        assert as_rows(got.frame) == want, (name, tz, unit)


@pytest.mark.parametrize("tz", ZONES)
def test_new_retained_resurrected_add_up_to_active(rows, tz):
    for unit in ("day", "week", "month"):
        rng = resolve_range("custom", tz=tz, start=date(2026, 1, 20), end=date(2026, 4, 15), now=NOW)
        life = engagement.table("lifecycle", rng=rng, granularity=unit, tz=tz).frame
        assert (life["new"] + life["retained"] + life["resurrected"] == life["active_users"]).all()
        active = engagement.table("active", rng=rng, granularity=unit, tz=tz).frame
        assert list(active["active_users"]) == list(life["active_users"])
        # churned(P) = active(P-1) - retained(P)
        before = active["active_users"].shift(1) - life["retained"]
        assert (life["churned"].iloc[1:].to_numpy() == before.iloc[1:].to_numpy()).all()


def test_excluded_posts_are_counted_by_the_stated_rule(rows):
    users, posts = rows
    rng = resolve_range("custom", tz="UTC", start=date(2026, 1, 1), end=date(2026, 4, 15), now=NOW)
    orphans, early = engagement.excluded(rng=rng, granularity="month", tz="UTC")
    signed = dict(users)
    assert orphans == sum(1 for u, t in posts if u not in signed and date(2026, 1, 1) <= t.date() < date(2026, 5, 1))
    assert early == sum(1 for u, t in posts if u in signed and t < signed[u] and t.date() >= date(2026, 1, 1))
    assert orphans > 0 and early > 0


def test_an_empty_database_gives_zero_filled_tables(db):
    rng = resolve_range("custom", tz="Asia/Kathmandu", start=date(2026, 3, 2), end=date(2026, 3, 15), now=NOW)
    active = engagement.table("active", rng=rng, granularity="day", tz="Asia/Kathmandu").frame
    assert len(active) == 14 and active["active_users"].sum() == 0 and active["stickiness"].isna().all()
    retention = engagement.table("retention", rng=rng, granularity="week", tz="Asia/Kathmandu").frame
    assert len(retention) == 3 and retention["retained_share"].isna().all()  # weeks of 2, 9 Mar; 1 + 2 rows


def test_bad_choices_are_refused_before_any_sql(db):
    rng = resolve_range("custom", tz="UTC", start=date(2020, 1, 1), end=date(2026, 4, 15), now=NOW)
    with pytest.raises(engagement.EngagementError, match="more than 120"):
        engagement.table("retention", rng=rng, granularity="week", tz="UTC")
    with pytest.raises(engagement.EngagementError, match="Unknown table"):
        engagement.table("dau", rng=rng, granularity="week", tz="UTC")
    with pytest.raises(engagement.EngagementError, match="Unknown granularity"):
        engagement.table("active", rng=rng, granularity="year", tz="UTC")


def test_cards_compare_complete_spans(rows):
    rng = resolve_range("custom", tz="America/New_York", start=date(2026, 3, 1), end=date(2026, 4, 15), now=NOW)
    days = engagement.table("active", rng=engagement.kpi_range(rng), granularity="day", tz="America/New_York")
    dau, wau, mau, sticky = engagement.cards(days)
    frame = days.frame.set_index("period_start")
    last = rng.today - timedelta(days=1)
    assert (
        dau.value == frame.loc[last, "active_users"] and dau.previous == frame.loc[last - timedelta(7), "active_users"]
    )
    assert wau.value == frame.loc[last, "wau"] and mau.previous == frame.loc[last - timedelta(28), "mau"]
    assert 0 < sticky.value <= 1


# --- the same answers from the engagement state (migration 0007, actions/engagement.py) -------


def built(tz: str, today: date) -> None:
    from actions import engagement as state
    from queries import reads

    assert state.refresh(tz, until=today) == today
    reads.clear_cache()


@pytest.mark.parametrize("tz", ZONES)
def test_the_state_gives_the_same_rows_as_the_raw_rows(rows, tz):
    users, posts = rows
    rng = resolve_range("custom", tz=tz, start=date(2026, 1, 26), end=date(2026, 4, 15), now=NOW)
    built(tz, rng.today)
    for unit in ("day", "week", "month"):
        want = reference(users, posts, tz, unit, rng.start, rng.end, rng.today)
        for name in engagement.TABLES:
            if name == "retention" and unit == "day":
                continue  # 80 days of daily cohorts: checked below on a shorter range
            got = engagement.table(name, rng=rng, granularity=unit, tz=tz)
            assert got.kept is not None and got.kept.through == rng.today
            assert got.frame.attrs["query"] == f"engagement.rolled.{name}"  # read from the state
            assert as_rows(got.frame) == want[name], (name, tz, unit)
    signed = dict(users)
    whole = resolve_range("custom", tz=tz, start=date(2026, 1, 1), end=date(2026, 4, 15), now=NOW)
    in_range = [(u, t) for u, t in posts if date(2026, 1, 1) <= local_day(t, tz) <= date(2026, 4, 30)]
    assert engagement.excluded(rng=whole, granularity="month", tz=tz) == (
        sum(1 for u, _ in in_range if u not in signed),
        sum(1 for u, t in in_range if u in signed and t < signed[u]),
    )
    short = resolve_range("custom", tz=tz, start=date(2026, 3, 20), end=date(2026, 4, 15), now=NOW)
    want = reference(users, posts, tz, "day", short.start, short.end, short.today)["retention"]
    assert as_rows(engagement.table("retention", rng=short, granularity="day", tz=tz).frame) == want


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/New_York"])
def test_todays_authors_of_every_kind_are_added_to_the_state_exactly(rows, db, tz):
    """The open periods from the state plus today's authors (engagement.rolled.today):
    a sign-up of today posting (and once before signing up), one whose every post of the
    day is dated before the sign-up, an orphan, a user the state
    has pruned (last seen 100 days ago), one it knows, and posts later in the open week."""
    users, posts = rows
    rng = resolve_range("custom", tz=tz, start=date(2026, 1, 26), end=date(2026, 4, 15), now=NOW)
    midnight = datetime.combine(rng.today, datetime.min.time(), zoneinfo.ZoneInfo(tz)).astimezone(UTC)
    local0 = midnight.replace(tzinfo=None)
    newcomer = ("00000000-0000-4000-9000-000000000001", local0 + timedelta(minutes=5))
    pruned = ("00000000-0000-4000-9000-000000000002", local0 - timedelta(days=200))
    early_bird = ("00000000-0000-4000-9000-000000000003", local0 + timedelta(minutes=30))
    known = users[0]
    extra_users = [newcomer, pruned, early_bird]
    extra_posts = [
        (newcomer[0], local0 + timedelta(minutes=1)),  # before its sign-up: not counted
        (newcomer[0], local0 + timedelta(minutes=6)),
        (early_bird[0], local0 + timedelta(minutes=10)),  # every post of the day before the sign-up
        (early_bird[0], local0 + timedelta(minutes=20)),
        ("ffffffff-0000-4000-8000-000000000002", local0),  # an orphan, on the very midnight
        (pruned[0], local0 - timedelta(days=100)),
        (pruned[0], local0 + timedelta(hours=2)),
        (known[0], local0 + timedelta(hours=1)),
        (known[0], local0 + timedelta(days=2)),  # later in the open week (dated ahead)
    ]
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id, created_at) "
            "VALUES (%s, 'x', 'x', 'x@test.com', 'T', %s)",
            extra_users,
        )
        cur.executemany("INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, 'x', %s)", extra_posts)
    users, posts = users + extra_users, posts + extra_posts
    built(tz, rng.today)
    for unit in ("day", "week", "month"):
        want = reference(users, posts, tz, unit, rng.start, rng.end, rng.today)
        for name in engagement.TABLES:
            if name == "retention" and unit == "day":
                continue
            got = engagement.table(name, rng=rng, granularity=unit, tz=tz)
            assert got.frame.attrs["query"] == f"engagement.rolled.{name}"
            assert as_rows(got.frame) == want[name], (name, tz, unit)
    signed = dict(users)
    for unit in ("week", "month"):
        first = engagement.period_start(rng.start, unit)
        after = engagement.next_period(engagement.period_start(rng.end, unit), unit)
        in_range = [(u, t) for u, t in posts if first <= local_day(t, tz) < after]
        assert engagement.excluded(rng=rng, granularity=unit, tz=tz) == (
            sum(1 for u, _ in in_range if u not in signed),
            sum(1 for u, t in in_range if u in signed and t < signed[u]),
        ), unit


def test_a_delete_sends_readers_back_to_the_raw_rows_until_the_state_is_rebuilt(rows, db):
    from actions import engagement as state
    from queries import reads

    users, posts = rows
    tz = "America/New_York"
    rng = resolve_range("custom", tz=tz, start=date(2026, 2, 2), end=date(2026, 4, 15), now=NOW)
    built(tz, rng.today)
    gone = db.execute(
        "DELETE FROM activities WHERE created_at < '2026-03-09' RETURNING user_uuid, created_at"
    ).fetchall()
    assert gone and db.execute("SELECT bool_and(dirty) FROM engagement_zones").fetchone()[0]
    left = [p for p in posts if p[1] >= datetime(2026, 3, 9)]
    reads.clear_cache()
    got = engagement.table("lifecycle", rng=rng, granularity="week", tz=tz)
    assert got.kept.dirty and got.frame.attrs["query"] == "engagement.lifecycle"
    assert as_rows(got.frame) == reference(users, left, tz, "week", rng.start, rng.end, rng.today)["lifecycle"]
    assert state.refresh(tz, until=rng.today) == rng.today  # rebuilt from the first post
    reads.clear_cache()
    got = engagement.table("lifecycle", rng=rng, granularity="week", tz=tz)
    assert not got.kept.dirty and got.frame.attrs["query"] == "engagement.rolled.lifecycle"
    assert as_rows(got.frame) == reference(users, left, tz, "week", rng.start, rng.end, rng.today)["lifecycle"]


def test_a_database_without_our_migrations_is_counted_live(legacy_db_url):
    import psycopg

    users, posts = generated_rows(seed=3)
    with psycopg.connect(legacy_db_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id, created_at) "
            "VALUES (%s, 'x', 'x', 'x@test.com', 'T', %s)",
            users,
        )
        cur.executemany("INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, 'x', %s)", posts)
    tz = "Asia/Kathmandu"
    rng = resolve_range("custom", tz=tz, start=date(2026, 2, 1), end=date(2026, 4, 15), now=NOW)
    want = reference(users, posts, tz, "week", rng.start, rng.end, rng.today)
    for name in engagement.TABLES:
        got = engagement.table(name, rng=rng, granularity="week", tz=tz)
        assert not got.kept.present and as_rows(got.frame) == want[name]


def test_a_sign_up_between_posts_where_the_local_date_steps_back(db):
    """St John's fell back at 00:01 to 23:01 of the day before (until 2010): a user
    posting just before and after it, and signing up in between, is counted on the
    right local days; the posts before the sign-up count for nobody."""
    tz = "America/St_Johns"
    now = datetime(2010, 11, 7, 2, 35, tzinfo=UTC)  # 23:05 on 6 Nov, local time, after the fall back
    early = ("00000000-0000-4000-9000-000000000010", datetime(2010, 10, 20, 12, 0))
    user = ("00000000-0000-4000-9000-000000000011", datetime(2010, 11, 7, 3, 0))  # 23:30 on 6 Nov
    users = [early, user]
    posts = [
        (early[0], datetime(2010, 10, 21, 12, 0)),
        (user[0], datetime(2010, 11, 7, 2, 30, 30)),  # 00:00:30 on 7 Nov, before the sign-up
        (user[0], datetime(2010, 11, 7, 2, 40)),  # 23:10 on 6 Nov, before the sign-up
        (user[0], datetime(2010, 11, 7, 3, 40)),  # 00:10 on 7 Nov (dated ahead), after it
    ]
    insert(db, users, posts)
    rng = resolve_range("custom", tz=tz, start=date(2010, 10, 18), end=date(2010, 11, 6), now=now)
    assert rng.today == date(2010, 11, 6)
    built(tz, rng.today)
    for unit in ("week", "month"):
        want = reference(users, posts, tz, unit, rng.start, rng.end, rng.today)
        for name in engagement.TABLES:
            got = engagement.table(name, rng=rng, granularity=unit, tz=tz)
            assert got.frame.attrs["query"] == f"engagement.rolled.{name}"
            assert as_rows(got.frame) == want[name], (name, unit)
    assert engagement.excluded(rng=rng, granularity="month", tz=tz) == (0, 2)
