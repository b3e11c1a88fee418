"""What every command line of ours (python -m db | queries | seed) does at its edges."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn


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
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {low:,} to {high:,}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def seconds(high: float) -> Callable[[str], float]:
    """An argparse `type=`: a number of seconds from 0 to `high` (fractions allowed), refused in one line otherwise."""
    import argparse
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not (math.isfinite(value) and 0 <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: use 0 to {high:,g} seconds")
        return value

    parse.__name__ = "seconds"
    return parse
