"""Short-lived links signed with HMAC-SHA256.

A plain HTTP route cannot see the visitor's Streamlit session, so it cannot tell
whether they signed in. The page can: it signs the exact parameters of the one
request it allows, plus an expiry, and the route recomputes the signature. A
changed, added or missing field, a missing signature or a past expiry is refused.

The key is EXPORT_SIGNING_KEY when set (the same on every replica behind one
address), else Streamlit's `server.cookieSecret`: the configured one, or a random
one per process, in which case a link works only on the process that made it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from db.settings import get_settings
from exports.pseudonyms import MIN_SECRET_LENGTH, checked_secret

TTL_S = 300
EXPIRES = "exp"
SIGNATURE = "sig"
_KEY_LABEL = b"cruddur-dashboard signed links v1"
MIN_KEY_LENGTH = MIN_SECRET_LENGTH


class LinkRefused(Exception):
    """A request its link does not authorise. `status` is the HTTP status to
    answer with; the message is plain and safe to show."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def server_secret() -> str:
    """EXPORT_SIGNING_KEY, else Streamlit's cookie secret: the root of the link
    signing key and of the pseudonym keys (exports.raw.pseudonyms_for)."""
    secret = get_settings().export_signing_key
    if secret:
        return checked_secret(secret)
    from streamlit import config

    return config.get_option("server.cookieSecret")


def signing_key() -> bytes:
    # A key of its own, so that a link signature never doubles as a cookie signature.
    return hmac.new(server_secret().encode(), _KEY_LABEL, hashlib.sha256).digest()


def sign(purpose: str, fields: Mapping[str, object], *, ttl_s: int = TTL_S, now: float | None = None) -> dict[str, str]:
    """`fields` as text, plus the expiry and the signature: a link's query parameters.
    `purpose` (e.g. the route) is signed too, so a link cannot be replayed elsewhere."""
    params = {name: str(value) for name, value in fields.items()}
    params[EXPIRES] = str(int((time.time() if now is None else now) + ttl_s))
    params[SIGNATURE] = _mac(purpose, params)
    return params


def verify(
    purpose: str,
    query: Mapping[str, str] | Iterable[tuple[str, str]],
    fields: Iterable[str],
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The signed `fields` of a request's query, or LinkRefused: 403 when unsigned,
    changed or expired, 400 when the parameters are not the expected ones."""
    items = list(query.items()) if isinstance(query, Mapping) else list(query)
    names = [name for name, _ in items]
    if SIGNATURE not in names:
        raise LinkRefused(403, "This link is not signed. Open the page again and use its download button.")
    expected = {*fields, EXPIRES, SIGNATURE}
    if len(set(names)) != len(names) or set(names) != expected:
        raise LinkRefused(400, f"This link does not have the expected parameters ({', '.join(sorted(expected))}).")
    params = dict(items)
    signature = params.pop(SIGNATURE)
    if not hmac.compare_digest(signature.encode(), _mac(purpose, params).encode()):
        raise LinkRefused(
            403,
            "This link is not valid: it was changed, or made by a server with another "
            "signing key. Open the page again for a fresh link.",
        )
    expires = int(params.pop(EXPIRES))  # an integer: the signature says we wrote it
    if (time.time() if now is None else now) >= expires:
        at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        raise LinkRefused(
            403, f"This link expired at {at} (links last {TTL_S // 60} minutes). Open the page again for a fresh one."
        )
    return params


def _mac(purpose: str, params: Mapping[str, str]) -> str:
    message = json.dumps([purpose, sorted(params.items())], ensure_ascii=False, separators=(",", ":"))
    digest = hmac.new(signing_key(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
