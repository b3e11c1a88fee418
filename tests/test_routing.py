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


def _served(base_url: str = ""):
    """Streamlit's own static files (index.html for any unknown path) behind the middleware."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from streamlit.web.server.starlette.starlette_static_routes import create_streamlit_static_assets_routes

    from tests.helpers import AsgiClient
    from web.routing import OnePageSegment

    prefix = f"/{base_url}" if base_url else ""
    plain = Route(f"{prefix}/export/raw", lambda request: PlainTextResponse("a,b\n"))
    app = Starlette(
        routes=[plain, *create_streamlit_static_assets_routes(base_url or None)],
        middleware=[Middleware(OnePageSegment)],
    )
    return AsgiClient(app)


def _a_real_asset() -> str:
    from pathlib import Path

    from streamlit import file_util

    static = Path(file_util.get_static_dir())
    return "/" + next(static.glob("static/js/*.js")).relative_to(static).as_posix()


def _lands_on(path: str, location: str) -> str:
    from urllib.parse import urljoin

    assert location.startswith("../"), location  # relative: never a scheme or //host
    return urljoin(f"http://testserver{path}", location).removeprefix("http://testserver")


def test_a_nested_path_goes_to_its_first_segment_instead_of_a_blank_page():
    client = _served()
    for path, landing in [
        ("/etc/passwd", "/etc"),
        ("/explore/old/link?metric=posts&range=last_7_days", "/explore?metric=posts&range=last_7_days"),
        ("/caf%C3%A9/x", "/caf%C3%A9"),
        ("/a%2Fb/c", "/a%2Fb"),  # still one segment
        ("/explore//x", "/explore"),
    ]:
        response = client.get(path)
        assert (response.status_code, response.content) == (307, b"")
        assert _lands_on(path, response.headers["location"]) == landing
    assert client.head("/etc/passwd").status_code == 307
    # A backslash is refused by Streamlit itself; never a protocol-relative //evil.com either way.
    assert not client.get("/%5Cevil.com/x").headers.get("location", "").startswith(("//", "/\\"))


def test_pages_assets_and_other_routes_are_left_alone():
    client = _served()
    assert client.get("/").status_code == 200 and b"<html" in client.get("/").content.lower()
    assert client.get("/explore").status_code == 200  # a page: st.navigation routes it
    assert client.get("/export/raw").text == "a,b\n"  # two segments, not HTML
    asset = _a_real_asset()
    response = client.get(asset)
    assert response.status_code == 200 and "javascript" in response.headers["content-type"], asset
    assert client.post("/etc/passwd").status_code != 307


def test_an_unknown_path_under_streamlits_own_prefixes_goes_to_the_app():
    client = _served()
    for path in ("/static/x", "/static/x/y", "/_stcore/x/y", "/app/x", "/%73tatic/x/y"):
        response = client.get(path)
        assert response.status_code == 307 and _lands_on(path, response.headers["location"]) == "/", path


def test_under_a_base_path_only_what_follows_it_counts(monkeypatch):
    from streamlit import config

    monkeypatch.setattr(config, "get_option", lambda key: "dash" if key == "server.baseUrlPath" else None)
    client = _served("dash")
    assert client.get("/dash/explore").status_code == 200
    response = client.get("/dash/explore/old")
    assert response.status_code == 307
    assert _lands_on("/dash/explore/old", response.headers["location"]) == "/dash/explore"
