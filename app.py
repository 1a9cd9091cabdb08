"""Creative Atlas, the Streamlit entry point and its Home page: the workspace and region at a glance.

The other pages are the scripts in pages/ (Streamlit serves each at /<file name>, e.g. /map);
every page starts with `ui.start`, which draws the shared sidebar and its navigation.
"""
from __future__ import annotations

import streamlit as st

import maps
import ui
from atlas.dashboard import coverage_sentence, is_demo, share_text
from loaders.layers import LAYERS
from maps.style import LAYER_LABELS
from maps.text import markdown_text as md

ctx = ui.start("Home")
st.title("Creative Atlas")

if not ui.empty_state(ctx, "Home"):
    st.subheader(md(ctx.region.name))  # region names come from regions.json: data, not markup
    if is_demo(ctx.workspace.path):
        st.caption("Illustrative demo data: invented facilities in real towns, not a real audit.")
    try:
        key = ctx.key()
        bound = ui.boundary(*key)
        content = maps.MapContent(facilities=ui.facility_map(*key, LAYERS), boundary=bound.geometry,
                                  boundary_source=bound.source, settlements=ui.towns(*key),
                                  attribution=bound.attribution)
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=420), height=420, key="home.map")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))

        radius = ui.radius_items(ctx)
        rep = ui.report(*key, radius)
        counts = ui.facility_counts(*key)
        cols = st.columns(4)
        demand = rep["demand"]
        cols[0].metric("Population (settlements 500+)" if demand["source"] == "geonames" else "Population",
                       f"{demand['population']:,}",
                       help=f"{demand['settlements']:,} {demand['kind']} of {demand['source']} inside the boundary.")
        for col, layer in zip(cols[1:], LAYERS):
            planned = counts[layer]["planned"]
            col.metric(LAYER_LABELS[layer], counts[layer]["existing"],
                       help=f"Existing facilities inside the boundary; {planned} more planned.")
        cols = st.columns(4)
        for col, layer in zip(cols, LAYERS):
            figures = rep["layers"][layer]
            col.metric(f"{LAYER_LABELS[layer]} coverage", share_text(figures["coverage_share"]),
                       help=f"{figures['covered_population']:,} people within {dict(radius)[layer]:g} km; "
                            f"{figures['uncovered_settlements']} settlements beyond it.")
        cols[3].metric("Full support", share_text(rep["full_support_share"]))
        if warning := rep["demand"].get("warning"):
            st.warning(md(warning), icon=":material/groups:")
        st.markdown(coverage_sentence(dict(radius)))
        st.caption(" ".join([f"**{md(bound.label[:1].upper() + bound.label[1:])}.**", *(md(n) for n in bound.notes),
                             md(bound.attribution)]))
        if demand["source"] == "geonames":
            st.caption("Settlement points miss dispersed rural population (farms and hamlets under 500 people "
                       "are not counted), so population and coverage figures are approximate.")
        else:
            st.caption(" ".join(md(n) for n in rep["notes"] if "cell centres" in n))
    except ui.USER_ERRORS as exc:
        st.error(md(exc))

    st.page_link("pages/map.py", query_params=ui.query(ctx), label="Explore the map", icon=":material/map:")
    st.page_link("pages/gaps.py", query_params=ui.query(ctx), label="Find the gaps and where a new hub would help most",
                 icon=":material/travel_explore:")
    st.page_link("pages/present.py", query_params=ui.query(ctx), label="Present in a meeting", icon=":material/slideshow:")
