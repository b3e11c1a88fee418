"""Admin sign-in (ui/auth.py) through a tiny AppTest script."""
import pytest
from streamlit.testing.v1 import AppTest

from ui.auth import failure_delay


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


def test_delay_grows_and_is_capped():
    delays = [failure_delay(n) for n in range(8)]
    assert delays[0] == 0 and delays == sorted(delays) and delays[-1] == 8.0


# -- OIDC through Streamlit's st.login, when secrets configure a provider ------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-long-random-cookie-secret",
        "google": {"client_id": "id", "client_secret": "s",
                   "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}}


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


@pytest.mark.parametrize("user, reason", [
    ({"is_logged_in": True, "email": "intruder@example.com"}, "it is not in ADMIN_EMAILS"),
    ({"is_logged_in": True, "email": "ceo@cruddur.com", "email_verified": False}, "has not verified"),
])
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
