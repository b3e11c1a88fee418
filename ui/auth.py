"""Admin sign-in. Every write and every destructive action calls `require_admin()`.

Long because the three ways in (a throttled password, the session cookie that
keeps it across reloads, OIDC) must agree in one place on who is an admin.

Default: a shared password from ADMIN_PASSWORD, compared in constant time.
Failed attempts are rate-limited per client address and for the whole process
(`SignInThrottle`); a throttled attempt is refused at once, without looking at
the password, and nothing in the sign-in path sleeps (a sleeping session only
ties up its own thread, so parallel sessions would not be slowed down at all).

When Streamlit's secrets hold an `[auth]` section with an OIDC provider,
Streamlit's own `st.login` / `st.user` / `st.logout` are used instead and an
admin is a signed-in person whose e-mail is in ADMIN_EMAILS.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAuthError

from db.settings import ConfigError, get_settings
from web import admin_session

# Failed sign-ins allowed, as token buckets (a token comes back every *_REFILL_S
# seconds, up to *_BURST). Per address: 5 at once, then one per 12 s (~300 an
# hour). Per process, all addresses together: 30 at once, then one per 2 s
# (~1,800 an hour), which also bounds how many addresses are tracked.
ADDRESS_BURST = 5
ADDRESS_REFILL_S = 12.0
GLOBAL_BURST = 30
GLOBAL_REFILL_S = 2.0
UNKNOWN_ADDRESS = "unknown"  # the one key for every visitor whose address is not known


def admin_password() -> str | None:
    return get_settings().admin_password


def oidc_providers(auth: Mapping | None) -> list[str]:
    """Providers an `[auth]` section configures: "default" when it holds a client_id
    itself, plus every `[auth.NAME]` table with one (see st.login)."""
    if not isinstance(auth, Mapping):
        return []
    names = ["default"] if auth.get("client_id") else []
    names += [k for k, v in auth.items() if isinstance(v, Mapping) and v.get("client_id")]
    return names


def _auth_section() -> Mapping | None:
    """Streamlit's own `[auth]` secrets: the place st.login reads them from."""
    try:
        return st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return None


def oidc_enabled() -> bool:
    return bool(oidc_providers(_auth_section()))


def admin_emails() -> frozenset[str]:
    """ADMIN_EMAILS: addresses separated by commas, spaces or semicolons (or a TOML list)."""
    raw = get_settings().admin_emails or ""
    return frozenset(m.lower() for m in re.findall(r"[^\s,;\[\]'\"]+@[^\s,;\[\]'\"]+", raw))


def _oidc_email() -> str | None:
    """The signed-in person's e-mail, if the provider vouches for it."""
    if not st.user.get("is_logged_in"):
        return None
    if st.user.get("email_verified") is False:
        return None
    email = st.user.get("email")
    return str(email).lower() if email else None


def current_admin() -> str | None:
    """Who is signed in as admin (for audit logs), or None. Without OIDC a new session
    (a reload, another tab) is signed in by a valid session cookie (web.admin_session)."""
    if oidc_enabled():
        email = _oidc_email()
        return email if email and email in admin_emails() else None
    user = st.session_state.get("admin_user")
    sid = st.session_state.get("admin_sid")
    mark = st.session_state.get("admin_password_mark")
    if user is not None and (
        (sid is not None and admin_session.revoked(sid))  # signed out in another tab
        or (mark is not None and _password_changed(mark))
    ):
        st.session_state.pop("admin_user", None)
        user = None
    if user is None and not st.session_state.get("_admin_cookie_read"):
        st.session_state["_admin_cookie_read"] = True  # once per session: sign-out must stick
        found = admin_session.session_of(_session_cookie())
        if found is not None:
            user, st.session_state["admin_sid"] = found
            st.session_state["admin_user"] = user
            st.session_state["admin_password_mark"] = admin_session.password_mark()
    return user


def _password_changed(mark: str) -> bool:
    """Whether ADMIN_PASSWORD changed since this session signed in (an invalid setting
    counts as changed: signed out is the safe side)."""
    try:
        return not hmac.compare_digest(mark, admin_session.password_mark())
    except ConfigError:
        return True


def _session_cookie() -> str | None:
    try:
        value = st.context.cookies.get(admin_session.COOKIE)
    except Exception:  # no browser behind this session (AppTest, bare mode)
        return None
    return value if isinstance(value, str) else None  # AppTest's context is a mock


def _cookie_script(path: str, body: str = "") -> None:
    """Have the browser POST to one of our routes, which sets or deletes the
    session cookie (a page cannot send a Set-Cookie header itself)."""
    st.session_state["_admin_cookie_post"] = (admin_session.base_path(path), body)


def cookie_sync(where=st.sidebar) -> None:
    """Send what sign-in or sign-out left for the browser to do (drawn on every page).
    Last in the sidebar: drawn in the main area, this one-off element shifted every
    element of the page on the next run, and the form a person was typing in right
    after signing in was rebuilt empty."""
    pending = st.session_state.pop("_admin_cookie_post", None)
    if pending is None:
        return
    path, body = pending
    script = _COOKIE_POST.replace("PATH", json.dumps(path)).replace("BODY", json.dumps(body))
    where.html(script, unsafe_allow_javascript=True)


# PATH and BODY are our own route and a URL-encoded ticket (no quotes or angle brackets).
_COOKIE_POST = (
    "<script>fetch(PATH, {method: 'POST', credentials: 'same-origin', "
    "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: BODY});</script>"
)


def is_admin() -> bool:
    return current_admin() is not None


def rerun_if_admin_changed(was_admin: bool) -> None:
    """For a fragment that runs on its own (run_every): its page chose what to show, or
    sign, by `was_admin` at its last full run. Signed out (or in) since, in another
    tab or by a new password, the whole page runs again instead, so nothing made for
    an admin outlives the admin's session."""
    if is_admin() != was_admin:
        st.rerun(scope="app")


class SignInThrottle:
    """Token buckets of failed sign-ins: one per client address, one for the process.

    An attempt needs a token in both. `acquire` takes them before the password is
    compared (so parallel sessions cannot all pass the check first) and `refund`
    returns them when the password was right: only failures cost anything.
    An address whose bucket has refilled is forgotten; since every tracked
    address holds a failure that took a global token, at most about
    global_burst + address_burst * address_refill_s / global_refill_s
    addresses (60 with the defaults) are tracked at any time. Thread-safe.
    """

    def __init__(
        self,
        *,
        address_burst: int = ADDRESS_BURST,
        address_refill_s: float = ADDRESS_REFILL_S,
        global_burst: int = GLOBAL_BURST,
        global_refill_s: float = GLOBAL_REFILL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address_burst, self._address_refill_s = float(address_burst), float(address_refill_s)
        self._global_burst, self._global_refill_s = float(global_burst), float(global_refill_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses: dict[str, tuple[float, float]] = {}  # address -> (tokens, as of)
        self._global = (self._global_burst, clock())

    def reset(self) -> None:
        """Forget every attempt (tests; an operator's fresh start)."""
        with self._lock:
            self._addresses.clear()
            self._global = (self._global_burst, self._clock())

    def __len__(self) -> int:
        """How many addresses are tracked (those with failures not yet refilled)."""
        with self._lock:
            return len(self._addresses)

    @staticmethod
    def _level(bucket: tuple[float, float] | None, burst: float, refill_s: float, now: float) -> float:
        if bucket is None:
            return burst
        tokens, since = bucket
        return min(burst, tokens + max(0.0, now - since) / refill_s)

    def _levels(self, address: str, now: float) -> tuple[float, float]:
        return (
            self._level(self._addresses.get(address), self._address_burst, self._address_refill_s, now),
            self._level(self._global, self._global_burst, self._global_refill_s, now),
        )

    def _prune(self, now: float) -> None:
        full = [
            a
            for a, bucket in self._addresses.items()
            if self._level(bucket, self._address_burst, self._address_refill_s, now) >= self._address_burst
        ]
        for address in full:
            del self._addresses[address]

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again; 0 if it may now."""
        with self._lock:
            mine, everyone = self._levels(address, self._clock())
        return self._wait(mine, everyone)

    def _wait(self, mine: float, everyone: float) -> float:
        wait = max((1 - mine) * self._address_refill_s, (1 - everyone) * self._global_refill_s)
        return wait if wait > 1e-9 else 0.0  # float noise is not a wait

    def acquire(self, address: str) -> float:
        """Take an attempt from both buckets and return 0; or, throttled, take
        nothing and return the seconds until an attempt is allowed."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            mine, everyone = self._levels(address, now)
            wait = self._wait(mine, everyone)
            if wait:
                return wait
            self._addresses[address] = (mine - 1, now)
            self._global = (everyone - 1, now)
            return 0.0

    def refund(self, address: str) -> None:
        """Give back what `acquire` took: the attempt succeeded."""
        with self._lock:
            now = self._clock()
            mine, everyone = self._levels(address, now)
            if mine + 1 >= self._address_burst:
                self._addresses.pop(address, None)
            else:
                self._addresses[address] = (mine + 1, now)
            self._global = (min(self._global_burst, everyone + 1), now)


THROTTLE = SignInThrottle()


def client_address() -> str:
    """The visitor's IP address, the key of the per-address limit. Behind a
    reverse proxy or load balancer it is the proxy's address, so all visitors
    share one bucket (the global one still caps the total). Streamlit gives None
    for localhost; with no real client (AppTest mocks it, bare mode has none) the
    value is not a string. All of these become UNKNOWN_ADDRESS."""
    try:
        address = st.context.ip_address
    except Exception:
        address = None
    return address if isinstance(address, str) and address else UNKNOWN_ADDRESS


def check_password(candidate: str) -> bool:
    """Constant-time comparison with ADMIN_PASSWORD (no throttling: see `sign_in`)."""
    expected = admin_password()
    if not expected:
        return False
    # surrogatepass: odd text compares unequal instead of raising
    return hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def sign_in(candidate: str, address: str) -> str | None:
    """None if `candidate` is the password; else the refusal to show. When
    throttled the password is not even compared, so guessing on learns nothing."""
    wait = THROTTLE.acquire(address)
    if wait:
        return f"Too many sign-in attempts; try again in {math.ceil(wait)} s."
    if check_password(candidate):
        THROTTLE.refund(address)
        return None
    return "Wrong password."


def sign_in_form() -> None:
    st.info("Sign in as an admin to use this page.", icon=":material/lock:")
    if oidc_enabled():
        _oidc_sign_in()
        return
    if not admin_password():
        st.warning(
            "No admin password is configured: set ADMIN_PASSWORD in the environment or `.streamlit/secrets.toml`."
        )
        return
    with st.form("admin-sign-in"):
        password = st.text_input("Admin password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        refusal = sign_in(password or "", client_address())
        if refusal is None:
            st.session_state["admin_user"] = "admin"
            st.session_state["admin_password_mark"] = admin_session.password_mark()
            issued = admin_session.ticket("admin")
            if issued is not None:  # kept for ADMIN_SESSION_HOURS, across reloads
                ticket, st.session_state["admin_sid"] = issued
                _cookie_script(admin_session.SESSION_PATH, urlencode({"ticket": ticket}))
            st.rerun()
        else:
            st.error(refusal)


def _oidc_sign_in() -> None:
    if not admin_emails():
        st.warning(
            "No admin e-mail address is configured: set ADMIN_EMAILS (comma-separated) in the "
            "environment or `.streamlit/secrets.toml`."
        )
    if st.user.get("is_logged_in"):
        who = st.user.get("email") or "this account"
        reason = (
            "the identity provider has not verified its e-mail address"
            if st.user.get("email_verified") is False
            else "it is not in ADMIN_EMAILS"
        )
        st.error(f"You are signed in as {who}, which cannot use this page: {reason}.")
        if st.button("Sign out", key="oidc-sign-out-denied", icon=":material/logout:"):
            st.logout()
        return
    for provider in oidc_providers(_auth_section()):
        label = "Sign in" if provider == "default" else f"Sign in with {provider.title()}"
        if st.button(label, key=f"oidc-sign-in-{provider}", type="primary", icon=":material/login:"):
            try:
                st.login(None if provider == "default" else provider)
            except StreamlitAuthError as exc:  # names the missing key, never a secret value
                st.error(f"Sign-in is not configured correctly: {exc}")


def require_admin() -> str:
    """Return the admin's name, or show the sign-in form and stop the page."""
    user = current_admin()
    if user is None:
        sign_in_form()
        st.stop()
    return user


def sign_out_button(where=st.sidebar) -> None:
    """One click. With OIDC it also ends the Streamlit identity cookie (st.logout)."""
    if oidc_enabled():
        if st.user.get("is_logged_in") and where.button("Sign out", icon=":material/logout:"):
            st.logout()
        return
    if is_admin() and where.button("Sign out", icon=":material/logout:"):
        st.session_state.pop("admin_user", None)
        sid = st.session_state.pop("admin_sid", None)
        if sid is not None:  # every tab of this session, and any copy of its cookie
            admin_session.revoke_session(sid)
        admin_session.revoke(_session_cookie())
        _cookie_script(admin_session.SIGN_OUT_PATH)
        st.rerun()
    cookie_sync(where)
