"""Admin sign-in (ui/auth.py) through a tiny AppTest script."""

import re
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.auth
from ui.auth import ADDRESS_BURST, ADDRESS_REFILL_S, SignInThrottle

AUTH_PY = str(Path(ui.auth.__file__).resolve())


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch):
    """Each test starts with no failures on record (the limiter is process-wide)."""
    monkeypatch.setattr(ui.auth, "THROTTLE", SignInThrottle())


@pytest.fixture
def no_sleep_in_auth(monkeypatch):
    """Fail if anything called from ui/auth.py sleeps (Streamlit's own waits are let through)."""
    real_sleep, slept = time.sleep, []

    def guarded(seconds):
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == AUTH_PY:
                slept.append(seconds)
                raise AssertionError(f"ui/auth.py slept {seconds} s")
            frame = frame.f_back
        return real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", guarded)
    yield slept
    assert slept == []


def guarded_page():
    import streamlit as st

    from ui.auth import require_admin

    who = require_admin()
    st.success(f"signed in as {who}")


def test_signed_out_sees_only_the_form_and_wrong_password_is_refused(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct horse")
    at = AppTest.from_function(guarded_page).run()
    assert not at.success
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong password."
    assert not at.success
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert at.success[0].value == "signed in as admin"
    assert not at.text_input  # the form is gone once signed in


def test_without_a_configured_password_nobody_signs_in(monkeypatch):
    at = AppTest.from_function(guarded_page).run()
    assert "No admin password is configured" in at.warning[0].value
    assert not at.success


def test_nothing_in_the_sign_in_code_sleeps():
    assert not re.search(r"\bsleep\s*\(", Path(AUTH_PY).read_text())


def test_a_right_password_signs_in_without_any_sleep(monkeypatch, no_sleep_in_auth):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct horse")
    at = AppTest.from_function(guarded_page).run()
    for _ in range(ADDRESS_BURST - 1):  # failures short of the limit do not slow the right one down
        at.text_input[0].input("wrong")
        at.button[0].click().run()
        assert at.error[0].value == "Wrong password."
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert at.success[0].value == "signed in as admin"


class FrozenClock:
    now = 5000.0

    def __call__(self):
        return self.now


def wrong_attempts(at, n):
    for _ in range(n):
        at.text_input[0].input("wrong")
        at.button[0].click().run()
        assert at.error[0].value == "Wrong password."


def test_past_the_limit_even_the_right_password_is_refused_at_once_unchecked(monkeypatch, no_sleep_in_auth):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct horse")
    clock = FrozenClock()
    monkeypatch.setattr(ui.auth, "THROTTLE", SignInThrottle(clock=clock))
    at = AppTest.from_function(guarded_page).run()
    wrong_attempts(at, ADDRESS_BURST)
    compared, real_check = [], ui.auth.check_password
    monkeypatch.setattr(
        ui.auth, "check_password", lambda candidate: compared.append(candidate) or real_check(candidate)
    )
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert at.error[0].value == f"Too many sign-in attempts; try again in {ADDRESS_REFILL_S:.0f} s."
    assert not at.success and compared == []  # the password was not even looked at
    # a new session (tab) from the same address is throttled just the same
    fresh = AppTest.from_function(guarded_page).run()
    fresh.text_input[0].input("correct horse")
    fresh.button[0].click().run()
    assert "Too many sign-in attempts" in fresh.error[0].value and not fresh.success
    assert compared == []
    clock.now += ADDRESS_REFILL_S  # one attempt's worth comes back
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert at.success[0].value == "signed in as admin" and compared == ["correct horse"]


def test_another_address_is_not_throttled(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct horse")
    at = AppTest.from_function(guarded_page).run()
    wrong_attempts(at, ADDRESS_BURST)
    monkeypatch.setattr(ui.auth, "client_address", lambda: "203.0.113.9")
    other = AppTest.from_function(guarded_page).run()
    other.text_input[0].input("correct horse")
    other.button[0].click().run()
    assert other.success[0].value == "signed in as admin"


def address_page():
    import streamlit as st

    from ui.auth import client_address

    st.write(client_address())


def test_an_unknown_client_address_shares_one_key():
    assert ui.auth.client_address() == ui.auth.UNKNOWN_ADDRESS  # no Streamlit session at all
    at = AppTest.from_function(address_page).run()  # AppTest's client is a mock, not an address
    assert at.markdown[0].value == ui.auth.UNKNOWN_ADDRESS


# -- OIDC through Streamlit's st.login, when secrets configure a provider ------

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret",
    "google": {
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
    },
}


def oidc_app(user: dict, auth: dict = AUTH) -> AppTest:
    at = AppTest.from_function(guarded_page)
    at.secrets["auth"] = auth
    at.user = user
    return at.run()


def test_providers_are_read_like_st_login_reads_them():
    from ui.auth import oidc_providers

    assert oidc_providers(None) == [] and oidc_providers({"redirect_uri": "x"}) == []
    assert oidc_providers(AUTH) == ["google"]
    assert oidc_providers({"client_id": "x", "okta": {"client_id": "y"}, "other": {}}) == ["default", "okta"]


def test_with_oidc_the_password_form_gives_way_to_the_provider(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct horse")
    monkeypatch.setenv("ADMIN_EMAILS", "ceo@cruddur.com")
    at = oidc_app({})
    assert not at.text_input and not at.success
    assert [b.label for b in at.button] == ["Sign in with Google"]


def test_an_allowed_email_is_an_admin(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "andrew@cruddur.com, CEO@Cruddur.com")
    at = oidc_app({"is_logged_in": True, "email": "ceo@cruddur.com", "email_verified": True})
    assert at.success[0].value == "signed in as ceo@cruddur.com"


@pytest.mark.parametrize(
    "user, reason",
    [
        ({"is_logged_in": True, "email": "intruder@example.com"}, "it is not in ADMIN_EMAILS"),
        ({"is_logged_in": True, "email": "ceo@cruddur.com", "email_verified": False}, "has not verified"),
    ],
)
def test_others_are_refused_and_can_sign_out(monkeypatch, user, reason):
    monkeypatch.setenv("ADMIN_EMAILS", "ceo@cruddur.com")
    at = oidc_app(user)
    assert not at.success
    assert reason in at.error[0].value
    at.button(key="oidc-sign-out-denied").click().run()
    assert at.user == {"is_logged_in": False}  # st.logout cleared the identity


def test_without_admin_emails_nobody_is_admin():
    at = oidc_app({"is_logged_in": True, "email": "ceo@cruddur.com"})
    assert not at.success
    assert "ADMIN_EMAILS" in at.warning[0].value


def sign_out_page():
    import streamlit as st

    from ui.auth import current_admin, sign_out_button

    sign_out_button(st)
    st.write(f"admin: {current_admin()}")


def test_sign_out_is_one_click_with_oidc(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "ceo@cruddur.com")
    at = AppTest.from_function(sign_out_page)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "ceo@cruddur.com"}
    at.run()
    assert at.markdown[0].value == "admin: ceo@cruddur.com"
    at.button[0].click().run()
    assert at.user == {"is_logged_in": False}


def test_sign_out_is_one_click_with_the_password(monkeypatch):
    at = AppTest.from_function(sign_out_page)
    at.session_state["admin_user"] = "admin"
    at.run()
    assert at.markdown[0].value == "admin: admin"
    at.button[0].click().run()
    assert at.markdown[0].value == "admin: None" and not at.button


def _fragment_page():
    import streamlit as st

    from ui.auth import is_admin, rerun_if_admin_changed

    runs = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    stale = st.session_state.pop("fragment_thinks_admin", None)  # what a run_every fragment still holds
    if stale is not None:
        rerun_if_admin_changed(stale)
    st.write(f"runs {runs}, admin {is_admin()}")


def test_a_fragment_made_for_an_admin_reruns_the_page_once_signed_out(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "secret-password")
    at = AppTest.from_function(_fragment_page, default_timeout=30)
    at.session_state["admin_user"] = "admin"
    at.run()
    assert at.markdown[0].value == "runs 1, admin True"
    at.session_state["fragment_thinks_admin"] = True
    at.run()
    assert at.markdown[0].value == "runs 2, admin True"  # still signed in: nothing happens
    at.session_state["admin_user"] = None  # signed out in another tab (ui.auth found the sid revoked)
    at.session_state["fragment_thinks_admin"] = True
    at.run()
    # The stale admin decision made the whole page run again, this time as a visitor.
    assert at.markdown[0].value == "runs 4, admin False" and not at.exception
