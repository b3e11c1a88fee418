"""Local day bounds: every statement that bounds a local calendar day by UTC instants
starts day d at its first instant, so a row falls in the local date its created_at
shows, `((created_at AT TIME ZONE 'UTC') AT TIME ZONE tz)::date`, as the statements
that convert each row do.

America/Havana falls back from 01:00 CDT to 00:00 CST on 1 November 2026: local
00:00-01:00 happens twice, and PostgreSQL reads '2026-11-01 00:00' as the later
instant (05:00 UTC). Day d starts at
    least(d's midnight as PostgreSQL reads it, just after d - 1's last microsecond)
(queries/sql/growth_summary.sql and the others; README, "Local midnights that happen
twice", under the growth rollup).
"""

import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from actions import rollup
from exports import raw
from queries.explore import explore, raw_count, resolve_range
from queries.reads import fetch
from tests.helpers import add_message, add_post, add_user

SQL_DIR = Path(__file__).resolve().parent.parent / "queries" / "sql"


def day_start(d: str) -> str:
    """The statements' expression for the first instant of local day `d` (naive UTC)."""
    return (
        f"least(({d}::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC', "
        f"(({d}::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'"
        " + interval '1 microsecond')"
    )


# (zone, local day, its first instant in UTC)
FIRST_INSTANTS = [
    # 01:00 CDT falls back to 00:00 CST: 00:00 first happens at 04:00 UTC (PostgreSQL reads 05:00).
    ("America/Havana", "2026-11-01", "2026-11-01 04:00:00"),
    ("America/Havana", "2026-11-02", "2026-11-02 05:00:00"),
    # 00:00 CST springs forward to 01:00 CDT: 00:00 does not exist, the day starts at 05:00 UTC.
    ("America/Havana", "2026-03-08", "2026-03-08 05:00:00"),
    ("America/Havana", "2026-03-09", "2026-03-09 04:00:00"),
    # 24:00 -03 falls back to 23:00 -04 (the repeated hour is the day before's last).
    ("America/Santiago", "2026-04-05", "2026-04-05 04:00:00"),
    # 00:00 -04 springs forward to 01:00 -03.
    ("America/Santiago", "2026-09-06", "2026-09-06 04:00:00"),
    # Ordinary DST at 02:00/03:00, away from midnight: the days of 23 and 25 hours.
    ("Europe/Berlin", "2026-03-29", "2026-03-28 23:00:00"),
    ("Europe/Berlin", "2026-03-30", "2026-03-29 22:00:00"),
    ("Europe/Berlin", "2026-10-25", "2026-10-24 22:00:00"),
    ("Europe/Berlin", "2026-10-26", "2026-10-25 23:00:00"),
    ("UTC", "2026-11-01", "2026-11-01 00:00:00"),
    # Clocks set back less than an hour at midnight itself (24:00 -> 23:30): the midnight
    # that exists is the later one (a probe an hour before midnight would pick 15:00).
    ("Asia/Pyongyang", "2015-08-15", "2015-08-14 15:30:00"),
    ("Pacific/Rarotonga", "1979-03-04", "1979-03-04 10:00:00"),
]


@pytest.mark.parametrize(("tz", "day", "first"), FIRST_INSTANTS)
def test_the_first_instant_of_a_local_day(db, tz, day, first):
    start, local, before = db.execute(
        f"SELECT s, ((s AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date,"
        f" (((s - interval '1 microsecond') AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date"
        f" FROM (SELECT {day_start('%(day)s::date')} AS s) AS x",
        {"tz": tz, "day": day},
    ).fetchone()
    assert start == datetime.fromisoformat(first)
    # The first instant whose local date is `day`: it shows `day`, the microsecond before does not.
    assert local == date.fromisoformat(day) and before == date.fromisoformat(day) - timedelta(days=1)


# What follows a bound that is not a day start: a scan window padded by at least an hour,
# which an exact local-date predicate on each row then cuts (engagement's statements).
_PADDED = re.compile(r"\s*[-+] interval '(1 day|3 hours)'")
_DAY_START = re.compile(
    r"least\(\((?P<d>.+?)::timestamp AT TIME ZONE %\(tz\)s\) AT TIME ZONE 'UTC', "
    r"\(\((?P=d)::timestamp - interval '1 microsecond'\) AT TIME ZONE %\(tz\)s\) AT TIME ZONE 'UTC'"
    r" \+ interval '1 microsecond'\)"
)


def test_every_exact_day_bound_is_the_first_instant_expression():
    """The same expression, text for text, wherever a statement bounds a local day exactly."""
    seen = 0
    for path in sorted(SQL_DIR.rglob("*.sql")):
        code = (line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
        text, n = _DAY_START.subn("<day start>", re.sub(r"\s+", " ", " ".join(code)))
        seen += n
        for m in re.finditer(r"::timestamp AT TIME ZONE %\(tz\)s\) AT TIME ZONE 'UTC'", text):
            assert _PADDED.match(text, m.end()), f"{path.relative_to(SQL_DIR)}: {text[m.start() - 60 : m.end() + 20]}"
    assert seen >= 41


# --- Rows around the midnights, through every statement that counts per local day ---------------

NOW = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # "now" for Explore's ranges: after every row
HAVANA = {
    "tz": "America/Havana",
    "stamps": [
        "2026-10-31 03:59:59.999999",  # 23:59:59 CDT on 30 October
        "2026-10-31 04:00:00",  # 00:00 CDT on 31 October
        "2026-10-31 16:00:00",
        "2026-11-01 03:59:59",  # 23:59:59 CDT on 31 October
        "2026-11-01 04:00:00",  # 00:00 CDT on 1 November, the first time
        "2026-11-01 04:30:00",
        "2026-11-01 04:59:59.999999",
        "2026-11-01 05:00:00",  # 00:00 CST, the second time
        "2026-11-01 05:30:00",
        "2026-11-02 04:59:59.999999",  # 23:59:59 CST on 1 November
        "2026-11-02 05:00:00",  # 00:00 CST on 2 November
    ],
    # today = 4 November; 7 November (1 November the first day); 1 November (the last day);
    # 14 November (1 November starts the week before, for the deltas)
    "as_of": ["2026-11-04 12:00:00+00", "2026-11-07 12:00:00+00", "2026-11-01 16:00:00+00", "2026-11-14 12:00:00+00"],
    "ranges": [("2026-10-30", "2026-11-02"), ("2026-11-01", "2026-11-01"), ("2026-10-31", "2026-10-31")],
    # Each of these days in the reference: the day the rows of 04:00-05:00 UTC used to leave.
    "expect": {"2026-10-30": 1, "2026-10-31": 3, "2026-11-01": 6, "2026-11-02": 1},
}
BERLIN = {
    "tz": "Europe/Berlin",
    "stamps": [
        "2026-03-28 22:59:59.999999",  # 23:59:59 CET on 28 March
        "2026-03-28 23:00:00",  # 00:00 CET on 29 March
        "2026-03-29 00:59:59",  # 01:59:59 CET, the second before the clocks spring forward
        "2026-03-29 01:00:00",  # 03:00 CEST
        "2026-03-29 21:59:59.999999",  # 23:59:59 CEST on 29 March
        "2026-03-29 22:00:00",  # 00:00 CEST on 30 March
        "2026-10-24 21:59:59.999999",  # 23:59:59 CEST on 24 October
        "2026-10-24 22:00:00",  # 00:00 CEST on 25 October
        "2026-10-25 00:30:00",  # 02:30 CEST
        "2026-10-25 01:30:00",  # 02:30 CET, the second time
        "2026-10-25 22:59:59.999999",  # 23:59:59 CET on 25 October
        "2026-10-25 23:00:00",  # 00:00 CET on 26 October
    ],
    "as_of": ["2026-03-31 12:00:00+00", "2026-03-29 12:00:00+00", "2026-10-27 12:00:00+00", "2026-10-25 12:00:00+00"],
    "ranges": [("2026-03-28", "2026-03-30"), ("2026-03-29", "2026-03-29"), ("2026-10-25", "2026-10-25")],
    "expect": {"2026-03-28": 1, "2026-03-29": 4, "2026-03-30": 1, "2026-10-24": 1, "2026-10-25": 4, "2026-10-26": 1},
}


def reference(db, table: str, column: str, tz: str) -> Counter:
    """Rows per local date, each row converted: the definition the statements must agree with."""
    rows = db.execute(
        f"SELECT (({column} AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date, count(*) FROM {table} GROUP BY 1",
        {"tz": tz},
    ).fetchall()
    return Counter({d: n for d, n in rows})


def previous(db, table: str, column: str, tz: str, as_of: str) -> int:
    """The weekly delta's comparison span: from the local day a week before the first day
    (each row converted) to the same local time a week ago."""
    return db.execute(
        f"WITH b AS (SELECT %(as_of)s::timestamptz AT TIME ZONE %(tz)s AS local_now)"
        f" SELECT count(*) FROM {table}, b"
        f" WHERE (({column} AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= local_now::date - 13"
        f" AND {column} < ((local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'",
        {"as_of": as_of, "tz": tz},
    ).fetchone()[0]


def per_day(frame, day="day") -> dict:
    return {d: int(n) for d, n in zip(frame[day], frame["count"], strict=True)}


def check_growth(db, tz: str, as_of: str, want: dict) -> None:
    summary = fetch("growth_summary", tz=tz, as_of=as_of)
    weekly = fetch("live.weekly_new_counts", tz=tz, as_of=as_of).set_index("metric")
    for metric, table in (("users", "users"), ("posts", "activities")):
        days = summary[(summary["metric"] == metric) & (summary["kind"] == "day")]
        expected = {d: want[table][d] for d in days["day"]}
        where = f"{metric} in {tz} as of {as_of}"
        assert per_day(days) == expected, where
        assert per_day(fetch(f"new_{metric}_per_day", tz=tz, as_of=as_of)) == expected, where
        assert per_day(fetch(f"live.new_{metric}_per_day", tz=tz, as_of=as_of)) == expected, where
        assert int(weekly.loc[metric, "current"]) == sum(expected.values()), where
        last_week = previous(db, table, "created_at", tz, as_of)
        assert int(summary[(summary["metric"] == metric) & (summary["kind"] == "previous")]["count"].iloc[0]) == (
            last_week
        ), where
        assert int(weekly.loc[metric, "previous"]) == last_week, where
    messages = fetch("messages_summary", tz=tz, as_of=as_of)
    expected = {d: want["message_events"][d] for d in messages["day"]}
    assert per_day(messages) == expected
    assert per_day(fetch("new_messages_per_day", tz=tz, as_of=as_of)) == expected
    assert int(messages["previous"].iloc[0]) == previous(db, "message_events", "sent_at", tz, as_of)


def check_explore(tz: str, start: str, end: str, want: dict) -> None:
    rng = resolve_range("custom", tz=tz, start=date.fromisoformat(start), end=date.fromisoformat(end), now=NOW)
    days = [rng.start + timedelta(days=i) for i in range((rng.end - rng.start).days + 1)]
    for metric, table in (
        ("new_users", "users"),
        ("new_posts", "activities"),
        ("active_authors", "activities"),  # one author per post
        ("messages", "message_events"),
        ("conversations_started", "message_events"),  # one conversation per message
    ):
        got = per_day(explore(metric, rng=rng, granularity="day", tz=tz, fresh=True).frame, "period_start")
        assert got == {d: want[table][d] for d in days}, (metric, tz, start, end)
    params = dict(start_day=rng.start, end_day=rng.end, today=rng.today, tz=tz, unit="day", cumulative=False)
    for metric, table in (("new_users", "users"), ("new_posts", "activities")):
        live = per_day(fetch(f"live.explore.{metric}", **params), "period_start")
        assert live == {d: want[table][d] for d in days}, (metric, tz, start, end)
    active = fetch("engagement.active", start_day=rng.start, end_day=rng.end, today=rng.today, tz=tz, unit="day")
    assert dict(zip(active["period_start"], active["active_users"].astype(int), strict=True)) == {
        d: want["activities"][d] for d in days
    }
    for kind in ("users", "activities"):
        inside = sum(want[kind][d] for d in days)
        assert raw_count(kind, rng=rng, tz=tz, fresh=True) == inside, (kind, tz, start, end)
        out = io.BytesIO()
        raw.stream_raw(kind, out, tz=tz, start_day=rng.start, end_day=rng.end, style="sidecar")
        extract = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
        assert len(extract) == inside, (kind, tz, start, end)
        # Each row's local time (with its UTC offset) is on one of the range's days.
        assert {date.fromisoformat(r["Created at (local)"][:10]) for r in extract} <= set(days)


@pytest.mark.parametrize("case", [HAVANA, BERLIN], ids=["havana", "berlin"])
def test_rows_fall_on_the_local_date_their_created_at_shows(db, case):
    tz = case["tz"]
    for i, stamp in enumerate(case["stamps"]):
        add_user(db, f"new{i}", stamp)
        add_post(db, add_user(db, f"author{i}", "2026-01-01 12:00:00"), stamp)
        add_message(db, datetime.fromisoformat(stamp))
    want = {t: reference(db, t, c, tz) for t, c in (("users", "created_at"), ("activities", "created_at"))}
    want["message_events"] = reference(db, "message_events", "sent_at", tz)
    want["users"][date(2026, 1, 1)] -= len(case["stamps"])  # the authors, long before every range
    # The reference itself, by hand: the zone's midnights put the rows where expected.
    assert {d.isoformat(): n for d, n in want["activities"].items()} == case["expect"]
    assert want["users"] - Counter() == want["activities"] == want["message_events"]

    for rolled_up in (False, True):  # the rollup empty (all counted live), then rolled up to now
        if rolled_up:
            assert rollup.refresh()
            assert db.execute("SELECT sum(n) FROM dashboard_rollup_quarter WHERE tbl = 'activities'").fetchone()[0]
        for as_of in case["as_of"]:
            check_growth(db, tz, as_of, want)
        for start, end in case["ranges"]:
            check_explore(tz, start, end, want)
