"""Pins the Streamlit behaviour web/routing.py works around: a main script beside a
`pages/` folder makes Streamlit assume old-style multipage routing until st.navigation
runs. The day this test fails, Streamlit stopped doing so and web/routing.py can go."""

from streamlit.runtime.pages_manager import PagesManager

from tests.conftest import ROOT


def test_streamlit_still_guesses_legacy_routing_from_a_pages_folder(monkeypatch):
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(str(ROOT / "dashboard.py"))
    assert PagesManager.uses_pages_directory is True


def test_the_app_clears_the_guess_before_any_session(monkeypatch):
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    from web.routing import navigation_only

    navigation_only()
    PagesManager(str(ROOT / "dashboard.py"))
    assert PagesManager.uses_pages_directory is False
