"""Workarounds for Streamlit's routing: its legacy `pages/` guess, and nested paths.

Streamlit treats an app whose main script sits beside a `pages/` folder as an
old-style multipage app until some session has run st.navigation: a deep link
such as /admin as the very first request would then run the page bare (no
sidebar, Streamlit's own page list). Streamlit 1.67 has no public switch for
it. app.py clears the flag once, before any session starts; every page also
calls `ensure_routed()` first, for runtimes that set the flag again per run
(AppTest does, each run). tests/test_routing.py fails the day Streamlit stops
setting it, and this can go.
"""

from __future__ import annotations

from urllib.parse import quote, unquote


def navigation_only() -> None:
    """Route every request through dashboard.py's st.navigation, the first one included."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def ensure_routed() -> None:
    """Every page calls this first: a page run bare (the flag was set) switches the
    process to st.navigation routing and reruns through dashboard.py."""
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        navigation_only()
        st.rerun()


# Streamlit's own path prefixes: never a page.
_STREAMLIT_PREFIXES = frozenset({"_stcore", "static", "media", "component", "app"})


class OnePageSegment:
    """ASGI middleware: a page's address is one path segment (/explore).

    Streamlit's static files answer any unknown path with index.html, whose script
    paths are relative: on a nested path (/etc/passwd, /explore/old-link) they
    resolve under it, every one fails and the visitor gets a blank page with status
    200. Such a GET or HEAD answered with HTML is redirected to its first segment,
    which st.navigation routes (an unknown one to the default page); the query
    string is kept. Under Streamlit's own prefixes (/static/x) it goes to the app."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        target = self._first_segment(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        redirecting = False

        async def send_or_redirect(message) -> None:
            nonlocal redirecting
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if message["status"] == 200 and headers.get(b"content-type", b"").startswith(b"text/html"):
                    redirecting = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 307,
                            "headers": [
                                (b"location", target),
                                (b"content-length", b"0"),
                                (b"cache-control", b"no-store"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": b""})
                    return
            elif redirecting:
                return  # index.html's body, replaced by the redirect
            await send(message)

        await self.app(scope, receive, send_or_redirect)

    @staticmethod
    def _first_segment(scope) -> bytes | None:
        """Where a nested page path should go, relative to it (../explore?query), else None.
        Relative, so that a proxy serving the app under a prefix of its own keeps it."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        from streamlit import config

        base = [p for p in (config.get_option("server.baseUrlPath") or "").split("/") if p]
        raw = scope.get("raw_path") or scope["path"].encode()
        segments = raw.split(b"?")[0].decode("latin-1").split("/")[1:]
        if segments[: len(base)] != base:
            return None
        rest = segments[len(base) :]
        if len(rest) < 2 or not rest[0]:
            return None
        first = unquote(rest[0])
        if first in _STREAMLIT_PREFIXES:
            if first == "app" and config.get_option("server.enableStaticServing"):
                return None  # the app's own static files may be HTML
            return ("../" * (len(rest) - 1)).encode()  # not a page under Streamlit's own paths: the app
        # Re-encoded, after at least one "../": never a scheme or a protocol-relative address.
        path = "../" * (len(rest) - 1) + quote(first, safe="")
        query = scope.get("query_string") or b""
        return path.encode("latin-1") + (b"?" + query if query else b"")
