"""Map: hubs, training and networks as toggleable layers, with analysis overlays and click-for-details."""
from __future__ import annotations

import streamlit as st

import maps
import ui
from loaders.layers import ALL_LAYERS, LAYERS
from maps.filters import map_caption, selected_feature_ids
from maps.style import LAYER_LABELS
from maps.text import markdown_text as md
from maps.text import web_link

ctx = ui.start("Map")
st.title("Map")

if not ui.empty_state(ctx, "the map"):
    key = ctx.key()
    workspace = ui.summary(ctx.path, ctx.stamp)
    present = workspace["present"]
    controls, overlays = st.columns(2)
    with controls:
        st.markdown("**Layers**")
        toggle_cols = st.columns(4)
        shown = tuple(
            layer for col, layer in zip(toggle_cols, ALL_LAYERS)
            if (layer in LAYERS or layer in present)
            and col.checkbox(LAYER_LABELS[layer], value=True, key=f"map.show.{layer}")
        )
        options = workspace["options"]
        with st.expander("Filters: kind, sector, status"):
            kinds = st.multiselect("Kind", options["kind"], key="map.kinds")
            sectors = st.multiselect("Sector", options["sectors"], key="map.sectors")
            statuses = st.multiselect("Status", options["status"], key="map.statuses")
    with overlays:
        st.markdown("**Analysis overlays**")
        discs = st.toggle("Coverage discs (region radii)", key="map.discs")
        gaps_on = st.toggle("Gap areas", key="map.gaps")
        grid_on = st.toggle("H3 distance grid", key="map.h3")
        catchments_on = st.toggle("Catchments", key="map.catchments")
        shares_on = st.toggle("Coverage by area", key="map.choropleth",
                              help="Colour each municipality/county (imported areas, else NUTS 3) by the share of "
                                   "its people within reach of the chosen layer.")
        focus = st.selectbox("Layer for gaps, grid, catchments and areas", LAYERS, key="map.focus",
                             format_func=LAYER_LABELS.get)

    try:
        bound = ui.boundary(*key)
        radius = ui.radius_items(ctx)
        facilities = ui.facility_map(*key, shown, tuple(kinds), tuple(sectors), tuple(statuses),
                                     radius=radius if discs else None)
        content = maps.MapContent(
            facilities=facilities, boundary=bound.geometry, boundary_source=bound.source,
            settlements=ui.towns(*key), gaps=ui.gap_areas(*key, radius, False, focus) if gaps_on else None,
            h3_grid=ui.h3_grid(*key, False) if grid_on else None, h3_layer=focus,
            catchments={focus: ui.catchments(*key, focus, False)} if catchments_on else {},
            areas=ui.areas(*key, radius, False)[0] if shares_on else None, areas_layer=focus,
            attribution=bound.attribution,
        )
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            event = st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=620), height=620,
                                    on_select="rerun", selection_mode="single-object", key="map.deck")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))
        inside = sum(n for counts in ui.facility_counts(*key).values() for n in counts.values())
        st.caption(md(map_caption(facilities, workspace["count"], bound.source, radius, inside=inside,
                                  region=ctx.region.name)))
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
        event = None

    picked = selected_feature_ids(event.selection if event is not None else None)
    if picked:
        record = ui.feature_record(ctx.path, ctx.stamp, picked[0])
        values = dict(zip(record["field"], record["value"]))
        st.subheader("Selected: " + md(values.get("name") or picked[0]))
        st.dataframe(record, hide_index=True, width="stretch")
        # Only an http(s) address becomes a link; anything else (javascript:, data:) stays text in the table.
        if link := web_link(values.get("website")):
            st.link_button("Open the website", link, icon=":material/open_in_new:")
