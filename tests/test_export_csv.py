"""CSV export: latitude/longitude for points, WKT for the rest, and no formula injection."""
from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pandas as pd
import shapely

from exporters import export
from exporters.csv import csv_text, write_csv
from exporters.safe_cells import FORMULA_STARTS, csv_value, is_risky
from loaders.features import COLUMNS


def _features() -> gpd.GeoDataFrame:
    rows = [
        ("f1", "Łódź Art Center", shapely.Point(19.4561234567, 51.759)),
        ("f2", "=HYPERLINK(\"http://evil.example\")", shapely.Point(-8.57, 53.9)),
        ("f3", "Trail", shapely.LineString([(-8.1, 53.1), (-8.2, 53.2)])),
        ("f4", "Online network", None),
    ]
    frame = pd.DataFrame({c: [None] * len(rows) for c in COLUMNS})
    frame["feature_id"] = [r[0] for r in rows]
    frame["name"] = [r[1] for r in rows]
    frame["layer"] = "hubs"
    frame["status"] = "existing"
    frame["description"] = ["-5 members", "+ more", "@team", "\ttabbed"]
    frame["attributes"] = json.dumps({"Zoë": "ja"}, ensure_ascii=False)
    return gpd.GeoDataFrame(frame.astype(object), geometry=gpd.GeoSeries([r[2] for r in rows], crs="EPSG:4326"))


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_formula_start_is_neutralised():
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")
    for start in FORMULA_STARTS:
        assert is_risky(f"{start}1+1") and csv_value(f"{start}1+1") == f"'{start}1+1"
    assert csv_value("Łódź") == "Łódź" and csv_value(-8.5) == -8.5 and not is_risky(-1)


def test_columns_points_lines_and_missing_locations():
    rows = _rows(csv_text(_features()))
    assert list(rows[0]) == [
        "feature_id", "name", "layer", "kind", "status", "sectors", "helix", "address", "town", "country",
        "website", "contact", "description", "latitude", "longitude", "wkt", "location_source", "source_file",
        "source_ref", "attributes",
    ]
    assert (rows[0]["latitude"], rows[0]["longitude"], rows[0]["wkt"]) == ("51.759", "19.456123", "")
    assert rows[1]["longitude"] == "-8.57"  # a negative number is not text: no apostrophe
    assert (rows[2]["latitude"], rows[2]["wkt"]) == ("", "LINESTRING (-8.1 53.1, -8.2 53.2)")
    assert (rows[3]["latitude"], rows[3]["longitude"], rows[3]["wkt"]) == ("", "", "")
    assert json.loads(rows[0]["attributes"]) == {"Zoë": "ja"}


def test_hostile_text_gets_an_apostrophe():
    rows = _rows(csv_text(_features()))
    assert rows[1]["name"] == "'=HYPERLINK(\"http://evil.example\")"
    assert [r["description"] for r in rows] == ["'-5 members", "'+ more", "'@team", "'\ttabbed"]


def test_file_is_utf8_with_bom_and_crlf(tmp_path):
    path = write_csv(_features(), tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert "Łódź Art Center".encode("utf-8") in raw


def test_analysis_tables_are_written_beside_the_features(tmp_path):
    analysis = {"coverage_summary": pd.DataFrame({"layer": ["=hubs"], "coverage_share": [0.61]})}
    result = export(_features(), "csv", tmp_path / "alliance.csv", analysis=analysis)
    assert [p.name for p in result.files] == ["alliance.csv", "alliance-coverage_summary.csv"]
    summary = _rows(result.files[1].read_text(encoding="utf-8-sig"))
    assert summary == [{"layer": "'=hubs", "coverage_share": "0.61"}]
