"""Errors whose messages are safe to show on a page or print in a terminal."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import psycopg

from db.settings import mask_url, setting


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached right now; the message is safe to show."""


_URL = re.compile(r"postgres(?:ql)?://\S+")
# An RDS IAM token is a presigned URL: anything carrying SigV4 query parameters.
_IAM_TOKEN = re.compile(r"\S*X-Amz-(?:Credential|Signature|Security-Token)\S*")


def scrub(text: str) -> str:
    """Remove anything secret from a message: URLs lose their password, and
    the configured passwords never appear verbatim."""
    text = _URL.sub(lambda m: mask_url(m.group(0)), text)
    text = re.sub(r"(password\s*=\s*)\S+", r"\1***", text, flags=re.I)
    text = _IAM_TOKEN.sub("***", text)
    for name in ("CONNECTION_URL", "PROD_CONNECTION_URL", "READ_REPLICA_URL"):
        url = setting(name)
        if url and "://" in url:
            password = urlsplit(url).password
            if password and len(password) >= 3:
                text = text.replace(password, "***")
    return text


def safe_message(exc: BaseException) -> str:
    """One line describing a database error for a person, without secrets."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return "The query took longer than the statement timeout and was cancelled."
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return "This connection is read-only."
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return "The database user lacks a privilege this needs: " + scrub(_first_line(exc))
    if isinstance(exc, psycopg.OperationalError):
        return "Cannot reach the database: " + scrub(_first_line(exc))
    if isinstance(exc, psycopg.Error):
        return "Database error: " + scrub(_first_line(exc))
    return scrub(f"{type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    """The error text on one line, at most 300 characters."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
