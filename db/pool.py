"""Connection pools: one reader and one writer per database URL, opened lazily.

Nothing connects at import. Pools are keyed by (role, url) so that a changed
setting (tests, a switch to production) gets a new pool instead of a stale one.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from db import guard, rds, statements
from db.backends import register
from db.errors import DatabaseUnavailable, is_connection_error, safe_message
from db.logs import logger
from db.settings import APP_NAME, Settings, get_settings

log = logger("cruddur.pool")

READER = "reader"
WRITER = "writer"

_pools: dict[tuple[str, str], ConnectionPool] = {}
_lock = threading.Lock()


# psycopg_pool says why it could not connect only in its log (which the CLIs quiet): the
# last reason per URL, so a timeout can say why (no such database, a refused password).
_connect_failures: dict[str, tuple[float, BaseException]] = {}
FAILURE_RECENT_S = 60.0


class _RecordingConnection(psycopg.Connection):
    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
        try:
            conn = super().connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            _connect_failures[conninfo] = (time.monotonic(), exc)
            raise
        _connect_failures.pop(conninfo, None)  # a later timeout is not this old failure's
        return conn


def _recent_failure(url: str) -> str | None:
    """Why the pool's last connection attempt failed, if that was recent (safe to show an admin)."""
    at, exc = _connect_failures.get(url, (0.0, None))
    if exc is None or time.monotonic() - at > FAILURE_RECENT_S:
        return None
    return safe_message(exc)


def application_name(role: str) -> str:
    return f"{APP_NAME}:{role}"


def connect_kwargs(role: str, settings: Settings) -> dict:
    """libpq options for a pool's connections."""
    options = [
        f"-c statement_timeout={settings.statement_timeout_ms}",
        # JIT compiles the per-day queries for ~100 ms and saves nothing at our sizes.
        "-c jit=off",
    ]
    if role == READER:
        options += [
            "-c default_transaction_read_only=on",
            f"-c idle_in_transaction_session_timeout={max(settings.statement_timeout_ms * 2, 10000)}",
        ]
    return {
        "application_name": application_name(role),
        "options": " ".join(options),
        "connect_timeout": max(2, round(settings.pool_timeout_s)),
        "autocommit": role == READER,
    }


def pool_url(role: str, settings: Settings) -> str:
    """The reader pool reads from READ_REPLICA_URL when it is set."""
    primary = settings.require_url()
    return (settings.read_replica_url or primary) if role == READER else primary


def _configure(conn: psycopg.Connection) -> None:
    register(conn)  # our own sessions are known by pid (db.backends)


def _configure_reader(conn: psycopg.Connection) -> None:
    _configure(conn)
    try:
        statements.plan_on_connect(conn)  # a first page's planning, paid once per connection
    except Exception:
        # Only a saving: the pool must not refuse every connection over it.
        log.warning("planning on connect failed; the pages plan for themselves", exc_info=True)


def get_pool(role: str = READER, settings: Settings | None = None) -> ConnectionPool:
    settings = settings or get_settings()
    url = pool_url(role, settings)
    key = (role, url)
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ConnectionPool(
                url,
                # TLS verification; with DB_IAM_AUTH=1 a callable giving each new connection a fresh token.
                kwargs=rds.kwargs_factory(url, connect_kwargs(role, settings)),
                min_size=1,
                max_size=settings.pool_max_size if role == READER else max(2, settings.pool_max_size // 2),
                timeout=settings.pool_timeout_s,
                check=ConnectionPool.check_connection,
                configure=_configure_reader if role == READER else _configure,
                reconnect_timeout=10,
                connection_class=_RecordingConnection,
                name=application_name(role),
                open=False,
            )
            # Don't wait for the first connection: a down database must fail
            # within the pool timeout of the request, not at open.
            pool.open(wait=False)
            _pools[key] = pool
    return pool


@contextmanager
def connection(role: str = READER) -> Iterator[psycopg.Connection]:
    """A pooled connection; connection failures become DatabaseUnavailable.
    The writer pool refuses production unless writes there are allowed: a
    backstop under every writing caller's own, more specific check."""
    if role == WRITER:
        guard.require_writable("write to the database")
    pool = get_pool(role)
    try:
        with pool.connection() as conn:
            yield conn
    except PoolTimeout as exc:
        # A pool with no connections may have given up reconnecting; the next
        # request starts on a new one, so the dashboard recovers when the database does.
        stats = pool.get_stats()
        if stats.get("pool_size", 0) == 0:
            _discard(pool)
        elif stats["pool_size"] >= pool.max_size:
            raise DatabaseUnavailable(
                f"All {pool.max_size} database connections stayed busy for {pool.timeout:g} s; try again in a moment.",
                public=True,
            ) from exc
        why = _recent_failure(pool.conninfo) if isinstance(pool.conninfo, str) else None
        waited = f"No connection to the database within {pool.timeout:g} s."
        raise DatabaseUnavailable(waited, public=True, detail=why) from exc
    except psycopg.OperationalError as exc:
        if not is_connection_error(exc):
            raise
        _discard(pool)
        raise DatabaseUnavailable(safe_message(exc)) from exc


@contextmanager
def dedicated(purpose: str, role: str = READER) -> Iterator[psycopg.Connection]:
    """A connection of its own, outside the pools, for work that holds one for
    minutes (a raw extract) and must not starve the pages: the settings of the
    `role` pool's connections, named `cruddur-dashboard:<purpose>`, closed on
    exit. A refused connection becomes DatabaseUnavailable; a writer asks the
    production guard first, as the writer pool does."""
    if role == WRITER:
        guard.require_writable("write to the database")
    settings = get_settings()
    url = pool_url(role, settings)
    kwargs = rds.kwargs_factory(url, {**connect_kwargs(role, settings), "application_name": application_name(purpose)})
    try:
        conn = register(psycopg.connect(url, **(kwargs() if callable(kwargs) else kwargs)))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(safe_message(exc)) from exc
    with conn:
        yield conn


def _discard(pool: ConnectionPool) -> None:
    with _lock:
        for key, value in list(_pools.items()):
            if value is pool:
                del _pools[key]
    threading.Thread(target=pool.close, kwargs={"timeout": 1}, daemon=True).start()


def pool_stats() -> dict[str, dict]:
    return {pool.name: pool.get_stats() for pool in list(_pools.values())}


def close_all() -> None:
    """Close every pool (tests, shutdown, or after a settings change)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close(timeout=2)


atexit.register(close_all)
