"""Cognito post-confirmation trigger: add the newly confirmed user to Cruddur's `users`.

Deployed on its own (handler `lambda_function.lambda_handler`, with psycopg from
requirements.txt and the .sql files beside it). Settings: CONNECTION_URL (for RDS
include `sslmode=verify-full&sslrootcert=global-bundle.pem` and ship the bundle);
DB_IAM_AUTH=1 logs in with an IAM token made from the function's role (boto3 is
part of the Lambda runtime) instead of a password.

- Values go to PostgreSQL only as parameters; the SQL is in the .sql files here.
- Idempotent on cognito_user_id: production has no unique constraint, so a
  transaction-scoped advisory lock on the id plus INSERT ... WHERE NOT EXISTS
  makes a retried or overlapping trigger insert the user once.
- Failures raise, so Cognito reports them and the logs show them; the event
  is returned on success, as Cognito requires. A malformed event raises
  InvalidEvent; no error raised here quotes CONNECTION_URL or chains an error
  that does (libpq's messages can hold pieces of a mistyped password).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
SIGN_UP = "PostConfirmation_ConfirmSignUp"
APP_NAME = "cruddur-cognito-post-confirmation"
# Cognito attribute -> users column.
ATTRIBUTES = {"name": "display_name", "preferred_username": "handle", "email": "email", "sub": "cognito_user_id"}

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


def _sql(name: str) -> str:
    lines = (HERE / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("--")).strip()


LOCK_USER = _sql("lock_user")
INSERT_USER = _sql("insert_user")


class InvalidEvent(ValueError):
    """The event lacks what a sign-up needs; nothing was written. The message
    names what is wrong, never a value (they are personal data)."""


def _kind(value) -> str:
    """A JSON type name for messages."""
    if value is None:
        return "null"
    for kind, name in (
        (bool, "a boolean"),
        (str, "a string"),
        (int, "a number"),
        (float, "a number"),
        (dict, "an object"),
        (list, "a list"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _object(value, where: str) -> dict:
    if not isinstance(value, dict):
        what = "is missing" if value is None else f"must be an object, not {_kind(value)}"
        raise InvalidEvent(f"Cannot add the user: {where} {what}")
    return value


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        return False
    return True


def user_from_event(event: dict) -> dict[str, str]:
    """The users row for a post-confirmation event, values exactly as Cognito sent them."""
    request = _object(_object(event, "the event").get("request"), "request")
    attributes = _object(request.get("userAttributes"), "request.userAttributes")
    user, problems = {}, []
    for attribute, column in ATTRIBUTES.items():
        value = attributes.get(attribute)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{attribute} is missing")
        elif not isinstance(value, str):
            problems.append(f"{attribute} must be a string, not {_kind(value)}")
        elif not _utf8(value):
            problems.append(f"{attribute} is not valid Unicode (an unpaired surrogate)")
        elif "\x00" in value:
            problems.append(f"{attribute} contains a NUL character")
        else:
            user[column] = value
    if problems:
        raise InvalidEvent("Cannot add the user: " + "; ".join(problems))
    return user


def save_user(conn: psycopg.Connection, user: dict[str, str]) -> bool:
    """Insert `user` unless its cognito_user_id is present; True if a row was added."""
    with conn.transaction():
        conn.execute(LOCK_USER, {"cognito_user_id": user["cognito_user_id"]})
        return conn.execute(INSERT_USER, user).fetchone() is not None


_conn: psycopg.Connection | None = None


def _parse(url: str) -> dict:
    """libpq's reading of CONNECTION_URL. Its parse errors quote the string, so
    they are replaced, and raised outside `except` so nothing is chained."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except Exception:
        params = None
    if params is None:
        raise RuntimeError("CONNECTION_URL cannot be parsed (check its quoting and percent-escapes)") from None
    return params


# libpq/psycopg connection messages quote hosts, ports and option values, which a
# mistyped URL fills with pieces of its password; so only a phrase from this list
# (and the SQLSTATE) is reported, never the message itself.
_FAILURES = [
    (r"password authentication failed", "password authentication failed"),
    (r"PAM authentication failed", "IAM (PAM) authentication failed"),
    (r"no pg_hba\.conf entry", "the server's pg_hba.conf refuses this connection"),
    (r"connection refused", "connection refused (is the server up, and the host and port right?)"),
    (r"timeout expired|timed out", "timed out"),
    (
        r"resolve host|translate host name|name or service not known|nodename nor servname",
        "the host name cannot be resolved",
    ),
    (r"network is unreachable|no route to host", "the network cannot reach the host"),
    (r"invalid .*value|invalid port|invalid connection option", "an option in CONNECTION_URL has an invalid value"),
    (r"ssl|certificate", "SSL/TLS failed (check sslmode and sslrootcert)"),
    (r"too many (connections|clients)", "the server has too many connections"),
    (r"starting up|shutting down|in recovery", "the server is starting up or shutting down"),
    (r"database .* does not exist", "the database does not exist"),
    (r"role .* does not exist", "the user (role) does not exist"),
]


def _failure(exc: BaseException) -> str:
    text = str(exc)
    reason = next(
        (why for pattern, why in _FAILURES if re.search(pattern, text, re.I)),
        f"connection failed ({type(exc).__name__})",
    )
    code = getattr(exc, "sqlstate", None)
    return f"{reason} [SQLSTATE {code}]" if isinstance(code, str) and re.fullmatch(r"[0-9A-Z]{5}", code) else reason


def _connection() -> psycopg.Connection:
    """One connection reused by warm invocations; reopened when it broke."""
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        url = os.environ.get("CONNECTION_URL")
        if not url:
            raise RuntimeError("CONNECTION_URL is not set for the post-confirmation Lambda")
        _parse(url)  # first: a malformed string must fail here, in words of our own
        extra = {"password": _iam_token(url)} if os.environ.get("DB_IAM_AUTH") == "1" else {}
        failure = None
        try:
            _conn = psycopg.connect(url, connect_timeout=5, application_name=APP_NAME, **extra)
        except Exception as exc:
            failure = _failure(exc)
        if failure is not None:  # raised here, not in `except`: no chained original
            raise psycopg.OperationalError(f"Cannot connect to the database in CONNECTION_URL: {failure}")
    return _conn


def _iam_token(url: str) -> str:
    """A fresh RDS IAM token (valid 15 minutes) for the URL's host, port and user."""
    import boto3

    p = _parse(url)
    if not p.get("host") or not p.get("user"):
        raise RuntimeError("CONNECTION_URL needs a host and a user for DB_IAM_AUTH=1")
    try:
        port = int(p.get("port") or 5432)
    except ValueError:
        port = None
    if port is None:
        raise RuntimeError("CONNECTION_URL has an invalid port") from None
    return (
        boto3.session.Session()
        .client("rds")
        .generate_db_auth_token(DBHostname=p["host"], Port=port, DBUsername=p["user"])
    )


def lambda_handler(event: dict, context=None) -> dict:
    trigger = _object(event, "the event").get("triggerSource")
    if not isinstance(trigger, str):
        what = "is missing" if trigger is None else f"must be a string, not {_kind(trigger)}"
        raise InvalidEvent(f"Cannot add the user: triggerSource {what}")
    if trigger != SIGN_UP:  # e.g. PostConfirmation_ConfirmForgotPassword: the user already exists
        logger.info(json.dumps({"trigger": trigger, "action": "ignored"}))
        return event
    user = user_from_event(event)
    try:
        inserted = save_user(_connection(), user)
    except psycopg.OperationalError:
        _close()  # the next (retried) invocation starts with a new connection
        raise
    logger.info(
        json.dumps(
            {
                "trigger": trigger,
                "cognito_user_id": user["cognito_user_id"],
                "action": "inserted" if inserted else "already present",
            }
        )
    )
    return event


def _close() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        finally:
            _conn = None
