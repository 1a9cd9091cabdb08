"""pydeck layers for the workspace's facilities: points, lines and polygons per layer and status.

Every facility layer has a stable id (``hubs-existing``, ``hubs-planned``, ``hubs-lines``,
``hubs-areas`` …) so that selections survive reruns. Above `AGGREGATE_ABOVE` points the
points are sent as H3 hexagons with counts instead (Streamlit sends deck data as JSON,
about 100 bytes per point).

Points at (nearly) the same place would hide each other: given the zoom the map opens at,
`spread_positions` moves the points of such a group onto small rings around the group's
centre (for display only; records keep their real coordinates), and a thin leader line
joins each moved point to its true place.
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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from i18n import formats, ngettext
from loaders.layers import ALL_LAYERS, PLANNED
from maps.records import (
    DECIMALS,
    line_paths,
    point_positions,
    point_xy,
    polygon_rings,
    split_geometries,
    text,
    tooltip_fields,
)
from maps.style import (
    LAYER_RGB,
    POINT_RADIUS_PX,
    SETTLEMENT_RGB,
    kind_label,
    layer_label,
    point_style,
    rgba,
    status_label,
)
from maps.view import lonlat_from_world, world_xy

AGGREGATE_ABOVE = 50_000
HEX_LAYER_ID = "facilities-h3"
LEADERS_ID = "facility-leaders"
FEATURE_ID_FIELD = "fid"
# Centres of displayed points at least this far apart (px at scale 1): a point is 7 px in
# radius (8 when planned) with its edge, so 18 px keeps every disc whole and clickable.
SPREAD_PX = 18.0
# A group larger than this stays where it is: rings of more points would wander far from
# the place they belong to (such density calls for zooming in, or the hexagons).
SPREAD_MAX_GROUP = 60


def ring_slots(n: int, min_px: float) -> np.ndarray:
    """Return `n` offsets (px, y down) around a centre, every two at least `min_px` apart.

    Up to 6 points sit on one ring just large enough for them; more fill rings of radius
    k * `min_px` (ring k holds as many as fit with `min_px` between neighbours), the last
    ring spaced evenly. The first slot is straight up.
    """
    if n <= 1:
        return np.zeros((max(n, 0), 2))
    if n <= 6:
        rings = [(min_px / (2 * math.sin(math.pi / n)), n)]
    else:
        rings, left, k = [], n, 1
        while left:
            fits = math.floor(math.pi / math.asin(1 / (2 * k)) + 1e-9)
            rings.append((k * min_px, min(fits, left)))
            left -= rings[-1][1]
            k += 1
    out = []
    for radius, count in rings:
        angles = -math.pi / 2 + 2 * math.pi * np.arange(count) / count
        out.append(np.column_stack([radius * np.cos(angles), radius * np.sin(angles)]))
    return np.vstack(out)


def spread_positions(
    lonlat: np.ndarray, *, zoom: float, min_px: float = SPREAD_PX, max_group: int = SPREAD_MAX_GROUP,
) -> np.ndarray:
    """Return display positions in which points closer than `min_px` at `zoom` are spread apart.

    Parameters
    ----------
    lonlat
        ``(n, 2)`` lon/lat degrees (EPSG:4326) of the points.
    zoom
        The deck.gl zoom the map opens at (Web Mercator, a 512 px world at zoom 0).
    min_px
        Smallest distance in screen pixels between two displayed points at `zoom`.
    max_group
        Groups of more points than this are left in place.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` lon/lat: a point with no neighbour within `min_px` keeps its place; the
        points of a group (neighbours of neighbours) sit on rings around the group's mean
        position (`ring_slots`), in the order of their bearing from it. Groups that then
        come too close to another point are merged and spread again.
    """
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    n = len(lonlat)
    if n < 2 or not np.isfinite(lonlat).all():
        return lonlat.copy()
    true = world_xy(lonlat[:, 0], lonlat[:, 1], zoom)
    limit = min_px * (1 - 1e-6)
    # Points with more neighbours than a group may hold stay put, and are left out of the
    # pairing, which keeps the number of pairs linear in n however dense a place is.
    crowded = cKDTree(true).query_ball_point(true, r=limit, return_length=True) > max_group
    free = np.flatnonzero(~crowded)
    if len(free) < 2:
        return lonlat.copy()
    xy = true[free]
    edges = cKDTree(xy).query_pairs(limit, output_type="ndarray")
    shown = true.copy()
    for _ in range(50):
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(xy), len(xy)))
        _, labels = connected_components(graph, directed=False)
        moved = xy.copy()
        order = np.argsort(labels, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0])
        for members in np.split(order, starts[1:]):
            if len(members) < 2 or len(members) > max_group:
                continue
            centre = xy[members].mean(axis=0)
            offset = xy[members] - centre
            bearing = np.round(np.arctan2(offset[:, 0], -offset[:, 1]) % (2 * math.pi), 9)  # clockwise from up
            ranked = members[np.lexsort((members, bearing))]
            moved[ranked] = centre + ring_slots(len(members), min_px)
        clashes = cKDTree(moved).query_pairs(limit, output_type="ndarray")
        clashes = clashes[labels[clashes[:, 0]] != labels[clashes[:, 1]]] if len(clashes) else clashes
        shown[free] = moved
        if not len(clashes):
            break
        edges = np.vstack([edges, clashes])
    out = lonlat.copy()
    changed = (shown != true).any(axis=1)  # the others keep their exact coordinates
    out[changed] = lonlat_from_world(shown[changed], zoom)
    return out


def layer_ids(layer: str) -> dict[str, str]:
    """Return the deck layer ids used for one facility layer."""
    return {
        "existing": f"{layer}-existing", "planned": f"{layer}-planned",
        "lines": f"{layer}-lines", "areas": f"{layer}-areas",
    }


def _kind_text(layer: str, kinds: pd.Series, statuses: pd.Series) -> list[str]:
    # The tooltip's second line, in the reader's language: layer, kind (canonical kinds translated), "planned".
    label, planned = layer_label(layer), status_label(PLANNED)
    out = []
    for kind, status in zip(kinds.tolist(), statuses.tolist()):
        parts = [label] + ([kind_label(text(kind))] if text(kind) else []) + ([planned] if status == PLANNED else [])
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


def _point_layer(frame: gpd.GeoDataFrame, layer: str, planned: bool, scale: float,
                 shown: dict | None = None) -> pdk.Layer:
    style = point_style(layer, planned)
    records = _records(frame, layer)
    positions = point_positions(frame.geometry.values)
    if shown:
        positions = [shown.get(i, p) for i, p in zip(frame.index.tolist(), positions)]
    for record, position in zip(records, positions):
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
        kind = " · ".join(f"{layer_label(k)} {formats.number(v)}" for k, v in by_layer.items() if v)
        total = int(row.total)
        records.append({"h": row.h3, "c": rgba(LAYER_RGB[dominant], alpha),
                        **tooltip_fields(ngettext("{count} facility", "{count} facilities", total).format(
                            count=formats.number(total)), kind)})
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
    spread_zoom: float | None = None,
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
    spread_zoom
        The zoom the map opens at: points closer than `SPREAD_PX` * `scale` there are
        spread apart (`spread_positions`), each joined to its true place by a leader line.
        None: every point at its true place.
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
    shown = None
    if spread_zoom is not None and len(points) > 1:
        points = points.reset_index(drop=True)
        true = np.round(point_xy(points.geometry.values), DECIMALS)
        moved = np.round(spread_positions(true, zoom=spread_zoom, min_px=SPREAD_PX * scale), DECIMALS)
        changed = np.flatnonzero((moved != true).any(axis=1))
        shown = {int(i): moved[i].tolist() for i in changed}
        if len(changed):
            out.append(pdk.Layer(
                "LineLayer", data=[{"s": true[i].tolist(), "t": moved[i].tolist()} for i in changed], id=LEADERS_ID,
                get_source_position="s", get_target_position="t", get_color=rgba(SETTLEMENT_RGB, 170),
                get_width=1.2 * scale, width_units="'pixels'", pickable=False,
            ))
    for layer in layers:
        mine = points[points["layer"] == layer]
        planned = mine["status"] == PLANNED
        if (~planned).any():
            out.append(_point_layer(mine[~planned], layer, False, scale, shown))
        if planned.any():
            out.append(_point_layer(mine[planned], layer, True, scale, shown))
    return out
