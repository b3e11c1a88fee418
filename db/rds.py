"""Connection security for RDS: verified TLS and IAM authentication tokens.

`security_kwargs(url)` gives the libpq options to add to a connection:
- `sslmode=verify-full` with a CA bundle (PGSSLROOTCERT) for any host that is
  not local, unless the URL (or PGSSLMODE) already chooses an sslmode;
- with DB_IAM_AUTH=1, a `password` that is a fresh IAM token. Tokens expire
  after 15 minutes, so one is made for every new physical connection (the pool
  calls `kwargs_factory`'s callable each time it connects).

Tokens and passwords are never logged; errors here are ConfigError with safe text.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from db import conninfo
from db.backends import register
from db.settings import ConfigError, get_settings

if TYPE_CHECKING:
    import psycopg

VERIFYING = ("verify-full", "verify-ca")
_RDS_REGION = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.rds\.amazonaws\.com\.?$")
BUNDLE_HINT = (
    "Download Amazon's RDS CA bundle (global-bundle.pem, see deploy/README.md) and set PGSSLROOTCERT "
    "to its path, or put an explicit sslmode= in the URL."
)


def params(url: str) -> dict[str, Any]:
    """The URL (or key=value conninfo) parsed by libpq's rules, never string-edited."""
    return conninfo.parse(url)


def host_of(p: dict[str, Any]) -> str:
    """The host libpq will use: the URL's, else PGHOST, else '' (the default Unix socket)."""
    return str(p.get("host") or os.environ.get("PGHOST") or "")


def is_local(host: str) -> bool:
    """Unix sockets and loopback addresses: nothing travels over a network."""
    for h in host.split(","):
        h = h.strip()
        if not h or h.startswith("/") or h.startswith("@") or h == "localhost":
            continue
        try:
            if ipaddress.ip_address(h).is_loopback:
                continue
        except ValueError:
            pass
        return False
    return True


def tls_kwargs(url: str) -> dict[str, str]:
    """sslmode/sslrootcert to add; raises ConfigError if a needed CA bundle is missing."""
    p = params(url)
    host = host_of(p)
    chosen = p.get("sslmode") or os.environ.get("PGSSLMODE")
    extra: dict[str, str] = {}
    if not chosen:
        if is_local(host):
            return {}
        chosen = extra["sslmode"] = "verify-full"
    if chosen in VERIFYING:
        root = p.get("sslrootcert") or get_settings().pgsslrootcert
        if root != "system":  # libpq 16+: the operating system's trust store
            path = Path(root).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"sslmode={chosen} for host {host} needs a CA bundle, but {path} does not exist. {BUNDLE_HINT}"
                )
            root = str(path)
        extra["sslrootcert"] = root
    return extra


def iam_enabled() -> bool:
    return get_settings().db_iam_auth


@lru_cache(maxsize=4)
def iam_client(region: str) -> Any:
    """One boto3 RDS client per region (building one takes ~0.2 s; signing is local).
    Its own session, so credentials are looked up afresh, not taken from boto3's global one."""
    import boto3

    # botocore.auth's DEBUG lines hold each token's canonical request and signature.
    logging.getLogger("botocore.auth").setLevel(logging.INFO)
    return boto3.session.Session().client("rds", region_name=region)


def _iam_target(url: str) -> tuple[str, int, str, str]:
    p = params(url)
    settings = get_settings()
    # DB_IAM_HOST: the RDS endpoint to sign for when connecting through a tunnel or a local socket.
    host = settings.db_iam_host or host_of(p).split(",")[0].strip()
    if not host or host.startswith("/"):
        raise ConfigError("DB_IAM_AUTH=1 needs the RDS host name: put it in the URL or set DB_IAM_HOST.")
    port_text = str(p.get("port") or "5432").split(",")[0] or "5432"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"The database port {port_text!r} is not a number.") from None
    user = p.get("user") or os.environ.get("PGUSER")
    if not user:
        raise ConfigError("DB_IAM_AUTH=1 needs the database user name in the URL.")
    match = _RDS_REGION.search(host)
    region = settings.aws_region or settings.aws_default_region or (match.group(1) if match else None)
    if not region:
        raise ConfigError("DB_IAM_AUTH=1 needs the AWS region: set AWS_REGION (it is not in the host name).")
    return host, port, user, region


def iam_token(url: str) -> str:
    """A fresh IAM authentication token (a presigned URL, valid 15 minutes) for `url`'s user."""
    host, port, user, region = _iam_target(url)
    try:
        return iam_client(region).generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
    except Exception as exc:  # botocore's NoCredentialsError and friends: say what to fix, no token
        raise ConfigError(
            f"DB_IAM_AUTH=1 but no IAM token could be made ({type(exc).__name__}): "
            "check the AWS credentials (role, profile or environment)."
        ) from None


def security_kwargs(url: str) -> dict[str, str]:
    """Everything to add to one new connection to `url` (a fresh token each call)."""
    extra = tls_kwargs(url)
    if iam_enabled():
        extra["password"] = iam_token(url)
    return extra


def kwargs_factory(url: str, base: dict[str, Any]) -> dict[str, Any] | Callable[[], dict[str, Any]]:
    """A pool's `kwargs`: a dict, or with IAM a callable the pool calls for every new
    connection. Checked once here, so a bad setting fails at once, not in a pool thread."""
    static = {**base, **tls_kwargs(url)}
    if not iam_enabled():
        return static
    iam_token(url)
    return lambda: {**static, "password": iam_token(url)}


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """psycopg.connect with TLS verification and IAM applied (CLI, migrations)."""
    import psycopg

    return register(psycopg.connect(url, **{**kwargs, **security_kwargs(url)}))
