"""Data page (placeholder until its owner lands it)."""
import streamlit as st

st.title("Data")
st.info("This page is being built.")
