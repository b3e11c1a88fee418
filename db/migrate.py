"""Ordered migrations: `db/migrations/NNNN_name.sql`, each applied in one transaction.

Versions are the integer prefix, applied in numeric order, recorded in
`dashboard_migrations` (never the app's `schema_information`). An advisory lock
keeps two runners from racing; a failing migration rolls back whole.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from db import guard, rds
from db.statements import execute, scalar

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in directory.glob("*.sql"):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version number: {versions}")
    return found


def applied(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    """{version: (name, checksum)} of applied migrations; empty if the ledger is absent."""
    if not scalar(execute(conn, "migrations.ledger_exists")):
        return {}
    return {row[0]: (row[1], row[2]) for row in execute(conn, "migrations.applied")}


def pending(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    done = applied(conn)
    return [m for m in discover(directory) if m.version not in done]


def migrate(
    url: str, directory: Path = MIGRATIONS_DIR, log: Callable[[str], None] = print, *, production_ok: bool = False
) -> list[Migration]:
    """Apply pending migrations to the database at `url`; returns those applied.
    Production (db.guard) only with `production_ok`: `python -m db --prod migrate`,
    or MIGRATE_ON_START=1 together with ALLOW_PROD_WRITES=1."""
    verdict = guard.production(url)
    if verdict.is_prod and not production_ok:
        raise guard.WriteRefused(
            f"Refused to migrate: the database is production ({verdict.reason}); use python -m db --prod migrate, "
            "or ALLOW_PROD_WRITES=1 with MIGRATE_ON_START=1. Nothing was changed."
        )
    done: list[Migration] = []
    with rds.connect(url, application_name="cruddur-dashboard:migrate") as conn:
        for migration in discover(directory):
            with conn.transaction():
                execute(conn, "migrations.lock", allow="admin")
                execute(conn, "migrations.create_table", allow="admin")
                recorded = applied(conn).get(migration.version)
                if recorded:
                    if recorded[1] != migration.checksum:
                        log(f"warning: migration {migration.path.name} changed after it was applied")
                    continue
                try:
                    conn.execute(migration.text)
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"{migration.path.name} failed and was rolled back: {str(exc).strip()}"
                    ) from exc
                execute(
                    conn,
                    "migrations.record",
                    allow="write",
                    version=migration.version,
                    name=migration.name,
                    checksum=migration.checksum,
                )
            log(f"applied migration {migration.path.name}")
            done.append(migration)
    return done
