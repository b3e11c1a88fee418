"""The product's face: logo, favicon, page titles, and the presenter's mode.

Every asset is a file in static/ (drawn for this project), served by the app
itself: nothing is fetched from another host, so a meeting room without a
network shows the same page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

STATIC = Path(__file__).resolve().parent.parent / "static"
LOGO = STATIC / "cruddur-logo.svg"  # mark and name, for the sidebar
MARK = STATIC / "cruddur-mark.svg"  # the mark alone: collapsed sidebar, page titles
FAVICON = STATIC / "favicon.png"  # 64 x 64, drawn from the mark
PRESENT_PARAM = "present"

# Present mode: no sidebar, no header or toolbar, no Streamlit decoration; just the page.
_PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stSidebarNav"], [data-testid="stMainMenu"], header { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 2rem !important; max-width: 100% !important; }
</style>
"""


def presenting() -> bool:
    """`?present=1`: the page as shown on a projector."""
    return st.query_params.get(PRESENT_PARAM, "") in ("1", "true", "yes")


def hide_chrome() -> None:
    """Hide everything but the page itself (CSS only: nothing is fetched)."""
    st.html(_PRESENT_CSS)


def logo() -> None:
    """Called by dashboard.py for every page: the logo over the sidebar."""
    st.logo(str(LOGO), icon_image=str(MARK), size="large")


def title(text: str) -> None:
    """The page title with the product's mark beside it (in present mode too, where the
    sidebar and its logo are hidden)."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.image(str(MARK), width=44)
    row.title(text, anchor=False)
