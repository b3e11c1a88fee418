"""Demo messaging metrics: synthetic DynamoDB stream records through the real handler.

The records are shaped exactly like the ones Lambda delivers from the stream of
`cruddur-messages` (view type NEW_AND_OLD_IMAGES; DynamoDB JSON, SequenceNumber,
eventSourceARN, ApproximateCreationDateTime in epoch seconds) for conversations
between users of the `users` table, written the way the original app wrote them:

- a new conversation: one batch_write_item of the two group items (pk
  `GRP#{owner}`, the other participant in user_uuid) and the first message
  (pk `MSG#{message_group_uuid}`): three INSERT records;
- every later message: one message INSERT, then the app's stream function
  deletes and re-puts both group items with the new `sk`: REMOVE + INSERT each.

`sk` is the message's time in one of several UTC offsets (the app wrote its
server's local offset). Messages are spread over the last D days with recent
days busier, like seed.generate's posts; each conversation is between two
users who had signed up by its first message. Message and conversation uuids
are derived from the seed alone, so loading again adds nothing.

The records go in batches of 1,000 through the Lambda's own handler, loaded by
path and run on the guarded writer pool exactly as `python -m metrics follow`
does (metrics.stream.feed), never on production.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from seed.generate import OPENERS, TOPICS, _times

BATCH = 1000
MESSAGES_PER_CONVERSATION = 10  # on average, when the number of conversations is not given
REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "cruddur-messages"
# Offsets the app's servers wrote (isoformat() of their local time): UTC, the
# Americas, Europe, India (+05:30), Nepal (+05:45), Japan, Australia.
OFFSETS = [
    timezone(timedelta(hours=h, minutes=m))
    for h, m in ((0, 0), (-7, 0), (-5, 0), (-4, 0), (-3, -30), (1, 0), (5, 30), (5, 45), (9, 0), (10, 0))
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# The demo's own read of the users table. Kept here (not in the queries/ catalog)
# because it belongs to this generator alone.
@dataclass(frozen=True)
class User:
    uuid: str
    handle: str
    display_name: str
    created_us: int  # created_at, microseconds since the epoch (UTC)


@dataclass
class MessagesResult:
    records: int  # stream records fed to the handler
    messages: int  # MSG# INSERT records among them
    conversations: int
    failed: int  # records the handler reported in batchItemFailures
    added: int = 0  # messages the handler newly counted (0 when loaded again)
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("inf")


def _uuid(seed: int, kind: str, n: int) -> str:
    """A version-4 uuid derived from (seed, kind, n) alone: the same message gets the same uuid on every load."""
    h = hashlib.blake2b(f"cruddur-demo:{seed}:{kind}:{n}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _s(**values: str) -> tuple[dict, int]:
    """An item in DynamoDB JSON (every attribute a string), and its size as DynamoDB counts it (names + values)."""
    return {k: {"S": v} for k, v in values.items()}, sum(len(k) + len(v) for k, v in values.items())


class _Stream:
    """Numbers records and wraps item images as Lambda delivers them."""

    def __init__(self, seed: int, label: str) -> None:
        self.count = 0
        self.prefix = f"{seed % 2**32:08x}"
        self.arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/{label}"

    def record(self, name: str, item: tuple[dict, int], when: int) -> dict:
        self.count += 1
        image, size = item
        keys = {"pk": image["pk"], "sk": image["sk"]}
        stream = {
            "ApproximateCreationDateTime": when,
            "Keys": keys,
            ("OldImage" if name == "REMOVE" else "NewImage"): image,
            "SequenceNumber": str(10**20 + self.count),
            "SizeBytes": size + len(keys["pk"]["S"]) + len(keys["sk"]["S"]) + 4,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        return {
            "eventID": f"{self.prefix}{self.count:024x}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": stream,
            "eventSourceARN": self.arn,
        }


@dataclass
class Plan:
    """What will be generated: per message its time, conversation and sender; per conversation its two users."""

    times: np.ndarray  # int64 microseconds since the epoch, strictly increasing
    conversation: np.ndarray  # per message
    first: np.ndarray  # bool per message: it starts its conversation
    sender_is_a: np.ndarray  # bool per message
    offsets: np.ndarray  # index into OFFSETS per message
    texts: np.ndarray  # (opener, topic) indices per message
    a: np.ndarray  # per conversation: index of the user who started it
    b: np.ndarray  # per conversation: the other participant

    @property
    def messages(self) -> int:
        return len(self.times)

    @property
    def conversations(self) -> int:
        return len(self.a)


def plan(
    users: Sequence[User],
    *,
    messages: int,
    days: int,
    seed: int,
    conversations: int | None = None,
    now: datetime | None = None,
) -> Plan:
    if messages < 1 or days < 1:
        raise ValueError("--messages and --days must be at least 1")
    if len(users) < 2:
        raise ValueError("demo messages need at least two users: run `python -m seed generate` first")
    n = messages
    c = min(n, conversations or max(1, n // MESSAGES_PER_CONVERSATION))
    if c < 1:
        raise ValueError("--conversations must be at least 1")
    rng = np.random.default_rng(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    start = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    times = _times(rng, n, start, now - timedelta(microseconds=n))
    ar = np.arange(n, dtype=np.int64)
    times = np.maximum.accumulate(times - ar) + ar  # strictly increasing: no two messages share an sk
    starts = np.sort(np.concatenate(([0], rng.choice(np.arange(1, n), size=c - 1, replace=False)))).astype(np.int64)
    first = np.zeros(n, dtype=bool)
    first[starts] = True
    conversation = np.empty(n, dtype=np.int64)
    conversation[starts] = np.arange(c)
    later = np.flatnonzero(~first)
    started_before = np.searchsorted(starts, later, side="left")  # conversations started before each later message
    conversation[later] = (rng.random(len(later)) * started_before).astype(np.int64)
    sender_is_a = first | (rng.random(n) < 0.5)
    created = np.array([u.created_us for u in users], dtype=np.int64)
    signed_up = np.searchsorted(created, times[starts], side="right")
    signed_up = np.where(signed_up < 2, len(users), signed_up)  # too early for two users: anyone
    a = (rng.random(c) * signed_up).astype(np.int64)
    b = (rng.random(c) * (signed_up - 1)).astype(np.int64)
    b = b + (b >= a)
    offsets = rng.integers(0, len(OFFSETS), size=n)
    texts = np.stack([rng.integers(0, len(OPENERS), size=n), rng.integers(0, len(TOPICS), size=n)], axis=1)
    return Plan(times, conversation, first, sender_is_a, offsets, texts, a, b)


def expected_records(p: Plan) -> int:
    """Three records per conversation started, five per later message."""
    return 3 * p.conversations + 5 * (p.messages - p.conversations)


def records(users: Sequence[User], p: Plan, *, seed: int) -> Iterator[dict]:
    """The stream records of the planned messages, in the order the table wrote them."""
    stream = _Stream(seed, (_EPOCH + timedelta(microseconds=int(p.times[0]))).strftime("%Y-%m-%dT%H:%M:%S.000"))
    groups: dict[int, tuple[tuple[dict, int], tuple[dict, int]]] = {}
    group_uuids = [_uuid(seed, "group", c) for c in range(p.conversations)]
    times, convs, firsts, senders = p.times.tolist(), p.conversation.tolist(), p.first.tolist(), p.sender_is_a.tolist()
    offsets, texts, a_of, b_of = p.offsets.tolist(), p.texts.tolist(), p.a.tolist(), p.b.tolist()
    for i, micros in enumerate(times):
        c = convs[i]
        group = group_uuids[c]
        a, b = users[a_of[c]], users[b_of[c]]
        sender = a if senders[i] else b
        sk = (_EPOCH + timedelta(microseconds=micros)).astimezone(OFFSETS[offsets[i]]).isoformat()
        when = micros // 1_000_000
        text = f"{OPENERS[texts[i][0]]} {TOPICS[texts[i][1]]}"
        message = _s(
            pk=f"MSG#{group}",
            sk=sk,
            message_uuid=_uuid(seed, "message", i),
            message=text,
            user_uuid=sender.uuid,
            user_display_name=sender.display_name,
            user_handle=sender.handle,
        )
        mine, theirs = (
            _s(
                pk=f"GRP#{owner.uuid}",
                sk=sk,
                message_group_uuid=group,
                message=text,
                user_uuid=other.uuid,
                user_display_name=other.display_name,
                user_handle=other.handle,
            )
            for owner, other in ((a, b), (b, a))
        )
        if firsts[i]:  # batch_write_item: both group items and the first message
            yield stream.record("INSERT", mine, when)
            yield stream.record("INSERT", theirs, when)
            yield stream.record("INSERT", message, when)
        else:  # put the message; the app's stream function deletes and re-puts both group items
            yield stream.record("INSERT", message, when)
            for old, new in zip(groups[c], (mine, theirs), strict=True):
                yield stream.record("REMOVE", old, when)
                yield stream.record("INSERT", new, when)
        groups[c] = (mine, theirs)


def load_users(conn) -> list[User]:
    from db.statements import execute

    rows = execute(conn, "seed.demo_users").fetchall()
    return [User(u, h, d, int((t.replace(tzinfo=UTC) - _EPOCH) / timedelta(microseconds=1))) for u, h, d, t in rows]


def tables_exist(conn) -> bool:
    from db.statements import execute, scalar

    return bool(scalar(execute(conn, "roles.message_tables_exist")))


def load(
    *,
    messages: int,
    days: int,
    seed: int,
    conversations: int | None = None,
    now: datetime | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> MessagesResult:
    """Generate the demo's stream records and feed them through the real handler; the counts.
    The handler's per-batch INFO lines are held back (its warnings, naming failed
    records, are not): the result is the summary."""
    from actions.writing import writing
    from db.guard import require_not_production
    from metrics.stream import feed, handler

    require_not_production("load demo messages")
    with writing() as conn:
        if not tables_exist(conn):
            raise ValueError("the message metrics tables are missing: apply the migrations (python -m db migrate)")
        users = load_users(conn)
    started = time.perf_counter()
    p = plan(users, messages=messages, days=days, seed=seed, conversations=conversations, now=now)
    total = expected_records(p)
    result = MessagesResult(records=0, messages=p.messages, conversations=p.conversations, failed=0)
    pending: list[dict] = []

    def send() -> None:
        summary = feed({"Records": pending})
        result.records += summary["records"]
        result.added += summary["added"]
        result.failed += len(summary["failed"])
        pending.clear()
        if progress:
            progress(result.records, total)

    handler_log = handler().logger
    level = handler_log.level
    handler_log.setLevel(logging.WARNING)
    try:
        for record in records(users, p, seed=seed):
            pending.append(record)
            if len(pending) >= batch:
                send()
        if pending:
            send()
    finally:
        handler_log.setLevel(level)
    result.seconds = time.perf_counter() - started
    return result
