"""Map: hubs, training and networks as toggleable layers, with analysis overlays and click-for-details."""
from __future__ import annotations

import streamlit as st

import maps
import ui
from loaders.layers import ALL_LAYERS, LAYERS
from maps.filters import feature_record, filter_features, filter_options, selected_feature_ids
from maps.style import LAYER_LABELS

ctx = ui.context()
st.title("Map")

if not ui.empty_state(ctx, "the map"):
    frame = ui.features(ctx.path, ctx.stamp)
    controls, overlays = st.columns(2)
    with controls:
        st.markdown("**Layers**")
        toggle_cols = st.columns(4)
        shown = tuple(
            layer for col, layer in zip(toggle_cols, ALL_LAYERS)
            if (layer in LAYERS or (frame["layer"] == layer).any())
            and col.checkbox(LAYER_LABELS[layer], value=True, key=f"map.show.{layer}")
        )
        options = filter_options(frame)
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
        focus = st.selectbox("Layer for gaps, grid and catchments", LAYERS, key="map.focus",
                             format_func=LAYER_LABELS.get)

    shown_frame = filter_features(frame, layers=shown, kinds=kinds, sectors=sectors, statuses=statuses)
    try:
        bound = ui.boundary(ctx.path, ctx.stamp, ctx.region.id, ctx.online)
        radius = ui.radius_items(ctx)
        key = (ctx.path, ctx.stamp, ctx.region.id, ctx.online)
        content = maps.MapContent(
            features=shown_frame, layers=shown, boundary=bound.geometry, boundary_source=bound.source,
            settlements=ui.demand(*key), radius_km=dict(radius) if discs else None,
            gaps=ui.gap_areas(*key, radius, False, focus) if gaps_on else None,
            h3_grid=ui.h3_grid(*key, False) if grid_on else None, h3_layer=focus,
            catchments={focus: ui.catchments(*key, focus, False)} if catchments_on else {},
        )
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            event = st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=620), height=620,
                                    on_select="rerun", selection_mode="single-object", key="map.deck")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))
        unlocated = int((shown_frame.geometry.isna() | shown_frame.geometry.is_empty).sum())
        st.caption(f"Showing {len(shown_frame) - unlocated} of {len(frame)} features"
                   + (f" ({unlocated} without a location are not drawn)" if unlocated else "")
                   + f" · boundary: {bound.source} · radii: "
                   + ", ".join(f"{k} {v:g} km" for k, v in radius) + ". Click a facility for its full record.")
    except ui.USER_ERRORS as exc:
        st.error(str(exc))
        event = None

    picked = selected_feature_ids(event.selection if event is not None else None)
    if picked:
        record = feature_record(frame, picked[0])
        name = record.loc[record["field"] == "name", "value"]
        st.subheader(f"Selected: {name.iloc[0] if len(name) else picked[0]}")
        st.dataframe(record, hide_index=True, width="stretch")
