"""Every SQL file in queries/sql follows the catalog's rules (queries/catalog.py)."""

import re

import pytest

from queries import catalog

ALL = sorted(catalog.catalog().values(), key=lambda q: q.name)
# Tables a statement may declare in `-- reads:` (the cache invalidates results by them).
KNOWN_TABLES = ("users", "activities", "message_events", "message_groups", "message_counts")


def test_growth_questions_exist():
    for name in ["total_users", "total_posts", "new_users_per_day", "new_posts_per_day", "live.weekly_new_counts"]:
        assert catalog.get(name).doc


@pytest.mark.parametrize("query", ALL, ids=[q.name for q in ALL])
def test_one_described_statement_per_file(query):
    assert query.doc and not re.match(r"(select\s|insert\s+into|with\s+\w+\s+as|create\s+table)", query.doc, re.I)
    body = re.sub(r"--[^\n]*", "", query.text)
    body = re.sub(r"'(?:[^']|'')*'", "''", body)  # string literals may hold semicolons
    assert body.strip().rstrip(";").count(";") == 0, "one statement per file"
    assert "{" not in body or re.search(r"\{\w+\}", body), "only {identifier} placeholders"
    assert not re.search(r"%s|\{\}|%\w(?!\()", body.replace("%%", "")), "values only as %(name)s"
    for table in query.reads:
        assert table in KNOWN_TABLES, f"unknown table in -- reads: {table}"


def test_no_sql_in_pages_router_or_routes():
    from tests.conftest import ROOT

    files = [
        ROOT / "app.py",
        ROOT / "dashboard.py",
        *(path for folder in ("pages", "ui", "web") for path in sorted((ROOT / folder).glob("*.py"))),
    ]
    pattern = re.compile(r"\b(select\s+.+\s+from|insert\s+into|delete\s+from|update\s+\w+\s+set)\b", re.I)
    for path in files:
        assert not pattern.search(path.read_text()), f"SQL text in {path.name}"


# What a statement may change, by what its text calls or says. A read statement holds none of these.
SIDE_EFFECTS = re.compile(
    r"\b(insert\s+into|update\s+\w+\s+set|delete\s+from|truncate|create|drop|alter|grant|revoke|lock\s+table"
    r"|copy\s+\w+\s+from|pg_cancel_backend|pg_terminate_backend|pg_reload_conf|pg_advisory\w*lock|nextval"
    r"|pg_current_xact_id|set_config\s*\([^)]*,\s*false\))(?!\w)",
    re.I,
)


@pytest.mark.parametrize("query", ALL, ids=[q.name for q in ALL])
def test_every_statement_declares_its_class_and_reads_change_nothing(query):
    assert query.statement_class in catalog.CLASSES
    body = re.sub(r"--[^\n]*", "", query.text)
    if query.statement_class == "read":
        assert not SIDE_EFFECTS.search(body), f"{query.name} changes something: mark it write or admin"


def test_a_file_without_a_class_is_refused(tmp_path):
    path = tmp_path / "x.sql"
    path.write_text("-- Something.\nSELECT 1\n")
    with pytest.raises(ValueError, match="class"):
        catalog.parse(path, "x")


@pytest.mark.parametrize("name", [q.name for q in ALL if q.statement_class != "read"])
def test_the_read_paths_refuse_writes_and_admin_actions(name):
    from queries import reads

    with pytest.raises(catalog.NotARead):
        reads.run(name)
    with pytest.raises(catalog.NotARead):
        reads.fetch(name)


def test_statements_planned_on_connect_are_plain_reads():
    marked = [q for q in ALL if q.plan_on_connect]
    assert {"growth_summary", "messages_summary", "explore.new_posts"} <= {q.name for q in marked}
    for query in marked:
        assert query.statement_class == "read" and not re.search(r"\{\w+\}", query.text)
    # One plan whatever the values only where the statement's shape is fixed; Explore's plans follow the range.
    assert {q.name for q in ALL if q.generic_plan} == {"growth_summary", "messages_summary"}


def test_plan_takes_on_connect_or_generic(tmp_path):
    path = tmp_path / "x.sql"
    path.write_text("-- Something.\n-- class: read\n-- plan: always\nSELECT 1\n")
    with pytest.raises(ValueError, match="`on connect` or `generic`"):
        catalog.parse(path, "x")
