"""Real geography end to end: stored population layers, areas, honest denominators and the coast.

Through the command line (``import-demand``, ``import-areas``, ``analyze --demand LAYER
--areas FILE``), on a copy of the demo workspace, with small grids and areas written here.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pyproj
import pytest
from shapely.geometry import box, mapping

from geography.boundaries import boundary_for
from geography.demand_layers import GEONAMES, demand_for, demand_layers, import_demand, remove_demand
from geography.regions import load_regions
from geography.settlements import settlements
from test_cli_analyze import ROOT, run
from workspace import Workspace

DEMO = ROOT / "geodata" / "demo_workspace"
TO_LAEA = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "ws"
    shutil.copytree(DEMO, folder)
    return folder


def _grid_csv(path, west: float, south: float, east: float, north: float, people: int = 100):
    """A GEOSTAT-style 1 km grid CSV covering a lon/lat box, `people` per cell."""
    x0, y0 = TO_LAEA.transform(west, south)
    x1, y1 = TO_LAEA.transform(east, north)
    rows = ["GRD_ID,TOT_P_2021,CNTR_ID"]
    for n in range(int(y0 // 1000), int(y1 // 1000)):
        for e in range(int(x0 // 1000), int(x1 // 1000)):
            rows.append(f"CRS3035RES1000mN{n * 1000}E{e * 1000},{people},PL")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _analyze(*args) -> dict:
    done = run("analyze", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_west_pomerania_counts_no_place_outside_poland(workspace):
    report = _analyze("--workspace", workspace, "--region", "west-pomerania", "--all-gaps")
    assert report["boundary"] == "official"
    region = load_regions().get("west-pomerania")
    places = settlements(boundary_for(region, None, online=False).geometry, countries=region.countries)
    assert set(places["country"]) == {"PL"} and len(places) > 100
    names = {gap["name"] for gap in report["gaps"]}
    assert "Schwedt (Oder)" not in names and "Gartz" not in names
    assert report["demand"]["settlements"] == len(places)


def test_a_harbour_town_the_coarse_coastline_cuts_off_still_counts():
    region = load_regions().get("blekinge")
    geometry = boundary_for(region, None, online=False).geometry
    names = set(settlements(geometry, countries=region.countries)["name"])
    assert "Karlskrona" in names  # 2 km outside SE221 at 1:20 million, in the sea by that coastline
    assert "Växjö" not in names and "Kalmar" not in names  # on land in neighbouring counties: out


def test_a_stored_grid_is_the_demand_and_every_figure_names_it(workspace, tmp_path):
    grid = _grid_csv(tmp_path / "lodz_grid.csv", 19.30, 51.68, 19.64, 51.86, people=250)
    done = run("import-demand", grid, "--workspace", workspace, "--name", "lodz-grid", "--json")
    assert done.returncode == 0, done.stderr
    stored = json.loads(done.stdout)
    assert stored["layer"] == "lodz-grid" and stored["kind"] == "grid" and stored["rows"] > 400
    assert stored["rows"] == stored["rows_read"] and stored["population"] == 250 * stored["rows"]

    geonames = _analyze("--workspace", workspace, "--region", "lodz")
    assert geonames["demand"]["too_few_points"] is True  # Łódź is two GeoNames points
    assert geonames["layers"]["hubs"]["coverage_share"] is None and geonames["full_support_share"] is None
    assert "cannot tell anything useful" in geonames["demand"]["warning"]

    report = _analyze("--workspace", workspace, "--region", "lodz", "--demand", "lodz-grid")
    demand = report["demand"]
    assert demand["source"] == "lodz-grid" and demand["kind"] == "grid cells"
    assert demand["too_few_points"] is False and demand["settlements"] > 250
    assert demand["official_population"]["value"] > 600_000 and demand["captured_share"] > 0
    assert any("cell centres" in note for note in report["notes"])
    assert 0 <= report["layers"]["hubs"]["coverage_share"] <= 1
    # The same grid given as a file gives the same figures.
    direct = _analyze("--workspace", workspace, "--region", "lodz", "--demand", grid)
    assert direct["layers"] == report["layers"] and direct["demand"]["population"] == demand["population"]

    listed = demand_layers(Workspace(workspace))
    assert [layer.name for layer in listed] == ["lodz-grid"]
    history = run("history", "--workspace", workspace)
    assert "imported population layer 'lodz-grid'" in history.stdout


def test_stored_layers_are_listed_replaced_and_removed(workspace, tmp_path):
    ws = Workspace(workspace)
    first = _grid_csv(tmp_path / "a.csv", 19.40, 51.70, 19.50, 51.75)
    import_demand(ws, first.read_bytes(), "a.csv", name="grid")
    bigger = _grid_csv(tmp_path / "b.csv", 19.30, 51.70, 19.50, 51.80)
    layer, _ = import_demand(ws, bigger.read_bytes(), "b.csv", name="grid")
    assert [la.name for la in demand_layers(ws)] == ["grid"] and demand_layers(ws)[0].file == "b.csv"
    region = load_regions().get("lodz")
    frame, found, outside = demand_for(ws, "grid", boundary_for(region, ws, online=False).geometry, region.countries)
    assert found.points == layer.points and 0 < len(frame) <= layer.points and outside == layer.points - len(frame)
    assert remove_demand(ws, "grid") and demand_layers(ws) == []
    with pytest.raises(Exception, match="no population layer 'grid'"):
        demand_for(ws, "grid", None)
    with pytest.raises(Exception, match="built-in"):
        import_demand(ws, first.read_bytes(), "a.csv", name=GEONAMES)


def test_polygons_with_a_population_are_weighted_by_the_area_inside(workspace, tmp_path):
    # Two 0.2° squares; the region boundary given cuts the second in half.
    path = tmp_path / "tracts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A", "population": 1000},
         "geometry": mapping(box(19.3, 51.7, 19.5, 51.9))},
        {"type": "Feature", "properties": {"name": "B", "population": 800},
         "geometry": mapping(box(19.5, 51.7, 19.7, 51.9))}]}), encoding="utf-8")
    boundary = tmp_path / "cut.geojson"
    boundary.write_text(json.dumps({"type": "Feature", "properties": {},
                                    "geometry": mapping(box(19.3, 51.7, 19.6, 51.9))}), encoding="utf-8")
    done = run("import-demand", path, "--workspace", workspace, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "polygons"
    report = _analyze("--workspace", workspace, "--demand", "tracts", "--boundary", boundary)
    assert report["demand"]["population"] == pytest.approx(1400, abs=2)  # A whole + half of B


def test_by_area_from_a_file_partitions_the_region(workspace, tmp_path):
    # Blekinge län alone (SE221), and its five kommuner drawn as five vertical strips of it.
    (workspace / "regions.json").write_text(json.dumps({"version": 1, "regions": [
        {"id": "blekinge-lan", "name": "Blekinge län", "countries": ["SE"], "nuts": ["SE221"]}]}),
        encoding="utf-8")
    geometry = boundary_for(load_regions(workspace).get("blekinge-lan"), None, online=False).geometry
    west, south, east, north = geometry.bounds
    edges = np.linspace(west - 0.1, east + 0.1, 6)
    names = ["Olofström", "Sölvesborg", "Karlshamn", "Ronneby", "Karlskrona"]
    areas = tmp_path / "kommuner.geojson"
    areas.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kom_namn": name},
         "geometry": mapping(box(edges[i], south - 0.1, edges[i + 1], north + 0.1).intersection(geometry))}
        for i, name in enumerate(names)]}), encoding="utf-8")
    report = _analyze("--workspace", workspace, "--region", "blekinge-lan", "--areas", areas)
    rows = report["by_area"]
    assert [row["name"] for row in rows] == names
    assert sum(row["population"] for row in rows) == report["demand"]["population"]
    for layer, figures in report["layers"].items():
        assert sum(row["layers"][layer]["covered_population"] for row in rows) == figures["covered_population"]
        assert sum(row["layers"][layer]["facilities"] for row in rows) == figures["facilities"]
    text = run("analyze", "--workspace", workspace, "--region", "blekinge-lan", "--areas", areas)
    assert "by area (areas from kommuner.geojson)" in text.stdout and "Karlskrona" in text.stdout


def test_blekinge_five_kommuner_from_the_real_file(workspace, realdata):
    (workspace / "regions.json").write_text(json.dumps({"version": 1, "regions": [
        {"id": "blekinge-lan", "name": "Blekinge län", "countries": ["SE"], "nuts": ["SE221"]}]}),
        encoding="utf-8")
    done = run("import-areas", realdata / "boundaries" / "blekinge_kommuner_okfse.geojson",
               "--workspace", workspace, "--country", "SE")
    assert done.returncode == 0, done.stderr
    report = _analyze("--workspace", workspace, "--region", "blekinge-lan")
    rows = report["by_area"]
    assert sorted(row["name"] for row in rows) == ["Karlshamn", "Karlskrona", "Olofström", "Ronneby", "Sölvesborg"]
    assert sum(row["population"] for row in rows) == report["demand"]["population"]
    karlskrona = next(row for row in rows if row["name"] == "Karlskrona")
    assert karlskrona["population"] >= 66_675  # the town itself, off the 1:20M coast, is in


def test_nuts3_areas_break_down_a_nuts2_region_offline(workspace):
    report = _analyze("--workspace", workspace, "--region", "west-pomerania")
    assert [row["name"] for row in report["by_area"]] == [
        "Miasto Szczecin", "Koszaliński", "Szczecinecko-pyrzycki", "Szczeciński"]
    assert sum(row["population"] for row in report["by_area"]) == report["demand"]["population"]
    assert report["areas_source"].startswith("NUTS 3")


def test_bad_areas_and_layers_give_one_line(workspace, tmp_path):
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Feature", "properties": {"name": "Far"},
                               "geometry": mapping(box(-60, -10, -59, -9))}), encoding="utf-8")
    done = run("analyze", "--workspace", workspace, "--region", "lodz", "--areas", far)
    assert done.returncode == 2 and "none of its 1 areas lies mostly inside" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = run("analyze", "--workspace", workspace, "--region", "lodz", "--demand", "no-such-layer")
    assert done.returncode == 2 and "cannot be opened" in done.stderr
    done = run("import-demand", far, "--workspace", workspace)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
