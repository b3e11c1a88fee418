"""Page furniture for admin actions: run one write and report its outcome in
plain words. A refused or failed write shows why; no traceback reaches the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from db.errors import DatabaseUnavailable, SchemaBehind, safe_message
from db.guard import WriteRefused
from db.logs import logger
from db.settings import ConfigError

T = TypeVar("T")
log = logger("cruddur.page")


def attempt(action: Callable[[], T], what: str, *, reraise: tuple[type[Exception], ...] = ()) -> T | None:
    """Run `action`; on failure show an error naming `what` and return None.
    Exceptions in `reraise` are left to the caller (e.g. to show them by a field)."""
    try:
        return action()
    except reraise:
        raise
    except Exception as exc:
        log.warning("could not %s", what, exc_info=True)
        text, icon = _refusal_text(exc, what)
        st.error(text, icon=icon)
    return None


def _refusal_text(exc: Exception, what: str) -> tuple[str, str]:
    """What the page says about a failed action, and its icon."""
    if isinstance(exc, WriteRefused):
        return str(exc), ":material/block:"
    if isinstance(exc, DatabaseUnavailable | ConfigError | SchemaBehind):
        return f"Could not {what}: {exc}", ":material/cloud_off:"
    if isinstance(exc, ValueError):  # our own input checks: the message is for people
        return f"Could not {what}: {exc}", ":material/error:"
    return f"Could not {what}. {safe_message(exc)}", ":material/error:"


def progress_reporter(bar) -> Callable[[int, int], None]:
    """A generate() progress callback drawing on an st.progress bar, with rows/s."""
    import time

    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{done:,} of {total:,} rows · {rate:,.0f} rows/s")

    return report
