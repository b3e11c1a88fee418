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
  is returned on success, as Cognito requires.
"""
from __future__ import annotations

import json
import logging
import os
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
    """The event lacks what a sign-up needs; nothing was written."""


def user_from_event(event: dict) -> dict[str, str]:
    """The users row for a post-confirmation event, values exactly as Cognito sent them."""
    attributes = ((event or {}).get("request") or {}).get("userAttributes") or {}
    user, problems = {}, []
    for attribute, column in ATTRIBUTES.items():
        value = attributes.get(attribute)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{attribute} is missing")
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


def _connection() -> psycopg.Connection:
    """One connection reused by warm invocations; reopened when it broke."""
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        url = os.environ.get("CONNECTION_URL")
        if not url:
            raise RuntimeError("CONNECTION_URL is not set for the post-confirmation Lambda")
        extra = {"password": _iam_token(url)} if os.environ.get("DB_IAM_AUTH") == "1" else {}
        _conn = psycopg.connect(url, connect_timeout=5, application_name=APP_NAME, **extra)
    return _conn


def _iam_token(url: str) -> str:
    """A fresh RDS IAM token (valid 15 minutes) for the URL's host, port and user."""
    import boto3

    p = psycopg.conninfo.conninfo_to_dict(url)
    return boto3.session.Session().client("rds").generate_db_auth_token(
        DBHostname=p["host"], Port=int(p.get("port") or 5432), DBUsername=p["user"])


def lambda_handler(event: dict, context=None) -> dict:
    trigger = (event or {}).get("triggerSource")
    if trigger != SIGN_UP:  # e.g. PostConfirmation_ConfirmForgotPassword: the user already exists
        logger.info(json.dumps({"trigger": trigger, "action": "ignored"}))
        return event
    user = user_from_event(event)
    try:
        inserted = save_user(_connection(), user)
    except psycopg.OperationalError:
        _close()  # the next (retried) invocation starts with a new connection
        raise
    logger.info(json.dumps({"trigger": trigger, "cognito_user_id": user["cognito_user_id"],
                            "action": "inserted" if inserted else "already present"}))
    return event


def _close() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        finally:
            _conn = None
