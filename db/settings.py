"""Settings from the environment, then `.streamlit/secrets.toml`, then defaults.

Read on every call (it is cheap) so tests and the launcher can change the
environment without reloading modules. Streamlit copies every top-level secret
into `os.environ`, over what was there; the app's launcher therefore pins the
environment it was started with (`pin_environment`), so that a variable set by
the operator still wins over the file inside the running app.
"""
from __future__ import annotations

import os
import tomllib
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "cruddur-dashboard"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message is safe to show."""


def secrets_file() -> Path:
    """`.streamlit/secrets.toml`, or DASHBOARD_SECRETS_FILE (tests use their own)."""
    return Path(os.environ.get("DASHBOARD_SECRETS_FILE") or ROOT / ".streamlit" / "secrets.toml")


def data_dir() -> Path:
    """Where `make run` keeps the embedded server (DASHBOARD_DATA_DIR overrides .data)."""
    return Path(os.environ.get("DASHBOARD_DATA_DIR") or ROOT / ".data")


_parsed: dict[tuple, dict] = {}


def _secrets() -> dict:
    """The secrets file, parsed again only when it changes (settings are read many
    times per page view)."""
    path = secrets_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (str(path), stat.st_mtime_ns, stat.st_size)
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


def setting(name: str, default: str | None = None) -> str | None:
    """One raw setting: environment first, then secrets.toml."""
    value = (os.environ if _pinned_env is None else _pinned_env).get(name)
    if value not in (None, ""):
        return value
    value = _secrets().get(name)
    if value not in (None, ""):
        return str(value)
    return default


def number_setting(name: str, default: float, *, kind: type = int, minimum: float | None = 0):
    """A numeric setting (`kind` int or float), checked; a clear ConfigError otherwise."""
    raw = setting(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be {minimum:g} or more, got {raw!r}")
    return value


def _int(name: str, default: int) -> int:
    return number_setting(name, default)


_zone_names: frozenset[str] | None = None


def _known_zone_names() -> frozenset[str]:
    """IANA names on this machine, read once (available_timezones walks the disk).
    Not ZoneInfo(name): it also opens right/UTC, posixrules, posix/... and
    localtime (a host-specific link), which PostgreSQL rejects."""
    global _zone_names
    if _zone_names is None:
        _zone_names = frozenset(zoneinfo.available_timezones() - {"localtime"})
    return _zone_names


def valid_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ConfigError."""
    if not isinstance(name, str) or name not in _known_zone_names():
        raise ConfigError(f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin")
    return name


@dataclass(frozen=True)
class Settings:
    app_env: str
    database_url: str | None
    report_tz: str
    cache_ttl: int
    statement_timeout_ms: int
    pool_max_size: int
    pool_timeout_s: float

    @property
    def is_prod(self) -> bool:
        return self.app_env == "prod"

    @property
    def url_setting_name(self) -> str:
        return "PROD_CONNECTION_URL" if self.is_prod else "CONNECTION_URL"

    def require_url(self) -> str:
        """The database URL, checked to parse (so no libpq message quoting a piece of it,
        password included, can come from a connection attempt later)."""
        if not self.database_url:
            raise ConfigError(
                f"{self.url_setting_name} is not set: export it, put it in .streamlit/secrets.toml, "
                "or start with `make run` for the embedded database."
            )
        from db import conninfo

        conninfo.parse(self.database_url, self.url_setting_name)
        return self.database_url


def embedded_url_file() -> Path:
    return data_dir() / "embedded-url"


def embedded_url() -> str | None:
    """The URL `make run` wrote for its embedded server, if that server is up."""
    try:
        url = embedded_url_file().read_text().strip()
    except FileNotFoundError:
        return None
    pidfile = data_dir() / "pg" / "postmaster.pid"
    try:
        os.kill(int(pidfile.read_text().split()[0]), 0)
    except PermissionError:
        return url
    except (OSError, ValueError, IndexError):
        return None
    return url


def get_settings() -> Settings:
    app_env = (setting("APP_ENV", "dev") or "dev").lower()
    if app_env not in ("dev", "prod"):
        raise ConfigError(f"APP_ENV must be 'dev' or 'prod', got {app_env!r}")
    if app_env == "prod":
        url = setting("PROD_CONNECTION_URL")
    else:
        # With no CONNECTION_URL, CLI commands find the server `make run` started.
        url = setting("CONNECTION_URL") or embedded_url()
    return Settings(
        app_env=app_env,
        database_url=url,
        report_tz=valid_timezone(setting("REPORT_TZ", "UTC")),
        cache_ttl=_int("CACHE_TTL", 60),
        statement_timeout_ms=_int("STATEMENT_TIMEOUT_MS", 5000),
        pool_max_size=_int("POOL_MAX_SIZE", 8),
        pool_timeout_s=float(_int("POOL_TIMEOUT_MS", 3000)) / 1000,
    )
