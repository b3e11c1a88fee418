"""The floor of a Streamlit page: one constant st.metric and nothing else (bench first_visit's
`constant` variant). The Growth KPIs are compared with the moment this value is painted."""

import streamlit as st

st.metric("Total users", "1,000,000")
