"""The isochrone layer: per facility, the area from which it is reached within T minutes of travel."""
from __future__ import annotations

import geopandas as gpd
import pydeck as pdk

from i18n import N_, formats
from i18n import gettext as _
from maps.records import polygon_rings, text, tooltip_fields
from maps.style import LAYER_RGB, layer_label, rgba

ISOCHRONES_ID = "isochrones"
MODE_PHRASES = {"drive": N_("by car"), "walk": N_("on foot"), "bike": N_("by bike")}
"""How each travel mode reads in a sentence (English; translated where shown)."""


def isochrone_layer_id(layer: str) -> str:
    """Return the id of a layer's isochrone deck layer ("hubs-isochrones")."""
    return f"{layer}-{ISOCHRONES_ID}"


def isochrone_label(layer: str, minutes: float, mode: str) -> str:
    """The legend's words for an isochrone layer: "Hubs & infrastructure: reached within 30 min by car"."""
    return _("{layer}: reached within {minutes} {mode}").format(
        layer=layer_label(layer), minutes=formats.minutes(minutes), mode=_(MODE_PHRASES.get(mode, mode)))


def isochrone_layers(isochrones: gpd.GeoDataFrame | None) -> list[pdk.Layer]:
    """Return the isochrones (`analysis.travel.isochrones`) as translucent polygons in each layer's colour.

    One deck layer per facility layer; facilities off the network (empty geometry) draw nothing.
    """
    if isochrones is None or len(isochrones) == 0:
        return []
    out = []
    for layer in dict.fromkeys(isochrones["layer"].tolist()):
        mine = isochrones[isochrones["layer"] == layer]
        colour = LAYER_RGB.get(layer, LAYER_RGB["unclassified"])
        records = []
        for geometry, name, minutes, mode in zip(mine.geometry.values, mine["name"].tolist(), mine["minutes"].tolist(),
                                                 mine["mode"].tolist()):
            fields = tooltip_fields(text(name), isochrone_label(layer, minutes, mode))
            records += [{**fields, "polygon": rings} for rings in polygon_rings(geometry)]
        if records:
            out.append(pdk.Layer(
                "PolygonLayer", data=records, id=isochrone_layer_id(layer), get_polygon="polygon",
                get_fill_color=rgba(colour, 40), get_line_color=rgba(colour, 200), stroked=True, filled=True,
                line_width_units="'pixels'", get_line_width=1.5, pickable=True,
            ))
    return out
