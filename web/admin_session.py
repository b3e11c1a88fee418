"""An admin's sign-in that survives a reload: a signed, HttpOnly, SameSite=Strict cookie.

A Streamlit page can read the cookies its websocket was opened with
(st.context.cookies) but cannot set one: that needs a response header. So:

1. The password is checked on the page (ui.auth, throttled as before). The page
   then hands the browser a one-time `ticket` (signed, valid TICKET_S) and
   the browser POSTs it to /auth/session, which answers with the cookie.
2. A later session (a reload, a new tab) reads the cookie and is signed in
   while it is valid: ADMIN_SESSION_HOURS after sign-in, and only with the
   same ADMIN_PASSWORD (a keyed hash of it is part of what is signed, never of
   what the browser holds, so changing the password ends every session).
3. Sign-out revokes the cookie's id in this process and POSTs to
   /auth/sign-out, which deletes the cookie.

Signatures are web.signing's (EXPORT_SIGNING_KEY or server.cookieSecret): with
a random per-process key a restart ends every session, and with several
replicas the key must be shared (as for export links). Revocation is kept per
process: with replicas, sign-out deletes the cookie in that browser but a
copied cookie stays valid elsewhere until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.logs import logger
from db.settings import get_settings
from web import signing
from web.signing import LinkRefused

COOKIE = "cruddur_admin"
TICKET_S = 60
MAX_BODY = 4096
SESSION_PATH = "/auth/session"
SIGN_OUT_PATH = "/auth/sign-out"
_TICKET, _SESSION = "admin-ticket", "admin-session"
FIELDS = ("user", "sid")

log = logger("cruddur.auth")
_lock = threading.Lock()
_used_tickets: set[str] = set()  # sids whose ticket was exchanged (a ticket works once)
_revoked: set[str] = set()  # sids signed out


def lifetime_s() -> int:
    return int(get_settings().admin_session_hours * 3600)


def _purpose(kind: str) -> str:
    """What a ticket or cookie is signed for: its kind and the current ADMIN_PASSWORD,
    so that a new password ends every session. Only an HMAC of the password (keyed
    with the signing key) goes into the signature; nothing the browser holds carries
    it, so a cookie or ticket tells nothing about the password, even offline."""
    password = (get_settings().admin_password or "").encode("utf-8", "surrogatepass")
    fingerprint = hmac.new(signing.signing_key(), b"cruddur admin password\0" + password, hashlib.sha256)
    return f"{kind}:{fingerprint.hexdigest()}"


def password_mark() -> str:
    """Kept in a signed-in session's state (server side only): when it no longer matches,
    ADMIN_PASSWORD has changed and the session is over, as every cookie is."""
    return _purpose("signed-in")


def base_path(path: str) -> str:
    """`path` under Streamlit's server.baseUrlPath, when one is configured."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{path}" if base else path


def ticket(user: str) -> tuple[str, str] | None:
    """(ticket, session id): a one-time ticket for the browser to exchange for the
    cookie, and the id that names the session; None when sessions are off
    (ADMIN_SESSION_HOURS=0)."""
    if lifetime_s() <= 0:
        return None
    sid = secrets.token_urlsafe(16)
    fields = {"user": user, "sid": sid}
    return urlencode(signing.sign(_purpose(_TICKET), fields, ttl_s=TICKET_S)), sid


def session_of(cookie: str | None) -> tuple[str, str] | None:
    """(admin, session id) a cookie signs in, or None (absent, changed, expired,
    revoked, or made before the password changed)."""
    user = user_of(cookie)
    return None if user is None or cookie is None else (user, _cookie_fields(cookie)["sid"])


def revoked(sid: str) -> bool:
    with _lock:
        return sid in _revoked


def revoke_session(sid: str) -> None:
    with _lock:
        _revoked.add(sid)


def _cookie_value(fields: dict[str, str]) -> str:
    """The signed fields as a cookie value of URL-safe base64 only (no quoting needed)."""
    signed = urlencode(signing.sign(_purpose(_SESSION), fields, ttl_s=lifetime_s()))
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def _cookie_fields(cookie: str) -> dict[str, str]:
    """The verified fields of a cookie value; LinkRefused or ValueError when it is not ours."""
    raw = cookie.strip('"')
    signed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    return signing.verify(_purpose(_SESSION), parse_qsl(signed, keep_blank_values=True), FIELDS)


def user_of(cookie: str | None) -> str | None:
    """The admin a cookie signs in, or None (absent, changed, expired, revoked, or
    made before the password changed)."""
    if not isinstance(cookie, str) or not cookie or lifetime_s() <= 0:
        return None
    try:
        fields = _cookie_fields(cookie)
    except (LinkRefused, ValueError):
        return None
    with _lock:
        if fields["sid"] in _revoked:
            return None
    return fields["user"]


def revoke(cookie: str | None) -> None:
    """End the session a cookie carries, in this process, whatever the browser does."""
    if not isinstance(cookie, str) or not cookie:
        return
    try:
        fields = _cookie_fields(cookie)
    except (LinkRefused, ValueError):
        return
    with _lock:
        _revoked.add(fields["sid"])


def _same_origin(request: Request) -> bool:
    """A POST from a page of this app (the browser sends Origin with every POST)."""
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    return origin is not None and host is not None and origin.split("://", 1)[-1] == host


def _over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS, directly or through a proxy that ends
    TLS (X-Forwarded-Proto). A client that claims HTTPS falsely only gets a stricter cookie."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _plain(status: int, text: str) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers={"Cache-Control": "no-store"})


async def open_session(request: Request) -> Response:
    """POST ticket=... -> the session cookie."""
    if not _same_origin(request):
        return _plain(403, "Sign in on the dashboard's own pages.")
    body = b""
    async for chunk in request.stream():  # a ticket is a few hundred bytes: read no more than that
        body += chunk
        if len(body) > MAX_BODY:
            return _plain(413, "That is not a sign-in.")
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    try:
        fields = signing.verify(_purpose(_TICKET), parse_qsl(form.get("ticket", "")), FIELDS)
    except LinkRefused as exc:  # its wording is the export links'; a ticket is no link
        log.info("a sign-in ticket was refused: %s", exc)
        return _plain(exc.status, "This sign-in is not valid or has expired. Sign in again on the Admin page.")
    with _lock:
        if fields["sid"] in _used_tickets:
            return _plain(403, "This sign-in was already used.")
        _used_tickets.add(fields["sid"])
    value = _cookie_value(fields)
    response = _plain(200, "Signed in.")
    response.set_cookie(
        COOKIE,
        value,
        max_age=lifetime_s(),
        path=base_path("/"),
        httponly=True,
        samesite="strict",
        secure=_over_https(request),
    )
    log.info("%s signed in: session cookie for %g h", fields["user"], get_settings().admin_session_hours)
    return response


async def close_session(request: Request) -> Response:
    """POST -> the cookie revoked and deleted."""
    if not _same_origin(request):
        return _plain(403, "Sign out on the dashboard's own pages.")
    revoke(request.cookies.get(COOKIE))
    response = _plain(200, "Signed out.")
    response.delete_cookie(COOKIE, path=base_path("/"), httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [
        Route(base_path(SESSION_PATH), open_session, methods=["POST"]),
        Route(base_path(SIGN_OUT_PATH), close_session, methods=["POST"]),
    ]
