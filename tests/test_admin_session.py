"""The admin's session cookie (web/admin_session.py): one-time tickets, the cookie's
attributes, expiry, sign-out and a changed password. The browser side (a reload keeps
the admin signed in) is in tests/test_demo_browser.py."""

import base64
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette

from tests.helpers import AsgiClient
from web import admin_session

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("EXPORT_SIGNING_KEY", "k" * 40)
    monkeypatch.setenv("ADMIN_PASSWORD", "first-password")
    return AsgiClient(Starlette(routes=admin_session.routes()))


def signed_in(client) -> str:
    response = client.post("/auth/session", data={"ticket": admin_session.ticket("admin")[0]}, headers=ORIGIN)
    assert response.status_code == 200, response.text
    return response.cookies[admin_session.COOKIE]


def test_a_ticket_becomes_a_signed_httponly_samesite_cookie_once(client):
    ticket = admin_session.ticket("admin")[0]
    response = client.post("/auth/session", data={"ticket": ticket}, headers=ORIGIN)
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "max-age=28800" in header and "path=/" in header
    assert admin_session.user_of(response.cookies[admin_session.COOKIE]) == "admin"
    again = client.post("/auth/session", data={"ticket": ticket}, headers=ORIGIN)
    assert again.status_code == 403 and "set-cookie" not in again.headers


def test_refused_without_our_origin_or_with_a_changed_ticket(client):
    ticket = admin_session.ticket("admin")[0]
    assert client.post("/auth/session", data={"ticket": ticket}).status_code == 403
    other = client.post("/auth/session", data={"ticket": ticket}, headers={"origin": "https://evil.example"})
    assert other.status_code == 403
    forged = ticket.replace("user=admin", "user=root")
    refused = client.post("/auth/session", data={"ticket": forged}, headers=ORIGIN)
    assert refused.status_code == 403 and "Sign in again on the Admin page" in refused.text
    assert "download" not in refused.text  # not the export links' wording
    assert client.post("/auth/session", data={"ticket": ""}, headers=ORIGIN).status_code == 403
    huge = client.post("/auth/session", content=b"ticket=" + b"x" * 100_000, headers=ORIGIN)
    assert huge.status_code == 413


def test_a_changed_expired_or_forged_cookie_signs_nobody_in(client, monkeypatch):
    cookie = signed_in(client)
    assert set(cookie) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    signed = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)).decode()
    fields = dict(parse_qsl(signed))
    sid = fields["sid"]
    changed = signed.replace(sid, ("y" if sid[0] == "x" else "x") + sid[1:])  # one character changed
    assert changed != signed
    assert admin_session.user_of(base64.urlsafe_b64encode(changed.encode()).decode()) is None
    assert admin_session.user_of("user=admin") is None and admin_session.user_of(None) is None
    monkeypatch.setenv("ADMIN_PASSWORD", "second-password")  # a new password ends every session
    assert admin_session.user_of(cookie) is None
    monkeypatch.setenv("ADMIN_PASSWORD", "first-password")
    assert admin_session.user_of(cookie) == "admin"
    import time

    monkeypatch.setattr(time, "time", lambda: 10**11)
    assert admin_session.user_of(cookie) is None


def test_sign_out_deletes_the_cookie_and_revokes_copies(client):
    cookie = signed_in(client)
    client.cookies.set(admin_session.COOKIE, cookie)
    response = client.post("/auth/sign-out", headers=ORIGIN)
    assert response.status_code == 200
    header = response.headers["set-cookie"].lower()
    assert 'cruddur_admin=""' in header and "max-age=0" in header
    assert admin_session.user_of(cookie) is None  # a copy kept elsewhere is refused too


def test_zero_hours_turns_the_cookie_off(client, monkeypatch):
    cookie = signed_in(client)
    monkeypatch.setenv("ADMIN_SESSION_HOURS", "0")
    assert admin_session.ticket("admin") is None and admin_session.user_of(cookie) is None


def test_sign_out_in_one_tab_signs_out_the_others_at_their_next_run(client):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    ticket, sid = admin_session.ticket("admin")
    other_tab = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=30)
    other_tab.session_state["admin_user"] = "admin"
    other_tab.session_state["admin_sid"] = sid
    other_tab.run()
    assert not other_tab.text_input  # signed in: no password box
    admin_session.revoke_session(sid)  # what "Sign out" does in the first tab
    other_tab.run()
    assert [t.label for t in other_tab.text_input] == ["Admin password"]


def test_nothing_the_browser_holds_tells_anything_about_the_password(client):
    import hashlib

    ticket = admin_session.ticket("admin")[0]
    cookie = signed_in(client)
    signed = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)).decode()
    for held in (ticket, signed):  # the page's script holds the ticket: JavaScript can read it
        assert {name for name, _ in parse_qsl(held)} == {"user", "sid", "exp", "sig"}
        unkeyed = hashlib.sha256(b"cruddur admin session\0first-password").hexdigest()
        assert unkeyed[:16] not in held and "first-password" not in held


@pytest.mark.parametrize("hours", ["1e308", "inf", "nan", "-1", "eight", "10000"])
def test_an_impossible_session_length_is_a_clear_setting_error(monkeypatch, hours):
    from db.settings import ConfigError, get_settings

    monkeypatch.setenv("ADMIN_SESSION_HOURS", hours)
    with pytest.raises(ConfigError, match="ADMIN_SESSION_HOURS"):
        get_settings()


def test_the_cookie_is_secure_behind_a_proxy_that_ends_tls(client):
    ticket = admin_session.ticket("admin")[0]
    headers = {**ORIGIN, "x-forwarded-proto": "https"}
    response = client.post("/auth/session", data={"ticket": ticket}, headers=headers)
    assert response.status_code == 200 and "secure" in response.headers["set-cookie"].lower()


def test_cross_site_and_get_requests_neither_sign_in_nor_out(client):
    cookie = signed_in(client)
    client.cookies.set(admin_session.COOKIE, cookie)
    for origin in ({}, {"origin": "null"}, {"origin": "http://testserver.evil.example"}):
        refused = client.post("/auth/sign-out", headers=origin)
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    for path in ("/auth/sign-out", "/auth/session"):
        assert client.get(path, headers=ORIGIN).status_code == 405
    assert admin_session.user_of(cookie) == "admin"  # still signed in


def test_a_new_password_ends_a_session_that_is_open_right_now(client, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    tab = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=30).run()
    tab.text_input[0].input("first-password")
    tab.button[0].click().run()
    assert not tab.text_input  # signed in through the form
    monkeypatch.setenv("ADMIN_PASSWORD", "second-password")
    tab.run()
    assert [t.label for t in tab.text_input] == ["Admin password"]
    monkeypatch.setenv("ADMIN_PASSWORD", "first-password")
    tab.run()
    assert [t.label for t in tab.text_input] == ["Admin password"]  # over for good, not paused


def test_the_cookie_script_after_sign_in_is_drawn_in_the_sidebar():
    """Drawn in the main area, this one-off element moved every element of the page on
    the next run, and a form being typed into right after signing in was rebuilt empty."""
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from ui import auth

        auth._cookie_script("/auth/session", "ticket=t")  # what signing in leaves for the browser
        auth.sign_out_button()  # drawn on every page, by the sidebar
        st.text_area("Message")

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    scripts = [h for h in at.get("html") if "fetch(" in h.proto.body]
    assert len(scripts) == 1 and [h for h in at.sidebar.get("html") if "fetch(" in h.proto.body] == scripts
    assert not at.main.get("html") and len(at.main.get("text_area")) == 1
