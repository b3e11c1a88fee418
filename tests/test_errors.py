"""What a person reads of a database error (db/errors.py): a statement's conflict with
another session is not called an unreachable database."""

import threading

import psycopg
import pytest

from db.errors import safe_message


def test_a_deadlock_says_what_happened_and_that_nothing_was_kept(db_url):
    raised: list[Exception] = []

    def lock(conn, key):
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        except psycopg.Error as exc:
            raised.append(exc)
            conn.rollback()

    with psycopg.connect(db_url) as first, psycopg.connect(db_url) as second:
        lock(first, 1)
        lock(second, 2)
        waiting = threading.Thread(target=lock, args=(first, 2))
        waiting.start()
        lock(second, 1)  # one of the two is chosen to fail after deadlock_timeout
        second.rollback()
        waiting.join(30)
        first.rollback()
    assert len(raised) == 1 and isinstance(raised[0], psycopg.errors.DeadlockDetected)
    message = safe_message(raised[0])
    assert message.startswith("A conflict with another session stopped this (deadlock detected)")
    assert "deadlock detected" in message and "Cannot reach" not in message and "DETAIL" not in message


def test_a_lock_wait_that_timed_out_names_the_lock_not_the_network(db_url):
    with psycopg.connect(db_url) as holder, psycopg.connect(db_url) as waiter:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable) as caught:
            waiter.execute("SELECT count(*) FROM users")
    assert safe_message(caught.value).startswith("Another session holds a lock this needs: ")


def test_a_refused_connection_is_still_unreachable():
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)
    assert safe_message(caught.value).startswith("Cannot reach the database: ")


def test_our_own_refusals_read_as_written():
    from db.guard import WriteRefused
    from db.settings import ConfigError

    assert safe_message(ConfigError("CONNECTION_URL is not set")) == "CONNECTION_URL is not set"
    assert safe_message(WriteRefused("Refused to write: production")) == "Refused to write: production"
