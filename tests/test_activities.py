"""Creating an activity (queries/activities.py) against a real database."""

from datetime import UTC, datetime, timedelta

import pytest

from actions.activities import (
    MAX_CHARS,
    TTLS,
    ActivityRejected,
    char_count,
    create_activity,
    normalize_handle,
    validate,
)
from db.guard import WriteRefused
from tests.helpers import add_user


def codes(problems):
    return [p.code for p in problems]


def count_posts(db):
    return db.execute("SELECT count(*) FROM activities").fetchone()[0]


def test_all_problems_are_reported_together():
    assert codes(validate("", "", None)) == ["user_handle_blank", "message_blank", "ttl_blank"]
    assert codes(validate("  ", "x" * 281, "2-weeks")) == ["user_handle_blank", "message_exceed_max_chars", "ttl_blank"]
    assert codes(validate("@andrew", "   \n ", "1-hour")) == ["message_blank"]
    assert validate("andrew", "x" * MAX_CHARS, "30-days") == []


def test_characters_not_bytes():
    rocket = "🚀" * MAX_CHARS
    assert len(rocket.encode("utf-8")) == 4 * MAX_CHARS and char_count(rocket) == MAX_CHARS
    assert validate("a", rocket, "1-day") == []
    assert codes(validate("a", rocket + "🚀", "1-day")) == ["message_exceed_max_chars"]


def test_text_postgresql_cannot_store_is_refused():
    assert codes(validate("a", "nul\x00here", "1-day")) == ["message_invalid_characters"]
    assert codes(validate("a", "lone \ud83d surrogate", "1-day")) == ["message_invalid_characters"]
    assert codes(validate("a\x00b", "fine", "1-day")) == ["user_handle_invalid"]


def test_handles_are_normalized():
    assert normalize_handle("  @andrewbrown ") == "andrewbrown"
    assert normalize_handle(None) == ""


@pytest.mark.parametrize("ttl", list(TTLS))
def test_created_row_is_read_back_with_expiry_from_the_ttl(db, ttl):
    add_user(db, "andrewbrown")
    before = datetime.now(UTC).replace(tzinfo=None)
    row = create_activity(handle="@andrewbrown", message="Live from the investor meeting 🎉", ttl=ttl).iloc[0]
    assert list(row.index) == ["uuid", "author", "message", "created_at", "expires_at"]
    stored = db.execute(
        "SELECT user_uuid, message, created_at, expires_at FROM activities WHERE uuid = %s", (row["uuid"],)
    ).fetchone()
    assert stored[1] == row["message"] == "Live from the investor meeting 🎉"
    assert (stored[2], stored[3]) == (row["created_at"], row["expires_at"])
    assert row["expires_at"] - row["created_at"] == TTLS[ttl]
    # created_at is UTC wall-clock, like the rest of the table
    assert abs(row["created_at"] - before) < timedelta(minutes=1)


def test_unknown_handle_is_reported_and_nothing_is_written(db):
    add_user(db, "andrewbrown")
    with pytest.raises(ActivityRejected) as caught:
        create_activity(handle="nobody", message="hello", ttl="1-day")
    assert codes(caught.value.problems) == ["user_not_found"]
    assert "@nobody" in str(caught.value)
    assert count_posts(db) == 0


def test_invalid_input_writes_nothing(db):
    add_user(db, "andrewbrown")
    for handle, message, ttl in [
        ("", "hi", "1-day"),
        ("andrewbrown", "", "1-day"),
        ("andrewbrown", "x" * 281, "1-day"),
        ("andrewbrown", "hi", None),
        ("andrewbrown", "a\x00b", "1-day"),
    ]:
        with pytest.raises(ActivityRejected):
            create_activity(handle=handle, message=message, ttl=ttl)
    assert count_posts(db) == 0


def test_duplicate_handles_post_as_the_earliest_user(db):
    # production has no unique constraint on handle
    first = add_user(db, "twin", datetime(2025, 1, 1))
    add_user(db, "twin", datetime(2026, 1, 1))
    row = create_activity(handle="twin", message="which one?", ttl="1-hour").iloc[0]
    assert db.execute("SELECT user_uuid FROM activities WHERE uuid = %s", (row["uuid"],)).fetchone()[0] == first


def test_production_refuses_and_writes_nothing(db, db_url, monkeypatch):
    add_user(db, "andrewbrown")
    monkeypatch.delenv("CONNECTION_URL")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    with pytest.raises(WriteRefused, match="ALLOW_PROD_WRITES"):
        create_activity(handle="andrewbrown", message="hello", ttl="1-day")
    assert count_posts(db) == 0
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    create_activity(handle="andrewbrown", message="hello", ttl="1-day")
    assert count_posts(db) == 1


def test_an_unknown_handle_is_reported_with_the_other_problems(db):
    with pytest.raises(ActivityRejected) as caught:
        create_activity(handle="ghost", message="", ttl="forever")
    assert codes(caught.value.problems) == ["user_not_found", "message_blank", "ttl_blank"]
    assert count_posts(db) == 0


def author_of(db, row):
    return db.execute("SELECT user_uuid FROM activities WHERE uuid = %s", (row["uuid"],)).fetchone()[0]


def test_a_handle_that_really_begins_with_at_is_used_as_typed(db):
    plain = add_user(db, "weird")
    at_sign = add_user(db, "@weird")
    row = create_activity(handle=" @weird ", message="mine", ttl="1-hour").iloc[0]
    assert row["author"] == "@weird" and author_of(db, row) == at_sign
    row = create_activity(handle="weird", message="also mine", ttl="1-hour").iloc[0]
    assert row["author"] == "weird" and author_of(db, row) == plain


def test_only_an_at_handle_exists(db):
    only = add_user(db, "@only")
    row = create_activity(handle="@only", message="found", ttl="1-day").iloc[0]
    assert row["author"] == "@only" and author_of(db, row) == only
    with pytest.raises(ActivityRejected) as caught:  # the bare form names nobody
        create_activity(handle="only", message="lost", ttl="1-day")
    assert codes(caught.value.problems) == ["user_not_found"]
    assert count_posts(db) == 1


def test_the_at_sign_is_still_optional_for_ordinary_handles(db):
    plain = add_user(db, "andrewbrown")
    row = create_activity(handle="@andrewbrown", message="hi", ttl="1-day").iloc[0]
    assert author_of(db, row) == plain
