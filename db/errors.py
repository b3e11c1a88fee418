"""Errors whose messages are safe to show on a page or print in a terminal."""

from __future__ import annotations

import re
from urllib.parse import quote

import psycopg

from db import conninfo
from db.guard import WriteRefused
from db.settings import ConfigError, setting


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached right now; the message is safe to show to an
    admin. `public`: our own wording, which names no server, fit for any visitor."""

    def __init__(self, message: str, *, public: bool = False, detail: str | None = None) -> None:
        """`detail`: why, for admins and terminals only (libpq's text may name the server)."""
        super().__init__(f"{message} {detail}" if detail else message)
        self.public = public
        self.public_text = message


class SchemaBehind(RuntimeError):
    """The database lacks a migration this code writes through; the message names the fix."""


# What a statement meets on a database our migrations have not reached (a table or a
# column a later one adds): the same answer comes from the live statements instead.
SCHEMA_BEHIND = (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)
_PENDING_HINT = (
    " (if this database is behind this code, `python -m db status` lists the migrations it lacks"
    " and `python -m db migrate` applies them)"
)

FOR_ADMINS = "Details are shown to signed-in admins and in the server log."


def public_detail(exc: BaseException) -> str:
    """What a visitor who is not signed in may read of a failure: our own wording that
    names no server, else nothing of it (libpq's text and configuration errors can name
    the host, a file path or a setting's value)."""
    if isinstance(exc, DatabaseUnavailable) and exc.public:
        return exc.public_text
    return FOR_ADMINS


# A URL up to the next whitespace or quote; a key=value DSN is caught by its password=.
_URL = re.compile(r"postgres(?:ql)?://[^\s'\"]+")
# An RDS IAM token is a presigned URL: anything carrying SigV4 query parameters.
_IAM_TOKEN = re.compile(r"\S*X-Amz-(?:Credential|Signature|Security-Token)\S*")
CONNECTION_SETTINGS = ("CONNECTION_URL", "PROD_CONNECTION_URL", "READ_REPLICA_URL", "TEST_DATABASE_URL")


def known_secrets() -> set[str]:
    """The passwords of every configured connection (parsed as libpq reads them), PGPASSWORD,
    the admin password and the Momento API key, in the forms they may appear in: as is and
    percent-encoded."""
    found: set[str] = set()
    for name in CONNECTION_SETTINGS:
        found |= conninfo.secrets_in(setting(name))
    for name in ("PGPASSWORD", "ADMIN_PASSWORD", "MOMENTO_API_KEY"):
        if setting(name):
            found.add(str(setting(name)))
    return {form for s in found if len(s) >= 3 for form in (s, quote(s, safe=""), quote(s))}


def scrub(text: str) -> str:
    """Remove anything secret from a message: a connection string is replaced by its
    description (no password), `password=` values are masked, and the configured
    secrets never appear verbatim."""
    for secret in sorted(known_secrets(), key=len, reverse=True):  # first, while each is whole
        text = text.replace(secret, "***")
    text = _URL.sub(lambda m: conninfo.describe(m.group(0)), text)
    text = re.sub(r"((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", r"\1***", text, flags=re.I)
    return _IAM_TOKEN.sub("***", text)


def safe_message(exc: BaseException) -> str:
    """One line describing a database error for a person, without secrets."""
    if isinstance(exc, (DatabaseUnavailable, SchemaBehind)):
        return str(exc)
    if isinstance(exc, (ConfigError, WriteRefused)):  # our own wording, as they are; no class name before it
        return scrub(str(exc))
    if isinstance(exc, (*SCHEMA_BEHIND, psycopg.errors.UndefinedFunction)):
        return "Database error: " + scrub(_first_line(exc)) + _PENDING_HINT
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return "The query took longer than the statement timeout and was cancelled."
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return "This connection is read-only."
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return "The database user lacks a privilege this needs: " + scrub(_first_line(exc))
    if isinstance(exc, psycopg.Error) and (exc.sqlstate or "").startswith("40"):  # a deadlock, a serialization failure
        return (
            "A conflict with another session stopped this ("
            + scrub(_first_line(exc, lines=1))
            + "): the database undid the step it was in; try again."
        )
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return "Another session holds a lock this needs: " + scrub(_first_line(exc, lines=1))
    if isinstance(exc, psycopg.OperationalError) and is_connection_error(exc):
        return "Cannot reach the database: " + scrub(_first_line(exc))
    if isinstance(exc, psycopg.Error):
        return "Database error: " + scrub(_first_line(exc))
    return scrub(f"{type(exc).__name__}: {_first_line(exc)}")


def is_connection_error(exc: psycopg.Error) -> bool:
    """Lost or refused connections (no SQLSTATE, class 08, or the server shutting
    down), as opposed to errors of a statement such as a timeout or a deadlock."""
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _first_line(exc: BaseException, lines: int | None = None) -> str:
    """The error text on one line (its first `lines` lines), at most 300 characters."""
    text = " ".join([line.strip() for line in str(exc).splitlines() if line.strip()][:lines])
    text = text or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
