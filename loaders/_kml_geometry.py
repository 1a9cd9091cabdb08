"""Build shapely geometries (EPSG:4326 lon/lat) from KML coordinates and geometry elements."""
from __future__ import annotations

import re
from typing import Any, Callable

import shapely

from loaders._kml_elements import GEOMETRIES
from i18n import Text
from loaders.coords import check_point, placeholder_point

_MAX_GEOMETRY_DEPTH = 32
_LOOSE_COMMA = re.compile(r"\s,|,\s")
_POINT_LIKE = frozenset({"Point", "Model location"})  # a vertex at 0,0 of a line may be real


class BadGeometry(Exception):
    """A placemark's geometry cannot be used; the message is the rejection reason."""


def _coordinates(text: str | None, what: str) -> list[tuple[float, float]]:
    """Parse a KML ``<coordinates>`` text ("lon,lat[,alt]" tuples separated by white space)."""
    if not text or not text.strip():
        raise BadGeometry(Text("the {what} has no coordinates. Place it on the map again and export.", what=what))
    if _LOOSE_COMMA.search(text):
        text = re.sub(r"\s*,\s*", ",", text)
    points = []
    for token in text.split():
        parts = token.split(",")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            raise BadGeometry(Text(
                "the {what} coordinates '{token}' are not 'longitude,latitude[,altitude]' numbers. Fix them in "
                "Google Earth or a text editor.", what=what, token=token[:60])) from None
    if what in _POINT_LIKE and points and points[0] == (0.0, 0.0):
        raise BadGeometry(Text(
            "the {what} is at longitude 0, latitude 0: {value} Place it on the map in My Maps or Google Earth and "
            "export again.", what=what, value=placeholder_point(0.0, 0.0)))
    for lon, lat in points:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            problem = check_point(lat, lon)
            if problem:
                if problem.endswith(": check the column order."):
                    problem = Text("latitude {lat} / longitude {lon} is outside −90…90 / −180…180. Swapping "
                                   "them gives latitude {lon}, longitude {lat}, which would be valid.", lat=lat, lon=lon)
                if what == "Point":
                    raise BadGeometry(Text(
                        "the {what} is at longitude {lon}, latitude {lat}: {problem} KML writes longitude first; if "
                        "the file was made from a spreadsheet, its columns may have been swapped there. Fix the point "
                        "in Google Earth or My Maps and export again.", what=what, lon=lon, lat=lat, problem=problem))
                raise BadGeometry(Text(
                    "the {what} has a vertex at longitude {lon}, latitude {lat}: {problem} KML writes longitude first; "
                    "if the file was made from a spreadsheet, its columns may have been swapped there. Fix the point "
                    "in Google Earth or My Maps and export again.", what=what, lon=lon, lat=lat, problem=problem))
    return points


def _child(element: Any, name: str, local: Callable[[Any], str]) -> Any:
    for child in element:
        if local(child.tag) == name:
            return child
    return None


def _children(element: Any, name: str, local: Callable[[Any], str]) -> list[Any]:
    return [child for child in element if local(child.tag) == name]


def _ring(element: Any, local: Callable[[Any], str], what: str) -> list[tuple[float, float]]:
    ring = _child(element, "LinearRing", local) if local(element.tag) != "LinearRing" else element
    if ring is None:
        raise BadGeometry(Text("the {what} has no LinearRing. Redraw the shape and export again.", what=what))
    coordinates = _child(ring, "coordinates", local)
    points = _coordinates(coordinates.text if coordinates is not None else None, what)
    if len(set(points)) < 3:
        raise BadGeometry(Text("the {what} has fewer than 3 distinct points. Redraw the shape and export again.",
                               what=what))
    if points[0] != points[-1]:
        points.append(points[0])
    return points


def read_geometry(element: Any, local: Callable[[Any], str], depth: int) -> Any:
    """Build a shapely geometry (lon/lat) from a KML geometry element; raise BadGeometry."""
    tag = local(element.tag)
    if tag == "Point":
        coordinates = _child(element, "coordinates", local)
        lon, lat = _coordinates(coordinates.text if coordinates is not None else None, "Point")[0]
        return shapely.Point(lon, lat)
    if tag == "LineString":
        coordinates = _child(element, "coordinates", local)
        points = _coordinates(coordinates.text if coordinates is not None else None, "LineString")
        if len(points) < 2:
            raise BadGeometry(Text("the LineString has fewer than 2 points. Redraw the line and export again."))
        return shapely.LineString(points)
    if tag == "LinearRing":
        # A ring on its own is an outline, not an area: keep it as a closed LineString.
        return shapely.LineString(_ring(element, local, "LinearRing"))
    if tag == "Polygon":
        outer = _child(element, "outerBoundaryIs", local)
        if outer is None:
            raise BadGeometry(Text("the Polygon has no outer boundary. Redraw the shape and export again."))
        shell = _ring(outer, local, "Polygon outer boundary")
        holes = [
            _ring(ring, local, "Polygon inner boundary")
            for inner in _children(element, "innerBoundaryIs", local)
            for ring in _children(inner, "LinearRing", local)
        ]
        return shapely.Polygon(shell, holes)
    if tag in ("MultiGeometry", "gx:MultiTrack"):
        if depth >= _MAX_GEOMETRY_DEPTH:
            raise BadGeometry(Text("the {tag} is nested more than {depth} levels deep.", tag=tag,
                                   depth=_MAX_GEOMETRY_DEPTH))
        parts = [read_geometry(child, local, depth + 1) for child in element if local(child.tag) in GEOMETRIES]
        if not parts:
            raise BadGeometry(Text("the {tag} holds no geometry. Add a shape and export again.", tag=tag))
        return collect_parts(parts)
    if tag == "gx:Track":
        points = []
        for child in element:
            if local(child.tag) == "gx:coord" and child.text:
                values = child.text.split()
                try:
                    points.append((float(values[0]), float(values[1])))
                except (ValueError, IndexError):
                    raise BadGeometry(Text(
                        "the gx:Track coordinate '{value}' is not 'longitude latitude altitude'.",
                        value=child.text.strip()[:60])) from None
        if not points:
            raise BadGeometry(Text("the gx:Track has no gx:coord points."))
        _coordinates(" ".join(f"{x!r},{y!r}" for x, y in points), "gx:Track")  # range check
        return shapely.Point(points[0]) if len(points) == 1 else shapely.LineString(points)
    if tag == "Model":
        location = _child(element, "Location", local)
        lon = _child(location, "longitude", local) if location is not None else None
        lat = _child(location, "latitude", local) if location is not None else None
        if lon is None or lat is None:
            raise BadGeometry(Text("the 3D Model has no Location longitude/latitude."))
        x, y = _coordinates(f"{(lon.text or '').strip()},{(lat.text or '').strip()}", "Model location")[0]
        return shapely.Point(x, y)
    raise BadGeometry(Text("the geometry <{tag}> is not supported.", tag=tag))


def collect_parts(parts: list[Any]) -> Any:
    """Combine parts into MultiPoint/MultiLineString/MultiPolygon, or a GeometryCollection when mixed."""
    flat = []
    for part in parts:
        if part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            flat.extend(part.geoms)
        else:
            flat.append(part)
    kinds = {part.geom_type for part in flat}
    if kinds == {"Point"}:
        return shapely.MultiPoint(flat)
    if kinds == {"LineString"}:
        return shapely.MultiLineString(flat)
    if kinds == {"Polygon"}:
        return shapely.MultiPolygon(flat)
    return shapely.GeometryCollection(flat)
