"""Real sessions for tests: each holds its own connection and runs statements in a thread.
(SQL here is test scaffolding, not app queries.)"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg


class Background:
    """One real database session. `start(sql)` runs a statement in a thread (for statements that
    block: a sleep, a lock wait); `execute(sql)` runs one now (to open a transaction, take a lock)."""

    def __init__(self, url: str, application: str):
        self.conn = psycopg.connect(url, autocommit=True, application_name=application)
        self.pid = self.conn.info.backend_pid
        self.application = application
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def execute(self, statement: str, params=None):
        return self.conn.execute(statement, params)

    def start(self, statement: str, params=None) -> Background:
        def work():
            try:
                self.conn.execute(statement, params)
            except BaseException as exc:  # the test inspects it (e.g. QueryCanceled)
                self.error = exc

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float = 5) -> None:
        if self.thread:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), f"session {self.pid} still running after {timeout} s"

    def alive(self) -> bool:
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def close(self) -> None:
        try:
            self.conn.cancel_safe(timeout=2)
        except Exception:
            pass
        if self.thread:
            self.thread.join(5)
        self.conn.close()


def wait_until(probe, timeout: float = 5.0, interval: float = 0.05):
    """Call `probe()` until it returns something truthy; return that, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {getattr(probe, '__name__', probe)}")
        time.sleep(interval)


def as_user(url: str, user: str) -> str:
    """The same database URL for another role (the embedded server trusts its Unix socket)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))
