"""Gaps: radii per layer, coverage figures, towns beyond reach, and where k new sites would help most."""
from __future__ import annotations

import hashlib

import streamlit as st

import maps
import ui
from access import SAVE_SITE
from analysis.coverage import sectors_in
from analysis.gaps import uncovered
from atlas.dashboard import (
    area_table,
    planned_near,
    share_text,
    site_key,
    sites_table,
    siting_sentence,
    suggested_site_feature,
    uncovered_table,
)
from loaders.layers import LAYERS
from maps.style import LAYER_LABELS
from maps.text import markdown_text as md

ctx = ui.start("Gaps")
st.title("Gaps")

if not ui.empty_state(ctx, "the gap analysis"):
    defaults = dict(ui.radius_items(ctx))
    with st.container(border=True):
        cols = st.columns(5)
        radius = tuple(
            (layer, float(col.slider(f"{LAYER_LABELS[layer]} radius (km)", 1, 100, int(round(defaults[layer])),
                                     key=f"gaps.radius.{ctx.region.id}.{layer}")))
            for col, layer in zip(cols, LAYERS)
        )
        planned = cols[3].toggle("Count planned sites", key="gaps.planned",
                                 help="A scenario: planned facilities count as if they were open.")
        focus = cols[3].selectbox("Focus layer", LAYERS, key="gaps.focus", format_func=LAYER_LABELS.get)
        sector = cols[3].selectbox("Sector", ["", *sectors_in(ui.facilities(ctx.path, ctx.stamp))], key="gaps.sector",
                                   format_func=lambda name: name or "All sectors",
                                   help="Count only the facilities that list this creative sector (or all sectors).")
        k = cols[4].slider("New sites to suggest", 0, 10, 3, key="gaps.k")
        show_gaps = cols[4].toggle("Show gap areas", value=True, key="gaps.areas")
        show_shares = cols[4].toggle("Shade areas by coverage", key="gaps.choropleth",
                                     help="Colour each municipality/county (imported areas, else NUTS 3) by the "
                                          "share of its people within reach of the focus layer.")

    key = ctx.key()
    try:
        bound = ui.boundary(*key)
        result = ui.coverage(*key, radius, planned, sector)
        rep = ui.report(*key, radius, planned, sector)
        figures = st.columns(5)
        for col, layer in zip(figures, LAYERS):
            col.metric(f"{LAYER_LABELS[layer]} coverage", share_text(rep["layers"][layer]["coverage_share"]),
                       help=f"{result.layers[layer]['uncovered_settlements']} {rep['demand']['kind']} beyond "
                            f"{dict(radius)[layer]:g} km.")
        figures[3].metric("Full support", share_text(rep["full_support_share"]))
        figures[4].metric("Population", f"{result.population:,}",
                          help=f"People in the {rep['demand']['kind']} of {rep['demand']['source']} inside the region.")
        if warning := rep["demand"].get("warning"):
            st.warning(md(warning), icon=":material/groups:")
        by_area, areas_source = ui.areas(*key, radius, planned, sector)
        siting = ui.siting(*key, focus, dict(radius)[focus], k, planned, sector) if k else None
        sites = siting.sites if siting is not None else []
        places = ui.town_coverage(*key, radius, planned, sector)  # the towns, also when the demand is a grid
        towns = uncovered(places)
        content = maps.MapContent(
            facilities=ui.facility_map(*key, (focus,), radius=((focus, dict(radius)[focus]),),
                                       include_planned=planned, sector=sector),
            boundary=bound.geometry, boundary_source=bound.source, settlements=ui.towns(*key),
            gaps=ui.gap_areas(*key, radius, planned, focus, sector) if show_gaps else None,
            uncovered=places.settlements[~places.settlements[f"covered_{focus}"]], sites=sites, sites_layer=focus,
            areas=by_area if show_shares else None, areas_layer=focus, attribution=bound.attribution,
        )
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=520), height=520, key="gaps.deck")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))
        st.caption(f"{md(bound.label[:1].upper() + bound.label[1:])}. Demand: {md(rep['demand']['source'])} "
                   f"({rep['demand']['settlements']:,} {rep['demand']['kind']}). "
                   + " ".join(md(n) for n in rep["notes"] if n != rep["demand"].get("warning")))
        if by_area is not None:
            st.subheader(f"Coverage by area ({md(areas_source)})")
            st.dataframe(area_table(by_area, list(LAYERS)), hide_index=True, width="stretch")

        left, right = st.columns([3, 2])
        with left:
            table = uncovered_table(towns, layer=focus)
            st.subheader(f"Towns beyond reach of {LAYER_LABELS[focus].lower()} ({len(table)})")
            st.dataframe(table, hide_index=True, width="stretch", height=320)
        with right:
            st.subheader(f"{len(sites)} suggested new site{'s' if len(sites) != 1 else ''}")
            if sites:
                near_plans = planned_near(sites, ui.facilities(ctx.path, ctx.stamp, sector), focus, dict(radius)[focus])
                st.dataframe(sites_table(sites, None if planned else near_plans), hide_index=True, width="stretch",
                             column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("lat", "lon")})
                st.caption(md(siting_sentence(siting)))
                if any(near_plans) and not planned:
                    st.caption("'planned nearby': a planned facility of this layer already lies within reach of the "
                               "site; turn on 'Count planned sites' to see the gaps the plans leave.")
                if ctx.can(SAVE_SITE):
                    # Chosen by identity, not rank: when the list changes (another radius, planned sites
                    # counted), the picker is a new widget, so a stale choice can never save another site.
                    by_key = {site_key(site): site for site in sites}
                    ranks = {key: rank for rank, key in enumerate(by_key, start=1)}
                    choice = st.selectbox("Suggested site", list(by_key),
                                          key="gaps.pick." + hashlib.sha1("|".join(by_key).encode()).hexdigest()[:12],
                                          format_func=lambda key: f"{ranks[key]}: near {by_key[key]['name']}")
                    if st.button("Add to the workspace as a planned facility", key="gaps.add", type="primary"):
                        site = by_key[choice]
                        row = suggested_site_feature(site, layer=focus, country=ctx.region.countries[0])
                        ctx.workspace.add_features(row, summary=f"saved suggested site near {site['name']} "
                                                                f"as a planned {focus} facility")
                        st.session_state[ui.SAVED_SITE] = f"Saved '{md(row['name'].iloc[0])}' as a planned facility."
                        st.rerun()
            elif k:
                st.caption(f"No new site adds anyone: everyone a candidate site could reach is already within "
                           f"{dict(radius)[focus]:g} km of {LAYER_LABELS[focus].lower()}.")
            else:
                st.caption("Set 'New sites to suggest' above 0 to search for sites.")
        if st.session_state.get(ui.SAVED_SITE):
            st.success(st.session_state.pop(ui.SAVED_SITE))
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
