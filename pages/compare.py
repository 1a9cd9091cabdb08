"""Compare: every region side by side — facilities, reach and the largest town left out."""
from __future__ import annotations

import streamlit as st

import ui
from atlas.dashboard import comparison_views
from loaders.layers import LAYERS
from maps.style import LAYER_RGB, hex_colour
from maps.text import markdown_text as md

COLOURS = [hex_colour(LAYER_RGB[layer]) for layer in LAYERS]  # the map's layer colours

ctx = ui.start("Compare")
st.title("Compare regions")

if not ui.empty_state(ctx, "the comparison"):
    planned = st.toggle("Count planned sites", key="compare.planned",
                        help="A scenario: planned facilities count as if they were open.")
    try:
        with st.spinner("Comparing regions…"):
            table, details = ui.comparison(ctx.path, ctx.stamp, ctx.online, planned)
        views = comparison_views(table)
        st.dataframe(views["table"], hide_index=True, width="stretch", column_config={
            "region": st.column_config.TextColumn(pinned=True),  # stays in view when the table scrolls sideways
            "population": st.column_config.NumberColumn(format="localized"),
            "its population": st.column_config.NumberColumn(format="localized"),
            "median km to hub": st.column_config.NumberColumn(
                help="Half the population lives at most this far from the nearest hub (straight line, km).")})
        st.caption("Each region uses its own boundary and radii and every facility in the workspace "
                   "(one just outside a region still serves the towns near it). Settlement points miss "
                   "dispersed rural population, so shares are approximate.")
        left, right = st.columns(2)
        with left:
            st.subheader("Population within reach (%)")
            st.bar_chart(views["coverage"], stack=False, horizontal=True, height=380, color=COLOURS + ["#555555"],
                         # Streamlit swaps the axes of a horizontal chart, labels included: y_label titles
                         # the horizontal (value) axis here.
                         x_label="", y_label="% of the population in settlements")
        with right:
            st.subheader("Facilities per 100,000 people")
            st.bar_chart(views["per_100k"], stack=False, horizontal=True, height=380, color=COLOURS,
                         x_label="", y_label="facilities per 100,000 inhabitants")
        with st.expander("Boundaries used"):
            for region_id, info in details.items():
                st.markdown(f"- **{md(region_id)}**: {md(info['boundary'])} — {md(info['boundary_label'])}")
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
