"""Demo messages (seed/messages.py): synthetic stream records through the real messages metrics handler."""

import re
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from actions.writing import writing
from db.guard import WriteRefused
from seed import generate, messages
from seed.__main__ import main as seed_cli

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
OFFSET = re.compile(r"[+-]\d\d:\d\d$")


@pytest.fixture
def users(db):
    with writing("users", "activities") as conn:
        generate(conn, users=80, posts=10, days=30, seed=3, now=NOW)
    with writing() as conn:
        return messages.load_users(conn)


def metrics(conn):
    return conn.execute(
        "SELECT (SELECT count(*) FROM message_events), (SELECT count(*) FROM message_groups), "
        "(SELECT coalesce(sum(messages), 0) FROM message_counts)"
    ).fetchone()


def kinds(records):
    return Counter((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"][:4]) for r in records)


def test_records_are_shaped_like_the_apps_stream(users):
    p = messages.plan(users, messages=500, days=30, seed=9, now=NOW)
    records = list(messages.records(users, p, seed=9))
    assert len(records) == messages.expected_records(p)
    # a conversation: 2 group INSERTs + the first message; every later message: 1 INSERT + 2 x (REMOVE + INSERT)
    assert kinds(records) == {
        ("INSERT", "MSG#"): 500,
        ("INSERT", "GRP#"): 2 * 500,
        ("REMOVE", "GRP#"): 2 * (500 - p.conversations),
    }
    assert p.conversations == 50
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert len(set(numbers)) == len(numbers) and numbers == sorted(numbers, key=int)
    by_uuid = {u.uuid: u for u in users}
    live: dict[tuple[str, str], dict] = {}  # the table's group items, replayed from the stream
    offsets = set()
    for r in records:
        stream = r["dynamodb"]
        assert r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"].startswith("arn:aws:dynamodb:")
        assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES" and isinstance(
            stream["ApproximateCreationDateTime"], int
        )
        image = stream["OldImage" if r["eventName"] == "REMOVE" else "NewImage"]
        assert all(set(v) == {"S"} for v in image.values())
        assert stream["Keys"] == {"pk": image["pk"], "sk": image["sk"]}
        sk = image["sk"]["S"]
        offsets.add(OFFSET.search(sk).group())
        when = datetime.fromisoformat(sk)
        # written at its sk; a group item is removed when the next message of its conversation is sent
        written = int(when.timestamp())
        if r["eventName"] == "REMOVE":
            assert written <= stream["ApproximateCreationDateTime"]
        else:
            assert written == stream["ApproximateCreationDateTime"]
        assert datetime(2026, 10, 23, tzinfo=UTC) <= when < NOW
        key = (image["pk"]["S"], sk)
        if image["pk"]["S"].startswith("MSG#"):
            uuid.UUID(image["message_uuid"]["S"])
            assert image["user_uuid"]["S"] in by_uuid
        elif r["eventName"] == "REMOVE":
            assert live.pop(key) == image  # the old image is the group item that was there
        else:
            owner, other = image["pk"]["S"][4:], image["user_uuid"]["S"]
            assert owner in by_uuid and other in by_uuid and owner != other
            live[key] = image
    assert len(live) == 2 * p.conversations  # one group item per participant and conversation
    assert {"+05:45", "+05:30", "-05:00", "+00:00"} <= offsets


def test_the_same_seed_gives_the_same_records_and_recent_days_are_busier(users):
    a = list(messages.records(users, messages.plan(users, messages=2000, days=30, seed=4, now=NOW), seed=4))
    b = list(messages.records(users, messages.plan(users, messages=2000, days=30, seed=4, now=NOW), seed=4))
    assert a == b
    sent = [
        datetime.fromisoformat(r["dynamodb"]["Keys"]["sk"]["S"])
        for r in a
        if r["dynamodb"]["Keys"]["pk"]["S"][:4] == "MSG#"
    ]
    first_week = sum(t < datetime(2026, 10, 30, tzinfo=UTC) for t in sent)
    last_week = sum(t >= datetime(2026, 11, 14, tzinfo=UTC) for t in sent)
    assert last_week > 2 * first_week


def test_loaded_through_the_real_handler_and_idempotent(db, users):
    p = messages.plan(users, messages=3000, days=30, seed=5, now=NOW)
    records = list(messages.records(users, p, seed=5))
    msg_inserts = kinds(records)[("INSERT", "MSG#")]
    result = messages.load(messages=3000, days=30, seed=5, now=NOW)
    assert (result.records, result.messages, result.conversations, result.failed) == (len(records), 3000, 300, 0)
    assert result.added == 3000 == msg_inserts
    # message_events = MSG# INSERTs, conversations = groups, the quarter hours sum to the messages;
    # the group items' REMOVE + INSERT churn counted nothing
    assert metrics(db) == (msg_inserts, p.conversations, msg_inserts)
    senders = {u.uuid for u in users}
    assert all(str(s) in senders for (s,) in db.execute("SELECT DISTINCT sender_uuid FROM message_events"))
    # every conversation starts at its first message, in UTC wall-clock time
    first = {
        r["dynamodb"]["Keys"]["pk"]["S"][4:]: datetime.fromisoformat(r["dynamodb"]["Keys"]["sk"]["S"])
        for r in reversed(records)
        if r["dynamodb"]["Keys"]["pk"]["S"][:4] == "MSG#"
    }
    started = {str(g): t for g, t in db.execute("SELECT message_group_uuid, started_at FROM message_groups")}
    assert started == {g: t.astimezone(UTC).replace(tzinfo=None) for g, t in first.items()}
    snapshot = db.execute(
        "SELECT md5(string_agg(message_uuid::text || sent_at::text, ',' ORDER BY message_uuid)) FROM message_events"
    ).fetchone()
    again = messages.load(messages=3000, days=30, seed=5, now=NOW)
    assert (again.records, again.added, again.failed) == (len(records), 0, 0)
    assert metrics(db) == (msg_inserts, p.conversations, msg_inserts)
    # a later day (times move, uuids do not): still nothing added, no conversation moved
    messages.load(messages=3000, days=30, seed=5, now=datetime(2026, 11, 25, tzinfo=UTC))
    assert metrics(db) == (msg_inserts, p.conversations, msg_inserts)
    assert (
        db.execute(
            "SELECT md5(string_agg(message_uuid::text || sent_at::text, ',' ORDER BY message_uuid)) FROM message_events"
        ).fetchone()
        == snapshot
    )


def test_needs_two_users(db):
    with pytest.raises(ValueError, match="at least two users"):
        messages.load(messages=10, days=3, seed=1)
    assert metrics(db) == (0, 0, 0)


def test_cli_loads_messages(db, users, capsys):
    assert seed_cli(["messages", "--messages", "400", "--days", "7", "--seed", "2"]) == 0
    out = capsys.readouterr()
    assert re.search(
        r"[\d,]+ stream record\(s\) through the handler in [\d.]+ s .*: "
        r"400 message\(s\) in 40 conversation\(s\), 400 newly counted",
        out.out,
    ), out.out
    assert "100.0%" in out.err
    assert metrics(db) == (400, 40, 400)
    assert seed_cli(["messages", "--messages", "400", "--days", "7", "--seed", "2"]) == 0
    assert "0 newly counted" in capsys.readouterr().out
    assert metrics(db) == (400, 40, 400)


def test_cli_without_users_or_tables_is_one_clear_line(db, capsys):
    assert seed_cli(["messages", "--messages", "10"]) == 2
    assert "at least two users" in capsys.readouterr().err
    db.execute("DROP TABLE message_events")
    assert seed_cli(["messages", "--messages", "10"]) == 2
    assert "tables are missing" in capsys.readouterr().err


def test_refused_on_production(db, db_url, users, monkeypatch, capsys):
    monkeypatch.delenv("CONNECTION_URL")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")  # demo data never goes to production, even when writes are allowed
    assert seed_cli(["messages", "--messages", "10"]) == 2
    assert "never runs there" in capsys.readouterr().err
    with pytest.raises(WriteRefused, match="never runs there"):
        messages.load(messages=10, days=3, seed=1)
    assert metrics(db) == (0, 0, 0)
