"""Bad input, generated: the activity form's code path and the command lines.

Every case must end in a stored row equal to the input or a clear refusal,
never an exception, a traceback or a partial write.
"""

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from actions.activities import MAX_CHARS, TTLS, ActivityRejected, create_activity
from tests.helpers import add_user

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SQL_BITS = [
    "'); DROP TABLE activities;--",
    "' OR '1'='1",
    "%(message)s",
    "%s",
    "{name}",
    "\\",
    "$$",
    "/*",
    "--",
    "\x00",
    "\ud800",
    "🚀",
    "👩‍👩‍👧",
    "\u202e",
    "ä",
    "\r\n",
    "\t",
]
# Any code point, surrogates and NUL included, mixed with the nastier fragments above.
anything = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=400),
    st.lists(st.sampled_from(SQL_BITS), max_size=30).map("".join),
    st.text(max_size=300).map(lambda t: t * 2),
)


def counts(db):
    return db.execute("SELECT count(*) FROM activities").fetchone()[0]


@pytest.fixture
def author(db):
    add_user(db, "fuzzer")
    return "fuzzer"


@FUZZ
@given(message=anything, ttl=st.one_of(st.none(), st.sampled_from(list(TTLS)), st.text(max_size=12)))
@example(message="x" * MAX_CHARS, ttl="1-hour")
@example(message="🚀" * MAX_CHARS, ttl="30-days")
@example(message="x" * (MAX_CHARS + 1), ttl="1-hour")
@example(message="nul\x00inside", ttl="1-hour")
def test_a_message_is_stored_exactly_or_refused_clearly(db, author, message, ttl):
    before = counts(db)
    try:
        row = create_activity(handle=author, message=message, ttl=ttl, by="fuzz")
    except ActivityRejected as exc:
        assert exc.problems and all(p.text for p in exc.problems)
        assert counts(db) == before
        return
    assert counts(db) == before + 1
    stored = db.execute("SELECT message FROM activities WHERE uuid = %s", (row["uuid"].iloc[0],)).fetchone()[0]
    assert stored == message
    assert row["message"].iloc[0] == message


@FUZZ
@given(handle=anything)
def test_any_handle_finds_the_user_or_says_none_exists(db, author, handle):
    before = counts(db)
    try:
        create_activity(handle=handle, message="hello", ttl="1-day", by="fuzz")
    except ActivityRejected as exc:
        assert {p.code for p in exc.problems} <= {"user_handle_blank", "user_handle_invalid", "user_not_found"}
        assert counts(db) == before
        return
    assert handle.strip().lstrip("@").strip() == author
    assert counts(db) == before + 1


def run_cli(main, argv, capsys):
    """The exit status; argparse's own refusal (SystemExit 2, usage on stderr) counts as clear."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if status != 0:
        assert err.strip(), "a refusal must say why"
    return status, out, err


zones = st.one_of(
    st.sampled_from(["UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "Etc/GMT+12"]),
    anything,
    st.sampled_from(["", "Mars/Olympus", "../../etc/passwd", "UTC'; --", "+05:30"]),
)
dates = st.one_of(
    st.dates().map(str), anything, st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31", "yesterday"])
)


@FUZZ
@given(tz=zones, as_of=dates)
def test_query_cli_parameters(db, capsys, tz, as_of):
    from queries.__main__ import main

    status, out, _ = run_cli(
        main, ["run", "new_posts_per_day", "-p", f"tz={tz}", "-p", f"as_of={as_of}", "-f", "csv"], capsys
    )
    assert status in (0, 1, 2)
    if status == 0:
        assert out.startswith("day,count,partial\n") and len(out.strip().splitlines()) == 8


@FUZZ
@given(tz=zones, start=dates, end=dates, metric=st.sampled_from(["new_users", "new_posts", "active_authors", "bogus"]))
def test_export_cli_parameters(db, capsys, tmp_path, tz, start, end, metric):
    from queries.__main__ import main

    argv = [
        "export",
        "explore",
        "--metric",
        metric,
        "--range",
        "custom",
        "--start",
        start,
        "--end",
        end,
        "--tz",
        tz,
        "--out",
        str(tmp_path / "out.csv"),
    ]
    status, _, _ = run_cli(main, argv, capsys)
    assert status in (0, 1, 2)


@FUZZ
@given(handle=anything, message=anything, ttl=st.one_of(st.sampled_from(list(TTLS)), anything))
def test_create_activity_cli(db, author, capsys, handle, message, ttl):
    from seed.__main__ import main

    assume(not handle.startswith("-") and not message.startswith("-") and not ttl.startswith("-"))
    before = counts(db)
    status, _, _ = run_cli(main, ["create-activity", "--handle", handle, "--message", message, "--ttl", ttl], capsys)
    assert status in (0, 1, 2)
    assert counts(db) == before + (1 if status == 0 else 0)
