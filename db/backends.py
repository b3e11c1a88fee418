"""The database sessions this process holds, known by their backend pids.

The Sessions page hides the dashboard's own sessions and refuses to signal
them. A name prefix cannot tell them apart (any client may set
application_name), so every connection this process opens registers here,
and "our own" means a pid of one of these that is still open.
"""

from __future__ import annotations

import threading
import weakref
from typing import TypeVar

import psycopg

_open: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()
_lock = threading.Lock()
C = TypeVar("C", bound=psycopg.Connection)


def register(conn: C) -> C:
    """Remember `conn` as one of ours (pools call this for every new connection)."""
    with _lock:
        _open.add(conn)
    return conn


def own_pids() -> list[int]:
    """Backend pids of this process's open connections."""
    with _lock:
        conns = list(_open)
    return sorted({c.info.backend_pid for c in conns if not c.closed})
