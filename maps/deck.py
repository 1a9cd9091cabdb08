"""Assemble layers into a pydeck Deck: no basemap by default, one shared tooltip, compact JSON."""
from __future__ import annotations

import json

import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

# Carto's public GL styles need no token; used only when the user switches the basemap on.
BASEMAP_STYLE = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"

# Streamlit (1.67) HTML-escapes each record value it puts into a "{field}" slot, so names
# and websites show as text; the template itself holds no link (a website is never clickable).
TOOLTIP_HTML = "<b>{name}</b><br/>{kind}<br/>{town}<br/>{website}"


def tooltip(*, large: bool = False) -> dict:
    """Return the tooltip shared by all pickable layers (name, kind, town, website)."""
    return {
        "html": TOOLTIP_HTML,
        "style": {
            "backgroundColor": "#1f2430", "color": "#ffffff", "fontSize": "22px" if large else "13px",
            "padding": "10px" if large else "6px", "maxWidth": "420px",
        },
    }


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation: Streamlit sends it as is, so bytes are time.

    pydeck indents its JSON by 2 spaces; for a map of 10,000 points that is a third of
    the payload and of the serialisation time.
    """

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=False, default=default_serialize, separators=(",", ":"),
                          ensure_ascii=False)


def build_deck(
    layers: list[pdk.Layer],
    view: pdk.ViewState,
    *,
    basemap: bool = False,
    large_tooltip: bool = False,
) -> pdk.Deck:
    """Return a Deck drawing `layers` over no basemap (or Carto Positron when `basemap`).

    Parameters
    ----------
    layers
        Deck layers, bottom first. Every layer must have an ``id`` (selections need it).
    view
        The initial view; keep it identical across reruns so the user's pan/zoom stays.
    basemap
        Show Carto Positron tiles (needs internet). Off: nothing is fetched at all.
    large_tooltip
        Bigger tooltip type for the projector.
    """
    if basemap:
        return CompactDeck(layers=layers, initial_view_state=view, map_provider="carto",
                           map_style=BASEMAP_STYLE, tooltip=tooltip(large=large_tooltip))
    # map_provider=None with the default style sentinel: Streamlit draws no basemap and
    # fetches no tiles (map_style=None would make it pick a Carto style).
    return CompactDeck(layers=layers, initial_view_state=view, map_provider=None,
                       tooltip=tooltip(large=large_tooltip))
