"""Admin sign-in (ui/auth.py) through a tiny AppTest script."""
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
