"""The server log: named loggers under `cruddur.` (cruddur.cache, cruddur.momento,
cruddur.rollup, cruddur.page, cruddur.sql, ...), written to stderr.

    log = logs.logger("cruddur.cache")    a logger whose records are scrubbed of secrets
    logs.configure()                      once per process (the app entry, the command lines):
                                          level INFO, one timestamped StreamHandler on stderr

Every record is scrubbed before any handler sees it: `ScrubFilter` runs
`db.errors.scrub` over the formatted message and the traceback text (exc_text),
so a configured password cannot reach the log even inside an exception's text.
It sits on every logger made by `logger()` (a logger's filters see only its own
records) and on the handler `configure()` installs (which sees every `cruddur.*`
record). Only the `cruddur` logger is configured: Streamlit's own loggers and
the root logger are left as they are, and records still propagate to the root.
"""

from __future__ import annotations

import logging
import sys
import threading

ROOT_NAME = "cruddur"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WITHHELD = "(log message withheld: it could not be checked for secrets)"


class ScrubFilter(logging.Filter):
    """Replace a record's message and traceback text by their scrubbed forms."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_cruddur_scrubbed", False):
            return True
        from db.errors import scrub

        try:
            record.msg, record.args = scrub(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = self._formatter.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = scrub(record.exc_text)
            if record.stack_info:
                record.stack_info = scrub(record.stack_info)
        except Exception:  # never let a record through unchecked
            record.msg, record.args = WITHHELD, None
            record.exc_info = record.exc_text = record.stack_info = None
        record._cruddur_scrubbed = True
        return True


SCRUB = ScrubFilter()
_lock = threading.Lock()


def logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)` with the scrub filter on it (name under `cruddur.`)."""
    log = logging.getLogger(name)
    with _lock:
        if SCRUB not in log.filters:
            log.addFilter(SCRUB)
    return log


class _Handler(logging.StreamHandler):
    """The handler `configure()` installs (recognised so it is installed once)."""


class OneLineFormatter(logging.Formatter):
    """A record and the name of its exception, without the traceback: for a terminal,
    where a command line reports the failure itself in one line."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and record.exc_info[0] is not None:
            line += f" ({record.exc_info[0].__name__})"
        return line


def configure(level: int = logging.INFO, *, tracebacks: bool = True) -> logging.Logger:
    """Send `cruddur.*` records at `level` and above to stderr, with a timestamp.
    tracebacks=False (the command lines): one line per record. Safe to call more than once."""
    log = logger(ROOT_NAME)
    with _lock:
        handler = next((h for h in log.handlers if isinstance(h, _Handler)), None)
        if handler is None:
            handler = _Handler(sys.stderr)
            handler.addFilter(SCRUB)
            log.addHandler(handler)
        handler.setFormatter(logging.Formatter(FORMAT) if tracebacks else OneLineFormatter(FORMAT))
        log.setLevel(level)
    return log
