"""Shaping a cached answer once, not on every page view.

A cache hit hands every view the same answer, and shaping it again (pandas
frames, provenance, chart specs) cost most of a Growth view's server time under
load. Both memos return one shared object to every session: no caller may
change what they return.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pandas as pd

KEPT = 256


class _Memo:
    """A small thread-safe LRU."""

    def __init__(self) -> None:
        self.kept: dict[Any, Any] = {}
        self.lock = threading.Lock()

    def get(self, key: Any) -> tuple[bool, Any]:
        with self.lock:
            if key not in self.kept:
                return False, None
            self.kept[key] = value = self.kept.pop(key)  # most recently used last
            return True, value

    def put(self, key: Any, value: Any) -> None:
        evicted = []
        with self.lock:
            self.kept[key] = value
            while len(self.kept) > KEPT:
                evicted.append(self.kept.pop(next(iter(self.kept))))
        # Let go of them outside the lock: freeing one may run a per_frame finalizer,
        # which takes the lock again (a Lock is not re-entrant).
        del evicted

    def drop(self, key: Any) -> None:
        with self.lock:
            self.kept.pop(key, None)


def per_answer(shape: Callable[..., Any]) -> Callable[..., Any]:
    """Memoise `shape(frame, *hashable)` on the answer `frame` is (its "answer" stamp,
    set by queries.reads: query, parameters, when computed, whether cached). Only for
    frames just as run() returned them; shape and columns are part of the key as a
    guard, since pandas copies attrs into derived frames. Unstamped frames are shaped
    every time."""
    memo = _Memo()

    @functools.wraps(shape)
    def memoised(frame: pd.DataFrame, *args: Any) -> Any:
        stamp = frame.attrs.get("answer")
        if stamp is None:
            return shape(frame, *args)
        key = (stamp, frame.shape, tuple(frame.columns), args)
        found, value = memo.get(key)
        if not found:
            value = shape(frame, *args)
            memo.put(key, value)
        return value

    return memoised


def per_frame(shape: Callable[..., Any]) -> Callable[..., Any]:
    """Memoise `shape(frame, *hashable, **hashable)` on the frame object itself, for as
    long as it lives: for frames that are themselves memoised (per_answer), so the same
    object always holds the same rows."""
    memo = _Memo()

    @functools.wraps(shape)
    def memoised(frame: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        key = (id(frame), args, tuple(sorted(kwargs.items())))
        found, value = memo.get(key)
        if not found:
            value = shape(frame, *args, **kwargs)
            memo.put(key, value)
            weakref.finalize(frame, memo.drop, key)  # a new frame may reuse the id
        return value

    return memoised
