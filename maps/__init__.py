"""pydeck map builders: pure functions from frames to layers, decks and legends (no Streamlit)."""
from __future__ import annotations

from maps.compose import (
    FacilityMap,
    MapContent,
    atlas_deck,
    atlas_layers,
    atlas_legend,
    facility_map,
    view_for,
)
from maps.deck import build_deck
from maps.features import AGGREGATE_ABOVE, facility_layers
from maps.legend import legend_html, legend_items
from maps.text import markdown_text, web_link
from maps.view import fit_view

__all__ = [
    "AGGREGATE_ABOVE", "FacilityMap", "MapContent", "atlas_deck", "atlas_layers", "atlas_legend", "build_deck",
    "facility_layers", "facility_map", "fit_view", "legend_html", "legend_items", "markdown_text",
    "view_for", "web_link",
]
