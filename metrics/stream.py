"""Follow a DynamoDB table's stream, or scan the table, into the messaging metrics.

    follow(table)     describe_table -> LatestStreamArn, describe_stream (every shard,
                      paginated), get_shard_iterator, get_records; each batch of
                      records becomes a Lambda-shaped event for the handler
    backfill(table)   a paginated, consistent scan of the message items (pk MSG#...),
                      fed to the handler as INSERT records in batches of 1,000

boto3 takes the endpoint (AWS_ENDPOINT_URL, e.g. a local emulator), region and
credentials from the environment, as everywhere. The handler is the Lambda's
own file (lambdas/messages_metrics/lambda_function.py, loaded by path), run on
a writer-pool connection inside actions.writing.writing(), so production is
written to only with ALLOW_PROD_WRITES=1 and cached reads of the metrics
tables are invalidated after each batch. Everything the handler writes is
idempotent (per message_uuid; conversation starts are a min), so replays,
overlapping followers and repeated backfills never count twice.

Records the handler cannot use are logged by it (sequence number and reason)
and skipped here: their failure is in the record, so retrying cannot help.
A database failure stops the command with nothing of that batch written.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from actions.writing import writing

TABLE = "cruddur-messages"
TABLES = ("message_events", "message_groups", "message_counts")
BATCH = 1000
HANDLER_PATH = Path(__file__).resolve().parent.parent / "lambdas" / "messages_metrics" / "lambda_function.py"
_MODULE = "cruddur_lambdas_messages_metrics"


class SourceError(RuntimeError):
    """DynamoDB cannot be read as asked (no stream, no region, no such table); the message says which."""


def handler() -> ModuleType:
    """The Lambda's module, loaded once from its file (it imports nothing of ours)."""
    module = sys.modules.get(_MODULE)
    if module is None:
        spec = importlib.util.spec_from_file_location(_MODULE, HANDLER_PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE] = module
        spec.loader.exec_module(module)
    return module


@dataclass
class Totals:
    batches: int = 0
    records: int = 0
    added: int = 0
    failed: int = 0
    polls: int = 0

    def add(self, summary: dict) -> None:
        self.batches += 1
        self.records += summary["records"]
        self.added += summary["added"]
        self.failed += len(summary["failed"])

    def line(self, command: str) -> str:
        polls = f", {self.polls} poll(s)" if command == "follow" else ""
        skipped = f"; {self.failed} unusable record(s) skipped (see the log)" if self.failed else ""
        return (
            f"{command}: {self.records:,} record(s) in {self.batches} batch(es){polls}, "
            f"{self.added:,} message(s) added{skipped}"
        )


def feed(event: dict) -> dict:
    """One batch through the Lambda's handler, in one writer transaction; its summary."""
    with writing(*TABLES) as conn:
        return handler().process(event, conn)


def clients() -> tuple[Any, Any]:
    """(dynamodb, dynamodbstreams) clients configured by the environment."""
    import boto3
    from botocore.exceptions import NoRegionError

    # botocore reads AWS_DEFAULT_REGION and the config file; AWS_REGION (Lambda's, and this repo's) wins here too.
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    try:
        return session.client("dynamodb"), session.client("dynamodbstreams")
    except NoRegionError:
        raise SourceError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)") from None


def lambda_record(record: dict, stream_arn: str) -> dict:
    """A get_records record as Lambda delivers it: epoch seconds, and the stream's ARN."""
    record = dict(record)
    stream = dict(record.get("dynamodb") or {})
    when = stream.get("ApproximateCreationDateTime")
    if isinstance(when, datetime):
        stream["ApproximateCreationDateTime"] = when.timestamp()
    record["dynamodb"] = stream
    record["eventSourceARN"] = stream_arn
    return record


def stream_arn(dynamodb: Any, table: str) -> str:
    from botocore.exceptions import ClientError

    try:
        described = dynamodb.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        raise SourceError(f"cannot describe table {table}: {exc.response['Error'].get('Code', 'error')}") from None
    arn = described.get("LatestStreamArn")
    if not arn or not described.get("StreamSpecification", {}).get("StreamEnabled", True):
        raise SourceError(f"table {table} has no stream; enable one (NEW_AND_OLD_IMAGES) or run backfill")
    return arn


def shards(streams: Any, arn: str) -> Iterator[dict]:
    """Every shard of the stream (describe_stream pages by ExclusiveStartShardId)."""
    kwargs: dict = {"StreamArn": arn}
    while True:
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        yield from description.get("Shards", [])
        last = description.get("LastEvaluatedShardId")
        if not last:
            return
        kwargs["ExclusiveStartShardId"] = last


def follow(
    table: str = TABLE,
    *,
    max_polls: int | None = None,
    interval: float = 1.0,
    start: str = "TRIM_HORIZON",
    sleep: Callable[[float], None] = time.sleep,
) -> Totals:
    """Poll every shard of the table's stream until stopped (or `max_polls` rounds).
    Shards present at the start are read from `start` (TRIM_HORIZON or LATEST);
    shards that appear later (splits, a new stream) from their beginning. Each
    round reads every open shard until it has nothing more."""
    dynamodb, streams = clients()
    arn = stream_arn(dynamodb, table)
    iterators: dict[str, str | None] = {}
    first = True
    totals = Totals()
    while max_polls is None or totals.polls < max_polls:
        for shard in shards(streams, arn):
            shard_id = shard["ShardId"]
            if shard_id not in iterators:
                kind = start if first else "TRIM_HORIZON"
                got = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind)
                iterators[shard_id] = got.get("ShardIterator")
        first = False
        for shard_id, iterator in iterators.items():
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=BATCH)
                iterator = page.get("NextShardIterator")  # None: the shard is closed and read to its end
                if not page.get("Records"):
                    break
                summary = feed({"Records": [lambda_record(r, arn) for r in page["Records"]]})
                totals.add(summary)
            iterators[shard_id] = iterator
        totals.polls += 1
        if max_polls is None or totals.polls < max_polls:
            sleep(interval)
    return totals


def scan_record(item: dict, number: int) -> dict:
    """A scanned message item as the INSERT record that created it (sequence numbers scan-N)."""
    return {
        "eventName": "INSERT",
        "eventSource": "cruddur:backfill",
        "dynamodb": {
            "Keys": {key: item[key] for key in ("pk", "sk") if key in item},
            "NewImage": item,
            "SequenceNumber": f"scan-{number}",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def backfill(table: str = TABLE) -> Totals:
    """Add every message item of the table not counted yet, and move conversation
    starts earlier where the table has older messages; idempotent. Messages
    deleted from the table stay counted (a message sent stays sent)."""
    from botocore.exceptions import ClientError

    dynamodb, _ = clients()
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="begins_with(pk, :message)",
        ExpressionAttributeValues={":message": {"S": "MSG#"}},
    )
    totals, batch, number = Totals(), [], 0
    try:
        for page in pages:
            for item in page.get("Items", []):
                number += 1
                batch.append(scan_record(item, number))
                if len(batch) >= BATCH:
                    totals.add(feed({"Records": batch}))
                    batch = []
    except ClientError as exc:
        raise SourceError(f"cannot scan table {table}: {exc.response['Error'].get('Code', 'error')}") from None
    if batch:
        totals.add(feed({"Records": batch}))
    return totals
