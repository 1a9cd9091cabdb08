"""pydeck layers for everything that is not a facility: boundary, settlements, analysis results.

All builders take plain frames (EPSG:4326) and return layers with stable ids; none of
them needs basemap tiles, so the map stays readable offline (boundary + town labels).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
from shapely.geometry.base import BaseGeometry

from i18n import formats, ngettext
from i18n import gettext as _
from loaders.layers import LAYERS, PLANNED
from maps.records import (
    line_paths,
    point_positions,
    polygon_rings,
    text,
    tooltip_fields,
)
from maps.style import (
    BOUNDARY_RGB,
    GAP_RGB,
    LAYER_LABELS,
    LAYER_RGB,
    SETTLEMENT_RGB,
    SITE_RGB,
    WHITE,
    distance_rgb,
    layer_label,
    layer_short_label,
    rgba,
    share_rgb,
)

BOUNDARY_ID, BOUNDARY_FILL_ID = "region-boundary", "region-fill"
SETTLEMENTS_ID, LABELS_ID = "settlements", "settlement-labels"
GAPS_ID, UNCOVERED_ID, H3_ID = "gap-areas", "uncovered-settlements", "h3-distance"
SITES_ID, SITE_LABELS_ID = "suggested-sites", "suggested-site-labels"
AREAS_ID = "area-shares"


def disc_layer_id(layer: str) -> str:
    """Return the id of a layer's coverage-disc deck layer."""
    return f"{layer}-discs"


def catchment_layer_id(layer: str) -> str:
    """Return the id of a layer's catchment deck layer."""
    return f"{layer}-catchments"


def boundary_layers(geometry: BaseGeometry | None, *, source: str = "", scale: float = 1.0) -> list[pdk.Layer]:
    """Return a faint fill and an outline of the region (dashed when the outline is approximate)."""
    rings = polygon_rings(geometry)
    if not rings:
        return []
    approximate = source == "approximate"
    paths = [{"path": p} for p in line_paths(geometry)]
    return [
        pdk.Layer("PolygonLayer", data=[{"polygon": r} for r in rings], id=BOUNDARY_FILL_ID,
                  get_polygon="polygon", get_fill_color=rgba((235, 235, 228), 150),
                  stroked=False, filled=True, pickable=False),
        pdk.Layer("PathLayer", data=paths, id=BOUNDARY_ID, get_path="path",
                  get_color=rgba(BOUNDARY_RGB, 220), get_width=2.5 * scale, width_units="'pixels'",
                  get_dash_array=[8, 5] if approximate else [0, 0], dash_justified=True,
                  extensions=[{"@@type": "PathStyleExtension", "dash": True}], pickable=False),
    ]


def _declutter(xy: list[list[float]], names: list[str], *, zoom: float, scale: float) -> list[int]:
    """Return the indices (in priority order) of labels that do not overlap a more important one.

    Label boxes are estimated in screen pixels at `zoom` (Web Mercator, 512 px world at
    zoom 0): about 0.6 em per character wide, 1.2 em high, above the point.
    """
    world = 512.0 * 2.0 ** zoom
    size = 13.0 * scale
    kept: list[tuple[float, float, float, float]] = []
    out = []
    for i, ((lon, lat), name) in enumerate(zip(xy, names)):
        x = (lon + 180.0) / 360.0 * world
        s = math.sin(math.radians(max(min(lat, 85.0), -85.0)))
        y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * world
        half = 0.3 * size * max(len(name), 1) + 4
        box = (x - half, y - 1.9 * size, x + half, y - 0.2 * size)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in kept):
            continue
        kept.append(box)
        out.append(i)
    return out


def settlement_layers(
    settlements: gpd.GeoDataFrame | None, *, labels: int = 40, scale: float = 1.0, zoom: float | None = None,
) -> list[pdk.Layer]:
    """Return small dots for settlements and name labels for the most populous ones.

    Labels give orientation when no basemap is shown. Names keep their diacritics (the
    text layer builds its character set from the data). With `zoom` (the initial view's),
    a label that would overlap a larger town's label is left out, so up to `labels`
    readable names remain.
    """
    if settlements is None or len(settlements) == 0:
        return []
    frame = settlements.sort_values("population", ascending=False, kind="stable")
    positions = point_positions(frame.geometry.values)
    dots = [{"p": p} for p in positions]
    names = [text(n) for n in frame["name"].tolist()]
    order = _declutter(positions, names, zoom=zoom, scale=scale) if zoom is not None else range(len(names))
    named = [{"p": positions[i], "t": names[i]} for i in list(order)[:labels]]
    return [
        pdk.Layer("ScatterplotLayer", data=dots, id=SETTLEMENTS_ID, get_position="p",
                  get_fill_color=rgba(SETTLEMENT_RGB, 120), get_radius=2 * scale,
                  radius_units="'pixels'", pickable=False),
        pdk.Layer("TextLayer", data=named, id=LABELS_ID, get_position="p", get_text="t",
                  get_size=13 * scale, size_units="'pixels'", get_color=rgba(SETTLEMENT_RGB),
                  get_pixel_offset=[0, -11 * scale], character_set="'auto'",
                  font_family="'Helvetica, Arial, sans-serif'", font_weight=600,
                  font_settings={"sdf": True}, outline_width=3, outline_color=rgba(WHITE),
                  pickable=False),
    ]


def coverage_disc_layers(
    facilities: gpd.GeoDataFrame,
    radius_km: Mapping[str, float],
    *,
    include_planned: bool = False,
    circuity: float = 1.0,
) -> list[pdk.Layer]:
    """Return one translucent disc per facility of each layer, of that layer's radius.

    The disc radius is ``radius_km / circuity`` (the straight-line reach), drawn in
    metres by deck.gl; overlapping discs look darker. Lines and polygons are drawn
    around their representative point, as coverage counts them.
    """
    from analysis.base import lonlat

    out = []
    for layer in LAYERS:
        if layer not in radius_km:
            continue
        mine = facilities[facilities["layer"] == layer]
        if not include_planned:
            mine = mine[mine["status"] != PLANNED]
        xy = lonlat(mine.geometry)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) == 0:
            continue
        colour = LAYER_RGB[layer]
        out.append(pdk.Layer(
            "ScatterplotLayer", data=[{"p": p} for p in np.round(xy, 5).tolist()], id=disc_layer_id(layer),
            get_position="p", get_radius=float(radius_km[layer]) * 1000.0 / circuity, radius_units="'meters'",
            get_fill_color=rgba(colour, 38), get_line_color=rgba(colour, 150), stroked=True,
            line_width_units="'pixels'", get_line_width=1.5, pickable=False,
        ))
    return out


def _polygon_records(frame: gpd.GeoDataFrame, fields: Iterable[dict]) -> list[dict]:
    records = []
    for geometry, record in zip(frame.geometry.values, fields):
        for rings in polygon_rings(geometry):
            records.append({**record, "polygon": rings})
    return records


def gap_layer(gaps: gpd.GeoDataFrame | None) -> list[pdk.Layer]:
    """Return the gap areas (region minus covered discs) with area and population in the tooltip."""
    if gaps is None or len(gaps) == 0:
        return []
    area = gaps["area_km2"] if "area_km2" in gaps else pd.Series(np.nan, index=gaps.index)
    population = gaps["population"] if "population" in gaps else pd.Series(0, index=gaps.index)
    gap = _("Gap: no {layer}")
    label = gaps["layer"].map(lambda v: gap.format(layer=layer_label(v).lower())) if "layer" in gaps else None
    fields = [
        tooltip_fields(label.iloc[i] if label is not None else _("Gap area"),
                       _("{area} km² · {people} in settlements").format(area=_number(a), people=_people(p)))
        for i, (a, p) in enumerate(zip(area.tolist(), population.tolist()))
    ]
    return [pdk.Layer(
        "PolygonLayer", data=_polygon_records(gaps, fields), id=GAPS_ID, get_polygon="polygon",
        get_fill_color=rgba(GAP_RGB, 70), get_line_color=rgba(GAP_RGB, 220), stroked=True,
        line_width_units="'pixels'", get_line_width=2, pickable=True, auto_highlight=True,
    )]


def area_share_layer(areas: gpd.GeoDataFrame | None, *, layer: str | None) -> list[pdk.Layer]:
    """Return areas (municipalities, counties) coloured by the share of their people within reach.

    `areas` is `analysis.by_area.AreaBreakdown.frame()`: ``name``, ``population`` and
    ``coverage_share_<layer>`` (or ``full_support_share`` when `layer` is None).
    """
    if areas is None or len(areas) == 0:
        return []
    column = f"coverage_share_{layer}" if layer else "full_support_share"
    what = _("{share} of people within reach of {layer}") if layer else _("{share} of people with full support")
    reach = layer_label(layer).lower() if layer else ""
    records = []
    for geometry, name, share, people in zip(areas.geometry.values, areas["name"].tolist(),
                                             areas[column].tolist(), areas["population"].tolist()):
        share = float(share)
        figure = what.format(share=formats.percent(share), layer=reach) if math.isfinite(share) else _("no people counted here")
        fields = {"c": rgba(share_rgb(share), 170), **tooltip_fields(text(name), figure, _people(people))}
        for rings in polygon_rings(geometry):
            records.append({**fields, "polygon": rings})
    return [pdk.Layer(
        "PolygonLayer", data=records, id=AREAS_ID, get_polygon="polygon", get_fill_color="c",
        get_line_color=rgba(WHITE, 230), stroked=True, line_width_units="'pixels'", get_line_width=1.5,
        pickable=True, auto_highlight=True,
    )]


def h3_grid_layer(grid: pd.DataFrame | None, *, layer: str, column: str | None = None) -> list[pdk.Layer]:
    """Return H3 hexagons coloured by distance (km) to the nearest facility of `layer`.

    `grid` has a cell id column (``h3``, ``cell`` or ``hex``) and ``nearest_km_<layer>``
    (or `column`).
    """
    if grid is None or len(grid) == 0:
        return []
    cell_col = next(c for c in ("h3", "cell", "hex", "h3_cell") if c in grid.columns)
    column = column or f"nearest_km_{layer}"
    records = []
    for cell, km in zip(grid[cell_col].tolist(), grid[column].tolist()):
        km = float(km)
        label = _("no facility") if not math.isfinite(km) else formats.km(km)
        records.append({"h": str(cell), "c": rgba(distance_rgb(km), 150),
                        **tooltip_fields(_("{distance} to the nearest").format(distance=label), layer_label(layer))})
    return [pdk.Layer(
        "H3HexagonLayer", data=records, id=H3_ID, get_hexagon="h", get_fill_color="c",
        stroked=False, filled=True, extruded=False, pickable=True, auto_highlight=True,
    )]


def catchment_layers(catchments: gpd.GeoDataFrame | None, *, layer: str) -> list[pdk.Layer]:
    """Return catchment polygons of `layer` outlined in its colour, with facility and population."""
    if catchments is None or len(catchments) == 0:
        return []
    colour = LAYER_RGB.get(layer, LAYER_RGB["unclassified"])
    names = catchments["name"] if "name" in catchments else pd.Series("", index=catchments.index)
    population = catchments["population"] if "population" in catchments else pd.Series(np.nan, index=catchments.index)
    fields = [tooltip_fields(_("Catchment of {name}").format(name=text(n)),
                             _("{people} in settlements").format(people=_people(p)))
              for n, p in zip(names.tolist(), population.tolist())]
    return [pdk.Layer(
        "PolygonLayer", data=_polygon_records(catchments, fields), id=catchment_layer_id(layer),
        get_polygon="polygon", get_fill_color=rgba(colour, 25), get_line_color=rgba(colour, 230),
        stroked=True, filled=True, line_width_units="'pixels'", get_line_width=2, pickable=True,
    )]


def uncovered_layer(settlements: gpd.GeoDataFrame | None, *, scale: float = 1.0) -> list[pdk.Layer]:
    """Return uncovered settlements as vermillion rings sized by population."""
    if settlements is None or len(settlements) == 0:
        return []
    km_cols = [c for c in settlements.columns if c.startswith("nearest_km_") and c[11:] in LAYER_LABELS]
    short = {c: layer_short_label(c[11:]) for c in km_cols}  # "hubs", "training", …
    distances = {c: settlements[c].tolist() for c in km_cols}
    population = settlements["population"].tolist()
    records = []
    for i, (p, name) in enumerate(zip(point_positions(settlements.geometry.values), settlements["name"].tolist())):
        far = " · ".join(f"{short[c]} {_km(distances[c][i])}" for c in km_cols)
        radius = 4 + 2.2 * math.log10(max(float(population[i]), 1.0))
        records.append({"p": p, "r": round(radius * scale, 1),
                        **tooltip_fields(name, _people(population[i]), _("nearest: {distances}").format(distances=far))})
    return [pdk.Layer(
        "ScatterplotLayer", data=records, id=UNCOVERED_ID, get_position="p", get_radius="r",
        radius_units="'pixels'", get_fill_color=rgba(GAP_RGB, 60), get_line_color=rgba(GAP_RGB),
        stroked=True, line_width_units="'pixels'", get_line_width=2 * scale, pickable=True, auto_highlight=True,
    )]


def site_layers(sites: list[dict] | None, *, layer: str = "hubs", scale: float = 1.0) -> list[pdk.Layer]:
    """Return suggested sites (dicts with name, lat, lon, added_population) as numbered markers."""
    if not sites:
        return []
    records = [
        {"p": [round(float(s["lon"]), 5), round(float(s["lat"]), 5)], "t": str(i),
         **tooltip_fields(_("Suggested site {number}: near {name}").format(number=i, name=text(s.get("name"))),
                          _("{layer} · adds {people}").format(layer=layer_label(layer),
                                                               people=_people(s.get("added_population"))))}
        for i, s in enumerate(sites, start=1)
    ]
    return [
        pdk.Layer("ScatterplotLayer", data=records, id=SITES_ID, get_position="p", get_radius=13 * scale,
                  radius_units="'pixels'", get_fill_color=rgba(SITE_RGB, 230), get_line_color=rgba(WHITE),
                  stroked=True, line_width_units="'pixels'", get_line_width=2.5 * scale,
                  pickable=True, auto_highlight=True),
        pdk.Layer("TextLayer", data=records, id=SITE_LABELS_ID, get_position="p", get_text="t",
                  get_size=14 * scale, size_units="'pixels'", get_color=rgba(WHITE), font_weight=700,
                  character_set="'auto'", pickable=False),
    ]


def _number(value) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "?"
    return "?" if not math.isfinite(v) else formats.number(v)


def _people(value) -> str:
    """ "1 person", "2,345 people" in the reader's language ("?" when unknown)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        return _("? people")
    n = round(v)
    return ngettext("{count} person", "{count} people", n).format(count=formats.number(n))


def _km(value) -> str:
    v = float(value)
    return _("none") if not math.isfinite(v) else formats.km(v, 0)


__all__ = [
    "area_share_layer", "boundary_layers", "catchment_layers", "coverage_disc_layers", "gap_layer", "h3_grid_layer",
    "settlement_layers", "site_layers", "uncovered_layer",
]
