"""Admin sign-in. Every write and every destructive action calls `require_admin()`.

Default: a shared password from ADMIN_PASSWORD, compared in constant time,
with a delay that grows with recent failures (per visitor session and across
the process, so opening new tabs does not reset it).
"""
from __future__ import annotations

import hmac
import threading
import time

import streamlit as st

from db.settings import setting

_MAX_DELAY_S = 8.0
_failures_lock = threading.Lock()
_process_failures: list[float] = []  # monotonic times of recent failures, all sessions


def admin_password() -> str | None:
    return setting("ADMIN_PASSWORD")


def current_admin() -> str | None:
    """Who is signed in as admin (for audit logs), or None."""
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


def require_admin() -> str:
    """Return the admin's name, or show the sign-in form and stop the page."""
    user = current_admin()
    if user is None:
        sign_in_form()
        st.stop()
    return user


def sign_out_button(where=st.sidebar) -> None:
    if is_admin() and where.button("Sign out", icon=":material/logout:"):
        st.session_state.pop("admin_user", None)
        st.rerun()
