"""The messages metrics Lambda (lambdas/messages_metrics) fed from moto's DynamoDB stream, against the real database.

The table is written as the original app wrote it (tests/messages_app.py); the metrics are compared per
day in four report zones, one of them +05:45, with counts made from the table's own items.
"""

from __future__ import annotations

import copy
import json
import random

import pytest

from tests import messages_app
from tests.messages_app import (
    SECRET_TEXT,
    ZONES,
    App,
    create_table,
    event,
    metric_counts,
    rollup_counts,
    stream_records,
    table_counts,
    totals,
)

aws = messages_app.aws  # fixture
lf = messages_app.lf  # fixture


@pytest.fixture
def traffic(aws):
    dynamodb, streams = aws
    create_table(dynamodb)
    app = App(dynamodb)
    app.traffic(conversations=8, messages=40)
    return dynamodb, app, stream_records(dynamodb, streams)


def test_the_stream_gives_the_tables_counts_in_every_zone(traffic, lf, db, caplog):
    dynamodb, app, records = traffic
    kinds = {(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"][:4]) for r in records}
    assert kinds == {("INSERT", "MSG#"), ("INSERT", "GRP#"), ("REMOVE", "GRP#")}  # the group items churn
    offsets = {r["dynamodb"]["NewImage"]["sk"]["S"][-6:] for r in records if r["eventName"] == "INSERT"}
    assert {"+05:30", "+05:45", "-05:00", "-04:00", "+00:00"} <= offsets
    assert isinstance(records[0]["dynamodb"]["ApproximateCreationDateTime"], float)
    with caplog.at_level("INFO"):
        for start in range(0, len(records), 25):  # batches, as an event source mapping of batch size 25 delivers
            assert lf.lambda_handler(event(records[start : start + 25])) == {"batchItemFailures": []}
    assert totals(db) == (48, 8)
    for tz in ZONES:
        assert metric_counts(db, tz) == table_counts(dynamodb, tz), tz
        assert rollup_counts(db, tz) == {day: n for day, (n, _, _) in table_counts(dynamodb, tz).items()}, tz
    # Zones do disagree on these days (the test would not see a wrong bucketing otherwise).
    assert len({tuple(table_counts(dynamodb, tz).items()) for tz in ZONES}) == len(ZONES)
    assert SECRET_TEXT not in caplog.text
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cruddur.messages_metrics"]
    assert sum(line["added"] for line in lines) == 48
    assert sum(line["ignored"].get("group item (churns on every message)", 0) for line in lines) == len(records) - 48


def test_a_replayed_batch_and_duplicate_records_count_once(traffic, lf, db):
    dynamodb, _, records = traffic
    assert lf.lambda_handler(event(records)) == {"batchItemFailures": []}
    before = {tz: metric_counts(db, tz) for tz in ZONES}
    assert lf.lambda_handler(event(records)) == {"batchItemFailures": []}  # the whole batch again
    assert lf.lambda_handler(event(records[:10] + records[:10] + records[5:20])) == {"batchItemFailures": []}
    assert {tz: metric_counts(db, tz) for tz in ZONES} == before
    assert totals(db) == (48, 8)


def test_shards_in_any_order_give_the_same_counts(traffic, lf, db):
    """Records of one conversation split over two shards whose batches arrive in any order, later messages first."""
    dynamodb, _, records = traffic
    shard_a, shard_b = records[::2], records[1::2]
    order = [list(reversed(shard_b)), list(reversed(shard_a))]
    rng = random.Random(3)
    for batch in order + [rng.sample(records, len(records))]:
        for start in range(0, len(batch), 7):
            assert lf.lambda_handler(event(batch[start : start + 7])) == {"batchItemFailures": []}
    assert totals(db) == (48, 8)
    for tz in ZONES:
        assert metric_counts(db, tz) == table_counts(dynamodb, tz), tz


def test_a_poison_record_in_the_middle_is_reported_and_the_others_counted(traffic, lf, db):
    dynamodb, _, records = traffic
    messages = [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["pk"]["S"][:4] == "MSG#"]
    poison = copy.deepcopy(messages[20])
    poison["dynamodb"]["NewImage"]["message_uuid"] = {"S": "not-a-uuid"}
    batch = [*messages[:20], poison, *messages[21:]]
    answer = lf.lambda_handler(event(batch))
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert totals(db)[0] == 47
    # Lambda retries from the poison record on: the records after it are already counted, so nothing changes.
    assert lf.lambda_handler(event(batch[20:])) == answer
    assert totals(db)[0] == 47
    # Every poison record of a batch is reported, not only the first.
    second = copy.deepcopy(messages[30])
    second["dynamodb"]["NewImage"]["sk"] = {"S": "yesterday"}
    answer = lf.lambda_handler(event([*batch[:30], second, *batch[31:]]))
    assert answer["batchItemFailures"] == [
        {"itemIdentifier": poison["dynamodb"]["SequenceNumber"]},
        {"itemIdentifier": second["dynamodb"]["SequenceNumber"]},
    ]


def test_remove_and_modify_of_messages(traffic, lf, db):
    """REMOVE: a message sent stays sent. MODIFY: recorded like an INSERT of its new image, so an edit counts nothing
    and a put that replaced an item under the same key with another message_uuid counts that message."""
    dynamodb, app, records = traffic
    assert lf.lambda_handler(event(records)) == {"batchItemFailures": []}
    before = {tz: metric_counts(db, tz) for tz in ZONES}
    item = next(r["dynamodb"]["NewImage"] for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("MSG#"))
    dynamodb.put_item(TableName="cruddur-messages", Item={**item, "message": {"S": "edited text"}})  # MODIFY
    dynamodb.delete_item(TableName="cruddur-messages", Key={"pk": item["pk"], "sk": item["sk"]})  # REMOVE
    new = stream_records(dynamodb, aws_streams(dynamodb))[len(records) :]
    assert [r["eventName"] for r in new] == ["MODIFY", "REMOVE"]
    assert lf.lambda_handler(event(new)) == {"batchItemFailures": []}
    assert {tz: metric_counts(db, tz) for tz in ZONES} == before
    # Another message written over the same key (same group, same sk): a MODIFY that is a new message.
    replaced = {**item, "message_uuid": {"S": "3f0c1c1e-8a8b-4c53-9a57-1f1b6f7d1e01"}}
    dynamodb.put_item(TableName="cruddur-messages", Item=item)
    dynamodb.put_item(TableName="cruddur-messages", Item=replaced)
    new = stream_records(dynamodb, aws_streams(dynamodb))[len(records) + 2 :]
    assert [r["eventName"] for r in new] == ["INSERT", "MODIFY"]
    assert lf.lambda_handler(event(new)) == {"batchItemFailures": []}
    assert totals(db) == (49, 8)


def aws_streams(dynamodb):
    import boto3

    return boto3.client("dynamodbstreams", region_name=dynamodb.meta.region_name)


def test_a_batch_of_group_items_and_an_empty_batch_write_nothing(traffic, lf, db):
    _, _, records = traffic
    groups = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("GRP#")]
    assert lf.lambda_handler(event(groups)) == {"batchItemFailures": []}
    assert lf.lambda_handler(event([])) == {"batchItemFailures": []}
    assert totals(db) == (0, 0)


def test_sk_offsets_are_parsed_to_utc(lf):
    parse = lf.parse_time
    assert str(parse("2026-11-20T05:30:00+05:30")) == "2026-11-20 00:00:00"
    assert str(parse("2026-11-20T05:45:00.123456+05:45")) == "2026-11-20 00:00:00.123456"
    assert str(parse("2026-11-19T19:00:00-05:00")) == "2026-11-20 00:00:00"
    assert str(parse("2026-11-20T00:00:00Z")) == "2026-11-20 00:00:00"
    assert str(parse("20261120T053000+0530")) == "2026-11-20 00:00:00"
    for bad in ("2026-11-20T00:00:00", "yesterday", "2026-11-20T00:00:00+24:00", "0001-01-01T00:00:00+05:00"):
        with pytest.raises(lf.BadRecord):
            parse(bad)


def test_the_migration_is_idempotent_and_indexes_the_buckets(db):
    from db.migrate import MIGRATIONS_DIR

    db.execute((MIGRATIONS_DIR / "0005_message_metrics.sql").read_text())  # again: IF NOT EXISTS everywhere
    indexes = {row[0] for row in db.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'message_%%'")}
    assert {"message_events_sent_at_idx", "message_groups_started_at_idx"} <= indexes


def test_quarter_hours_never_straddle_a_local_midnight():
    """message_counts is exact per local day only if every offset in use is a multiple of 15 minutes."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo, available_timezones

    months = [datetime(1980, 1, 1, tzinfo=UTC) + timedelta(days=30.44 * i) for i in range(12 * 60)]
    odd = {
        (name, str(offset))
        for name in available_timezones()
        for offset in {at.astimezone(ZoneInfo(name)).utcoffset() for at in months}
        if offset is not None and offset % timedelta(minutes=15)
    }
    assert not odd, sorted(odd)[:10]
