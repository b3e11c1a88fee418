"""Lock waits with real sessions in threads: a row, a table (LOCK TABLE) and an advisory lock, each
named with its lock type, wanted mode, relation and holder, in the snapshot, on the Sessions page
and in `python -m db sessions`."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from queries import blocking, sessions
from tests.background import Background, wait_until
from tests.conftest import ROOT
from tests.helpers import add_user

PAGE = str(ROOT / "pages" / "sessions.py")


@pytest.fixture
def started(db_url):
    opened: list[Background] = []

    def make(application: str) -> Background:
        s = Background(db_url, application)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def waiting_row(pid: int) -> dict:
    def probe():
        frame = sessions.snapshot().sessions
        match = frame[(frame["pid"] == pid) & frame["blocked"] & frame["lock_holders"].fillna("").ne("")]
        return match.iloc[0].to_dict() if len(match) else None

    return wait_until(probe)


def row_wait(started, db):
    user = add_user(db, "locked")
    holder = started("row-holder")
    holder.execute("BEGIN")
    holder.execute("SELECT 1 FROM users WHERE uuid = %s FOR UPDATE", [user])
    waiter = started("row-waiter").start("UPDATE users SET handle = 'changed' WHERE uuid = %s", [user])
    return holder, waiter


def table_wait(started, db):
    holder = started("table-holder")
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM activities")  # AccessShareLock until the transaction ends
    waiter = started("table-waiter")
    waiter.execute("BEGIN")  # LOCK TABLE only runs inside a transaction
    waiter.start("LOCK TABLE activities IN ACCESS EXCLUSIVE MODE")
    return holder, waiter


def advisory_wait(started, db):
    holder = started("advisory-holder")
    holder.execute("SELECT pg_advisory_lock(4242)")
    waiter = started("advisory-waiter").start("SELECT pg_advisory_lock(4242)")
    return holder, waiter


CASES = {
    "row": (row_wait, "transactionid (row)", "ShareLock", "public.users", "ExclusiveLock", "row (0,1) of public.users"),
    "table": (
        table_wait,
        "relation",
        "AccessExclusiveLock",
        "public.activities",
        "AccessShareLock",
        "table public.activities",
    ),
    "advisory": (advisory_wait, "advisory", "ExclusiveLock", None, "ExclusiveLock", "advisory lock 4242"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lock_wait_names_type_mode_relation_and_holder(case, started, db, capsys):
    arrange, kind, mode, relation, holder_mode, words = CASES[case]
    holder, waiter = arrange(started, db)
    row = waiting_row(waiter.pid)
    assert (row["lock_type"], row["lock_mode"]) == (kind, mode)
    assert (row["lock_relation"] if relation else None) == relation
    assert row["lock_holders"] == f"{holder.pid} holds {holder_mode}"
    assert words in row["lock_on"]
    assert row["blocked_by"] == [holder.pid]

    # The page table's Wait column and the blocking tree say the same.
    snap = sessions.snapshot()
    table = sessions.table(snap.sessions).set_index("pid")
    assert table.loc[waiter.pid, "wait"].startswith(f"{mode} on ") and words in table.loc[waiter.pid, "wait"]
    assert f"{holder.pid} holds {holder_mode}" in table.loc[waiter.pid, "wait"]
    tree = blocking.blocking_tree(snap.sessions).set_index("pid")
    assert tree.loc[waiter.pid, "wants"] == f"{mode} on {row['lock_on']}"
    assert tree.loc[waiter.pid, "parent_holds"] == holder_mode
    assert tree.loc[holder.pid, "level"] == 0

    from db.__main__ import main

    assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert f"{waiter.pid} wants {mode} [{kind}] on {row['lock_on']}; held by: {holder.pid} holds {holder_mode}" in out
    if case == "advisory":
        assert "advisory lock 4242" in out


def test_the_page_shows_the_lock_in_the_table_and_the_tree(started, db):
    holder, waiter = table_wait(started, db)
    waiting_row(waiter.pid)
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["admin_user"] = "admin"
    at.run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("pid")
    assert "AccessExclusiveLock on table public.activities" in table.loc[waiter.pid, "wait"]
    tree = at.dataframe[1].value.set_index("pid")
    assert tree.loc[waiter.pid, "wants"] == "AccessExclusiveLock on table public.activities"
    assert tree.loc[waiter.pid, "parent_holds"] == "AccessShareLock"
    # The session panel (chosen from the list or a picked row) spells the wait out too.
    at.selectbox(key="sessions-pid").set_value(waiter.pid).run()
    assert any("waits for AccessExclusiveLock on table public.activities" in c.value for c in at.caption)
    # A visitor sees the same lock, without users or queries.
    visitor = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not visitor.exception
    tree = visitor.dataframe[1].value.set_index("pid")
    assert tree.loc[waiter.pid, "wants"] == "AccessExclusiveLock on table public.activities"
    assert "user" not in tree.columns and tree.loc[waiter.pid, "query"].startswith("(hidden")


def test_a_second_waiter_queues_behind_the_first(started, db):
    holder, first = table_wait(started, db)
    waiting_row(first.pid)
    second = started("second-waiter").start("SELECT count(*) FROM activities")
    row = waiting_row(second.pid)
    # AccessShareLock conflicts with the queued AccessExclusiveLock: the first waiter blocks it too.
    assert row["lock_mode"] == "AccessShareLock" and first.pid in row["blocked_by"]
    assert f"{first.pid} queued ahead for AccessExclusiveLock" in row["lock_holders"]


def test_health_does_not_queue_behind_an_access_exclusive_lock(started, db):
    """pg_relation_size() would wait behind a queued LOCK TABLE: the sizes of that table are estimated."""
    from queries import database

    holder, waiter = table_wait(started, db)
    waiting_row(waiter.pid)
    h = database.health()
    tables = h.tables.set_index("table")
    assert tables.loc["activities", "size_estimated"] and not tables.loc["users", "size_estimated"]
    assert tables.loc["users", "total_bytes"] > 0
    assert "activities" in set(h.indexes["table"])
