"""Guards for writes and destructive actions against production."""
from __future__ import annotations

from db.settings import Settings, get_settings, setting


class WriteRefused(PermissionError):
    """A write was refused by policy; the message says why and how to allow it."""


def prod_writes_allowed() -> bool:
    return setting("ALLOW_PROD_WRITES", "0") == "1"


def require_writable(action: str, settings: Settings | None = None) -> None:
    """Raise WriteRefused if `action` would write to production without ALLOW_PROD_WRITES=1."""
    settings = settings or get_settings()
    if settings.is_prod and not prod_writes_allowed():
        raise WriteRefused(
            f"Refused to {action}: APP_ENV=prod points at the production database "
            "(PROD_CONNECTION_URL) and ALLOW_PROD_WRITES is not 1. Nothing was written."
        )


def refusal(action: str, settings: Settings | None = None) -> str | None:
    """The reason `action` would be refused, or None: lets a page explain before anyone clicks."""
    try:
        require_writable(action, settings)
    except WriteRefused as exc:
        return str(exc)
    return None
