"""Turn frames and geometries into the small JSON records deck.gl layers draw.

Streamlit sends pydeck data as JSON, so every record carries only what the layer and
the tooltip need, with coordinates rounded to 5 decimals (about 1 m).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from maps.text import WORD_JOINER

DECIMALS = 5
TOOLTIP_FIELDS = ("name", "kind", "town", "website")


def text(value: Any) -> str:
    """Return `value` as display text ("" for None/NaN)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _tooltip_text(value: Any) -> str:
    # Streamlit fills the tooltip's "{field}" slots one after the other, HTML-escaping each
    # value, so markup in a value shows as text; a value holding "{kind}" would still get
    # the next slot's value put into it. The invisible word joiner keeps it literal.
    return text(value).replace("{", "{" + WORD_JOINER)


def tooltip_fields(name: Any = "", kind: Any = "", town: Any = "", website: Any = "") -> dict[str, str]:
    """Return the four fields the shared tooltip shows, always all present, as plain text.

    The tooltip never makes a link: a website is shown as text, whatever its scheme.
    """
    return {"name": _tooltip_text(name), "kind": _tooltip_text(kind), "town": _tooltip_text(town),
            "website": _tooltip_text(website)}


def _ring(coords: np.ndarray) -> list[list[float]]:
    return np.round(np.asarray(coords)[:, :2], DECIMALS).tolist()


def polygon_rings(geometry: BaseGeometry | None) -> list[list[list[list[float]]]]:
    """Return each polygon of a (Multi)Polygon as ``[outer, hole, ...]`` rings of [lon, lat]."""
    if geometry is None or geometry.is_empty:
        return []
    kind = geometry.geom_type
    if kind == "Polygon":
        return [[_ring(geometry.exterior.coords)] + [_ring(r.coords) for r in geometry.interiors]]
    if kind in ("MultiPolygon", "GeometryCollection"):
        out = []
        for part in geometry.geoms:
            out.extend(polygon_rings(part))
        return out
    return []


def line_paths(geometry: BaseGeometry | None) -> list[list[list[float]]]:
    """Return every line of a geometry as a path of [lon, lat] (polygon edges included)."""
    if geometry is None or geometry.is_empty:
        return []
    kind = geometry.geom_type
    if kind in ("LineString", "LinearRing"):
        return [_ring(geometry.coords)]
    if kind == "Polygon":
        return [_ring(geometry.exterior.coords)] + [_ring(r.coords) for r in geometry.interiors]
    if hasattr(geometry, "geoms"):
        out = []
        for part in geometry.geoms:
            out.extend(line_paths(part))
        return out
    return []


def _objects(geometries) -> np.ndarray:
    """Return geometries as an object array without iterating (GeoSeries, GeometryArray, list)."""
    if hasattr(geometries, "values") and not isinstance(geometries, np.ndarray):
        geometries = geometries.values  # GeoSeries -> GeometryArray
    if isinstance(geometries, (list, tuple, np.ndarray)) or hasattr(geometries, "__array__"):
        return np.asarray(geometries, dtype=object)
    return np.asarray(list(geometries), dtype=object)


def split_geometries(geometries: Iterable[BaseGeometry | None]) -> dict[str, np.ndarray]:
    """Return row positions of points, lines and polygons (Multi* and collections by their parts' kind).

    Empty and missing geometries are in none of them.
    """
    geoms = _objects(geometries)
    if len(geoms) == 0:
        empty = np.empty(0, dtype=np.intp)
        return {"points": empty, "lines": empty, "polygons": empty}
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    type_id = np.full(len(geoms), -1)
    type_id[present] = shapely.get_type_id(geoms[present])
    # 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4 MultiPoint, 5 MultiLineString,
    # 6 MultiPolygon, 7 GeometryCollection (drawn as polygons and lines both).
    return {
        "points": np.flatnonzero(np.isin(type_id, (0, 4))),
        "lines": np.flatnonzero(np.isin(type_id, (1, 2, 5, 7))),
        "polygons": np.flatnonzero(np.isin(type_id, (3, 6, 7))),
    }


def point_xy(geometries) -> np.ndarray:
    """Return (n, 2) lon/lat per Point (a MultiPoint by its first point)."""
    geoms = _objects(geometries)
    if len(geoms) == 0:
        return np.empty((0, 2))
    multi = shapely.get_type_id(geoms) == 4
    if multi.any():
        geoms = geoms.copy()
        geoms[multi] = shapely.get_geometry(geoms[multi], 0)
    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])


def point_positions(geometries) -> list[list[float]]:
    """Return [lon, lat] per Point (a MultiPoint by its first point), rounded to 5 decimals."""
    return np.round(point_xy(geometries), DECIMALS).tolist()


def bounds_of(geometries: Iterable[BaseGeometry | None]) -> tuple[float, float, float, float] | None:
    """Return the lon/lat bounding box of the geometries, or None when there are none."""
    geoms = _objects(geometries)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    if len(geoms) == 0:
        return None
    b = shapely.total_bounds(geoms)
    if not np.isfinite(b).all():
        return None
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
