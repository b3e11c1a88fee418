"""The one production guard: is this connection production, and may it be written to?

Every writing path asks here (the db and seed command lines, the Admin page,
Sessions actions, rollup maintenance, and the writer pool beneath them all).
"Production" is the server PROD_CONNECTION_URL names, recognised by what the
servers say about themselves, not by how a URL is spelled:

1. APP_ENV=prod: production.
2. The same address and port, after normalising (host case, a trailing dot,
   localhost = 127.0.0.1, port 05432 = 5432, socket directories resolved):
   production, whatever the database name.
3. Otherwise both servers are asked for their system identifier (unique per
   cluster, shared by its replicas): equal means production. When production
   cannot be asked (down, unreachable from here), step 2's answer stands.

Any database on production's server counts: a dev database there is one typo
away from the real one.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from db import conninfo
from db.settings import Settings, get_settings, setting

VERDICT_TTL_S = 300.0
IDENTITY_TIMEOUT_S = 3


class WriteRefused(PermissionError):
    """A write was refused by policy; the message says why and how to allow it."""


@dataclass(frozen=True)
class Verdict:
    is_prod: bool
    reason: str  # safe to show: never a URL


_verdicts: dict[tuple[str, str], tuple[float, Verdict]] = {}
_lock = threading.Lock()


def production(url: str | None = None, settings: Settings | None = None) -> Verdict:
    """Whether `url` (default: the configured database) is production, and why."""
    settings = settings or get_settings()
    if settings.is_prod:
        return Verdict(True, "APP_ENV=prod selects PROD_CONNECTION_URL")
    url = url or settings.require_url()
    prod_url = setting("PROD_CONNECTION_URL")
    if not prod_url:
        return Verdict(False, "PROD_CONNECTION_URL is not set")
    key = (url, prod_url)
    with _lock:
        cached = _verdicts.get(key)
    if cached and time.monotonic() - cached[0] < VERDICT_TTL_S:
        return cached[1]
    verdict = _compare(url, prod_url)
    with _lock:
        _verdicts[key] = (time.monotonic(), verdict)
    return verdict


def forget() -> None:
    """Drop remembered verdicts (tests; after a server was moved)."""
    with _lock:
        _verdicts.clear()


def _compare(url: str, prod_url: str) -> Verdict:
    addresses, port, _ = conninfo.endpoint(url)
    prod_addresses, prod_port, _ = conninfo.endpoint(prod_url)
    if port == prod_port and addresses & prod_addresses:
        return Verdict(True, "it is the server PROD_CONNECTION_URL names (same address and port)")
    mine, theirs = server_identity(url), server_identity(prod_url)
    if mine and theirs:
        if mine == theirs:
            return Verdict(True, "it is the server PROD_CONNECTION_URL names (same system identifier)")
        return Verdict(False, "its system identifier differs from production's")
    return Verdict(False, "its address differs from production's (production could not be asked)")


def server_identity(url: str) -> str | None:
    """The cluster's system identifier, or None when the server cannot be asked."""
    from db import rds
    from db.statements import execute

    try:
        with rds.connect(url, connect_timeout=IDENTITY_TIMEOUT_S, autocommit=True,
                         application_name="cruddur-dashboard:guard") as conn:
            return execute(conn, "admin.server_identity").fetchone()[0]
    except Exception:  # down, unreachable, no privilege: the address comparison stands
        return None


def prod_writes_allowed() -> bool:
    return setting("ALLOW_PROD_WRITES", "0") == "1"


def require_writable(action: str, settings: Settings | None = None, url: str | None = None) -> None:
    """Raise WriteRefused if `action` would write to production without ALLOW_PROD_WRITES=1."""
    verdict = production(url, settings)
    if verdict.is_prod and not prod_writes_allowed():
        raise WriteRefused(f"Refused to {action}: the database is production ({verdict.reason}) and "
                           "ALLOW_PROD_WRITES is not 1. Nothing was written.")


def require_not_production(action: str, settings: Settings | None = None, url: str | None = None) -> None:
    """Raise WriteRefused if the database is production: demo data, resets and
    re-creation never run there, whatever ALLOW_PROD_WRITES says."""
    verdict = production(url, settings)
    if verdict.is_prod:
        raise WriteRefused(f"Refused to {action}: the database is production ({verdict.reason}), "
                           "and this never runs there. Nothing was changed.")


def refusal(action: str, settings: Settings | None = None) -> str | None:
    """The reason `action` would be refused, or None: lets a page explain before anyone clicks."""
    try:
        require_writable(action, settings)
    except WriteRefused as exc:
        return str(exc)
    return None
