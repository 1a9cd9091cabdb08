"""pydeck layers for the workspace's facilities: points, lines and polygons per layer and status.

Every facility layer has a stable id (``hubs-existing``, ``hubs-planned``, ``hubs-lines``,
``hubs-areas`` …) so that selections survive reruns. Above `AGGREGATE_ABOVE` points the
points are sent as H3 hexagons with counts instead (Streamlit sends deck data as JSON,
about 100 bytes per point).
"""
from __future__ import annotations

import math

import geopandas as gpd
import h3
import h3.api.numpy_int as h3_int
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from loaders.layers import ALL_LAYERS, PLANNED
from maps.records import (
    line_paths,
    point_positions,
    point_xy,
    polygon_rings,
    split_geometries,
    text,
    tooltip_fields,
)
from maps.style import LAYER_LABELS, LAYER_RGB, POINT_RADIUS_PX, point_style, rgba

AGGREGATE_ABOVE = 50_000
HEX_LAYER_ID = "facilities-h3"
FEATURE_ID_FIELD = "fid"


def layer_ids(layer: str) -> dict[str, str]:
    """Return the deck layer ids used for one facility layer."""
    return {
        "existing": f"{layer}-existing", "planned": f"{layer}-planned",
        "lines": f"{layer}-lines", "areas": f"{layer}-areas",
    }


def _kind_text(layer: str, kinds: pd.Series, statuses: pd.Series) -> list[str]:
    label = LAYER_LABELS.get(layer, layer)
    out = []
    for kind, status in zip(kinds.tolist(), statuses.tolist()):
        parts = [label] + ([text(kind)] if text(kind) else []) + (["planned"] if status == PLANNED else [])
        out.append(" · ".join(parts))
    return out


def _records(frame: gpd.GeoDataFrame, layer: str) -> list[dict]:
    kinds = _kind_text(layer, frame["kind"], frame["status"])
    return [
        {FEATURE_ID_FIELD: text(fid), **tooltip_fields(name, kind, town, web)}
        for fid, name, kind, town, web in zip(
            frame["feature_id"].tolist(), frame["name"].tolist(), kinds,
            frame["town"].tolist(), frame["website"].tolist(),
        )
    ]


def _point_layer(frame: gpd.GeoDataFrame, layer: str, planned: bool, scale: float) -> pdk.Layer:
    style = point_style(layer, planned)
    records = _records(frame, layer)
    for record, position in zip(records, point_positions(frame.geometry.values)):
        record["p"] = position
    return pdk.Layer(
        "ScatterplotLayer", data=records, id=layer_ids(layer)["planned" if planned else "existing"],
        get_position="p", get_fill_color=style["fill"], get_line_color=style["line"],
        get_radius=POINT_RADIUS_PX * scale * (1.15 if planned else 1.0), radius_units="'pixels'",
        stroked=True, filled=True, line_width_units="'pixels'", get_line_width=style["width"] * scale,
        pickable=True, auto_highlight=True,
    )


def _line_layer(frame: gpd.GeoDataFrame, layer: str, scale: float) -> pdk.Layer:
    records = []
    for record, geometry, status in zip(_records(frame, layer), frame.geometry.values, frame["status"].tolist()):
        for path in line_paths(geometry if geometry.geom_type != "GeometryCollection" else
                               _lines_only(geometry)):
            records.append({**record, "path": path, "dash": [6, 4] if status == PLANNED else [0, 0]})
    return pdk.Layer(
        "PathLayer", data=records, id=layer_ids(layer)["lines"], get_path="path",
        get_color=rgba(LAYER_RGB.get(layer, LAYER_RGB["unclassified"])), get_width=3.5 * scale,
        width_units="'pixels'", cap_rounded=True, joint_rounded=True, pickable=True, auto_highlight=True,
        get_dash_array="dash", dash_justified=True,
        extensions=[{"@@type": "PathStyleExtension", "dash": True}],
    )


def _lines_only(geometry):
    parts = [g for g in geometry.geoms if g.geom_type in ("LineString", "MultiLineString", "LinearRing")]
    return shapely.GeometryCollection(parts)


def _area_layer(frame: gpd.GeoDataFrame, layer: str, scale: float) -> pdk.Layer:
    colour = LAYER_RGB.get(layer, LAYER_RGB["unclassified"])
    records = []
    for record, geometry, status in zip(_records(frame, layer), frame.geometry.values, frame["status"].tolist()):
        for rings in polygon_rings(geometry):
            records.append({**record, "polygon": rings, "a": 50 if status == PLANNED else 110})
    return pdk.Layer(
        "PolygonLayer", data=records, id=layer_ids(layer)["areas"], get_polygon="polygon",
        get_fill_color=f"[{colour[0]}, {colour[1]}, {colour[2]}, a]", get_line_color=rgba(colour),
        line_width_units="'pixels'", get_line_width=2 * scale, line_width_min_pixels=1,
        stroked=True, filled=True, pickable=True, auto_highlight=True,
    )


CELLS_ACROSS = 40


def hex_resolution(bounds: tuple[float, float, float, float] | None) -> int:
    """Return the coarsest H3 resolution with at least `CELLS_ACROSS` cells across the box.

    About 40 cells across a region keeps the grid to a few thousand cells (a few hundred
    kB of JSON) however many points fall in it.
    """
    if bounds is None:
        return 6
    mid_lat = math.radians((bounds[1] + bounds[3]) / 2)
    span_km = max((bounds[2] - bounds[0]) * 111.32 * math.cos(mid_lat), (bounds[3] - bounds[1]) * 110.57, 1.0)
    for resolution in range(2, 10):
        if 2 * h3.average_hexagon_edge_length(resolution, "km") * CELLS_ACROSS <= span_km:
            return resolution
    return 9


def aggregate_points(points: gpd.GeoDataFrame, *, resolution: int) -> pd.DataFrame:
    """Count facility points per H3 cell and layer.

    Returns one row per cell: ``h3`` (cell id), ``total`` and one count column per layer.
    """
    xy = point_xy(points.geometry.values)
    lon, lat = xy[:, 0].tolist(), xy[:, 1].tolist()
    # The integer API is about twice as fast per point; only the distinct cells become strings.
    cells = [h3_int.latlng_to_cell(y, x, resolution) for x, y in zip(lon, lat)]
    frame = pd.DataFrame({"h3": np.asarray(cells, dtype=np.uint64), "layer": points["layer"].to_numpy(dtype=object)})
    counts = frame.groupby(["h3", "layer"]).size().unstack(fill_value=0)
    counts.index = [h3.int_to_str(int(c)) for c in counts.index]
    counts.index.name = "h3"
    for layer in ALL_LAYERS:
        if layer not in counts:
            counts[layer] = 0
    counts = counts[list(ALL_LAYERS)]
    counts["total"] = counts.sum(axis=1)
    return counts.reset_index()


def _hex_layer(points: gpd.GeoDataFrame, resolution: int) -> pdk.Layer:
    counts = aggregate_points(points, resolution=resolution)
    peak = max(int(counts["total"].max()), 1)
    records = []
    for row in counts.itertuples(index=False):
        by_layer = {layer: int(getattr(row, layer)) for layer in ALL_LAYERS}
        dominant = max(by_layer, key=by_layer.get)
        alpha = int(90 + 150 * math.log1p(row.total) / math.log1p(peak))
        kind = " · ".join(f"{LAYER_LABELS[k]} {v}" for k, v in by_layer.items() if v)
        records.append({"h": row.h3, "c": rgba(LAYER_RGB[dominant], alpha),
                        **tooltip_fields(f"{row.total} facilities", kind)})
    return pdk.Layer(
        "H3HexagonLayer", data=records, id=HEX_LAYER_ID, get_hexagon="h", get_fill_color="c",
        stroked=False, filled=True, extruded=False, pickable=True, auto_highlight=True,
    )


def facility_layers(
    features: gpd.GeoDataFrame,
    *,
    layers: tuple[str, ...] | list[str] = ALL_LAYERS,
    scale: float = 1.0,
    aggregate_above: int = AGGREGATE_ABOVE,
    bounds: tuple[float, float, float, float] | None = None,
) -> list[pdk.Layer]:
    """Return the deck layers drawing the facilities of the given layers.

    Parameters
    ----------
    features
        Canonical features (EPSG:4326), already filtered.
    layers
        Facility layers to draw, in drawing order (later ones on top).
    scale
        Size factor for points and lines (2 for a projector).
    aggregate_above
        When more points than this are drawn, they are sent as H3 hexagons (counts per
        cell, coloured by the most frequent layer) instead of one record per point.
    bounds
        The region's lon/lat box, used to choose the hexagon size.
    """
    features = features[features["layer"].isin(list(layers))]
    kinds = split_geometries(features.geometry.values)
    points = features.iloc[kinds["points"]]
    out: list[pdk.Layer] = []
    for layer in layers:
        mine = features[features["layer"] == layer]
        sub = split_geometries(mine.geometry.values)
        if len(sub["polygons"]):
            out.append(_area_layer(mine.iloc[sub["polygons"]], layer, scale))
        if len(sub["lines"]):
            out.append(_line_layer(mine.iloc[sub["lines"]], layer, scale))
    if len(points) > aggregate_above:
        out.append(_hex_layer(points, hex_resolution(bounds)))
        return out
    for layer in layers:
        mine = points[points["layer"] == layer]
        planned = mine["status"] == PLANNED
        if (~planned).any():
            out.append(_point_layer(mine[~planned], layer, False, scale))
        if planned.any():
            out.append(_point_layer(mine[planned], layer, True, scale))
    return out
