"""One column-name mapping for the screen, CSV, XLSX and Parquet (exports/columns.py).

The list below is pinned: renaming a column, or its label, breaks scripts and
readers, so it must be a deliberate change to this test and to the README's
"Explore and exports" section, never a silent one.
"""

import re
from pathlib import Path

import pytest

from exports.columns import COLUMNS, RAW_COLUMNS, label, labels, names_of
from queries.explore import METRICS, explore, resolve_range
from queries.reads import run
from tests.conftest import ROOT

PINNED = {
    "day": "Day",
    "period_start": "Period start",
    "period_end": "Period end",
    "count": "Count",
    "cumulative": "Running total",
    "partial": "Partial",
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


def test_the_names_and_labels_are_the_pinned_ones():
    assert COLUMNS == PINNED


def test_names_are_snake_case_and_labels_unique_so_headers_map_back():
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in COLUMNS)
    assert len({text.casefold() for text in COLUMNS.values()}) == len(COLUMNS)
    assert names_of(labels(COLUMNS)) == list(COLUMNS)
    assert label("not_listed") == "not_listed" and names_of(["Not a label"]) == ["Not a label"]


def test_the_readme_lists_every_name_and_label():
    readme = (ROOT / "README.md").read_text()
    for name, text in COLUMNS.items():
        assert f"`{name}` | {text} |" in readme, name


@pytest.mark.parametrize("metric", list(METRICS))
def test_every_explore_column_has_a_label(db, metric):
    rng = resolve_range("last_7_days", tz="UTC")
    frame = explore(metric, rng=rng, granularity="week", tz="UTC", cumulative=True).frame
    assert set(frame.columns) <= set(COLUMNS)


@pytest.mark.parametrize("table", ["new_users_per_day", "new_posts_per_day", "new_messages_per_day"])
def test_every_growth_column_has_a_label(db, table):
    assert set(run(table, tz="UTC").columns) <= set(COLUMNS)


def test_raw_columns_are_labelled_and_match_the_copy_sql():
    for kind, names in RAW_COLUMNS.items():
        assert set(names) <= set(COLUMNS)
        sql = Path(ROOT / "queries" / "sql" / "explore" / f"copy_raw_{kind}.sql").read_text()
        for name in names:  # each is a column of the SELECT (exports.raw checks COPY's header at run time too)
            assert re.search(rf"\b{name}\b", sql), (kind, name)
