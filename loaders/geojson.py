"""Read GeoJSON FeatureCollections (our own exports included) into canonical features.

Every member is checked before it is used, so a file nobody here wrote gives features and
rejected rows (``feature N`` and the reason), or one `ImportFileError`, never a traceback:

- the file: at most `MAX_GEOJSON_BYTES`, nested at most `MAX_NESTING` levels (checked
  by a bounded scan before ``json.loads``, which would otherwise recurse);
- ``layer``, ``status``, ``location_source``: text or null; ``feature_id`` and the
  Feature's ``id``: text or a number; other canonical properties (``name``, ``kind`` …):
  text, a number, or a list of those (joined with ``"; "``); anything else rejects the
  feature, naming the property and what it holds;
- the geometry: a known type whose coordinates are finite numbers in range, with at least
  2 positions per LineString and 4 per Polygon ring; a Point at exactly 0, 0 is a
  placeholder. A geometry with empty or null ``coordinates`` is rejected.

``"geometry": null`` is different: RFC 7946 calls that an unlocated feature, and it is
kept as one (``location_source`` ``none``), e.g. an online-only network.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import shapely

from i18n import Message, Text
from loaders._kml_fields import put_field
from loaders.coords import check_point, placeholder_point
from loaders.errors import ImportFileError
from loaders.features import (
    COLUMNS,
    TEXT_FIELDS,
    LoadResult,
    Rejected,
    clean_text,
    make_result,
)
from loaders.vocabulary import kind_of, sectors_of

__all__ = ["MAX_GEOJSON_BYTES", "MAX_NESTING", "attributes_from", "features_from_geojson", "nesting_depth"]

MAX_GEOJSON_BYTES = 100 * 1024 * 1024
"""Largest GeoJSON file read (bytes): parsed JSON takes several times its size in memory."""
MAX_NESTING = 100
"""Deepest nesting of arrays and objects accepted (a MultiPolygon feature needs 7)."""
_MAX_GEOMETRY_DEPTH = 16  # GeometryCollections inside GeometryCollections

_CANONICAL = set(COLUMNS) - {"feature_id", "source_file", "source_ref", "attributes", "location_source"}
_COLUMN_NAMES = frozenset(COLUMNS)
_TEXT_ONLY = ("layer", "status", "location_source")
_VOCABULARY = (("kind", kind_of), ("sectors", sectors_of))
_GEOMETRY_TYPES = (
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection",
)
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 20


class _Bad(Exception):
    """A feature's member cannot be used; the message is the rejection reason."""


# ----------------------------------------------------------------------------- file-level checks
def nesting_depth(data: bytes) -> int:
    """Return how deeply arrays and objects nest in JSON text (strings ignored), without recursing."""
    if b"\\" not in data:
        return _plain_nesting_depth(data)
    return _scanned_nesting_depth(data)


def _scanned_nesting_depth(data: bytes) -> int:
    """Do what `nesting_depth` does for any text: strings blanked by `_STRINGS`, then brackets counted in chunks."""
    if b'"' in data:
        data = _STRINGS.sub(b'""', data)
    depth = deepest = 0
    for start in range(0, len(data), _CHUNK):
        steps = _OPEN[np.frombuffer(data, dtype=np.uint8, count=min(_CHUNK, len(data) - start), offset=start)]
        if not steps.any():
            continue
        levels = np.cumsum(steps, dtype=np.int64) + depth
        deepest = max(deepest, int(levels.max()))
        depth = int(levels[-1])
    return deepest


def _plain_nesting_depth(data: bytes) -> int:
    """Do what `nesting_depth` does for text without a backslash (so no escaped quote), vectorised.

    Quotes then pair up in order, as `_STRINGS` pairs them: a bracket lies in a string when
    an odd number of quotes precede it and one follows it (an unclosed last quote opens no
    string, as `_STRINGS` finds no match there).
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    steps = _OPEN[raw]
    brackets = np.flatnonzero(steps)
    if brackets.size == 0:
        return 0
    quotes = np.flatnonzero(raw == ord('"'))
    if quotes.size:
        before = np.searchsorted(quotes, brackets)
        brackets = brackets[(before % 2 == 0) | (before == quotes.size)]
        if brackets.size == 0:
            return 0
    return max(int(np.cumsum(steps[brackets], dtype=np.int64).max()), 0)


def _parse(data: bytes, source_file: str) -> Any:
    if not data.strip():
        raise ImportFileError(Message("{file}: the file is empty. Export the GeoJSON again.", file=source_file))
    if len(data) > MAX_GEOJSON_BYTES:
        raise ImportFileError(Message(
            "{file}: the file is {size:.0f} MB, more than the {limit:.0f} MB a GeoJSON may be (limit "
            "MAX_GEOJSON_BYTES). Split it into smaller files (one layer each) or save it as a GeoPackage.",
            file=source_file, size=len(data) / 2**20, limit=MAX_GEOJSON_BYTES / 2**20))
    depth = nesting_depth(data)
    if depth > MAX_NESTING:
        raise ImportFileError(Message(
            "{file}: arrays and objects are nested {depth} levels deep, more than the {limit} levels a GeoJSON "
            "feature ever needs (limit MAX_NESTING). The file is damaged or not GeoJSON: export it again.",
            file=source_file, depth=depth, limit=MAX_NESTING))
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(Message("{file}: not UTF-8 text ({reason}). Save it as UTF-8 GeoJSON.", file=source_file,
                                      reason=exc.reason)) from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(Message(
            "{file}: not valid JSON (line {line}, column {column}: {reason}). Check the file was saved completely.",
            file=source_file, line=exc.lineno, column=exc.colno, reason=exc.msg)) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ImportFileError(Message(
            "{file}: not valid GeoJSON ({reason}). Check the file was saved completely.", file=source_file,
            reason=str(exc)[:120])) from None
    except RecursionError:  # the scan above should have caught it; never let it escape
        raise ImportFileError(Message(
            "{file}: arrays and objects are nested too deeply (limit MAX_NESTING = {limit}). Export the file "
            "again.", file=source_file, limit=MAX_NESTING)) from None


# ----------------------------------------------------------------------------- member checks
def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return Text("a number")
    if isinstance(value, str):
        return Text("text")
    if isinstance(value, list):
        return Text("a list")
    if isinstance(value, dict):
        return Text("an object")
    return type(value).__name__


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def _checked_properties(props: dict[str, Any]) -> None:
    for value in props.values():
        if value.__class__ is not str:
            break
    else:  # text is right for every checked property
        return
    for key in _TEXT_ONLY:
        value = props.get(key)
        if value is not None and not isinstance(value, str):
            raise _Bad(Text(
                "property '{key}' is {kind} ({preview}), expected text (e.g. \"{example}\"). Write it as text.",
                key=key, kind=_kind(value), preview=_preview(value),
                example={"layer": "hubs", "status": "planned", "location_source": "coordinates"}[key]))
    value = props.get("feature_id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise _Bad(Text(
            "property 'feature_id' is {kind} ({preview}), expected text. Write it as text.", kind=_kind(value),
            preview=_preview(value)))
    for key in TEXT_FIELDS:
        value = props.get(key)
        if isinstance(value, list):
            bad = next((v for v in value if isinstance(v, (list, dict))), None)
            if bad is not None:
                raise _Bad(Text(
                    "property '{key}' is a list holding {kind} ({preview}), expected text or a list of texts. Write "
                    "it as text.", key=key, kind=_kind(bad), preview=_preview(value)))
        elif isinstance(value, dict):
            raise _Bad(Text(
                "property '{key}' is an object ({preview}), expected text. Write it as text.", key=key,
                preview=_preview(value)))


def _own_id(item: dict[str, Any]) -> Any:
    value = item.get("id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        raise _Bad(Text(
            "the Feature 'id' is {kind} ({preview}), expected text or a number (RFC 7946).", kind=_kind(value),
            preview=_preview(value)))
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(Text("the Feature 'id' is {value}, expected text or a finite number (RFC 7946).", value=value))
    return value


def _position(value: Any, what: str, point: bool = False) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) < 2:
        raise _Bad(Text(
            "the {what} holds {kind} ({preview}) where a [longitude, latitude] position is expected. Fix the "
            "coordinates.", what=what, kind=_kind(value), preview=_preview(value)))
    try:
        lon, lat = (float(v) if (isinstance(v, (int, float)) and not isinstance(v, bool)) else None
                    for v in value[:2])
    except OverflowError:
        lon = lat = None
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
        raise _Bad(Text(
            "the {what} has the position {preview}, which is not two finite numbers [longitude, latitude]. Fix the "
            "coordinates.", what=what, preview=_preview(value)))
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        problem = check_point(lat, lon) or Text("longitude {lon}, latitude {lat} is out of range.", lon=lon, lat=lat)
        raise _Bad(Text("{problem} GeoJSON stores longitude first.", problem=problem))
    if point and lon == 0 and lat == 0:
        raise _Bad(Text(
            "the {what} is at longitude 0, latitude 0: {problem} Give it its real coordinates, or geometry null if "
            "it has no place.", what=what, problem=placeholder_point(0.0, 0.0)))
    return lon, lat


def _positions(value: Any, what: str, minimum: int) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise _Bad(Text(
            "the {what} coordinates are {kind}, expected a list of positions. Fix the coordinates.", what=what,
            kind=_kind(value)))
    if len(value) < minimum:
        if len(value) == 1:
            raise _Bad(Text("the {what} has 1 position, fewer than the {minimum} it needs. Redraw it and export "
                            "again.", what=what, minimum=minimum))
        raise _Bad(Text(
            "the {what} has {count} positions, fewer than the {minimum} it needs. Redraw it and export again.",
            what=what, count=len(value), minimum=minimum))
    return [_position(v, what) for v in value]


def _rings(value: Any, what: str) -> list[list[tuple[float, float]]]:
    if not isinstance(value, list) or not value:
        raise _Bad(Text("the {what} has no rings ({preview}). Redraw it and export again.", what=what,
                        preview=_preview(value)))
    rings = []
    for number, ring in enumerate(value, start=1):
        label = (Text("{what} outer ring", what=what) if number == 1
                 else Text("{what} hole {number}", what=what, number=number - 1))
        points = _positions(ring, label, 4)
        if len(set(points)) < 3:
            raise _Bad(Text("the {what} has fewer than 3 distinct positions. Redraw it and export again.", what=label))
        rings.append(points)
    return rings


def _parts(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(Text(
            "the {what} coordinates are {kind}, expected a list. Fix the coordinates.", what=what, kind=_kind(value)))
    if not value:
        raise _Bad(Text(
            "the {what} has empty coordinates. Give it coordinates, or geometry null if it has no place.", what=what))
    return value


class _XY(tuple):
    """A top-level Point's checked position; all of them become shapely Points in one call at the end."""


def _plain_point(value: Any) -> _XY | None:
    """A top-level Point geometry's position when it is plainly valid (two finite floats in range, not 0, 0).

    The common case, checked without the general path's calls; anything else is None and
    goes through `_geometry`, which gives the same position or the reason.
    """
    if value.__class__ is not dict or value.get("type") != "Point":
        return None
    coordinates = value.get("coordinates")
    if coordinates.__class__ is not list or len(coordinates) < 2:
        return None
    lon, lat = coordinates[0], coordinates[1]
    if (lon.__class__ is float and lat.__class__ is float and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
            and (lon != 0 or lat != 0)):
        return _XY((lon, lat))
    return None


def _geometry(value: Any, depth: int = 0) -> Any:
    """Build a shapely geometry from a GeoJSON geometry object, or raise _Bad with the reason."""
    if not isinstance(value, dict):
        raise _Bad(Text(
            "the geometry is {kind} ({preview}), expected a GeoJSON geometry object.", kind=_kind(value),
            preview=_preview(value)))
    kind = value.get("type")
    if kind not in _GEOMETRY_TYPES:
        shown = json.dumps(kind[:60], ensure_ascii=False) if isinstance(kind, str) else _preview(kind)
        raise _Bad(Text(
            "the geometry type {shown} is not one of {items}. Save the file as standard GeoJSON (RFC 7946).",
            shown=shown, items=", ".join(_GEOMETRY_TYPES)))
    if kind == "GeometryCollection":
        parts = value.get("geometries")
        if depth >= _MAX_GEOMETRY_DEPTH:
            raise _Bad(Text("the GeometryCollection is nested more than {depth} levels deep.",
                            depth=_MAX_GEOMETRY_DEPTH))
        if not isinstance(parts, list) or not parts:
            raise _Bad(Text("the GeometryCollection holds no geometries. Give it a shape, or geometry null."))
        return shapely.GeometryCollection([_geometry(part, depth + 1) for part in parts])
    coordinates = value.get("coordinates")
    if coordinates is None or coordinates == []:
        if coordinates is None:
            raise _Bad(Text("the {kind} has null coordinates. Give it coordinates, or geometry null if it has no "
                            "place.", kind=kind))
        raise _Bad(Text("the {kind} has empty coordinates. Give it coordinates, or geometry null if it has no place.",
                        kind=kind))
    if kind == "Point":
        position = _position(coordinates, "Point", point=True)
        return _XY(position) if depth == 0 else shapely.Point(position)
    if kind == "MultiPoint":
        return shapely.MultiPoint([_position(p, "MultiPoint", point=True) for p in _parts(coordinates, kind)])
    if kind == "LineString":
        return shapely.LineString(_positions(coordinates, "LineString", 2))
    if kind == "MultiLineString":
        return shapely.MultiLineString([_positions(p, "MultiLineString part", 2) for p in _parts(coordinates, kind)])
    if kind == "Polygon":
        shell, *holes = _rings(coordinates, "Polygon")
        return shapely.Polygon(shell, holes)
    polygons = [_rings(p, "MultiPolygon part") for p in _parts(coordinates, kind)]
    return shapely.MultiPolygon([shapely.Polygon(shell, holes) for shell, *holes in polygons])


def attributes_from(value: Any) -> dict[str, Any]:
    """Return an ``attributes`` member (an object, or JSON text of one) as a dict.

    Anything else, JSON text nested deeper than `MAX_NESTING` included, is kept whole
    under the key ``attributes``. The GeoPackage loader reads its column the same way.
    """
    attributes = value or {}
    if isinstance(attributes, str):
        text = attributes
        try:
            attributes = json.loads(text) if nesting_depth(text.encode("utf-8", "replace")) <= MAX_NESTING else text
        except (ValueError, RecursionError):  # JSONDecodeError, or an integer too long to convert
            attributes = text
    if not isinstance(attributes, dict):
        attributes = {"attributes": attributes}
    return attributes


# ----------------------------------------------------------------------------- loader
def features_from_geojson(data: bytes, source_file: str) -> LoadResult:
    """Read a GeoJSON FeatureCollection (or a single Feature) with lon/lat coordinates.

    Properties named like canonical columns fill them (``layer``, ``status``, ``name`` …);
    ``feature_id`` is taken verbatim so that our own exports round-trip; an
    ``attributes`` property (object, or JSON text) is merged back; every other
    property is kept in ``attributes``. ``source_ref`` is ``feature N`` (1-based).
    Text keeps its leading white space (only trailing white space is trimmed).
    See the module docstring for what is checked and what is rejected.
    """
    doc = _parse(data, source_file)
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        items = doc["features"]
    else:
        raise ImportFileError(Message(
            "{file}: expected a GeoJSON FeatureCollection or Feature, found {found}. Save the layer as GeoJSON (RFC "
            "7946).", file=source_file,
            found=type(doc).__name__ if not isinstance(doc, dict) else _preview(doc.get("type"))))
    records, rejected, pending = [], [], []
    for i, item in enumerate(items, start=1):
        where = f"feature {i}"
        props = item.get("properties") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not (props is None or isinstance(props, dict)):
            what = (Text("properties are not an object") if isinstance(item, dict)
                    else Text("is {kind}", kind=_kind(item)))
            rejected.append(Rejected(where, Text("not a GeoJSON Feature object ({what}); skipped.", what=what),
                                     {"value": _preview(item)}))
            continue
        props = props or {}
        try:
            _checked_properties(props)
            own_id = item.get("id")
            if own_id is not None and own_id.__class__ is not str:
                own_id = _own_id(item)
            value = item.get("geometry")
            geometry = None if value is None else (_plain_point(value) or _geometry(value))
        except _Bad as exc:
            rejected.append(Rejected(where, exc.args[0], props))
            continue
        except (ValueError, TypeError, shapely.errors.GEOSException) as exc:  # defence: GEOS refused a checked shape
            rejected.append(Rejected(where, Text("the geometry cannot be built ({reason}). Fix the coordinates.",
                                                 reason=str(exc)), props))
            continue
        extra = {k: v for k, v in props.items() if k not in _COLUMN_NAMES}
        # Only the canonical properties given: `make_result` reads each key with .get (absent is None).
        record = {k: v for k, v in props.items() if k in _CANONICAL}
        given = props.get("attributes")
        record.update(
            feature_id=props.get("feature_id") or None,
            own_id=own_id,
            geometry=geometry,
            location_source=props.get("location_source") or ("coordinates" if geometry is not None else "none"),
            source_ref=where,
            attributes=extra if given is None else {**attributes_from(given), **extra},
        )
        # Kind and sectors are stored in the shared vocabulary (by `make_result`); the
        # property as written is kept in attributes when it differs.
        for name, normalise in _VOCABULARY:
            value = record.get(name)
            if value is not None:
                text = clean_text(value)
                if text is not None and normalise(text) != text and record["attributes"].get(name) != text:
                    put_field(record["attributes"], name, text)
        if geometry.__class__ is _XY:
            pending.append(record)
        records.append(record)
    if pending:  # one vectorised call instead of a shapely.Point per feature (a third of the read)
        points = shapely.points(np.array([record["geometry"] for record in pending], dtype=float))
        for record, point in zip(pending, points.tolist()):
            record["geometry"] = point
    return make_result(source_file, records, rejected, len(items))
