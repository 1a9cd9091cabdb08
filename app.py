"""Creative Atlas: the Streamlit entry point, a router over the pages with Home as the default."""
from __future__ import annotations

import streamlit as st

import ui

st.set_page_config(page_title="Creative Atlas", page_icon=":material/map:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/map.py", title="Map", icon=":material/map:", url_path="map"),
    st.Page("pages/gaps.py", title="Gaps", icon=":material/travel_explore:", url_path="gaps"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
    st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
    st.Page("pages/present.py", title="Present", icon=":material/slideshow:", url_path="present"),
]

page = st.navigation(PAGES)
ui.sidebar()
ui.route(page)
