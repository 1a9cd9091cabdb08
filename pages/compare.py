"""Compare: every region side by side — facilities, reach and the largest town left out."""
from __future__ import annotations

import streamlit as st

import ui
from atlas.dashboard import comparison_views
from i18n import N_
from i18n import gettext as _
from loaders.layers import LAYERS
from maps.style import LAYER_RGB, hex_colour
from maps.text import markdown_text as md

COLOURS = [hex_colour(LAYER_RGB[layer]) for layer in LAYERS]  # the map's layer colours

ctx = ui.start("Compare")
st.title(_("Compare regions"))

if not ui.empty_state(ctx, N_("the comparison")):
    planned = st.toggle(_("Count planned sites"), key="compare.planned",
                        help=_("A scenario: planned facilities count as if they were open."))
    try:
        with st.spinner(_("Comparing regions…")):
            table, details = ui.comparison(ctx.path, ctx.stamp, ctx.online, planned)
        views = comparison_views(table)
        # The columns are named in the reader's language (`comparison_views`), so are their settings.
        st.dataframe(views["table"], hide_index=True, width="stretch", column_config={
            _("region"): st.column_config.TextColumn(pinned=True),  # stays in view when the table scrolls sideways
            _("population"): st.column_config.NumberColumn(format="localized"),
            _("its population"): st.column_config.NumberColumn(format="localized"),
            _("median km to hub"): st.column_config.NumberColumn(
                help=_("Half the population lives at most this far from the nearest hub (straight line, km)."))})
        st.caption(_("Each region uses its own boundary and radii and every facility in the workspace "
                     "(one just outside a region still serves the towns near it). Settlement points miss "
                     "dispersed rural population, so shares are approximate."))
        left, right = st.columns(2)
        with left:
            st.subheader(_("Population within reach (%)"))
            st.bar_chart(views["coverage"], stack=False, horizontal=True, height=380, color=COLOURS + ["#555555"],
                         # Streamlit swaps the axes of a horizontal chart, labels included: y_label titles
                         # the horizontal (value) axis here.
                         x_label="", y_label=_("% of the population in settlements"))
        with right:
            st.subheader(_("Facilities per 100,000 people"))
            st.bar_chart(views["per_100k"], stack=False, horizontal=True, height=380, color=COLOURS,
                         x_label="", y_label=_("facilities per 100,000 inhabitants"))
        with st.expander(_("Boundaries used")):
            for region_id, info in details.items():
                st.markdown(f"- **{md(region_id)}**: {md(info['boundary'])} — {md(info['boundary_label'])}")
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
