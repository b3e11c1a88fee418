"""What `streamlit run` serves: the dashboard (dashboard.py routes its pages) plus
the few plain HTTP routes a page cannot serve itself, such as streamed raw
extracts (web/). Streamlit finds `app` here and runs it on its own uvicorn
server, with the same .streamlit/config.toml and command-line flags."""

import streamlit as st
from starlette.middleware import Middleware

import web
from db.logs import configure
from web.routing import OnePageSegment, navigation_only

configure()  # the cruddur.* loggers: INFO and up to stderr (the server log)
navigation_only()  # before any session: a deep link is routed by dashboard.py too
app = st.App("dashboard.py", routes=web.routes(), middleware=[Middleware(OnePageSegment)])
