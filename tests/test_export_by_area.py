"""Coverage by area in the exports: the ``area_coverage`` layer, the By area sheet, the rest-of-region row."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sqlite3
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from analysis.by_area import REST, by_area
from analysis.coverage import compute
from atlas.analysis_frames import area_coverage_frame
from atlas.cli import main
from exporters import export
from loaders.features import COLUMNS, CRS
from tests.conftest import ROOT
from workspace import Workspace

DEMO = ROOT / "geodata" / "demo_workspace"
# West Pomerania's NUTS 3 regions (NUTS 2021), in the shipped file's order.
AREAS = {"PL424": "Miasto Szczecin", "PL426": "Koszaliński", "PL427": "Szczecinecko-pyrzycki",
         "PL428": "Szczeciński"}
# The demo workspace has nothing in West Pomerania: three invented facilities, one per named area.
FACILITIES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [14.553, 53.428]},
     "properties": {"name": "Szczecin test hub", "layer": "hubs", "status": "existing"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [16.172, 54.194]},
     "properties": {"name": "Koszalin test school", "layer": "training", "status": "existing"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [16.700, 53.709]},
     "properties": {"name": "Szczecinek test hub", "layer": "hubs", "status": "existing"}},
]}
LAYERS = ("hubs", "training", "networks")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workspace (copied) with the three facilities, and its ``analyze --json`` report for West Pomerania."""
    folder = tmp_path_factory.mktemp("by_area")
    shutil.copytree(DEMO, folder / "W")
    source = folder / "west_pomerania_test.geojson"
    source.write_text(json.dumps(FACILITIES), encoding="utf-8")
    Workspace(folder / "W").import_files([source])
    return folder


@pytest.fixture(scope="module")
def report(demo):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["analyze", "--workspace", str(demo / "W"), "--region", "west-pomerania", "--json"]) == 0
    return json.loads(out.getvalue())


def _export(demo, fmt: str, region: str = "west-pomerania", stem: str = "wp"):
    out = demo / fmt / f"{stem}.{fmt}"
    assert main(["export", "--workspace", str(demo / "W"), "--region", region, "--format", fmt,
                 "--include", "analysis", "--out", str(out)]) == 0
    return out


def test_the_report_has_the_four_nuts3_areas(report):
    assert [row["name"] for row in report["by_area"]] == list(AREAS.values())
    assert report["areas_source"].startswith("NUTS 3 regions")
    # The invented facilities sit where they were put: an independent check of the areas' order.
    facilities = {row["name"]: {l: row["layers"][l]["facilities"] for l in LAYERS} for row in report["by_area"]}
    assert facilities["Miasto Szczecin"] == {"hubs": 1, "training": 0, "networks": 0}
    assert facilities["Koszaliński"] == {"hubs": 0, "training": 1, "networks": 0}
    assert facilities["Szczecinecko-pyrzycki"] == {"hubs": 1, "training": 0, "networks": 0}
    assert report["by_area"][0]["layers"]["hubs"]["covered_population"] > 0


def _check_rows(rows: list[dict], report: dict) -> None:
    """Rows of the area layer against the analysis report (same order, same figures)."""
    assert [(r["code"], r["name"]) for r in rows] == list(AREAS.items())
    assert sum(r["population"] for r in rows) == report["demand"]["population"]
    for row, expected in zip(rows, report["by_area"]):
        assert row["population"] == expected["population"]
        for layer in LAYERS:
            figures = expected["layers"][layer]
            assert row[f"covered_population_{layer}"] == figures["covered_population"]
            assert row[f"coverage_share_{layer}"] == pytest.approx(figures["coverage_share"], abs=1e-6)
            assert 0 <= row[f"coverage_share_{layer}"] <= 1
            assert row[f"facilities_{layer}"] == figures["facilities"]
            assert row[f"per_100k_{layer}"] == pytest.approx(figures["per_100k"], abs=0.01)
        assert row["full_support_share"] == pytest.approx(expected["full_support_share"], abs=1e-6)


def test_geojson_writes_the_area_layer_beside_the_features(demo, report):
    out = _export(demo, "geojson")
    collection = json.loads(out.with_name("wp-area_coverage.geojson").read_text(encoding="utf-8"))
    assert collection["name"] == "Coverage by area"
    _check_rows([f["properties"] for f in collection["features"]], report)
    assert {f["geometry"]["type"] for f in collection["features"]} <= {"Polygon", "MultiPolygon"}
    # Each settlement counts in the area holding it: Szczecin's own point lies in Miasto Szczecin.
    szczecin = shapely.geometry.shape(collection["features"][0]["geometry"])
    assert szczecin.contains(shapely.Point(14.553, 53.428))


def test_geopackage_has_an_area_coverage_table(demo, report):
    out = _export(demo, "gpkg")
    frame = pyogrio.read_dataframe(out, layer="area_coverage")
    assert frame.crs == "EPSG:4326" and frame.geometry.notna().all()
    _check_rows(frame.drop(columns="geometry").to_dict("records"), report)
    with sqlite3.connect(out) as con:
        meta = con.execute("SELECT kind, title, rows, note FROM atlas_export "
                           "WHERE table_name = 'area_coverage'").fetchone()
        summary = con.execute("SELECT DISTINCT population FROM coverage_summary").fetchall()
    assert meta[:3] == ("analysis", "Coverage by area", 4)
    assert "Coverage by area: 4 areas, NUTS 3 regions" in meta[3]
    assert summary == [(report["demand"]["population"],)] and summary[0][0] == frame["population"].sum()


def test_the_report_has_a_by_area_sheet_as_the_gaps_page_shows_it(demo, report):
    out = _export(demo, "xlsx")
    book = load_workbook(out)
    assert book.sheetnames.index("By area") == book.sheetnames.index("Coverage") + 1
    rows = list(book["By area"].iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Area")
    assert "Areas: NUTS 3 regions (Eurostat GISCO, 1:20 million)" in rows[0][0]
    table = pd.DataFrame(rows[header + 1:], columns=rows[header])
    assert list(zip(table["Code"], table["Area"])) == list(AREAS.items())
    assert table["People"].sum() == report["demand"]["population"]
    for (_, row), expected in zip(table.iterrows(), report["by_area"]):
        hubs = expected["layers"]["hubs"]
        assert row["Hubs & infrastructure within reach (%)"] == round(hubs["coverage_share"] * 100)
        assert row["Hubs & infrastructure per 100,000"] == pytest.approx(hubs["per_100k"], abs=0.05)
        assert row["Full support (%)"] == round(expected["full_support_share"] * 100)
    about = dict(row[:2] for row in book["About"].iter_rows(values_only=True) if row[0] != "Note")
    assert about["Areas (coverage by area)"] == "4 areas: NUTS 3 regions (Eurostat GISCO, 1:20 million)"


def test_a_region_without_areas_exports_without_the_layer(demo):
    # West of Ireland is IE042, itself one NUTS 3 region: nothing to break it down by.
    geojson = _export(demo, "geojson", region="west-ireland", stem="wi")
    assert geojson.with_name("wi-coverage_discs.geojson").exists()
    assert not geojson.with_name("wi-area_coverage.geojson").exists()
    gpkg = _export(demo, "gpkg", region="west-ireland", stem="wi")
    assert "area_coverage" not in pyogrio.list_layers(gpkg)[:, 0]
    book = load_workbook(_export(demo, "xlsx", region="west-ireland", stem="wi"))
    assert "By area" not in book.sheetnames and "Coverage" in book.sheetnames


# -- the rest-of-region row (demand in no area) has no shape: every writer copes ----------------
def _rest_frame() -> gpd.GeoDataFrame:
    """Three towns on the equator 1° apart, a hub at the first; areas around the first two only."""
    demand = gpd.GeoDataFrame({"name": ["Alpha", "Beta", "Gamma"], "population": [1000, 500, 200]},
                              geometry=[shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(2, 0)], crs=CRS)
    row = pd.DataFrame({c: [None] for c in COLUMNS})
    row.loc[0, ["feature_id", "name", "layer", "status", "attributes"]] = ["h1", "Hub", "hubs", "existing", "{}"]
    facilities = gpd.GeoDataFrame(row.astype(object), geometry=gpd.GeoSeries([shapely.Point(0, 0)], crs=CRS))
    areas = gpd.GeoDataFrame({"name": ["Area A", "Area B"], "code": ["A1", "B1"]},
                             geometry=[shapely.box(-0.5, -0.5, 0.5, 0.5), shapely.box(0.5, -0.5, 1.5, 0.5)], crs=CRS)
    result = compute(demand, facilities, radius_km={"hubs": 20})
    return area_coverage_frame(by_area(result, areas, facilities), areas)


def _no_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}),
                            geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def test_the_area_frame_keeps_the_rest_of_the_region_without_a_shape():
    frame = _rest_frame()
    assert frame[["name", "code", "population", "covered_population_hubs", "facilities_hubs"]].to_dict("records") == [
        {"name": "Area A", "code": "A1", "population": 1000, "covered_population_hubs": 1000, "facilities_hubs": 1},
        {"name": "Area B", "code": "B1", "population": 500, "covered_population_hubs": 0, "facilities_hubs": 0},
        {"name": REST, "code": "", "population": 200, "covered_population_hubs": 0, "facilities_hubs": 0},
    ]
    assert frame["coverage_share_hubs"].tolist() == [1.0, 0.0, 0.0]
    assert frame["per_100k_hubs"].tolist() == [100.0, 0.0, 0.0]
    assert frame.geometry.isna().tolist() == [False, False, True]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_gis_writers_keep_the_rest_row_with_a_null_geometry(tmp_path, fmt):
    out = tmp_path / f"x.{fmt}"
    export(_no_features(), fmt, out, analysis={"area_coverage": _rest_frame()})
    if fmt == "geojson":
        features = json.loads((tmp_path / "x-area_coverage.geojson").read_text(encoding="utf-8"))["features"]
        rows = [(f["properties"]["name"], f["properties"]["population"], f["geometry"] is None) for f in features]
    elif fmt == "gpkg":
        frame = pyogrio.read_dataframe(out, layer="area_coverage")
        rows = list(zip(frame["name"], frame["population"], frame.geometry.isna()))
    else:
        with open(tmp_path / "x-area_coverage.csv", encoding="utf-8-sig", newline="") as handle:
            table = list(csv.DictReader(handle))
        rows = [(r["name"], int(r["population"]), r["wkt"] == "") for r in table]
    assert rows == [("Area A", 1000, False), ("Area B", 500, False), (REST, 200, True)]


def test_kml_leaves_the_shapeless_row_out_and_says_so(tmp_path):
    result = export(_no_features(), "kmz", tmp_path / "x.kmz", analysis={"area_coverage": _rest_frame()})
    with zipfile.ZipFile(result.files[0]) as archive:
        text = archive.read("doc.kml").decode("utf-8")
    assert "<Folder><name>Coverage by area</name>" in text
    assert text.count("<Placemark") == 2 and REST not in text
    assert any(REST in note and "not in the KML" in note for note in result.notes)


def test_xlsx_writes_every_row_and_the_caption(tmp_path):
    out = tmp_path / "x.xlsx"
    export(_no_features(), "xlsx", out, analysis={"area_coverage": _rest_frame()},
           captions={"area_coverage": ["Areas: =test areas"]})
    rows = list(load_workbook(out)["By area"].iter_rows(values_only=True))
    assert rows[0][0] == "Areas: =test areas"
    assert rows[1][:3] == ("name", "code", "population")
    assert [r[0] for r in rows[2:]] == ["Area A", "Area B", REST]


def test_a_caption_that_looks_like_a_formula_stays_text(tmp_path):
    out = tmp_path / "x.xlsx"
    export(_no_features(), "xlsx", out, analysis={"area_coverage": _rest_frame()},
           captions={"area_coverage": ['=HYPERLINK("http://evil.example", "x")']})
    cell = load_workbook(out)["By area"]["A1"]
    assert cell.data_type == "s" and cell.quotePrefix
