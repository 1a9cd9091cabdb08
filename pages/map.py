"""Map: hubs, training and networks as toggleable layers, with analysis overlays and click-for-details.

The map comes first and fills the window: the controls sit in a row of popovers above it,
and the clicked feature's record and the legend in a panel beside it.
"""
from __future__ import annotations

import streamlit as st

import maps
import ui
from i18n import N_
from i18n import gettext as _
from loaders.layers import ALL_LAYERS, LAYERS
from maps.filters import map_caption, record_for_display, selected_feature_ids
from maps.style import kind_label, layer_label, sector_label, status_label
from maps.text import markdown_text as md
from maps.text import web_link

# The canvas: its height is ours; its width is the map column's at a 1400 px window with the
# sidebar open (measured). The view is fitted for this size, so a wider window only adds margin.
MAP_HEIGHT_PX = 500
MAP_WIDTH_PX = 640
RECORD_HEIGHT_PX = 250

ctx = ui.start("Map")
title, bar = st.columns([1, 5], vertical_alignment="center")
title.title(_("Map"))

if not ui.empty_state(ctx, N_("the map")):
    key = ctx.key()
    workspace = ui.summary(ctx.path, ctx.stamp)
    present = workspace["present"]
    options = workspace["options"]
    with bar.container(horizontal=True, vertical_alignment="center"):
        with st.popover(_("Layers"), icon=":material/layers:"):
            shown = tuple(
                layer for layer in ALL_LAYERS
                if (layer in LAYERS or layer in present)
                and st.checkbox(layer_label(layer), value=True, key=f"map.show.{layer}")
            )
        # Kinds, sectors and statuses are filtered on their canonical values; only their labels are translated.
        with st.popover(_("Filters: kind, sector, status"), icon=":material/filter_alt:"):
            kinds = st.multiselect(_("Kind"), options["kind"], key="map.kinds", format_func=kind_label)
            sectors = st.multiselect(_("Sector"), options["sectors"], key="map.sectors", format_func=sector_label)
            statuses = st.multiselect(_("Status"), options["status"], key="map.statuses", format_func=status_label)
        with st.popover(_("Analysis overlays"), icon=":material/stacks:"):
            discs = st.toggle(_("Coverage discs (region radii)"), key="map.discs")
            gaps_on = st.toggle(_("Gap areas"), key="map.gaps")
            grid_on = st.toggle(_("H3 distance grid"), key="map.h3")
            catchments_on = st.toggle(_("Catchments"), key="map.catchments")
            shares_on = st.toggle(_("Coverage by area"), key="map.choropleth",
                                  help=_("Colour each municipality/county (imported areas, else NUTS 3) by the share "
                                         "of its people within reach of the chosen layer."))
            focus = st.selectbox(_("Layer for gaps, grid, catchments and areas"), LAYERS, key="map.focus",
                                 format_func=layer_label)
            network, measure, mode = ui.travel_choice(ctx)  # nothing drawn without a street network
            iso_on = measure == "minutes" and st.toggle(
                _("Isochrones (travel time)"), key="map.isochrones",
                help=_("The area each facility of the chosen layer is reached from within the minutes set on Gaps."))

    map_col, side = st.columns([7, 3])
    event = None
    try:
        bound = ui.boundary(*key)
        radius = ui.radius_items(ctx)
        facilities = ui.facility_map(*key, shown, tuple(kinds), tuple(sectors), tuple(statuses),
                                     radius=radius if discs else None, view_px=(MAP_WIDTH_PX, MAP_HEIGHT_PX))
        areas = ui.areas(*key, radius, False)[0] if shares_on else None
        content = maps.MapContent(
            facilities=facilities, boundary=bound.geometry, boundary_source=bound.source,
            settlements=ui.towns(*key), gaps=ui.gap_areas(*key, radius, False, focus) if gaps_on else None,
            h3_grid=ui.h3_grid(*key, False) if grid_on else None, h3_layer=focus,
            catchments=({focus: ui.travel_catchments(*key, network["sha256"], mode, focus, False)}
                        if measure == "minutes" else {focus: ui.catchments(*key, focus, False)}) if catchments_on else {},
            isochrones=ui.isochrones(ctx.path, ctx.stamp, network["sha256"], mode, focus,
                                     dict(ui.travel_minutes(ctx))[focus]) if iso_on else None,
            areas=areas, areas_layer=focus,
            attribution=bound.attribution,
        )
        with map_col:
            deck = maps.atlas_deck(content, basemap=ctx.online, height_px=MAP_HEIGHT_PX, width_px=MAP_WIDTH_PX)
            event = st.pydeck_chart(deck, height=MAP_HEIGHT_PX, on_select="rerun", selection_mode="single-object",
                                    key="map.deck")
            st.caption(md(map_caption(facilities, workspace["count"], bound.source, radius, region=ctx.region.name)))
            if measure == "minutes" and (catchments_on or iso_on):
                from atlas.travel_views import mode_phrase, reach_text

                st.caption(_("Travel time {mode} on the street network {file}.").format(
                    mode=mode_phrase(mode), file=md(network["file"]))
                    + (" " + _("Catchments: each place belongs to the facility it reaches first by road.")
                       if catchments_on else "")
                    + (" " + _("Isochrones: where each facility is reached from {reach}.").format(
                        reach=reach_text(dict(ui.travel_minutes(ctx))[focus], mode)) if iso_on else ""))
            if shares_on and areas is None:
                st.caption(_("Coverage by area: {region} has no areas to colour (fewer than two NUTS 3 regions and no "
                             "imported municipalities or counties). Import an area file on the Data page.").format(
                    region=md(ctx.region.name)))
        legend = maps.legend_html(maps.atlas_legend(content))
    except ui.USER_ERRORS as exc:
        map_col.error(md(exc))
        legend = None

    with side:
        picked = selected_feature_ids(event.selection if event is not None else None)
        record = ui.feature_record(ctx.path, ctx.stamp, picked[0]) if picked else None
        if record is not None and not record.empty:
            values = dict(zip(record["field"], record["value"]))
            st.subheader(_("Selected: {name}").format(name=md(values.get("name") or picked[0])))
            kind, town = values.get("kind"), values.get("town")
            if about := " · ".join(v for v in (kind_label(kind) if kind else kind, town) if v and v not in ("None", "nan")):
                st.caption(md(about))
            # Only an http(s) address becomes a link; anything else (javascript:, data:) stays text in the table.
            if link := web_link(values.get("website")):
                st.link_button(_("Open the website"), link, icon=":material/open_in_new:")
            st.dataframe(record_for_display(record), hide_index=True, width="stretch", height=RECORD_HEIGHT_PX)
        else:
            st.caption(_("Click a facility on the map: its full record shows here."))
        if legend:
            st.html(legend)
