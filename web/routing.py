"""The one workaround for Streamlit's legacy `pages/` routing.

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
