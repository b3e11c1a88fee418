"""Plain HTTP routes served next to the Streamlit app by app.py.

A Streamlit page can only hand a browser files it holds in memory; routes here
answer ordinary GET requests and can stream. They cannot see a visitor's
Streamlit session, so a page authorises a request by giving out a short-lived
signed link (web.signing).
"""

from __future__ import annotations


def routes() -> list:
    """The Starlette routes app.py adds to Streamlit's own."""
    from web import admin_session, export_route

    return [export_route.route(), *admin_session.routes()]
