"""The original project's sample rows (SPEC.md), loaded idempotently."""

from __future__ import annotations

import psycopg

from db.statements import execute

USERS = [
    ("Andrew Brown", "andrewbrown", "andrew@test.com", "MOCK"),
    ("Andrew Bayko", "bayko", "bayko@test.com", "MOCK"),
    ("Iron Man", "ironman", "ironman@test.com", "MOCK"),
    ("Super Man", "superman", "superman@test.com", "MOCK"),
]
ACTIVITY = ("andrewbrown", "This was imported as seed data!")


def load_sample(conn: psycopg.Connection) -> tuple[int, int]:
    """Insert what is missing; returns (users added, activities added)."""
    users = 0
    for display_name, handle, email, cognito_user_id in USERS:
        cur = execute(
            conn,
            "seed.insert_sample_user",
            allow="write",
            display_name=display_name,
            handle=handle,
            email=email,
            cognito_user_id=cognito_user_id,
        )
        users += cur.rowcount
    cur = execute(conn, "seed.insert_sample_activity", allow="write", handle=ACTIVITY[0], message=ACTIVITY[1])
    return users, cur.rowcount
