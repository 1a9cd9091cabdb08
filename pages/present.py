"""Present: a full-screen map for alliance meetings, stepping through the story with big type."""
from __future__ import annotations

from html import escape

import streamlit as st

import maps
import ui
from atlas.dashboard import is_demo
from loaders.layers import HUBS
from maps.story import STEPS, step_content
from maps.text import markdown_text as md

ctx = ui.start("Present")
# Meeting mode: no sidebar, no toolbar, big type.
st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
header[data-testid="stHeader"] {display: none !important;}
.block-container {padding-top: 1rem; max-width: 100%;}
.atlas-present h1 {font-size: 3.4rem; margin: 0;}
.atlas-present p {font-size: 2rem; line-height: 1.25; margin: .3rem 0 .6rem 0;}
.atlas-present p.atlas-demo {font-size: 1.5rem; color: #a04000; font-weight: 600;}
div[data-testid="stButton"] button p {font-size: 1.6rem;}
</style>""")

if not ui.empty_state(ctx, "the presentation"):
    st.session_state.setdefault(ui.PRESENT_STEP, 0)
    index = min(max(int(st.session_state[ui.PRESENT_STEP]), 0), len(STEPS) - 1)
    step = STEPS[index]
    key = ctx.key()
    radius = ui.radius_items(ctx)
    try:
        bound = ui.boundary(*key)
        result = ui.coverage(*key, radius, False)
        rep = ui.report(*key, radius, False)
        content, sentence = step_content(
            step, boundary=bound.geometry, boundary_source=bound.source,
            facilities=lambda shown, radius_km: ui.facility_map(
                *key, shown, radius=tuple(radius_km.items()) if radius_km else None, scale=2.0),
            settlements=ui.towns(*key), result=result, counts=ui.facility_counts(*key),
            gaps=ui.gap_areas(*key, radius, False, HUBS) if step.id == "gaps" else None,
            sites=ui.siting(*key, HUBS, dict(radius)[HUBS], 3, False).sites if step.id == "sites" else None,
            demand_kind=("settlements of 500+" if rep["demand"]["source"] == "geonames" else rep["demand"]["kind"]),
            too_few=rep["demand"]["too_few_points"], attribution=bound.attribution,
        )
        where = ctx.workspace_name or ctx.workspace.name
        note = ('<p class="atlas-demo">Illustrative data: invented facilities in real towns, not a real audit.</p>'
                if is_demo(ctx.workspace.path) else "")
        st.html(f'<div class="atlas-present"><h1>{escape(ctx.region.name)} · {escape(step.title)}</h1>'
                f"<p>{escape(sentence)}</p>{note}</div>")
        map_col, legend_col = st.columns([3, 1])
        with map_col:
            st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, scale=2.0, height_px=700, width_px=1100),
                            height=700,
                            key="present.deck")
        with legend_col:
            st.html(maps.legend_html(maps.atlas_legend(content), large=True))
            population = ("settlements of 500+ (dispersed rural population not counted)"
                          if rep["demand"]["source"] == "geonames" else f"population: {md(rep['demand']['source'])}")
            st.caption(f"Step {index + 1} of {len(STEPS)} · workspace: {md(where)} · boundary: {md(bound.source)} · "
                       f"{population}")
    except ui.USER_ERRORS as exc:
        st.error(md(exc))

    back, forward, leave = st.columns([1, 1, 4])
    if back.button("◀ Previous", disabled=index == 0, key="present.prev", width="stretch"):
        st.session_state[ui.PRESENT_STEP] = index - 1
        st.rerun()
    if forward.button("Next ▶", disabled=index == len(STEPS) - 1, key="present.next", width="stretch"):
        st.session_state[ui.PRESENT_STEP] = index + 1
        st.rerun()
    leave.page_link("app.py", query_params=ui.query(ctx), label="Leave meeting mode", icon=":material/close:")
