"""One writer transaction, then invalidation of the cached reads it changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from db import pool
from queries import reads


@contextmanager
def writing(*tables: str) -> Iterator[psycopg.Connection]:
    """A writer-pool connection in one transaction (the pool asks the production
    guard first); after it commits, cached results that read `tables` are
    invalidated so the next render is current."""
    with pool.connection(pool.WRITER) as conn, conn.transaction():
        yield conn
    reads.invalidate(tables)
