"""Creating an activity: the original app's validation rules (SPEC.md), done right.

Shared by the Admin page and `python -m seed create-activity`. Every problem
is reported at once; an unknown handle is reported as such and nothing is
written; text PostgreSQL cannot store is refused before it reaches the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import psycopg

from actions.writing import writing
from db.guard import require_writable
from db.logs import logger
from db.statements import execute
from queries.cache import KeyLocks
from queries.reads import fetch, run

log = logger("cruddur.admin")

MAX_CHARS = 280
# The seven choices of the original form, longest first as it listed them.
TTLS: dict[str, timedelta] = {
    "30-days": timedelta(days=30),
    "7-days": timedelta(days=7),
    "3-days": timedelta(days=3),
    "1-day": timedelta(days=1),
    "12-hours": timedelta(hours=12),
    "3-hours": timedelta(hours=3),
    "1-hour": timedelta(hours=1),
}
HANDLE_CHOICES_LIMIT = 5000
FIELDS = ("handle", "message", "ttl")  # the form's order, in which problems are listed


@dataclass(frozen=True)
class Problem:
    code: str  # the original app's error code, or ours for the new checks
    field: str  # "handle", "message" or "ttl": where the page shows it
    text: str

    def __str__(self) -> str:
        return f"{self.text} ({self.code})"


class ActivityRejected(ValueError):
    """The input was refused; `problems` lists every reason. Nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def char_count(message: str | None) -> int:
    """Characters as PostgreSQL's char_length counts them (code points, not bytes):
    an emoji such as 🚀 is one character although it is four bytes in UTF-8."""
    return len(message or "")


def normalize_handle(handle: str | None) -> str:
    """'  @andrewbrown ' -> 'andrewbrown' (people write handles with the @)."""
    return (handle or "").strip().removeprefix("@").strip()


def _unstorable(text: str) -> str | None:
    """Why PostgreSQL would reject this text, or None."""
    if "\x00" in text:
        return "a NUL character (\\x00), which PostgreSQL text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate, which is not valid Unicode"
    return None


def validate(handle: str | None, message: str | None, ttl: str | None) -> list[Problem]:
    """Every problem with the input, in the order of the form's fields."""
    problems = []
    handle = normalize_handle(handle)
    message = message or ""
    if not handle:
        problems.append(Problem("user_handle_blank", "handle", "Enter the author's handle."))
    elif why := _unstorable(handle):
        problems.append(Problem("user_handle_invalid", "handle", f"The handle contains {why}."))
    if not message.strip():
        problems.append(Problem("message_blank", "message", "Write a message."))
    elif char_count(message) > MAX_CHARS:
        problems.append(
            Problem(
                "message_exceed_max_chars",
                "message",
                f"The message has {char_count(message):,} characters; at most {MAX_CHARS} are allowed.",
            )
        )
    if message and (why := _unstorable(message)):
        problems.append(Problem("message_invalid_characters", "message", f"The message contains {why}."))
    if ttl not in TTLS:
        problems.append(Problem("ttl_blank", "ttl", f"Choose a TTL: one of {', '.join(TTLS)}."))
    return problems


def _not_found(handle: str) -> Problem:
    return Problem("user_not_found", "handle", f"No user has the handle @{handle}; nothing was written.")


def _existing_handle(handle: str | None) -> str | None:
    """The stored handle meant by what was typed, or None. '@weird' as typed wins when
    a user really has it (handles may begin with @); else the @-less form."""
    typed, bare = (handle or "").strip(), normalize_handle(handle)
    for candidate in dict.fromkeys([typed, bare]):  # typed first; once when they are equal
        if fetch("activities.handle_exists", handle=candidate)["present"].iloc[0]:
            return candidate
    return None


def handles(limit: int = HANDLE_CHOICES_LIMIT, *, fresh: bool = False) -> list[str]:
    """Existing handles for the author picker (cached unless `fresh`)."""
    return run("activities.handles", fresh=fresh, limit=limit)["handle"].tolist()


IDEMPOTENCY_KEPT = 4096  # keys remembered; a form is submitted again within seconds, not after thousands of posts
_posted: OrderedDict[str, object] = OrderedDict()  # idempotency key -> uuid of the activity it created
_posted_lock = threading.Lock()
_submitting = KeyLocks()  # one submission per key at a time


def _already_posted(key: str) -> object | None:
    with _posted_lock:
        return _posted.get(key)


def _remember_posted(key: str, uuid: object) -> None:
    with _posted_lock:
        _posted[key] = uuid
        while len(_posted) > IDEMPOTENCY_KEPT:
            _posted.popitem(last=False)


def create_activity(
    *, handle: str | None, message: str | None, ttl: str | None, by: str = "cli", idempotency_key: str | None = None
) -> pd.DataFrame:
    """Validate, insert through the writer pool, and return the row read back from the
    database (uuid, author, message, created_at, expires_at). Raises db.guard.WriteRefused
    (production without ALLOW_PROD_WRITES) or ActivityRejected listing every problem,
    an unknown handle included; either way nothing is written.

    `idempotency_key` (the Admin page makes one per rendering of its form): a second
    call with the same key - a double click, a resubmitted form - writes nothing and
    returns the row the first call created."""
    if idempotency_key is None:
        return _create(handle=handle, message=message, ttl=ttl, by=by)
    with _submitting(idempotency_key):
        earlier = _already_posted(idempotency_key)
        if earlier is not None:
            log.info("%s submitted the same form again (key %s): nothing written", by, idempotency_key)
            return fetch("activities.get", uuid=earlier)
        created = _create(handle=handle, message=message, ttl=ttl, by=by)
        _remember_posted(idempotency_key, created["uuid"].iloc[0])
        return created


def _create(*, handle: str | None, message: str | None, ttl: str | None, by: str) -> pd.DataFrame:
    require_writable("create an activity")  # first: no point checking input that cannot be written
    problems = validate(handle, message, ttl)
    typed, handle = handle, normalize_handle(handle)
    if not any(p.field == "handle" for p in problems):  # only storable text reaches the database
        found = _existing_handle(typed)
        if found is None:
            problems.append(_not_found(handle))
        else:
            handle = found
    if problems:
        raise ActivityRejected(sorted(problems, key=lambda p: FIELDS.index(p.field)))
    assert ttl is not None  # validate() reported any ttl not in TTLS
    try:
        with writing("activities") as conn:
            row = execute(
                conn, "activities.create", allow="write", handle=handle, message=message, ttl=TTLS[ttl]
            ).fetchone()
            if row is None:  # the user was deleted since the check above
                raise ActivityRejected([_not_found(handle)])
    except psycopg.DataError as exc:  # e.g. a character the database's encoding cannot hold
        from db.errors import safe_message

        raise ActivityRejected(
            [Problem("message_rejected", "message", f"The database refused the text: {safe_message(exc)}")]
        ) from None
    created = fetch("activities.get", uuid=row[0])
    log.info("%s created activity %s by @%s (ttl %s, %d characters)", by, row[0], handle, ttl, char_count(message))
    return created
