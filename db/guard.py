"""The one production guard: is this connection production, and may it be written to?

Every writing path asks here (the db and seed command lines, the Admin page,
Sessions actions, rollup maintenance, and the writer pool beneath them all).
"Production" is the server PROD_CONNECTION_URL names, recognised by what the
servers say about themselves, not by how a URL is spelled:

1. APP_ENV=prod: production.
2. The same address and port, after normalising (host case, a trailing dot,
   localhost = 127.0.0.1, port 05432 = 5432, socket directories resolved):
   production, whatever the database name.
3. The embedded server `make run` started (its socket in DASHBOARD_DATA_DIR)
   is never production.
4. Otherwise both servers are asked for their system identifier (unique per
   cluster, shared by its replicas): equal means production, different means not.
5. When they cannot both be asked (production down, a stale password, reachable
   only through a tunnel), production cannot be ruled out: the answer is
   production, with the reason, until it can be asked. Unset
   PROD_CONNECTION_URL where production is out of reach on purpose.

Any database on production's server counts: a dev database there is one typo
away from the real one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from db import conninfo
from db.settings import Settings, get_settings

VERDICT_TTL_S = 300.0
UNSURE_TTL_S = 30.0  # "cannot be ruled out" is asked again soon: production may be back
IDENTITY_TIMEOUT_S = 3


class WriteRefused(PermissionError):
    """A write was refused by policy; the message says why and how to allow it."""


@dataclass(frozen=True)
class Verdict:
    is_prod: bool
    reason: str  # safe to show: never a URL
    settled: bool = True  # False: production could not be asked, so it was assumed


_verdicts: dict[tuple[str, str], tuple[float, Verdict]] = {}
_lock = threading.Lock()


def production(url: str | None = None, settings: Settings | None = None) -> Verdict:
    """Whether `url` (default: the configured database) is production, and why."""
    settings = settings or get_settings()
    if settings.is_prod:
        return Verdict(True, "APP_ENV=prod selects PROD_CONNECTION_URL")
    url = url or settings.require_url()
    prod_url = settings.prod_connection_url
    if not prod_url:
        return Verdict(False, "PROD_CONNECTION_URL is not set")
    key = (url, prod_url)
    with _lock:
        cached = _verdicts.get(key)
    if cached and time.monotonic() - cached[0] < (VERDICT_TTL_S if cached[1].settled else UNSURE_TTL_S):
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
    # Every server a host list may reach counts: libpq tries them in turn.
    mine, theirs = conninfo.endpoints(url), conninfo.endpoints(prod_url)
    if any(port == prod_port and addresses & prod for addresses, port in mine for prod, prod_port in theirs):
        return Verdict(True, "it is the server PROD_CONNECTION_URL names (same address and port)")
    if all(_is_embedded(addresses) for addresses, _ in mine):
        return Verdict(False, "it is the embedded server of `make run`")
    my_id, prod_id = server_identity(url), server_identity(prod_url)
    if my_id and prod_id:
        if my_id == prod_id:
            return Verdict(True, "it is the server PROD_CONNECTION_URL names (same system identifier)")
        return Verdict(False, "its system identifier differs from production's")
    who = "production (PROD_CONNECTION_URL)" if not prod_id else "this server"
    return Verdict(
        True,
        f"{who} could not be asked for its identity, so production cannot be ruled out; "
        "unset PROD_CONNECTION_URL where production is out of reach",
        settled=False,
    )


def _is_embedded(addresses: frozenset[str]) -> bool:
    """Whether these addresses are the socket of the embedded server `make run` keeps in DASHBOARD_DATA_DIR."""
    import os

    from db.settings import data_dir, embedded_url

    ours = {f"unix:{os.path.realpath(data_dir() / 'pg')}"}
    running = embedded_url()  # its socket may sit elsewhere when the data path is long
    if running:
        ours |= conninfo.endpoint(running)[0]
    return bool(ours & addresses)


def server_identity(url: str) -> str | None:
    """The cluster's system identifier, or None when the server cannot be asked."""
    from db import rds, statements
    from db.statements import execute

    # The identifier is the cluster's: ask its maintenance database first, so a database
    # that does not exist yet (`db create`, `db setup`) is no reason to doubt.
    for dbname in ("postgres", None):
        extra = {"dbname": dbname} if dbname else {}
        try:
            with rds.connect(
                url,
                connect_timeout=IDENTITY_TIMEOUT_S,
                autocommit=True,
                application_name="cruddur-dashboard:guard",
                **extra,
            ) as conn:
                return str(statements.scalar(execute(conn, "admin.server_identity")))
        except Exception:  # down, unreachable, no privilege: try the next, else "cannot be asked"
            continue
    return None


def prod_writes_allowed(settings: Settings | None = None) -> bool:
    return (settings or get_settings()).allow_prod_writes


def require_writable(action: str, settings: Settings | None = None, url: str | None = None) -> None:
    """Raise WriteRefused if `action` would write to production without ALLOW_PROD_WRITES=1."""
    verdict = production(url, settings)
    if verdict.is_prod and not prod_writes_allowed(settings):
        raise WriteRefused(
            f"Refused to {action}: the database is production ({verdict.reason}) and "
            "ALLOW_PROD_WRITES is not 1. Nothing was written."
        )


def require_not_production(action: str, settings: Settings | None = None, url: str | None = None) -> None:
    """Raise WriteRefused if the database is production: demo data, resets and
    re-creation never run there, whatever ALLOW_PROD_WRITES says."""
    verdict = production(url, settings)
    if verdict.is_prod:
        raise WriteRefused(
            f"Refused to {action}: the database is production ({verdict.reason}), "
            "and this never runs there. Nothing was changed."
        )


def refusal(action: str, settings: Settings | None = None) -> str | None:
    """The reason `action` would be refused, or None: lets a page explain before anyone clicks."""
    try:
        require_writable(action, settings)
    except WriteRefused as exc:
        return str(exc)
    return None
