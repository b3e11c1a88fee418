"""One name and one label per column, for every table the product shows or writes.

The name (`period_start`) is what a script uses: the column of a frame, of a
Parquet file and of `python -m queries run`. The label ("Period start") is what
a person reads: the header of the table on screen and of every CSV and XLSX
file. They are the same column; `tests/test_columns.py` pins this list, so a
rename is a change a reviewer sees, never a silent one. Labels are unique, so a
file's headers map back to names (`names_of`).
"""

from __future__ import annotations

from collections.abc import Iterable

COLUMNS: dict[str, str] = {
    # per-bucket tables (Growth, Explore, Engagement)
    "day": "Day",
    "period_start": "Period start",
    "period_end": "Period end",
    "count": "Count",
    "cumulative": "Running total",
    "partial": "Partial",
    # Engagement
    "active_users": "Active users",
    "wau": "WAU",
    "mau": "MAU",
    "stickiness": "Stickiness",
    "cohort_start": "Cohort start",
    "cohort_size": "Cohort size",
    "period_index": "Period index",
    "retained": "Retained",
    "retained_share": "Retained share",
    "new": "New",
    "resurrected": "Resurrected",
    "churned": "Churned",
    "quick_ratio": "Quick ratio",
    # raw extracts of users and activities
    "uuid": "UUID",
    "user_uuid": "User UUID",
    "author_handle": "Author handle",
    "message": "Message",
    "replies_count": "Replies",
    "reposts_count": "Reposts",
    "likes_count": "Likes",
    "reply_to_activity_uuid": "Reply to (UUID)",
    "expires_at_utc": "Expires at (UTC)",
    "created_at_utc": "Created at (UTC)",
    "created_at_local": "Created at (local)",
    "display_name": "Display name",
    "handle": "Handle",
    "email": "E-mail",
    "cognito_user_id": "Cognito user id",
}

# The columns of each raw extract, in file order (the COPY SQL must answer exactly these).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("uuid", "display_name", "handle", "email", "cognito_user_id", "created_at_utc", "created_at_local"),
    "activities": (
        "uuid",
        "user_uuid",
        "author_handle",
        "message",
        "replies_count",
        "reposts_count",
        "likes_count",
        "reply_to_activity_uuid",
        "expires_at_utc",
        "created_at_utc",
        "created_at_local",
    ),
}

_NAMES = {label: name for name, label in COLUMNS.items()}


def label(name: str) -> str:
    """The label of a column name; a column the list does not know keeps its name
    (a test checks that every column the product writes is in the list)."""
    return COLUMNS.get(name, name)


def labels(names: Iterable[str]) -> list[str]:
    return [label(str(n)) for n in names]


def names_of(headers: Iterable[str]) -> list[str]:
    """The names of a file's headers (labels); a header that is no label is kept."""
    return [_NAMES.get(h, h) for h in headers]
