"""Settings from the environment, then `.streamlit/secrets.toml`, then defaults.

Long because it is the one place settings are read: `Settings` lists every
setting the app reads, typed and checked (field name = setting name in lower
case), and `get_settings()` parses and validates them once, and again only when
the environment or the secrets file (path, mtime, size) changes. So tests and
the launcher can change the environment without reloading modules, and a page
view costs a dictionary lookup per setting and one stat(). Streamlit copies
every top-level secret into `os.environ`, over what was there; the app's
launcher therefore pins the environment it was started with
(`pin_environment`), so that a variable set by the operator still wins over the
file inside the running app.
"""

from __future__ import annotations

import math
import os
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "cruddur-dashboard"
DEFAULT_SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DATA_DIR = ROOT / ".data"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message is safe to show."""


def _environ() -> Mapping[str, str]:
    """The process environment, or the one pinned by the launcher."""
    return os.environ if _pinned_env is None else _pinned_env


def secrets_file() -> Path:
    """`.streamlit/secrets.toml`, or DASHBOARD_SECRETS_FILE (tests use their own). From the
    environment only (it says where the file is), never failing: the same value as
    `get_settings().dashboard_secrets_file`."""
    return Path(_environ().get("DASHBOARD_SECRETS_FILE") or DEFAULT_SECRETS_FILE)


def data_dir() -> Path:
    """Where `make run` keeps the embedded server (DASHBOARD_DATA_DIR overrides .data). From
    the environment only and never failing, for the embedded server and the guard: the
    same value as `get_settings().dashboard_data_dir`."""
    return Path(_environ().get("DASHBOARD_DATA_DIR") or DEFAULT_DATA_DIR)


_parsed: dict[tuple, dict] = {}


def _secrets() -> dict:
    """The secrets file, parsed again only when it changes (settings are read many
    times per page view)."""
    path = secrets_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if key not in _parsed:
        try:
            with path.open("rb") as fh:
                parsed = tomllib.load(fh)
        except FileNotFoundError:
            return {}
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None
        _parsed.clear()
        _parsed[key] = parsed
    return _parsed[key]


_pinned_env: dict[str, str] | None = None


def pin_environment() -> None:
    """Read environment variables from now on as they are at this moment (the
    launcher calls this before Streamlit loads secrets.toml into os.environ)."""
    global _pinned_env
    _pinned_env = dict(os.environ)


def _raw(name: str, env: Mapping[str, str], secrets: Mapping[str, Any], *, env_only: bool = False) -> str | None:
    """One setting's text: environment first, then secrets.toml; empty counts as unset."""
    value = env.get(name)
    if value not in (None, ""):
        return value
    if env_only:
        return None
    value = secrets.get(name)
    if value not in (None, ""):
        return str(value)
    return None


def setting(name: str, default: str | None = None) -> str | None:
    """One raw, unchecked setting by name: environment first, then secrets.toml.
    Only for what must work whatever else is configured (the error scrubber reads
    every connection setting, even while another setting is invalid); everything
    else reads a typed field of `get_settings()`."""
    value = _raw(name, _environ(), _secrets())
    return default if value is None else value


def parse_number(
    name: str, raw: str, kind: type = int, minimum: float | None = None, maximum: float | None = None
) -> int | float:
    """The one number parser: `raw` as `kind` (int or float, finite) within the bounds,
    or a ConfigError naming the setting and quoting what it got."""
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or (kind is float and not math.isfinite(value)):
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from None
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be {minimum:g} or more, got {raw!r}")
    return value


_zone_names: frozenset[str] | None = None


def known_zone_names() -> frozenset[str]:
    """IANA names on this machine, read once (available_timezones walks the disk).
    Not ZoneInfo(name): it also opens right/UTC, posixrules, posix/... and
    localtime (a host-specific link), which PostgreSQL rejects."""
    global _zone_names
    if _zone_names is None:
        _zone_names = frozenset(zoneinfo.available_timezones() - {"localtime"})
    return _zone_names


def valid_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ConfigError."""
    if not isinstance(name, str) or name not in known_zone_names():
        raise ConfigError(f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin")
    return name


def _app_env(value: str) -> str:
    """APP_ENV, in lower case: dev or prod."""
    value = value.lower()
    if value not in ("dev", "prod"):
        raise ConfigError(f"APP_ENV must be 'dev' or 'prod', got {value!r}")
    return value


def _spec(
    default: Any,
    kind: type = str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    env_only: bool = False,
    check: Callable[[Any], Any] | None = None,
    secret: bool = False,
) -> Any:
    """A setting: its default, its type (str, int, float, bool, Path), bounds for a
    number, whether it is read from the environment only, a check of its own, and
    whether it holds a secret (then it is left out of the repr)."""
    metadata = {"kind": kind, "minimum": minimum, "maximum": maximum, "env_only": env_only, "check": check}
    return field(default=default, repr=not secret, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads, typed and checked: the field `cache_ttl` is the
    setting CACHE_TTL (README.md's "Settings" table lists them all). A bool setting
    is on when it is `1`. Build one with `get_settings()`; `Settings()` is the defaults."""

    # which database, and what may be done to it
    app_env: str = _spec("dev", check=_app_env)
    connection_url: str | None = _spec(None, secret=True)
    prod_connection_url: str | None = _spec(None, secret=True)
    allow_prod_writes: bool = _spec(False, bool)
    read_replica_url: str | None = _spec(None, secret=True)
    # signing in
    admin_password: str | None = _spec(None, secret=True)
    admin_emails: str | None = _spec(None)
    admin_session_hours: float = _spec(8.0, float, minimum=0, maximum=9600)  # 0: the tab only; 400 days: browsers cap
    # reports and the query cache
    report_tz: str = _spec("UTC", check=valid_timezone)
    cache_ttl: int = _spec(60, int, minimum=0)
    cache_stale_ttl: float = _spec(600.0, float, minimum=0)
    momento_api_key: str | None = _spec(None, secret=True)
    momento_endpoint: str | None = _spec(None)
    momento_cache_name: str = _spec("cruddur-dashboard")
    momento_timeout_ms: float = _spec(250.0, float, minimum=0)
    # connections
    statement_timeout_ms: int = _spec(5000, int, minimum=0)
    pool_max_size: int = _spec(8, int, minimum=0)
    pool_timeout_ms: int = _spec(3000, int, minimum=0)
    pgsslrootcert: str = _spec("~/.postgresql/root.crt")
    db_iam_auth: bool = _spec(False, bool)
    db_iam_host: str | None = _spec(None)
    aws_region: str | None = _spec(None)
    aws_default_region: str | None = _spec(None)
    # `make run`
    port: int = _spec(8501, int, minimum=0, maximum=65535)
    host: str = _spec("127.0.0.1")
    migrate_on_start: bool = _spec(False, bool)
    dashboard_data_dir: Path = _spec(DEFAULT_DATA_DIR, Path, env_only=True)
    dashboard_secrets_file: Path = _spec(DEFAULT_SECRETS_FILE, Path, env_only=True)
    # the Sessions page (its timeout and refresh are used as whole numbers, at least 1)
    long_query_seconds: float = _spec(60.0, float, minimum=0)
    idle_in_transaction_seconds: float = _spec(30.0, float, minimum=0)
    sessions_timeout_ms: float = _spec(2000.0, float, minimum=0)
    sessions_refresh_seconds: float = _spec(10.0, float, minimum=0)
    connections_warn_percent: float = _spec(80.0, float, minimum=0, maximum=100)  # Database > Connections
    audit_log_file: Path = _spec(DEFAULT_DATA_DIR / "audit.jsonl", Path)  # unset: under DASHBOARD_DATA_DIR
    # raw extracts
    raw_export_max_rows: int = _spec(0, int, minimum=0)
    raw_export_timeout_ms: int = _spec(600_000, int, minimum=0)
    raw_export_concurrency: int = _spec(2, int, minimum=1)
    engagement_max_zones: int = _spec(12, int, minimum=1)  # zones a page view may start a state for
    export_signing_key: str | None = _spec(None, secret=True)

    @property
    def is_prod(self) -> bool:
        return self.app_env == "prod"

    @property
    def url_setting_name(self) -> str:
        return "PROD_CONNECTION_URL" if self.is_prod else "CONNECTION_URL"

    @property
    def database_url(self) -> str | None:
        """PROD_CONNECTION_URL with APP_ENV=prod; else CONNECTION_URL, or without it the
        server `make run` started (looked for on every use: it may start or stop)."""
        if self.is_prod:
            return self.prod_connection_url
        return self.connection_url or embedded_url(self.dashboard_data_dir)

    @property
    def pool_timeout_s(self) -> float:
        return self.pool_timeout_ms / 1000

    def require_url(self) -> str:
        """The database URL, checked to parse (so no libpq message quoting a piece of it,
        password included, can come from a connection attempt later)."""
        url = self.database_url
        if not url and not self.is_prod and embedded_url_file(self.dashboard_data_dir).exists():
            raise ConfigError(
                f"{self.url_setting_name} is not set, and the embedded database `make run` started is not"
                " running now: start `make run` again (or export the setting)."
            )
        if not url:
            raise ConfigError(
                f"{self.url_setting_name} is not set: export it, put it in .streamlit/secrets.toml, "
                "or start with `make run` for the embedded database."
            )
        from db import conninfo

        conninfo.parse(url, self.url_setting_name)
        return url


SETTINGS_FIELDS = fields(Settings)
ENV_NAMES: tuple[str, ...] = tuple(f.name.upper() for f in SETTINGS_FIELDS)  # the settings' names


def parse_setting(
    name: str,
    raw: str,
    *,
    kind: type = str,
    minimum: float | None = None,
    maximum: float | None = None,
    check: Callable[[Any], Any] | None = None,
    **_: object,
) -> Any:
    """One setting's text as its type: numbers by `parse_number`, a bool is `1` or not."""
    if kind is bool:
        value: Any = raw == "1"
    elif kind is Path:
        value = Path(raw)
    elif kind in (int, float):
        value = parse_number(name, raw, kind, minimum, maximum)
    else:
        value = raw
    return check(value) if check else value


def build_settings(env: Mapping[str, str], secrets: Mapping[str, Any]) -> Settings:
    """Settings from an environment and a parsed secrets file (environment first)."""
    values: dict[str, Any] = {}
    for f in SETTINGS_FIELDS:
        name = f.name.upper()
        raw = _raw(name, env, secrets, env_only=f.metadata["env_only"])
        if raw is not None:
            values[f.name] = parse_setting(name, raw, **f.metadata)
        elif f.metadata["check"]:
            f.metadata["check"](f.default)
    values.setdefault("audit_log_file", values.get("dashboard_data_dir", DEFAULT_DATA_DIR) / "audit.jsonl")
    return Settings(**values)


def embedded_url_file(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / "embedded-url"


def embedded_url(directory: Path | None = None) -> str | None:
    """The URL `make run` wrote for its embedded server, if that server is up."""
    directory = directory or data_dir()
    try:
        url = embedded_url_file(directory).read_text().strip()
    except FileNotFoundError:
        return None
    pidfile = directory / "pg" / "postmaster.pid"
    try:
        os.kill(int(pidfile.read_text().split()[0]), 0)
    except PermissionError:
        return url
    except (OSError, ValueError, IndexError):
        return None
    return url


_cached: tuple[tuple, Settings | str] | None = None


_ENV_KEYS = tuple(name.encode() for name in ENV_NAMES)


def _env_values(env: Mapping[str, str]) -> tuple:
    """The settings' environment variables. os.environ encodes every key and decodes
    every value it is asked for (~40 of those cost more than the rest of a page's
    settings); on POSIX its dict of bytes is read as is, which sees the same changes."""
    data = getattr(env, "_data", None) if env is os.environ and os.name == "posix" else None
    if isinstance(data, dict):
        return tuple(map(data.get, _ENV_KEYS))
    return tuple(map(env.get, ENV_NAMES))


def _fingerprint() -> tuple:
    """What the settings depend on: every setting's environment variable and the
    secrets file's path and stat (cheap: dictionary lookups and one stat())."""
    path = secrets_file()
    try:
        stat = path.stat()
        stamp: tuple | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
        stamp = None
    return _env_values(_environ()), str(path), stamp


def get_settings() -> Settings:
    """The settings, parsed and checked once per change of the environment (the pinned
    one in the app) or of the secrets file; a ConfigError when one is invalid (the
    same error again until it is fixed)."""
    global _cached
    key = _fingerprint()
    cached = _cached
    if cached is None or cached[0] != key:
        try:
            built: Settings | str = build_settings(_environ(), _secrets())
        except ConfigError as exc:
            built = str(exc)
        cached = _cached = (key, built)
    if isinstance(cached[1], str):
        raise ConfigError(cached[1])
    return cached[1]
