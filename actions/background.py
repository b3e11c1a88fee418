"""One background chore at a time per kind (the growth rollup, the engagement state):
started by a page after a read, spaced out, asked of the production guard first, and
its failure counted and logged once with its traceback, then retried only later."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from db import guard
from db.errors import safe_message
from queries.reads import stats

SPACING_S = 30.0  # between two starts for one key, also when the last found nothing to do
RETRY_AFTER_S = 300.0  # after a failure or a refusal (a read-only role, production without ALLOW_PROD_WRITES)


class Chore:
    def __init__(self, name: str, action: str, log: logging.Logger):
        self.name = name  # the counters' key and the thread's name
        self.action = action  # what the production guard is asked about
        self.log = log
        self.lock = threading.Lock()  # one run at a time in this process
        self.next_try: dict[Hashable, float] = {}

    def start(self, key: Hashable, work: Callable[[], object], what: str) -> bool:
        """Run `work` in a thread unless one runs or `key` failed or ran recently.
        `what` names it in the log ("growth rollup refresh")."""
        now = time.monotonic()
        if self.next_try.get(key, 0) > now or not self.lock.acquire(blocking=False):
            return False
        self.next_try[key] = now + SPACING_S

        def run() -> None:
            try:
                if guard.refusal(self.action):  # readers stay exact; cron does it (README)
                    self.next_try[key] = time.monotonic() + RETRY_AFTER_S
                    return
                work()
                stats.count("refreshes", self.name)
            except Exception as exc:  # e.g. a read-only role: readers stay exact, only slower
                stats.count("errors", self.name)
                self.log.warning(
                    "%s failed; trying again in %.0f s: %s", what, RETRY_AFTER_S, safe_message(exc), exc_info=True
                )
                self.next_try[key] = time.monotonic() + RETRY_AFTER_S
            finally:
                self.lock.release()

        threading.Thread(target=run, name=f"{self.name}-refresh", daemon=True).start()
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait for a running chore to finish (tests, benchmarks)."""
        if self.lock.acquire(timeout=timeout):
            self.lock.release()
            return True
        return False
