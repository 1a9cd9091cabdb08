"""Compare: every region side by side — facilities, reach and the largest town left out."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import ui
from atlas.dashboard import comparison_views
from i18n import N_
from i18n import gettext as _
from loaders.layers import LAYERS
from maps.style import LAYER_RGB, hex_colour
from maps.text import markdown_text as md

COLOURS = [hex_colour(LAYER_RGB[layer]) for layer in LAYERS]  # the map's layer colours

def bars(frame: pd.DataFrame, title: str, colours: list[str]) -> alt.Chart:
    """Grouped horizontal bars: one group per region (`frame`'s index), one bar per column, in the map's colours.

    Region names are shown whole (Vega's default cuts labels at 200 px: "Armagh City, Ban…"),
    and `title` names the horizontal axis, where the values are.
    """
    series = list(frame.columns)
    data = frame.rename_axis("region").reset_index().melt("region", var_name="series", value_name="value")
    return alt.Chart(data, height=380).mark_bar().encode(
        y=alt.Y("region:N", title=None, sort=None, axis=alt.Axis(labelLimit=400)),
        yOffset=alt.YOffset("series:N", sort=series),
        x=alt.X("value:Q", title=title),
        color=alt.Color("series:N", sort=series, scale=alt.Scale(domain=series, range=colours),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=[alt.Tooltip("region:N", title=_("region")), alt.Tooltip("series:N", title=_("layer")),
                 alt.Tooltip("value:Q", title=title)],
    )


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
            st.altair_chart(bars(views["coverage"], _("% of the population in settlements"), COLOURS + ["#555555"]))
        with right:
            st.subheader(_("Facilities per 100,000 people"))
            st.altair_chart(bars(views["per_100k"], _("facilities per 100,000 inhabitants"), COLOURS))
        with st.expander(_("Boundaries used")):
            for region_id, info in details.items():
                st.markdown(f"- **{md(region_id)}**: {md(info['boundary'])} — {md(info['boundary_label'])}")
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
