"""DynamoDB Streams consumer: messaging metrics from `cruddur-messages` into PostgreSQL.

Long because it is deployed alone: it carries its own connection handling (the Cognito Lambda's).

Deployed on its own (handler `lambda_function.lambda_handler`, with psycopg from
requirements.txt and the .sql file beside it) as the target of an event source
mapping on the table's stream (view type NEW_AND_OLD_IMAGES) with
`FunctionResponseTypes: [ReportBatchItemFailures]`. `python -m metrics follow`
and `backfill` load this same file and call `handle()` with a connection of the
dashboard's writer pool. Settings: CONNECTION_URL (for RDS include
`sslmode=verify-full&sslrootcert=global-bundle.pem` and ship the bundle);
DB_IAM_AUTH=1 logs in with an IAM token from the function's role. No region or
endpoint is set here: boto3 (IAM tokens only) takes them from the environment.

What a record does (every record of the batch is looked at):

- INSERT of a message item (pk `MSG#{message_group_uuid}`): one message, counted
  once by its message_uuid, sent at its `sk` (ISO 8601 with any offset, stored
  as UTC wall-clock time), by its `user_uuid`; its conversation starts at the
  earliest message seen for its message_group_uuid (min, so arrival order and
  shard order do not matter); it is added to its UTC quarter hour's count.
- MODIFY of a message item: its new image is recorded exactly like an INSERT.
  Messages are never edited, so this counts nothing new (the message_uuid is
  already counted); it only counts when a put replaced an item under the same
  key with another message_uuid (two messages of one group with the same `sk`),
  which is a message sent.
- REMOVE of a message item: counts stay (a message sent stays sent).
- Message-group items (pk `GRP#...`, deleted and re-put on every message) and
  any other kind of item: ignored, whatever the event.
- A record this function cannot use (no or malformed keys or image, a missing
  or non-string attribute, a bad uuid, a time without offset, a huge or
  non-ASCII value where a uuid or time belongs) is reported in
  `batchItemFailures` by its SequenceNumber after the good records of the
  batch are committed; Lambda retries from the lowest one, and the records after
  it that were committed are then no-ops. Only the attributes the metrics use
  are read: the message text is never read, stored or logged.
- All good records of a batch are written in one transaction with one
  statement; a database failure raises BatchNotRecorded with nothing written,
  so Lambda retries the whole batch. A malformed event (no Records list, a
  record without a SequenceNumber) raises InvalidEvent, also writing nothing.

The log gets one JSON line per batch: counts, ignored records by rule, and the
failed sequence numbers with a reason that never quotes a value. No error here
quotes CONNECTION_URL or chains an error that does.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
APP_NAME = "cruddur-messages-metrics"
MESSAGE, GROUP = "MSG#", "GRP#"
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SEQUENCE = re.compile(r"[0-9A-Za-z_.:-]{1,64}")
MAX_TIME_LENGTH = 40  # "2023-03-24T10:45:12.123456789+05:45" is 35

logger = logging.getLogger("cruddur.messages_metrics")
logger.setLevel(logging.INFO)


def _sql(name: str) -> str:
    lines = (HERE / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("--")).strip()


RECORD_MESSAGES = _sql("record_messages")


class InvalidEvent(ValueError):
    """The event is not a DynamoDB Streams batch this function can answer per record; nothing was written."""


class BadRecord(ValueError):
    """One record cannot be used; the message names what is wrong, never a value."""


class BatchNotRecorded(RuntimeError):
    """The database refused or lost the batch; nothing of it was written (Lambda retries the batch)."""


@dataclass(frozen=True)
class Message:
    message_uuid: uuid.UUID
    message_group_uuid: uuid.UUID
    sender_uuid: uuid.UUID
    sent_at: datetime  # naive, UTC wall clock


def _attribute(attributes: dict, name: str, where: str) -> str:
    """The string value of a DynamoDB JSON attribute (`{"S": "..."}`)."""
    value = attributes.get(name)
    if value is None:
        raise BadRecord(f"{where}.{name} is missing")
    if not isinstance(value, dict) or len(value) != 1 or "S" not in value or not isinstance(value["S"], str):
        raise BadRecord(f"{where}.{name} is not a string attribute ({{'S': ...}})")
    return value["S"]


def _uuid(text: str, what: str) -> uuid.UUID:
    if len(text) != 36 or not _UUID.fullmatch(text):
        raise BadRecord(f"{what} is not a uuid")
    return uuid.UUID(text)


def parse_time(text: str, what: str = "sk") -> datetime:
    """An ISO 8601 time with a UTC offset (any offset, `Z` too) as naive UTC wall-clock time."""
    if len(text) > MAX_TIME_LENGTH or not text.isascii() or not text.isprintable():
        raise BadRecord(f"{what} is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadRecord(f"{what} is not an ISO 8601 time")
    if parsed.utcoffset() is None:
        raise BadRecord(f"{what} has no UTC offset")
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise BadRecord(f"{what} is out of range") from None


def sequence_number(record: Any) -> str:
    """The record's identifier for batchItemFailures; without one the batch cannot be answered per record."""
    stream = record.get("dynamodb") if isinstance(record, dict) else None
    number = stream.get("SequenceNumber") if isinstance(stream, dict) else None
    if not isinstance(number, str) or not _SEQUENCE.fullmatch(number):
        raise InvalidEvent("a record has no usable dynamodb.SequenceNumber, so failures cannot be reported per record")
    return number


def classify(record: dict) -> Message | str:
    """The message a record adds, or the rule under which it is ignored (see the module docstring)."""
    name = record.get("eventName")
    if name not in EVENT_NAMES:
        raise BadRecord("eventName is missing or not INSERT, MODIFY or REMOVE")
    stream = record["dynamodb"]
    keys = stream.get("Keys")
    if not isinstance(keys, dict):
        raise BadRecord("dynamodb.Keys is missing")
    pk = _attribute(keys, "pk", "Keys")
    if pk.startswith(GROUP):
        return "group item (churns on every message)"
    if not pk.startswith(MESSAGE):
        return "not a message item"
    if name == "REMOVE":
        return "message removed (stays counted)"
    image = stream.get("NewImage")
    if not isinstance(image, dict):
        raise BadRecord("NewImage is missing (the stream's view type must be NEW_AND_OLD_IMAGES)")
    if _attribute(image, "pk", "NewImage") != pk or (
        "sk" in keys and _attribute(image, "sk", "NewImage") != _attribute(keys, "sk", "Keys")
    ):
        raise BadRecord("NewImage's key differs from Keys")
    return Message(
        message_uuid=_uuid(_attribute(image, "message_uuid", "NewImage"), "message_uuid"),
        message_group_uuid=_uuid(pk[len(MESSAGE) :], "the message_group_uuid in pk"),
        sender_uuid=_uuid(_attribute(image, "user_uuid", "NewImage"), "user_uuid"),
        sent_at=parse_time(_attribute(image, "sk", "NewImage")),
    )


def save(conn: psycopg.Connection, messages: list[Message]) -> tuple[int, int]:
    """Record `messages` in one transaction: (messages added, conversations started or moved earlier)."""
    ordered = sorted(messages, key=lambda m: m.message_uuid)
    params = {
        "message_uuids": [m.message_uuid for m in ordered],
        "group_uuids": [m.message_group_uuid for m in ordered],
        "sender_uuids": [m.sender_uuid for m in ordered],
        "sent_ats": [m.sent_at for m in ordered],
    }
    failure = None
    try:
        with conn.transaction():
            row = conn.execute(RECORD_MESSAGES, params).fetchone()
    except psycopg.Error as exc:
        failure = _failure(exc)
    if failure is not None:  # raised here, not in `except`: no chained original
        raise BatchNotRecorded(f"Could not record {len(ordered)} message(s); nothing was written: {failure}")
    assert row is not None
    return int(row[0]), int(row[1])


def handle(event: Any, conn: psycopg.Connection) -> dict:
    """Handle one DynamoDB Streams batch on `conn`; the Lambda response (batchItemFailures)."""
    return {"batchItemFailures": [{"itemIdentifier": f["sequence_number"]} for f in process(event, conn)["failed"]]}


def process(event: Any, conn: psycopg.Connection) -> dict:
    """Handle one DynamoDB Streams batch on `conn`; what was done (the batch's log line)."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise InvalidEvent("the event has no Records list")
    numbers = [sequence_number(record) for record in records]  # all first: an unanswerable batch writes nothing
    messages: dict[uuid.UUID, Message] = {}
    ignored: Counter[str] = Counter()
    failed: dict[str, str] = {}
    for number, record in zip(numbers, records, strict=True):
        try:
            outcome = classify(record)
        except BadRecord as exc:
            failed.setdefault(number, str(exc))
            continue
        if isinstance(outcome, Message):
            messages.setdefault(outcome.message_uuid, outcome)  # a duplicate in the batch: the same message
        else:
            ignored[outcome] += 1
    added, groups = save(conn, list(messages.values())) if messages else (0, 0)
    summary = {
        "records": len(records),
        "messages": len(messages),
        "added": added,
        "already_counted": len(messages) - added,
        "conversations_started_or_moved": groups,
        "ignored": dict(ignored),
        "failed": [{"sequence_number": n, "reason": why} for n, why in failed.items()],
    }
    (logger.warning if failed else logger.info)(json.dumps(summary))
    return summary


_conn: psycopg.Connection | None = None


def _parse(url: str) -> dict:
    """libpq's reading of CONNECTION_URL. Its parse errors quote the string, so
    they are replaced, and raised outside `except` so nothing is chained."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except Exception:
        params = None
    if params is None:
        raise RuntimeError("CONNECTION_URL cannot be parsed (check its quoting and percent-escapes)") from None
    return params


# libpq/psycopg messages quote hosts, ports and option values, which a mistyped
# URL fills with pieces of its password; so only a phrase from this list (and
# the SQLSTATE) is reported, never the message itself.
_FAILURES = [
    (r"password authentication failed", "password authentication failed"),
    (r"PAM authentication failed", "IAM (PAM) authentication failed"),
    (r"no pg_hba\.conf entry", "the server's pg_hba.conf refuses this connection"),
    (r"connection refused", "connection refused (is the server up, and the host and port right?)"),
    (r"timeout expired|timed out", "timed out"),
    (
        r"resolve host|translate host name|name or service not known|nodename nor servname",
        "the host name cannot be resolved",
    ),
    (r"network is unreachable|no route to host", "the network cannot reach the host"),
    (r"invalid .*value|invalid port|invalid connection option", "an option in CONNECTION_URL has an invalid value"),
    (r"ssl|certificate", "SSL/TLS failed (check sslmode and sslrootcert)"),
    (r"too many (connections|clients)", "the server has too many connections"),
    (r"starting up|shutting down|in recovery", "the server is starting up or shutting down"),
    (r"database .* does not exist", "the database does not exist"),
    (r"role .* does not exist", "the user (role) does not exist"),
    (r"relation .* does not exist", "the metrics tables are missing (apply the migrations: python -m db migrate)"),
    (
        r"permission denied",
        "permission denied (the role needs SELECT, INSERT, UPDATE on message_events, message_groups)",
    ),
    (r"deadlock detected", "deadlock with a concurrent batch"),
    (r"statement timeout|canceling statement", "the statement was cancelled (statement timeout?)"),
    (
        r"terminat|server closed the connection|connection .*(closed|lost)|consuming input failed",
        "the connection was lost",
    ),
    (r"read-only transaction", "the connection is read-only (a replica, or default_transaction_read_only)"),
]


def _failure(exc: BaseException) -> str:
    text = str(exc)
    reason = next(
        (why for pattern, why in _FAILURES if re.search(pattern, text, re.I)),
        f"database error ({type(exc).__name__})",
    )
    code = getattr(exc, "sqlstate", None)
    return f"{reason} [SQLSTATE {code}]" if isinstance(code, str) and re.fullmatch(r"[0-9A-Z]{5}", code) else reason


def _connection() -> psycopg.Connection:
    """One connection reused by warm invocations; reopened when it broke."""
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        url = os.environ.get("CONNECTION_URL")
        if not url:
            raise RuntimeError("CONNECTION_URL is not set for the messages metrics Lambda")
        _parse(url)  # first: a malformed string must fail here, in words of our own
        extra: dict[str, Any] = {"password": _iam_token(url)} if os.environ.get("DB_IAM_AUTH") == "1" else {}
        failure = None
        try:
            _conn = psycopg.connect(url, connect_timeout=5, application_name=APP_NAME, **extra)
        except Exception as exc:
            failure = _failure(exc)
        if failure is not None:  # raised here, not in `except`: no chained original
            raise BatchNotRecorded(f"Cannot connect to the database in CONNECTION_URL; nothing was written: {failure}")
    assert _conn is not None
    return _conn


def _iam_token(url: str) -> str:
    """A fresh RDS IAM token (valid 15 minutes) for the URL's host, port and user."""
    import boto3

    p = _parse(url)
    if not p.get("host") or not p.get("user"):
        raise RuntimeError("CONNECTION_URL needs a host and a user for DB_IAM_AUTH=1")
    try:
        port = int(p.get("port") or 5432)
    except ValueError:
        port = None
    if port is None:
        raise RuntimeError("CONNECTION_URL has an invalid port") from None
    return (
        boto3.session.Session()
        .client("rds")
        .generate_db_auth_token(DBHostname=p["host"], Port=port, DBUsername=p["user"])
    )


def lambda_handler(event: dict, context: Any = None) -> dict:
    try:
        return handle(event, _connection())
    except BatchNotRecorded:
        if _conn is not None and (_conn.broken or _conn.closed):
            _close()  # the retried invocation starts with a new connection
        raise


def _close() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        finally:
            _conn = None
