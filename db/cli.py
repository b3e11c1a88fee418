"""What every command line of ours (python -m db | queries | seed) does at its edges."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn


def entry(main: Callable[[], int]) -> NoReturn:
    """Run `main` and exit with its code. A reader that went away (`| head`) ends
    the output quietly with the shell's SIGPIPE status, and Ctrl-C says so in one
    line: neither is a traceback. SIGTERM and SIGHUP (cron, `timeout`, a closed
    terminal) unwind like Ctrl-C, so cleanup code runs and nothing half-written stays."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    from db.logs import configure

    configure(tracebacks=False)  # the cruddur.* log on stderr, one line a record: no traceback on a terminal
    # The pool logs a warning per failed connection attempt; a command reports the
    # failure itself in one line, so only the pool's errors may reach the terminal.
    import logging

    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + 13
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type=`: a whole number from `low` to `high`, refused in one line
    naming the option otherwise (not clamped, and not left to fail deeper down)."""
    return _bounded(int, "whole number", "a whole number", low, high)


def seconds(high: int) -> Callable[[str], float]:
    """An argparse `type=`: a number of seconds from 0 to `high` (fractions allowed), refused likewise."""
    return _bounded(float, "seconds", "a number of seconds", 0, high, unit=" seconds")


def _bounded(
    convert: Callable[[str], Any], name: str, what: str, low: int, high: int, unit: str = ""
) -> Callable[[str], Any]:
    import argparse

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {low:,} to {high:,}{unit}")
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse
