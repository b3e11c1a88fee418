"""Synthetic growth data: N users and M posts over D days, recent days busier.

Deterministic for a given seed and anchor time. Rows are streamed to
PostgreSQL with COPY in chunks, sorted by created_at and keyed with
time-ordered (v7-style) UUIDs so the primary-key index is appended to rather
than split at random, which is what keeps the load fast.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
import psycopg

from queries import catalog

FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Guido", "Frances",
         "Tim", "Katherine", "Edsger", "Hedy", "Donald", "Sophie", "John", "Anita", "Bjarne", "Yukihiro", "Jean",
         "Karen", "Niklaus", "Shafi", "Leslie", "Mary", "Vint", "Fran", "Andrew", "Priya", "Chen", "Amara", "Diego"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Perlman",
        "Rossum", "Allen", "Lee", "Johnson", "Dijkstra", "Lamarr", "Knuth", "Wilson", "McCarthy", "Borg",
        "Stroustrup", "Matsumoto", "Sammet", "Jones", "Wirth", "Goldwasser", "Lamport", "Keller", "Cerf", "Brown"]
OPENERS = ["Just shipped", "Loving", "Can't believe", "Hot take:", "Today I learned", "Quick reminder:",
           "Anyone else trying", "Finally fixed", "Weekend plans:", "Big news:", "Thinking about", "Reading up on"]
TOPICS = ["serverless caching", "my first Flask app", "PostgreSQL indexes", "DynamoDB single-table design",
          "the new Cruddur feed", "container healthchecks", "Cognito sign-ups", "a Rust side project",
          "coffee and CloudWatch", "the bootcamp homework", "React hooks", "Momento", "cost explorer alerts",
          "rate limiting", "observability with Honeycomb", "timezone bugs", "a 280-character limit"]
CLOSERS = ["", " 🚀", " 🎉", " #cloud", " #aws", " Thoughts?", " Send help.", " 10/10 would deploy again.",
           " More soon!", " 🐘", " (thread)"]
TTL_HOURS = np.array([30 * 24, 7 * 24, 3 * 24, 24, 12, 3, 1])
GROWTH = 8.0  # the last day is about this many times busier than the first
CHUNK = 50_000


@dataclass
class GenerateResult:
    users: int
    posts: int
    seconds: float

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


def _uuids(rng: np.random.Generator, micros: np.ndarray) -> list[str]:
    """Time-ordered UUIDs (RFC 9562 version 7 layout) for rows sorted by time."""
    n = len(micros)
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    ms = (micros // 1000).astype(np.uint64)
    for i in range(6):
        raw[:, i] = ((ms >> np.uint64(8 * (5 - i))) & np.uint64(0xFF)).astype(np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = raw.tobytes().hex()
    out = []
    for i in range(n):
        h = hexes[32 * i: 32 * i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _stamp(micros: np.ndarray) -> np.ndarray:
    """COPY text for timestamps: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")


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
    before posting. The caller owns the transaction."""
    if users < 1 and posts > 0:
        raise ValueError("posts need at least one user")
    if min(users, posts) < 0 or days < 1:
        raise ValueError("users and posts must be >= 0 and days >= 1")
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    start = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    rng = np.random.default_rng(seed)
    total = users + posts
    done = 0
    started = time.perf_counter()

    user_us = _times(rng, users, start, now)
    user_ids = _uuids(rng, user_us)
    first = rng.integers(0, len(FIRST), users)
    last = rng.integers(0, len(LAST), users)
    suffix = rng.integers(1, 100_000, users)
    with conn.cursor() as cur:
        with cur.copy(catalog.text("seed.copy_users")) as copy:
            stamps = _stamp(user_us)
            for lo in range(0, users, CHUNK):
                hi = min(lo + CHUNK, users)
                lines = []
                for i in range(lo, hi):
                    f, l_ = FIRST[first[i]], LAST[last[i]]
                    handle = f"{f}{l_}{suffix[i]}".lower()
                    lines.append(f"{user_ids[i]}\t{f} {l_}\t{handle}\t{handle}@example.com\tseed-{seed}-{i}\t{stamps[i]}\n")
                copy.write("".join(lines))
                done += hi - lo
                if progress:
                    progress(done, total)

        if posts:
            post_us = _times(rng, posts, start, now)
            # An author must exist before posting: choose among users created earlier,
            # favouring early adopters slightly.
            eligible = np.maximum(np.searchsorted(user_us, post_us, side="right"), 1)
            author = np.minimum((eligible * rng.random(posts) ** 1.3).astype(np.int64), eligible - 1)
            post_us = np.maximum(post_us, user_us[author])
            order = np.argsort(post_us, kind="stable")
            post_us, author = post_us[order], author[order]
            post_ids = _uuids(rng, post_us)
            ttl = TTL_HOURS[rng.integers(0, len(TTL_HOURS), posts)]
            expires = _stamp(post_us + ttl.astype(np.int64) * 3_600_000_000)
            stamps = _stamp(post_us)
            o = rng.integers(0, len(OPENERS), posts)
            t = rng.integers(0, len(TOPICS), posts)
            c = rng.integers(0, len(CLOSERS), posts)
            messages = [f"{a} {b}.{z}" for a in OPENERS for b in TOPICS for z in CLOSERS]
            msg_index = (o * len(TOPICS) + t) * len(CLOSERS) + c
            with cur.copy(catalog.text("seed.copy_activities")) as copy:
                for lo in range(0, posts, CHUNK):
                    hi = min(lo + CHUNK, posts)
                    copy.write("".join(
                        f"{post_ids[i]}\t{user_ids[author[i]]}\t{messages[msg_index[i]]}\t{expires[i]}\t{stamps[i]}\n"
                        for i in range(lo, hi)
                    ))
                    done += hi - lo
                    if progress:
                        progress(done, total)
    return GenerateResult(users=users, posts=posts, seconds=time.perf_counter() - started)
