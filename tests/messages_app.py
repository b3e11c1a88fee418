"""Cruddur's messaging, as the original app wrote it, against moto's DynamoDB; and the counts to expect.

Shared by tests/test_messages_metrics*.py (tests of lambdas/messages_metrics and `python -m metrics`).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest

TABLE = "cruddur-messages"
SECRET_TEXT = "top-secret-message-text"  # in every message; must never reach a log
ZONES = ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York")
# Offsets the app's servers had (isoformat() of the local time): India, Nepal, New York winter and summer, UTC.
OFFSETS = [timedelta(hours=5, minutes=30), timedelta(hours=5, minutes=45), timedelta(hours=-5), timedelta(hours=-4), 0]


@pytest.fixture
def aws(monkeypatch):
    """moto's DynamoDB and Streams with dummy credentials; (dynamodb, dynamodbstreams) clients."""
    import boto3
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto routes no account-based endpoints
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("dynamodb"), boto3.client("dynamodbstreams")


@pytest.fixture
def lf(db_url):
    """The Lambda's module (loaded by path, as `python -m metrics` does), its cached connection reset."""
    from metrics.stream import handler

    module = handler()
    module._close()
    yield module
    module._close()


def create_table(dynamodb, *, stream: bool = True) -> None:
    """The table as the original app's schema script made it (on-demand here)."""
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "message_group_uuid", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "message-group-sk-index",
                "KeySchema": [
                    {"AttributeName": "message_group_uuid", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def _s(**values: str) -> dict:
    return {k: {"S": v} for k, v in values.items()}


class App:
    """The original app's writes (ddb.py and the cruddur-messaging-stream function)."""

    def __init__(self, dynamodb, seed: int = 14):
        self.db = dynamodb
        self.rng = random.Random(seed)
        self.users = [str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(6)]
        self.groups: dict[str, tuple[str, str]] = {}  # message_group_uuid -> (user, other)

    def stamp(self, at: datetime) -> str:
        """`sk` as the writing server's isoformat() of its local time: a random offset."""
        offset = self.rng.choice(OFFSETS)
        return at.astimezone(timezone(offset) if offset else UTC).isoformat()

    def _message(self, group: str, sender: str, sk: str) -> dict:
        return _s(
            pk=f"MSG#{group}",
            sk=sk,
            message=f"{SECRET_TEXT} {self.rng.random()}",
            message_uuid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            user_uuid=sender,
            user_display_name="Andrew Brown",
            user_handle="andrewbrown",
        )

    def _group_items(self, group: str, sk: str, text: str) -> list[dict]:
        a, b = self.groups[group]
        return [
            _s(pk=f"GRP#{mine}", sk=sk, message_group_uuid=group, message=text, user_uuid=other)
            | _s(user_display_name="Other", user_handle="other")
            for mine, other in ((a, b), (b, a))
        ]

    def start_conversation(self, at: datetime) -> str:
        """One batch_write_item: both group items and the first message."""
        group = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.groups[group] = tuple(self.rng.sample(self.users, 2))  # type: ignore[assignment]
        sk = self.stamp(at)
        message = self._message(group, self.groups[group][0], sk)
        items = [*self._group_items(group, sk, message["message"]["S"]), message]
        self.db.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}} for item in items]})
        return group

    def send(self, group: str, at: datetime) -> None:
        """A later message: one put of the message item; the stream function then deletes and re-puts both groups."""
        sk = self.stamp(at)
        message = self._message(group, self.rng.choice(self.groups[group]), sk)
        self.db.put_item(TableName=TABLE, Item=message)
        found = self.db.query(
            TableName=TABLE,
            IndexName="message-group-sk-index",
            KeyConditionExpression="message_group_uuid = :g",
            ExpressionAttributeValues={":g": {"S": group}},
        )["Items"]
        for item in found:
            self.db.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
        for item in self._group_items(group, sk, message["message"]["S"]):
            self.db.put_item(TableName=TABLE, Item=item)

    def traffic(self, conversations: int = 8, messages: int = 40, start: datetime | None = None) -> None:
        """Conversations and messages over five days, at times that fall on different days in different zones."""
        start = start or datetime(2026, 11, 20, tzinfo=UTC)
        span = int(timedelta(days=5).total_seconds())
        # Two on purpose: 18:20 UTC is 23:50 in Kolkata but 00:05 next day in Kathmandu; 04:30 UTC is 23:30 the
        # day before in New York (EST).
        pinned = [start + timedelta(hours=18, minutes=20), start + timedelta(days=1, hours=4, minutes=30)]
        randoms = [start + timedelta(seconds=self.rng.randrange(span)) for _ in range(conversations + messages - 2)]
        times = sorted(pinned + randoms)
        groups: list[str] = []
        for i, at in enumerate(times):
            if len(groups) < conversations and (not groups or i % 4 == 0 or len(times) - i <= conversations):
                groups.append(self.start_conversation(at))
            else:
                self.send(self.rng.choice(groups), at)


def stream_records(dynamodb, streams) -> list[dict]:
    """Every record of the table's stream, as Lambda delivers them (epoch seconds, eventSourceARN)."""
    from metrics.stream import lambda_record, shards

    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    records = []
    for shard in shards(streams, arn):
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        iterator = iterator["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += [lambda_record(r, arn) for r in page["Records"]]
            iterator = page.get("NextShardIterator")
    return records


def event(records: list[dict]) -> dict:
    return {"Records": records}


def table_counts(dynamodb, tz: str) -> dict[date, tuple[int, int, int]]:
    """{local day: (messages, conversations started, distinct senders)} counted from the table's items."""
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        items += [i for i in page["Items"] if i["pk"]["S"].startswith("MSG#")]
    return expected_counts(
        [(i["pk"]["S"][4:], i["user_uuid"]["S"], datetime.fromisoformat(i["sk"]["S"])) for i in items], tz
    )


def expected_counts(messages: list[tuple[str, str, datetime]], tz: str) -> dict[date, tuple[int, int, int]]:
    zone = ZoneInfo(tz)
    sent: dict[date, int] = defaultdict(int)
    senders: dict[date, set] = defaultdict(set)
    first: dict[str, datetime] = {}
    for group, sender, at in messages:
        day = at.astimezone(zone).date()
        sent[day] += 1
        senders[day].add(sender)
        first[group] = min(first.get(group, at), at)
    started: dict[date, int] = defaultdict(int)
    for at in first.values():
        started[at.astimezone(zone).date()] += 1
    return {day: (sent[day], started.get(day, 0), len(senders[day])) for day in sorted(sent)}


def metric_counts(conn: psycopg.Connection, tz: str) -> dict[date, tuple[int, int, int]]:
    """The same from the metrics tables, bucketed by day in `tz` in SQL."""
    rows = conn.execute(
        """
        WITH m AS (
            SELECT (sent_at AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day,
                   count(*) AS messages, count(DISTINCT sender_uuid) AS senders
            FROM message_events GROUP BY 1
        ), g AS (
            SELECT (started_at AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day, count(*) AS started
            FROM message_groups GROUP BY 1
        )
        SELECT coalesce(m.day, g.day), coalesce(messages, 0), coalesce(started, 0), coalesce(senders, 0)
        FROM m FULL JOIN g ON g.day = m.day ORDER BY 1
        """,
        {"tz": tz},
    ).fetchall()
    return {day: (int(a), int(b), int(c)) for day, a, b, c in rows}


def totals(conn: psycopg.Connection) -> tuple[int, int]:
    """(message_events rows, message_groups rows), after checking that the derived tables agree with the events:
    message_counts is a count of message_events per quarter hour, message_groups their earliest per group."""
    assert not conn.execute(
        """
        SELECT 1 FROM (SELECT date_bin('15 minutes', sent_at, timestamp '2000-01-01') AS bucket, count(*) AS n
                       FROM message_events GROUP BY 1) e
        FULL JOIN message_counts c USING (bucket) WHERE e.n IS DISTINCT FROM c.messages
        UNION ALL
        SELECT 1 FROM (SELECT message_group_uuid, min(sent_at) AS first FROM message_events GROUP BY 1) e
        FULL JOIN message_groups g USING (message_group_uuid) WHERE e.first IS DISTINCT FROM g.started_at
        """
    ).fetchall()
    row = conn.execute("SELECT (SELECT count(*) FROM message_events), (SELECT count(*) FROM message_groups)")
    a, b = row.fetchone() or (0, 0)
    return int(a), int(b)


def rollup_counts(conn: psycopg.Connection, tz: str) -> dict[date, int]:
    """Messages per day in `tz` from the quarter-hour counts, as the dashboard reads them."""
    rows = conn.execute(
        "SELECT (bucket AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date, sum(messages) FROM message_counts "
        "GROUP BY 1 ORDER BY 1",
        {"tz": tz},
    ).fetchall()
    return {day: int(n) for day, n in rows}
