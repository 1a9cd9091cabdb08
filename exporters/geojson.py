"""Write features and analysis results as RFC 7946 GeoJSON FeatureCollections.

What the files follow (RFC 7946):

- coordinates are WGS 84 longitude, latitude (EPSG:4326), rounded to 6 decimals (about
  0.1 m), and there is no ``crs`` member;
- polygon exterior rings are counter-clockwise and holes clockwise (the right-hand rule),
  rings stay closed;
- the text is UTF-8 with nothing escaped that need not be (Łódź stays Łódź);
- each Feature has ``id`` = ``feature_id`` when there is one.

Properties are the canonical schema's columns in schema order, then any other columns.
``attributes`` (JSON text in the workspace) is **nested as a JSON object**, so a partner
reads ``properties.attributes.County`` rather than parsing a string; our GeoJSON loader
reads that object back, which is what makes the round trip lossless. Missing values are
``null``. A FeatureCollection carries a ``name`` (the layer or result) as a foreign member,
which GDAL and QGIS use as the layer name.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # the C encoder
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from exporters.common import attributes_object, plain, property_columns, round6
from loaders.features import CRS

DECIMALS = 6  # see `exporters.common.round6`


def _round(coords: np.ndarray) -> np.ndarray:
    return round6(coords)


def rfc7946_geometries(geometries: Any) -> list[str | None]:
    """Return each geometry as GeoJSON text following RFC 7946 (None for a missing one).

    Parameters
    ----------
    geometries
        Shapely geometries (array-like) in EPSG:4326, longitude first.
    """
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size == 0:
        return []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    geoms = np.where(missing, None, geoms)
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    rounded = shapely.transform(oriented, _round, include_z=None)
    # Rounding a tiny ring can flip its orientation: orient once more after rounding.
    rounded = shapely.orient_polygons(rounded, exterior_cw=False)
    # GEOS prints 16-17 significant digits (-8.181311000000001); Python's repr is the shortest
    # text that reads back as the same double, so numbers are written from Python floats.
    texts: list[str | None] = [None] * len(rounded)
    present = ~(shapely.is_missing(rounded) | shapely.is_empty(rounded))
    points = np.flatnonzero(present & (shapely.get_type_id(rounded) == 0))
    if len(points):
        coords = shapely.get_coordinates(rounded[points], include_z=True)
        has_z = shapely.has_z(rounded[points])
        for i, (x, y, z), with_z in zip(points.tolist(), coords.tolist(), has_z.tolist()):
            texts[i] = f'{{"type":"Point","coordinates":[{x!r},{y!r}{f",{z!r}" if with_z else ""}]}}'
    for i in np.flatnonzero(present & (shapely.get_type_id(rounded) != 0)).tolist():
        texts[i] = json.dumps(shapely.geometry.mapping(rounded[i]), separators=(",", ":"))
    return texts


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


_dumps = json.JSONEncoder(ensure_ascii=False, default=_default, allow_nan=False).encode


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every attributes text; NaN/Infinity are refused, so text it accepts is JSON.
_strict_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def _finite(value: Any) -> Any:
    """Return `value` with NaN/inf replaced by None at any depth (JSON has no NaN)."""
    value = plain(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _encode_other(value: Any) -> str:
    cls = value.__class__
    if value is None:
        return "null"
    if cls is int:
        return str(value)
    if cls is bool:
        return "true" if value else "false"
    return _dumps(_finite(value))


def _encode_column(values: list[Any]) -> list[str]:
    # Strings (the usual case) go straight to the C encoder; anything else through json.
    return [encode_basestring(v) if v.__class__ is str else _encode_other(v) for v in values]


def _encode_attributes(values: list[Any]) -> list[str]:
    out = []
    for text in values:
        if text.__class__ is str and text[:1] == "{" and "\\u" not in text:
            try:
                parsed = _strict_decode(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                out.append(text)  # already JSON text written by us, UTF-8, no NaN
                continue
        out.append(_dumps(_finite(attributes_object(text))))
    return out


def _properties(frame: gpd.GeoDataFrame) -> list[str]:
    """Return each row's properties as JSON object text (columns encoded one at a time)."""
    columns = property_columns(frame)
    if not columns:
        return ["{}"] * len(frame)
    fragments = []
    for i, column in enumerate(columns):
        values = frame[column].tolist()
        encoded = _encode_attributes(values) if column == "attributes" else _encode_column(values)
        prefix = ("{" if i == 0 else "") + encode_basestring(str(column)) + ":"
        fragments.append([prefix + e for e in encoded])
    rows = list(map(",".join, zip(*fragments)))
    return [r + "}" for r in rows]


def feature_collection_text(frame: gpd.GeoDataFrame, *, name: str | None = None) -> str:
    """Return `frame` as the text of one RFC 7946 FeatureCollection (one Feature per line).

    Parameters
    ----------
    frame
        Features in any CRS (reprojected to EPSG:4326); the canonical schema or any columns.
    name
        The collection's ``name`` member (layer or analysis result), optional.
    """
    if frame.crs is not None and frame.crs != CRS:
        frame = frame.to_crs(CRS)
    geometries = rfc7946_geometries(frame.geometry.values)
    properties = _properties(frame)
    if "feature_id" in frame.columns:
        heads = [
            '{"type":"Feature","id":' + encode_basestring(f) + ',"geometry":' if f.__class__ is str
            else '{"type":"Feature","geometry":'
            for f in frame["feature_id"].tolist()
        ]
    else:
        heads = ['{"type":"Feature","geometry":'] * len(frame)
    geometries = ["null" if g is None else g for g in geometries]
    lines = list(map("".join, zip(heads, geometries, [',"properties":'] * len(frame), properties)))
    name_member = f'"name":{json.dumps(name, ensure_ascii=False)},' if name else ""
    body = "},\n".join(lines) + "}" if lines else ""
    return f'{{"type":"FeatureCollection",{name_member}"features":[\n{body}\n]}}\n'


def write_geojson(frame: gpd.GeoDataFrame, path: str | Path, *, name: str | None = None) -> Path:
    """Write `frame` as an RFC 7946 FeatureCollection in UTF-8 to `path`; return the path."""
    path = Path(path)
    path.write_text(feature_collection_text(frame, name=name), encoding="utf-8")
    return path
