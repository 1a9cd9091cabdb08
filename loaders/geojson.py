"""Read GeoJSON FeatureCollections (our own exports included) into canonical features."""
from __future__ import annotations

import json
from typing import Any

import shapely.geometry

from loaders.coords import check_point
from loaders.errors import ImportFileError
from loaders.features import COLUMNS, LoadResult, Rejected, make_result

_CANONICAL = set(COLUMNS) - {"feature_id", "source_file", "source_ref", "attributes", "location_source"}


def _points(geometry: Any):
    if geometry.geom_type == "Point":
        yield geometry
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _points(part)
    else:
        for x, y, *_ in geometry.exterior.coords if geometry.geom_type == "Polygon" else geometry.coords:
            yield shapely.geometry.Point(x, y)


def features_from_geojson(data: bytes, source_file: str) -> LoadResult:
    """Read a GeoJSON FeatureCollection (or a single Feature) with lon/lat coordinates.

    Properties named like canonical columns fill them (``layer``, ``status``, ``name`` …);
    ``feature_id`` is taken verbatim so that our own exports round-trip; an
    ``attributes`` property (object, or JSON text) is merged back; every other
    property is kept in ``attributes``. ``source_ref`` is ``feature N`` (1-based).
    """
    if not data.strip():
        raise ImportFileError(f"{source_file}: the file is empty. Export the GeoJSON again.")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{source_file}: not UTF-8 text ({exc.reason}). Save it as UTF-8 GeoJSON.") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{source_file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Check the file was saved completely."
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        items = doc["features"]
    else:
        raise ImportFileError(
            f"{source_file}: expected a GeoJSON FeatureCollection or Feature, found "
            f"{type(doc).__name__ if not isinstance(doc, dict) else repr(doc.get('type'))}."
        )
    records, rejected = [], []
    for i, item in enumerate(items, start=1):
        where = f"feature {i}"
        props = (item.get("properties") if isinstance(item, dict) else None) or {}
        if not isinstance(item, dict) or not isinstance(props, dict):
            rejected.append(Rejected(where, "not a GeoJSON Feature object; skipped.", {"value": str(item)[:500]}))
            continue
        geometry = None
        if item.get("geometry") is not None:
            try:
                geometry = shapely.geometry.shape(item["geometry"])
            except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
                rejected.append(Rejected(where, f"geometry cannot be read ({exc}). Fix the coordinates.", props))
                continue
            problem = next(
                (p for p in (check_point(pt.y, pt.x) for pt in _points(geometry)) if p), None
            ) if not geometry.is_empty else None
            if problem:
                rejected.append(Rejected(where, f"{problem} GeoJSON stores longitude first.", props))
                continue
        attributes = props.get("attributes") or {}
        if isinstance(attributes, str):
            try:
                attributes = json.loads(attributes)
            except json.JSONDecodeError:
                attributes = {"attributes": attributes}
        if not isinstance(attributes, dict):
            attributes = {"attributes": attributes}
        extra = {k: v for k, v in props.items() if k not in COLUMNS}
        record = {k: props.get(k) for k in _CANONICAL}
        record.update(
            feature_id=props.get("feature_id") or None,
            own_id=item.get("id"),
            geometry=None if geometry is None or geometry.is_empty else geometry,
            location_source=props.get("location_source") or ("coordinates" if geometry is not None else "none"),
            source_ref=where,
            attributes={**attributes, **extra},
        )
        records.append(record)
    return make_result(source_file, records, rejected, len(items))
