"""Synthetic growth data: N users and M posts over D days, recent days busier.
(Long because the vectorised row builders and the binary COPY writer are one
pipeline, measured together in README's generator figures.)

Deterministic for a given seed and anchor time. Rows are streamed to
PostgreSQL with binary COPY in chunks built by numpy (a writer thread sends
one chunk while the next is built), sorted by created_at and keyed with
time-ordered (v7-style) UUIDs so the primary-key index is appended to rather
than split at random, which is what keeps the load fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
from psycopg.copy import QueuedLibpqWriter

from db import statements

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Radia",
    "Guido",
    "Frances",
    "Tim",
    "Katherine",
    "Edsger",
    "Hedy",
    "Donald",
    "Sophie",
    "John",
    "Anita",
    "Bjarne",
    "Yukihiro",
    "Jean",
    "Karen",
    "Niklaus",
    "Shafi",
    "Leslie",
    "Mary",
    "Vint",
    "Fran",
    "Andrew",
    "Priya",
    "Chen",
    "Amara",
    "Diego",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Perlman",
    "Rossum",
    "Allen",
    "Lee",
    "Johnson",
    "Dijkstra",
    "Lamarr",
    "Knuth",
    "Wilson",
    "McCarthy",
    "Borg",
    "Stroustrup",
    "Matsumoto",
    "Sammet",
    "Jones",
    "Wirth",
    "Goldwasser",
    "Lamport",
    "Keller",
    "Cerf",
    "Brown",
]
OPENERS = [
    "Just shipped",
    "Loving",
    "Can't believe",
    "Hot take:",
    "Today I learned",
    "Quick reminder:",
    "Anyone else trying",
    "Finally fixed",
    "Weekend plans:",
    "Big news:",
    "Thinking about",
    "Reading up on",
]
TOPICS = [
    "serverless caching",
    "my first Flask app",
    "PostgreSQL indexes",
    "DynamoDB single-table design",
    "the new Cruddur feed",
    "container healthchecks",
    "Cognito sign-ups",
    "a Rust side project",
    "coffee and CloudWatch",
    "the bootcamp homework",
    "React hooks",
    "Momento",
    "cost explorer alerts",
    "rate limiting",
    "observability with Honeycomb",
    "timezone bugs",
    "a 280-character limit",
]
CLOSERS = [
    "",
    " 🚀",
    " 🎉",
    " #cloud",
    " #aws",
    " Thoughts?",
    " Send help.",
    " 10/10 would deploy again.",
    " More soon!",
    " 🐘",
    " (thread)",
]
TTL_HOURS = np.array([30 * 24, 7 * 24, 3 * 24, 24, 12, 3, 1])
GROWTH = 8.0  # the last day is about this many times busier than the first
CHUNK = 50_000
# Lifetimes, so that retention decays and then flattens as it does in real apps: most
# people try the app for a few days, the rest stay for months and come back again and again.
STAYING = 0.35  # share of sign-ups who stay
TRIAL_DAYS = 3.0  # mean lifetime of those who only try it
STAY_DAYS = 240.0  # mean lifetime of those who stay
FIRST_POST_HOURS = 2.0  # mean delay from sign-up to the first post


@dataclass
class GenerateResult:
    users: int
    posts: int
    seconds: float  # the load itself
    rollup_seconds: float = 0.0  # recounting the rollup hours the load fell into

    @property
    def rows_per_second(self) -> float:
        return (self.users + self.posts) / self.seconds if self.seconds > 0 else float("inf")


def _times(rng: np.random.Generator, n: int, start: datetime, end: datetime) -> np.ndarray:
    """n sorted instants in [start, end) (as int64 microseconds since the epoch) with
    density growing exponentially to GROWTH times its initial value."""
    span = (end - start) / timedelta(microseconds=1)
    g = np.log(GROWTH)
    u = rng.random(n)
    frac = np.log1p(u * (GROWTH - 1)) / g  # inverse CDF of exp(g*x) on [0, 1)
    base = int((start - datetime(1970, 1, 1)) / timedelta(microseconds=1))
    return np.sort(base + (frac * span).astype(np.int64))


def _uuids(rng: np.random.Generator, micros: np.ndarray) -> np.ndarray:
    """Time-ordered UUIDs (RFC 9562 version 7 layout) for rows sorted by time, as an (n, 16) byte matrix."""
    raw = rng.integers(0, 256, size=(len(micros), 16), dtype=np.uint8)
    ms = (micros // 1000).astype(np.uint64)
    for i in range(6):
        raw[:, i] = ((ms >> np.uint64(8 * (5 - i))) & np.uint64(0xFF)).astype(np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def _posts_in_lifetimes(
    rng: np.random.Generator, user_us: np.ndarray, posts: int, now: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """`posts` post times (int64 microseconds, unsorted) and their authors (indexes into
    user_us). Each user posts only between sign-up and the end of a lifetime (a mix of
    short trials and long stays, cut at now), first soon after signing up, then at
    random return visits; users with longer lives get proportionally more posts."""
    day_us = 86_400_000_000
    end = int((now - datetime(1970, 1, 1)) / timedelta(microseconds=1))
    n = len(user_us)
    stays = rng.random(n) < STAYING
    life = rng.exponential(np.where(stays, STAY_DAYS, TRIAL_DAYS)) * day_us
    window = np.minimum(life, np.maximum(end - user_us, 0)).astype(np.int64)
    weight = 1.0 + window / (7 * day_us)
    per_user = rng.multinomial(posts, weight / weight.sum())
    author = np.repeat(np.arange(n, dtype=np.int64), per_user)
    offset = (rng.random(posts) * window[author]).astype(np.int64)
    first = np.cumsum(per_user) - per_user  # each user's first post: soon after signing up
    has = per_user > 0
    delay = (rng.exponential(FIRST_POST_HOURS, n) * 3_600_000_000).astype(np.int64)
    offset[first[has]] = np.minimum(delay[has], window[has])
    return user_us[author] + offset, author


# COPY's binary format: signature, then per row a field count and per field a
# length and the value in the type's binary form, then a trailer. PostgreSQL
# parses it far faster than text (timestamps above all), and numpy builds it
# for a whole chunk at once instead of formatting row by row in Python.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + b"\0" * 8
COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's timestamp origin, in Unix microseconds


def _timestamps(micros: np.ndarray) -> np.ndarray:
    """Binary `timestamp` values: big-endian int64 microseconds since 2000-01-01, as (n, 8) bytes."""
    return (micros - _PG_EPOCH_US).astype(">i8").view(np.uint8).reshape(-1, 8)


class Texts:
    """A text column: row i is blob[starts[i]:starts[i] + lengths[i]] (UTF-8)."""

    def __init__(self, blob: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        self.blob, self.starts, self.lengths = blob, starts, lengths

    @classmethod
    def of(cls, values: list[str]) -> Texts:
        encoded = [v.encode() for v in values]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        starts = np.cumsum(lengths) - lengths
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), starts, lengths)

    @classmethod
    def choose(cls, vocabulary: list[str], index: np.ndarray) -> Texts:
        """Row i is vocabulary[index[i]] (no per-row Python work)."""
        vocab = cls.of(vocabulary)
        return cls(vocab.blob, vocab.starts[index], vocab.lengths[index])

    def slice(self, lo: int, hi: int) -> Texts:
        return Texts(self.blob, self.starts[lo:hi], self.lengths[lo:hi])


def copy_rows(columns: list) -> bytes:
    """Rows in COPY binary format; each column is an (n, width) uint8 matrix
    (fixed-size values) or a `Texts`."""
    n = len(columns[0].starts) if isinstance(columns[0], Texts) else columns[0].shape[0]
    sizes = [4 + (c.lengths if isinstance(c, Texts) else c.shape[1]) for c in columns]
    row_len = 2 + sum(sizes)
    row_len = np.broadcast_to(row_len, (n,)).astype(np.int64)
    pos = np.cumsum(row_len) - row_len
    out = np.empty(int(row_len.sum()), dtype=np.uint8)

    def put(matrix: np.ndarray) -> None:
        out[pos[:, None] + np.arange(matrix.shape[1])] = matrix

    put(np.broadcast_to(np.array([len(columns)], dtype=">i2").view(np.uint8), (n, 2)))
    pos += 2
    for column in columns:
        if isinstance(column, Texts):
            put(column.lengths.astype(">i4").view(np.uint8).reshape(-1, 4))
            pos += 4
            total = int(column.lengths.sum())
            before = np.cumsum(column.lengths) - column.lengths
            offset = np.arange(total, dtype=np.int64)
            out[offset + np.repeat(pos - before, column.lengths)] = column.blob[
                offset + np.repeat(column.starts - before, column.lengths)
            ]
            pos += column.lengths
        else:
            width = column.shape[1]
            put(np.broadcast_to(np.array([width], dtype=">i4").view(np.uint8), (n, 4)))
            pos += 4
            put(column)
            pos += width
    return out.tobytes()


def generate(
    conn: psycopg.Connection,
    *,
    users: int,
    posts: int,
    days: int,
    seed: int = 42,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Load `users` users and `posts` posts created over the last `days` days (today
    included, nothing in the future). Every post's author exists and signed up
    before posting. Runs inside the caller's transaction (as a savepoint) or its own;
    where the growth rollup exists, the hours it already covers are recounted."""
    with conn.transaction():  # the rollup recount's locks need one (a savepoint if the caller has one)
        return _generate(conn, users=users, posts=posts, days=days, seed=seed, now=now, progress=progress)


def _generate(
    conn: psycopg.Connection,
    *,
    users: int,
    posts: int,
    days: int,
    seed: int = 42,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    if users < 1 and posts > 0:
        raise ValueError("posts need at least one user")
    if min(users, posts) < 0 or days < 1:
        raise ValueError("users and posts must be >= 0 and days >= 1")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    start = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    rng = np.random.default_rng(seed)
    total = users + posts
    done = 0
    started = time.perf_counter()

    from actions import rollup

    # Old rows land in hours the rollup may already cover: those are recounted after the load.
    has_rollup = rollup.available(conn)
    user_us = _times(rng, users, start, now)
    user_ids = _uuids(rng, user_us)
    first = rng.integers(0, len(FIRST), users)
    last = rng.integers(0, len(LAST), users)
    suffix = rng.integers(1, 100_000, users)
    with conn.cursor() as cur:
        with statements.copy(cur, "seed.copy_users", allow="write", writer=QueuedLibpqWriter(cur)) as copy:
            copy.write(COPY_SIGNATURE)
            names = [f"{f} {l_}" for f in FIRST for l_ in LAST]
            name_index = first * len(LAST) + last
            stamps = _timestamps(user_us)
            for lo in range(0, users, CHUNK):
                hi = min(lo + CHUNK, users)
                handles = [f"{FIRST[first[i]]}{LAST[last[i]]}{suffix[i]}".lower() for i in range(lo, hi)]
                copy.write(
                    copy_rows(
                        [
                            user_ids[lo:hi],
                            Texts.choose(names, name_index[lo:hi]),
                            Texts.of(handles),
                            Texts.of([f"{h}@example.com" for h in handles]),
                            Texts.of([f"seed-{seed}-{i}" for i in range(lo, hi)]),
                            stamps[lo:hi],
                        ]
                    )
                )
                done += hi - lo
                if progress:
                    progress(done, total)
            copy.write(COPY_TRAILER)

        if posts:
            post_us, author = _posts_in_lifetimes(rng, user_us, posts, now)
            order = np.argsort(post_us, kind="stable")
            post_us, author = post_us[order], author[order]
            post_ids = _uuids(rng, post_us)
            ttl = TTL_HOURS[rng.integers(0, len(TTL_HOURS), posts)]
            expires = _timestamps(post_us + ttl.astype(np.int64) * 3_600_000_000)
            stamps = _timestamps(post_us)
            o = rng.integers(0, len(OPENERS), posts)
            t = rng.integers(0, len(TOPICS), posts)
            c = rng.integers(0, len(CLOSERS), posts)
            messages = Texts.choose(
                [f"{a} {b}.{z}" for a in OPENERS for b in TOPICS for z in CLOSERS],
                (o * len(TOPICS) + t) * len(CLOSERS) + c,
            )
            with statements.copy(cur, "seed.copy_activities", allow="write", writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(COPY_SIGNATURE)
                for lo in range(0, posts, CHUNK):
                    hi = min(lo + CHUNK, posts)
                    copy.write(
                        copy_rows(
                            [
                                post_ids[lo:hi],
                                user_ids[author[lo:hi]],
                                messages.slice(lo, hi),
                                expires[lo:hi],
                                stamps[lo:hi],
                            ]
                        )
                    )
                    done += hi - lo
                    if progress:
                        progress(done, total)
                copy.write(COPY_TRAILER)
    loaded = time.perf_counter() - started
    if has_rollup:
        for table in ("users", "activities"):
            rollup.recount_loaded(conn, table, start)
    from actions import engagement

    engagement.mark_loaded(conn)  # old rows: engagement state is counted again
    return GenerateResult(
        users=users, posts=posts, seconds=loaded, rollup_seconds=time.perf_counter() - started - loaded
    )
