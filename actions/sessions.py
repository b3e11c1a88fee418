"""Ending a session safely: cancel or terminate one confirmed session, reset pg_stat_statements,
and the audit log.

Cancel and terminate go through the writer pool, are refused for the
dashboard's own sessions (by pid, here and again in the SQL), are refused
against production unless ALLOW_PROD_WRITES=1 (db.guard), and every attempt
lands in the audit log (the `dashboard_audit_log` table, else a JSON-lines
file).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from actions.writing import writing
from db import backends
from db.errors import DatabaseUnavailable, safe_message
from db.guard import WriteRefused, require_writable
from db.logs import logger
from db.settings import ConfigError, get_settings
from db.statements import execute
from queries.sessions import SessionChoice

log = logger("cruddur.sessions")
TERMINATE_WAIT_MS = 2000


@dataclass(frozen=True)
class Outcome:
    action: str  # cancel | terminate
    pid: int
    ok: bool
    outcome: str  # done | refused | failed | gone
    message: str
    audit: str = field(default="", compare=False)  # where the audit entry went


ACTIONS = {"cancel": "sessions.do_cancel", "terminate": "sessions.do_terminate"}


def privilege_explanation(action: str, target: SessionChoice, db_user: str | None, exc: BaseException) -> str:
    return (
        f"PostgreSQL refused to {action} session {target.pid} (user {target.user or 'unknown'}): "
        f"{safe_message(exc)} The dashboard connects as `{db_user or 'its database user'}`, which may end only "
        "sessions of roles it is a member of, or any non-superuser's session if it has `pg_signal_backend` "
        f'(`GRANT pg_signal_backend TO "{db_user or "dashboard_user"}";`). A superuser\'s session can only be '
        "ended by a superuser: on RDS, `rds_superuser` is not one, so it cannot end sessions of `rdsadmin` or "
        "other superusers."
    )


def signal_session(action: str, target: SessionChoice, *, actor: str, wait_ms: int = TERMINATE_WAIT_MS) -> Outcome:
    """Cancel the running query of, or terminate, one confirmed session; always audited."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: use cancel or terminate")
    if not actor:
        raise PermissionError("cancel and terminate need a signed-in admin")
    verb = "cancel the query of" if action == "cancel" else "terminate"
    outcome: Outcome
    if target.is_dashboard:
        outcome = Outcome(
            action,
            target.pid,
            False,
            "refused",
            f"Refused: session {target.pid} is the dashboard's own ({target.application}).",
        )
        return _audited(outcome, target, actor)
    try:
        require_writable(f"{verb} session {target.pid}")
    except WriteRefused as exc:
        return _audited(Outcome(action, target.pid, False, "refused", str(exc)), target, actor)
    params: dict[str, Any] = {"pid": target.pid, "backend_start": target.backend_start}
    if action == "terminate":
        params["wait_ms"] = wait_ms
    db_user = None
    try:
        with writing() as conn:
            db_user = conn.info.user
            rows = execute(conn, ACTIONS[action], allow="admin", **params, own_pids=backends.own_pids()).fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        outcome = Outcome(action, target.pid, False, "failed", privilege_explanation(action, target, db_user, exc))
    except (psycopg.Error, DatabaseUnavailable, ConfigError) as exc:
        outcome = Outcome(
            action, target.pid, False, "failed", f"Could not {verb} session {target.pid}: {safe_message(exc)}"
        )
    else:
        if not rows:
            outcome = Outcome(
                action,
                target.pid,
                False,
                "gone",
                f"Nothing done: session {target.pid} has ended, or its pid now belongs to a newer "
                "session than the one you confirmed.",
            )
        elif rows[0][1]:
            done = "Cancelled the running query of" if action == "cancel" else "Terminated"
            outcome = Outcome(action, target.pid, True, "done", f"{done} session {target.pid}.")
        else:
            outcome = Outcome(
                action,
                target.pid,
                False,
                "failed",
                f"PostgreSQL could not {verb} session {target.pid}"
                + (f" within {wait_ms} ms." if action == "terminate" else " (it may have just ended)."),
            )
    return _audited(outcome, target, actor)


def cancel(target: SessionChoice, *, actor: str) -> Outcome:
    return signal_session("cancel", target, actor=actor)


def terminate(target: SessionChoice, *, actor: str, wait_ms: int = TERMINATE_WAIT_MS) -> Outcome:
    return signal_session("terminate", target, actor=actor, wait_ms=wait_ms)


def reset_statements(*, actor: str, schema: str | None) -> Outcome:
    """pg_stat_statements_reset(): every statement's counters start from zero. A signed-in admin's
    confirmed action, refused on production unless ALLOW_PROD_WRITES=1, always audited."""
    action = "reset pg_stat_statements"
    if not actor:
        raise PermissionError("resetting statement statistics needs a signed-in admin")
    entry: dict[str, Any] = {"pid": None, "target_user": None, "target_application": None, "query": None}
    if not schema:
        outcome = Outcome(action, 0, False, "refused", "pg_stat_statements is not installed in this database.")
        return _audited_entry(outcome, entry, actor)
    try:
        require_writable("reset pg_stat_statements")
    except WriteRefused as exc:
        return _audited_entry(Outcome(action, 0, False, "refused", str(exc)), entry, actor)
    db_user = None
    try:
        with writing() as conn:
            db_user = conn.info.user
            execute(conn, "database.do_reset_statements", allow="admin", identifiers={"schema": schema})
    except psycopg.errors.InsufficientPrivilege as exc:
        message = (
            f"PostgreSQL refused the reset: {safe_message(exc)} By default only superusers may reset; a superuser "
            f"(on RDS, the master user) can allow it with `GRANT EXECUTE ON FUNCTION {schema}.pg_stat_statements_reset "
            f'TO "{db_user or "dashboard_user"}";`.'
        )
        outcome = Outcome(action, 0, False, "failed", message)
    except (psycopg.Error, DatabaseUnavailable, ConfigError) as exc:
        outcome = Outcome(action, 0, False, "failed", f"Could not reset pg_stat_statements: {safe_message(exc)}")
    else:
        outcome = Outcome(action, 0, True, "done", "pg_stat_statements reset: counting starts again from now.")
    return _audited_entry(outcome, entry, actor)


# ---------------------------------------------------------------- audit log

_file_lock = threading.Lock()


def audit_file() -> Path:
    return get_settings().audit_log_file


def _audited(outcome: Outcome, target: SessionChoice, actor: str) -> Outcome:
    entry = {
        "pid": target.pid,
        "target_user": target.user,
        "target_application": target.application,
        "target_database": target.database,
        "query": target.query,
    }
    return _audited_entry(outcome, entry, actor)


def _audited_entry(outcome: Outcome, target: dict[str, Any], actor: str) -> Outcome:
    entry = {
        "actor": actor,
        "action": outcome.action,
        "target_database": None,
        **target,
        "outcome": outcome.outcome,
        "detail": outcome.message,
    }
    where = write_audit(entry)
    return Outcome(**{**asdict(outcome), "audit": where})


def write_audit(entry: dict[str, Any]) -> str:
    """Into dashboard_audit_log when it exists and we may write; otherwise (no table, read-only,
    production writes refused, database down) into the JSON-lines file. Returns where it went."""
    try:
        require_writable("write the audit log")
        with writing() as conn:
            execute(conn, "sessions.audit_insert", allow="write", **entry)
        return "dashboard_audit_log"
    except WriteRefused:
        pass  # production without ALLOW_PROD_WRITES: the file is the audit log, by design
    except (psycopg.Error, DatabaseUnavailable):
        log.warning("audit table not written; the entry goes to %s", audit_file(), exc_info=True)
    path = audit_file()
    line = json.dumps({"at": datetime.now(UTC).isoformat(), **entry}, ensure_ascii=False, default=str)
    with _file_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    return str(path)


def recent_audit(limit: int = 20) -> pd.DataFrame:
    """The latest audit entries: the table if readable, else the file."""
    from queries.reads import fetch

    try:
        frame = fetch("sessions.get_audit_log", limit=limit)
        frame.attrs = {}
        return frame
    except (psycopg.Error, DatabaseUnavailable):
        log.info("audit table not readable; showing %s", audit_file(), exc_info=True)
    try:
        lines = audit_file().read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    records = []
    for line in lines[-limit:]:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a torn or edited line: skip it, keep the rest
            if line.strip():
                log.warning("skipped an unreadable line of %s", audit_file())
    return pd.DataFrame(list(reversed(records)))
