"""Server-level chores behind `python -m db`: create, drop, terminate sessions, roles.

A target database is named by parsing its URL (libpq's own parser); creating
and dropping connect to the `postgres` maintenance database of the same server
by overriding `dbname` at connect time, so no URL is ever edited as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from db import conninfo, guard, rds
from db.settings import ConfigError, Settings
from db.statements import execute, scalar

MAINTENANCE_DB = "postgres"
PROTECTED = frozenset({"postgres", "template0", "template1", "rdsadmin"})
READER_ROLE = "dashboard_reader"
WRITER_ROLE = "dashboard_writer"
METRICS_WRITER_ROLE = "dashboard_metrics_writer"  # the DynamoDB stream consumer: Lambda, `python -m metrics`
MESSAGE_TABLES = "message_events, message_groups, message_counts"
APP = "cruddur-dashboard:cli"


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    dbname: str
    is_prod: bool
    setting_name: str
    why: str = ""  # why it is, or is not, production (db.guard)
    production_ok: bool = False  # production, chosen deliberately (`--prod`, the name typed back)

    @property
    def shown(self) -> str:
        """The connection without its secrets: the only form ever printed."""
        return conninfo.describe(self.url)


def target(settings: Settings) -> DatabaseTarget:
    """The database a command acts on; whether it is production is db.guard's answer
    (APP_ENV=prod, or the server PROD_CONNECTION_URL names under any spelling)."""
    url = settings.require_url()
    dbname = conninfo.parse(url, settings.url_setting_name).get("dbname")
    if not dbname:
        raise ConfigError(f"{settings.url_setting_name} names no database: add /DBNAME to the URL.")
    verdict = guard.production(url, settings)
    return DatabaseTarget(
        url=url, dbname=dbname, is_prod=verdict.is_prod, setting_name=settings.url_setting_name, why=verdict.reason
    )


def maintenance(t: DatabaseTarget) -> psycopg.Connection:
    """An autocommit connection to the same server's `postgres` database."""
    return rds.connect(t.url, dbname=MAINTENANCE_DB, autocommit=True, application_name=APP)


def connect(t: DatabaseTarget, **kwargs: Any) -> psycopg.Connection:
    return rds.connect(t.url, application_name=APP, **kwargs)


def database_exists(t: DatabaseTarget) -> bool:
    with maintenance(t) as conn:
        return scalar(execute(conn, "admin.database_exists", name=t.dbname))


def _require_deliberate(t: DatabaseTarget, action: str) -> None:
    """Server chores on production only for a target the command line confirmed."""
    if t.is_prod and not t.production_ok:
        raise guard.WriteRefused(
            f"Refused to {action}: the database is production ({t.why}); use python -m db --prod. Nothing was changed."
        )


def create_database(t: DatabaseTarget) -> bool:
    """Create the target database; False if it already existed."""
    _require_deliberate(t, "create the database")
    with maintenance(t) as conn:
        if scalar(execute(conn, "admin.database_exists", name=t.dbname)):
            return False
        execute(conn, "admin.create_database", allow="admin", identifiers={"name": t.dbname})
    return True


def drop_database(t: DatabaseTarget) -> bool:
    """Drop the target database, even with sessions open; False if it did not exist."""
    _require_deliberate(t, "drop the database")
    if t.dbname in PROTECTED:
        raise ConfigError(f"Refused to drop {t.dbname!r}: it is a system database.")
    from db import pool

    pool.close_all()  # our own pooled sessions would otherwise hold it open
    with maintenance(t) as conn:
        if not scalar(execute(conn, "admin.database_exists", name=t.dbname)):
            return False
        if conn.info.server_version >= 130000:
            execute(conn, "admin.drop_database_force", allow="admin", identifiers={"name": t.dbname})
        else:
            execute(conn, "admin.terminate_database_sessions", allow="admin", name=t.dbname)
            execute(conn, "admin.drop_database", allow="admin", identifiers={"name": t.dbname})
    return True


def terminate_others(t: DatabaseTarget) -> int:
    """Terminate every other client session of the target database; returns how many."""
    _require_deliberate(t, "terminate other sessions")
    from db import pool

    pool.close_all()
    with connect(t, autocommit=True) as conn:
        return scalar(execute(conn, "admin.terminate_database_sessions", allow="admin", name=t.dbname))


def ensure_roles(t: DatabaseTarget) -> list[str]:
    """Create dashboard_reader and dashboard_writer if missing and (re)grant their
    privileges; where migration 0005's message tables exist, also let the reader
    read them and create dashboard_metrics_writer, the stream consumer's role
    (SELECT, INSERT, UPDATE on those three tables only). Idempotent. Returns what
    was done, one line each."""
    _require_deliberate(t, "create roles")
    done = []
    with connect(t) as conn, conn.transaction():

        def run(query: str, **identifiers: str) -> None:
            execute(conn, query, allow="admin", identifiers=identifiers)

        def ensure(role: str) -> None:
            if scalar(execute(conn, "roles.exists", name=role)):
                done.append(f"role {role} exists")
            else:
                run("roles.create", name=role)
                done.append(f"role {role} created")
            run("roles.grant_connect", database=t.dbname, role=role)
            run("roles.grant_schema_usage", role=role)

        for role in (READER_ROLE, WRITER_ROLE):
            ensure(role)
            # The writer reads too: its inserts look authors up by handle and skip existing users.
            run("roles.grant_select", role=role)
        # pg_read_all_stats is what the Database pages read (every session, statement, replica): pg_monitor
        # would add pg_read_all_settings and pg_stat_scan_tables, which they do not need.
        run("roles.grant_membership", group="pg_read_all_stats", role=READER_ROLE)
        run("roles.revoke_membership", group="pg_monitor", role=READER_ROLE)
        run("roles.grant_insert", role=WRITER_ROLE)
        rollup = bool(scalar(execute(conn, "roles.rollup_tables_exist")))
        if rollup:
            run("roles.grant_select_rollup", role=READER_ROLE)
            run("roles.grant_maintain_rollup", role=WRITER_ROLE)
        engagement = bool(scalar(execute(conn, "roles.engagement_tables_exist")))
        if engagement:
            run("roles.grant_select_engagement", role=READER_ROLE)
            run("roles.grant_maintain_engagement", role=WRITER_ROLE)
        messages = bool(scalar(execute(conn, "roles.message_tables_exist")))
        if messages:
            ensure(METRICS_WRITER_ROLE)
            run("roles.grant_select_messages", role=READER_ROLE)
            # Its one statement inserts events and upserts groups and counts (ON CONFLICT ... DO UPDATE, RETURNING).
            run("roles.grant_record_messages", role=METRICS_WRITER_ROLE)
    done.append(f"{READER_ROLE}: CONNECT, SELECT on users and activities, member of pg_read_all_stats")
    done.append(f"{WRITER_ROLE}: CONNECT, SELECT and INSERT on users and activities")
    if rollup:
        done.append(f"{READER_ROLE}: SELECT on the growth rollup")
        done.append(f"{WRITER_ROLE}: SELECT, INSERT, UPDATE and DELETE on the growth rollup (its refresh)")
    if engagement:
        done.append(f"{READER_ROLE}: SELECT on the engagement state")
        done.append(f"{WRITER_ROLE}: SELECT, INSERT, UPDATE and DELETE on the engagement state (its refresh)")
    if messages:
        done.append(f"{READER_ROLE}: SELECT on {MESSAGE_TABLES}")
        done.append(f"{METRICS_WRITER_ROLE}: CONNECT, SELECT, INSERT and UPDATE on {MESSAGE_TABLES} only")
    else:
        done.append(
            f"message tables absent: run migrations first (python -m db migrate), then roles again "
            f"for {METRICS_WRITER_ROLE} and the reader's SELECT on them"
        )
    return done
