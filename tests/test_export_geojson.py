"""GeoJSON export: the RFC 7946 rules, checked by a validator written here, and the options."""
from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from exporters import export
from exporters.geojson import feature_collection_text, write_geojson
from loaders import read_file
from loaders.features import COLUMNS
from tests.test_export_fixtures import mymaps_kmz

_COORDINATE_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?")
_COORDINATES = re.compile(r'"coordinates":\s*(\[[-0-9.eE,\s\[\]]*\])')


def _coordinates_text(text: str) -> str:
    """Return the text of every ``coordinates`` array, as written (the decimals are in the text)."""
    return " ".join(m.group(1) for m in _COORDINATES.finditer(text))


def _ring_area(ring: list[list[float]]) -> float:
    """Signed shoelace area: positive for a counter-clockwise ring (lon east, lat north)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:])) / 2


def _positions(geometry: dict) -> list[list[float]]:
    kind, coords = geometry["type"], geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in _positions(g)]
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}[kind]
    items = [coords]
    for _ in range(depth):
        items = [p for item in items for p in item]
    return items


def _check_polygon(rings: list, where: str) -> list[str]:
    problems = []
    for i, ring in enumerate(rings):
        if len(ring) < 4:
            problems.append(f"{where} ring {i}: fewer than 4 positions")
        if ring[0] != ring[-1]:
            problems.append(f"{where} ring {i}: not closed")
        area = _ring_area(ring)
        if i == 0 and area <= 0:
            problems.append(f"{where}: exterior ring is not counter-clockwise")
        if i > 0 and area >= 0:
            problems.append(f"{where} hole {i}: not clockwise")
    return problems


def rfc7946_problems(text: str) -> list[str]:
    """Return every way `text` breaks the RFC 7946 rules we promise (empty list = valid)."""
    problems = []
    doc = json.loads(text)
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return ["not a FeatureCollection with a features array"]
    if "crs" in doc:
        problems.append("FeatureCollection has a crs member (removed in RFC 7946)")
    for n, feature in enumerate(doc["features"]):
        where = f"feature {n}"
        if feature.get("type") != "Feature" or "geometry" not in feature or "properties" not in feature:
            problems.append(f"{where}: not a Feature with geometry and properties")
            continue
        if "crs" in feature or (feature["geometry"] or {}).get("crs"):
            problems.append(f"{where}: has a crs member")
        if not isinstance(feature["properties"], dict):
            problems.append(f"{where}: properties is not an object")
        geometry = feature["geometry"]
        if geometry is None:
            continue
        for position in _positions(geometry):
            if not 2 <= len(position) <= 3 or not all(isinstance(v, (int, float)) for v in position):
                problems.append(f"{where}: position {position} is not [lon, lat(, alt)]")
                continue
            lon, lat = position[:2]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                problems.append(f"{where}: position {position} is outside lon −180…180 / lat −90…90")
        if geometry["type"] == "Polygon":
            problems += _check_polygon(geometry["coordinates"], where)
        if geometry["type"] == "MultiPolygon":
            for k, polygon in enumerate(geometry["coordinates"]):
                problems += _check_polygon(polygon, f"{where} part {k}")
        if geometry["type"] == "LineString" and len(geometry["coordinates"]) < 2:
            problems.append(f"{where}: LineString with fewer than 2 positions")
    for match in _COORDINATE_NUMBER.finditer(_coordinates_text(text)):
        if match.group(1) and len(match.group(1)) > 6:
            problems.append(f"coordinate {match.group(0)} has more than 6 decimals")
            break
    return problems


@pytest.fixture
def shapes() -> gpd.GeoDataFrame:
    """Canonical features with every geometry kind, wrong ring orientations and long decimals."""
    cw_with_ccw_hole = shapely.Polygon(
        [(15.0, 56.0), (15.0, 56.1), (15.1, 56.1), (15.1, 56.0), (15.0, 56.0)],
        [[(15.02, 56.02), (15.08, 56.02), (15.08, 56.08), (15.02, 56.08), (15.02, 56.02)]],
    )
    rows = [
        ("p1", "Łódź Art Center", "hubs", shapely.Point(19.4561234567, 51.7592345678), '{"floor_m2": 420, "Zoë": "ja"}'),
        ("p2", "Blekinge polygon", "hubs", cw_with_ccw_hole, "{}"),
        ("p3", "Trail", "networks", shapely.LineString([(-8.1234567891, 53.1), (-8.2, 53.2)]), "{}"),
        ("p4", "Two sites", "training", shapely.MultiPolygon([cw_with_ccw_hole, shapely.box(16, 56, 16.1, 56.1)]), "{}"),
        ("p5", "Online network", "networks", None, '{"url": "https://example.org"}'),
        ("p6", "Tiny", "hubs", shapely.Polygon([(0.0000001, 0.0000001), (0.0000009, 0.0000001), (0.0000009, 0.0000009)]), "{}"),
    ]
    frame = pd.DataFrame({c: [None] * len(rows) for c in COLUMNS})
    frame["feature_id"] = [r[0] for r in rows]
    frame["name"] = [r[1] for r in rows]
    frame["layer"] = [r[2] for r in rows]
    frame["status"] = "existing"
    frame["attributes"] = [r[4] for r in rows]
    return gpd.GeoDataFrame(frame.astype(object), geometry=gpd.GeoSeries([r[3] for r in rows], crs="EPSG:4326"))


def test_export_follows_rfc7946(shapes):
    text = feature_collection_text(shapes)
    assert rfc7946_problems(text) == []


def test_the_validator_catches_what_it_should():
    bad = {"type": "FeatureCollection", "crs": {"type": "name"}, "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [51.7592, 119.4561]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[0, 0], [0, 1], [1, 1], [1, 0]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1.1234567, 2]}},
    ]}
    problems = rfc7946_problems(json.dumps(bad))
    assert any("crs" in p for p in problems)
    assert any("outside lon" in p for p in problems)
    assert any("not closed" in p for p in problems)
    assert any("not counter-clockwise" in p for p in problems)
    assert any("coordinate 1.1234567 has more than 6 decimals" in p for p in problems)


def test_longitude_comes_first_and_is_rounded_to_six_decimals(shapes):
    doc = json.loads(feature_collection_text(shapes))
    point = doc["features"][0]
    assert point["geometry"]["coordinates"] == [19.456123, 51.759235]
    assert doc["features"][2]["geometry"]["coordinates"][0] == [-8.123457, 53.1]


def test_coordinates_are_written_in_their_shortest_form(tmp_path):
    # GEOS's own GeoJSON writer prints -8.181311 as -8.181311000000001.
    frame = gpd.GeoDataFrame({"name": ["p", "l"]}, geometry=[
        shapely.Point(-8.181311, 53.9), shapely.LineString([(-8.222302, 53.1), (-8.181311, 53.2)])], crs="EPSG:4326")
    text = feature_collection_text(frame)
    assert "[-8.181311,53.9]" in text and "[[-8.222302,53.1],[-8.181311,53.2]]" in text
    assert "00000" not in text
    assert rfc7946_problems(text) == []


def test_polygons_are_reoriented_not_reshaped(shapes):
    doc = json.loads(feature_collection_text(shapes))
    exported = shapely.geometry.shape(doc["features"][1]["geometry"])
    assert exported.equals(shapes.geometry.iloc[1])
    assert exported.exterior.is_ccw and not exported.interiors[0].is_ccw


def test_utf8_is_written_unescaped_and_attributes_are_a_nested_object(shapes, tmp_path):
    path = write_geojson(shapes, tmp_path / "x.geojson")
    raw = path.read_bytes()
    assert "Łódź Art Center".encode("utf-8") in raw
    assert b"\\u0141" not in raw and b"\\u00eb" not in raw
    doc = json.loads(raw.decode("utf-8"))
    props = doc["features"][0]["properties"]
    assert list(props) == list(COLUMNS)
    assert props["attributes"] == {"floor_m2": 420, "Zoë": "ja"}
    assert doc["features"][0]["id"] == "p1"
    assert doc["features"][4]["geometry"] is None


def test_missing_values_and_nan_become_null(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"], "population": [np.nan, 12.5], "rank": [1, 2], "flag": [np.inf, 1.0]},
        geometry=[shapely.Point(1, 2), shapely.Point(3, 4)], crs="EPSG:4326",
    )
    doc = json.loads(feature_collection_text(frame, name="result"))
    assert doc["name"] == "result"
    assert doc["features"][0]["properties"] == {"name": "a", "population": None, "rank": 1, "flag": None}
    assert "id" not in doc["features"][0]


def test_other_crs_is_reprojected_to_wgs84():
    frame = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(19.456, 51.759)], crs="EPSG:4326").to_crs(3035)
    doc = json.loads(feature_collection_text(frame))
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert math.isclose(lon, 19.456, abs_tol=1e-6) and math.isclose(lat, 51.759, abs_tol=1e-6)


def test_an_empty_selection_is_a_valid_empty_collection(shapes):
    doc = json.loads(feature_collection_text(shapes.iloc[0:0]))
    assert doc == {"type": "FeatureCollection", "features": []}


def test_analysis_results_are_their_own_feature_collections(tmp_path):
    features = read_file(mymaps_kmz(tmp_path)).features
    discs = gpd.GeoDataFrame({"layer": ["hubs"], "radius_km": [20.0]}, geometry=[shapely.Point(-8.5, 53.9).buffer(0.2)],
                             crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"rank": [1], "name": ["Boyle"], "added_population": [2300]},
                             geometry=[shapely.Point(-8.3, 53.97)], crs="EPSG:4326")
    summary = pd.DataFrame({"layer": ["hubs"], "coverage_share": [0.5]})
    result = export(features, "geojson", tmp_path / "alliance.geojson",
                    analysis={"coverage_discs": discs, "suggested_sites": sites, "coverage_summary": summary})
    names = [p.name for p in result.files]
    assert names == ["alliance.geojson", "alliance-coverage_discs.geojson", "alliance-suggested_sites.geojson"]
    for path in result.files:
        assert rfc7946_problems(path.read_text(encoding="utf-8")) == []
    doc = json.loads(result.files[2].read_text(encoding="utf-8"))
    assert doc["name"] == "Suggested sites"
    assert doc["features"][0]["properties"] == {"rank": 1, "name": "Boyle", "added_population": 2300}
    assert "2 analysis result(s) to their own files" in result.message
    assert any("coverage_summary" in note and "XLSX" in note for note in result.notes)


# -- rounding can flip a tiny ring: the written ring must still follow the right-hand rule ---------
# Mutation caught: dropping the re-orientation after rounding in exporters/geojson.py. The
# fixtures above have rings whose orientation survives rounding, so that left the suite green.
_X, _Y = -8.0, 53.0
# Counter-clockwise as given (signed area +0.1e-12 deg²); rounded to 6 decimals the middle
# vertices move to (+2e-6, +1e-6) and (+1e-6, 0), which is clockwise (−0.5e-12 deg²).
_FLIPS_TO_CW = [(_X, _Y), (_X + 2e-6, _Y + 0.6e-6), (_X + 1e-6, _Y + 0.4e-6), (_X, _Y)]


def _signed_area(ring) -> float:
    """Shoelace area relative to the first position (exact enough at 1e-6 degrees near lon −8, lat 53)."""
    x0, y0 = ring[0][0], ring[0][1]
    pts = [(x - x0, y - y0) for x, y, *_ in ring]
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:])) / 2


def test_the_premise_rounding_flips_these_rings():
    assert _signed_area(_FLIPS_TO_CW) > 0
    assert _signed_area([(round(x, 6), round(y, 6)) for x, y in _FLIPS_TO_CW]) < 0


def test_rings_flipped_by_rounding_are_written_with_the_right_hand_rule(tmp_path):
    tiny = shapely.Polygon(_FLIPS_TO_CW)
    # A hole given clockwise that rounding turns counter-clockwise, inside an ordinary square.
    with_hole = shapely.Polygon(
        [(_X - 1e-3, _Y - 1e-3), (_X + 1e-3, _Y - 1e-3), (_X + 1e-3, _Y + 1e-3), (_X - 1e-3, _Y + 1e-3)],
        [_FLIPS_TO_CW[::-1]],
    )
    assert tiny.exterior.is_ccw and not with_hole.interiors[0].is_ccw  # right as given
    frame = gpd.GeoDataFrame({"name": ["tiny", "with hole", "both"]}, geometry=[
        tiny, with_hole, shapely.MultiPolygon([tiny, with_hole])], crs="EPSG:4326")
    doc = json.loads(write_geojson(frame, tmp_path / "tiny.geojson").read_text(encoding="utf-8"))
    polygons = [doc["features"][0]["geometry"]["coordinates"], doc["features"][1]["geometry"]["coordinates"],
                *doc["features"][2]["geometry"]["coordinates"]]
    for k, rings in enumerate(polygons):
        assert _signed_area(rings[0]) > 0, f"polygon {k}: exterior ring written clockwise"
        for hole in rings[1:]:
            assert _signed_area(hole) < 0, f"polygon {k}: hole written counter-clockwise"
    # Re-oriented, not reshaped: the same rounded vertices, in the other order.
    assert {tuple(p) for p in polygons[0][0]} == {(-8.0, 53.0), (-7.999999, 53.0), (-7.999998, 53.000001)}
