"""A dependency-free progress bar for the command line."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, label: str, stream=None, width: int = 30) -> None:
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{frac:6.1%} {done:,}/{total:,} rows  {rate:,.0f} rows/s"
        )
        if self._terminal():  # redrawn in place
            self.stream.write(f"\r{line}" + ("\n" if done >= total else ""))
        else:  # a log file or a pipe: one line each, never run together
            self.stream.write(f"{line}\n")
        self.stream.flush()

    def _terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())
