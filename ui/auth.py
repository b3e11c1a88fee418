"""Admin sign-in. Every write and every destructive action calls `require_admin()`.

Default: a shared password from ADMIN_PASSWORD, compared in constant time,
with a delay that grows with recent failures (per visitor session and across
the process, so opening new tabs does not reset it).

When Streamlit's secrets hold an `[auth]` section with an OIDC provider,
Streamlit's own `st.login` / `st.user` / `st.logout` are used instead and an
admin is a signed-in person whose e-mail is in ADMIN_EMAILS.
"""
from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitAuthError

from db.settings import setting

_MAX_DELAY_S = 8.0
_failures_lock = threading.Lock()
_process_failures: list[float] = []  # monotonic times of recent failures, all sessions


def admin_password() -> str | None:
    return setting("ADMIN_PASSWORD")


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
    raw = setting("ADMIN_EMAILS") or ""
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
    """Who is signed in as admin (for audit logs), or None."""
    if oidc_enabled():
        email = _oidc_email()
        return email if email and email in admin_emails() else None
    return st.session_state.get("admin_user")


def is_admin() -> bool:
    return current_admin() is not None


def _recent_failures(window_s: float = 300) -> int:
    now = time.monotonic()
    with _failures_lock:
        _process_failures[:] = [t for t in _process_failures if now - t < window_s]
        return len(_process_failures)


def failure_delay(failures: int) -> float:
    """0 s for the first failure, then 0.5, 1, 2, 4, 8, 8 ... seconds."""
    return 0.0 if failures <= 0 else min(_MAX_DELAY_S, 0.25 * 2 ** failures)


def check_password(candidate: str) -> bool:
    """Constant-time comparison, slowed down after recent failures."""
    expected = admin_password()
    failures = max(st.session_state.get("admin_failures", 0), _recent_failures())
    time.sleep(failure_delay(failures))
    ok = bool(expected) and hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))
    if not ok:
        st.session_state["admin_failures"] = st.session_state.get("admin_failures", 0) + 1
        with _failures_lock:
            _process_failures.append(time.monotonic())
    return ok


def sign_in_form() -> None:
    st.info("Sign in as an admin to use this page.", icon=":material/lock:")
    if oidc_enabled():
        _oidc_sign_in()
        return
    if not admin_password():
        st.warning("No admin password is configured: set ADMIN_PASSWORD in the environment or "
                   "`.streamlit/secrets.toml`.")
        return
    with st.form("admin-sign-in"):
        password = st.text_input("Admin password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if check_password(password):
            st.session_state["admin_user"] = "admin"
            st.session_state["admin_failures"] = 0
            st.rerun()
        else:
            st.error("Wrong password.")


def _oidc_sign_in() -> None:
    if not admin_emails():
        st.warning("No admin e-mail address is configured: set ADMIN_EMAILS (comma-separated) in the "
                   "environment or `.streamlit/secrets.toml`.")
    if st.user.get("is_logged_in"):
        who = st.user.get("email") or "this account"
        reason = ("the identity provider has not verified its e-mail address"
                  if st.user.get("email_verified") is False else "it is not in ADMIN_EMAILS")
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
        st.rerun()
