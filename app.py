"""Creative Atlas, the Streamlit entry point and its Home page: the workspace and region at a glance.

The other pages are the scripts in pages/ (Streamlit serves each at /<file name>, e.g. /map);
every page starts with `ui.start`, which draws the shared sidebar and its navigation.
"""
from __future__ import annotations

import streamlit as st

import maps
import ui
from atlas.dashboard import coverage_sentence, is_demo, share_text
from i18n import N_, formats, tr
from i18n import gettext as _
from loaders.layers import LAYERS
from maps.style import layer_label
from maps.text import markdown_text as md

ctx = ui.start("Home")
st.title("Creative Atlas")

if not ui.empty_state(ctx, N_("Home")):
    st.subheader(md(ctx.region.name))  # region names come from regions.json: data, not markup
    if is_demo(ctx.workspace.path):
        st.caption(_("Illustrative demo data: invented facilities in real towns, not a real audit."))
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
        # demand "kind" and "source" name the data ("settlements", "geonames"): shown as they are.
        cols[0].metric(_("Population (settlements 500+)") if demand["source"] == "geonames" else _("Population"),
                       formats.number(demand["population"]),
                       help=_("{count} {kind} of {source} inside the boundary.").format(
                           count=formats.number(demand["settlements"]), kind=demand["kind"], source=demand["source"]))
        for col, layer in zip(cols[1:], LAYERS):
            planned = counts[layer]["planned"]
            col.metric(layer_label(layer), counts[layer]["existing"],
                       help=_("Existing facilities inside the boundary; {planned} more planned.").format(planned=planned))
        cols = st.columns(4)
        for col, layer in zip(cols, LAYERS):
            figures = rep["layers"][layer]
            col.metric(_("{layer} coverage").format(layer=layer_label(layer)), share_text(figures["coverage_share"]),
                       help=_("{people} people within {radius}; {count} settlements beyond it.").format(
                           people=formats.number(figures["covered_population"]), radius=formats.km(dict(radius)[layer]),
                           count=figures["uncovered_settlements"]))
        cols[3].metric(_("Full support"), share_text(rep["full_support_share"]))
        if warning := rep["demand"].get("warning"):
            st.warning(md(tr(warning)), icon=":material/groups:")
        st.markdown(coverage_sentence(dict(radius)))
        label = tr(bound.label)  # English underneath (cached), shown in the reader's language
        st.caption(" ".join([f"**{md(label[:1].upper() + label[1:])}.**", *(md(tr(n)) for n in bound.notes),
                             md(_(bound.attribution))]))
        if demand["source"] == "geonames":
            st.caption(_("Settlement points miss dispersed rural population (farms and hamlets under 500 people "
                         "are not counted), so population and coverage figures are approximate."))
        else:
            st.caption(" ".join(md(tr(n)) for n in rep["notes"] if "cell centres" in n))
    except ui.USER_ERRORS as exc:
        st.error(md(exc))

    st.page_link("pages/map.py", query_params=ui.query(ctx), label=_("Explore the map"), icon=":material/map:")
    st.page_link("pages/gaps.py", query_params=ui.query(ctx), label=_("Find the gaps and where a new hub would help most"),
                 icon=":material/travel_explore:")
    st.page_link("pages/present.py", query_params=ui.query(ctx), label=_("Present in a meeting"),
                 icon=":material/slideshow:")
