"""Entry point: routes pages and draws the shared sidebar; nothing else."""

import streamlit as st

from ui import brand
from ui.common import sidebar

st.set_page_config(page_title="Cruddur dashboard", page_icon=str(brand.FAVICON), layout="wide")
brand.logo()

pages = {
    "Growth": [
        st.Page("pages/growth.py", title="Growth", icon=":material/trending_up:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/query_stats:"),
        st.Page("pages/engagement.py", title="Engagement", icon=":material/group:"),
    ],
    "Database": [
        st.Page("pages/sessions.py", title="Sessions", icon=":material/lan:"),
        st.Page("pages/database_connections.py", title="Connections", icon=":material/cable:"),
        st.Page("pages/database_statements.py", title="Top statements", icon=":material/speed:"),
        st.Page("pages/database_health.py", title="Health", icon=":material/health_and_safety:"),
    ],
    "Admin": [st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:")],
}
page = st.navigation(pages)
sidebar()
page.run()
