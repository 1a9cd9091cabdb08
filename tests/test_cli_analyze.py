"""``python -m atlas analyze`` / ``compare`` / ``import-boundary`` against hand-computed answers.

The fixtures lie on the meridian 8° W, so distances are multiples of one degree of
latitude on the sphere used by the core (R = 6371.0088 km): 1° = 111.1951 km.

facilities.geojson: hubs H1 (53.0, existing), H2 (54.0, planned); training T1 (53.0);
networks N1 (53.5); X1 has layer "misc" (unclassified).
demand.csv: Aville 53.0 (1000), Bton 53.1 (500), Cford 53.3 (2000), Dmore 53.9 (300),
Eglen 53.5 (700): total 4500.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import shapely
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "analysis"
FACILITIES = DATA / "facilities.geojson"
DEMAND = DATA / "demand.csv"
BOUNDARY = DATA / "boundary.geojson"
KM_PER_DEGREE = 6371.0088 * 3.141592653589793 / 180  # 111.1951 km
CLOSED_PORT_URL = "http://127.0.0.1:9/{nuts_id}.geojson"


def run_process(*args: str, url: str = CLOSED_PORT_URL) -> subprocess.CompletedProcess:
    """Run ``python -m atlas ...`` in a child process, as a user would."""
    env = dict(os.environ, ATLAS_GISCO_NUTS_URL=url, PYTHONWARNINGS="error")
    return subprocess.run([sys.executable, "-m", "atlas", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def run(*args: str, url: str = CLOSED_PORT_URL) -> SimpleNamespace:
    """Run the same command line in this process (GeoNames is then loaded once per session)."""
    from atlas.cli import main

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, {"ATLAS_GISCO_NUTS_URL": url}), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def analyze_json(*args: str, url: str = CLOSED_PORT_URL) -> dict:
    done = run("analyze", *args, "--json", url=url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "ws"
    done = run("import", FACILITIES, "--workspace", folder)
    assert done.returncode == 0, done.stderr
    return folder


# -- explicit files -----------------------------------------------------------------------
def test_explicit_files_coverage_shares_gaps():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--radius", "hubs=20",
                          "--radius", "training=30", "--radius", "networks=50")
    assert report["region"] is None
    assert report["boundary"] == "none"
    assert report["demand"] == {**report["demand"], "source": "demand.csv", "settlements": 5, "population": 4500}
    assert report["radius_km"] == {"hubs": 20.0, "training": 30.0, "networks": 50.0}
    # hubs/training within 20/30 km of 53.0: Aville (0 km), Bton (11.1 km) = 1500.
    # networks within 50 km of 53.5: Bton 44.5, Cford 22.2, Dmore 44.5, Eglen 0 = 3500 (Aville 55.6 is out).
    assert report["layers"]["hubs"] == {**report["layers"]["hubs"], "facilities": 1, "covered_population": 1500,
                                        "coverage_share": pytest.approx(1500 / 4500, abs=1e-6),
                                        "uncovered_settlements": 3}
    assert report["layers"]["training"]["covered_population"] == 1500
    assert report["layers"]["networks"] == {**report["layers"]["networks"], "facilities": 1,
                                            "covered_population": 3500,
                                            "coverage_share": pytest.approx(3500 / 4500, abs=1e-6),
                                            "uncovered_settlements": 1}
    # Full support: only Bton has all three.
    assert report["full_support_share"] == pytest.approx(500 / 4500, abs=1e-6)
    gaps = report["gaps"]
    assert [g["name"] for g in gaps] == ["Cford", "Aville", "Eglen", "Dmore"]
    assert [g["missing"] for g in gaps] == [["hubs", "training"], ["networks"], ["hubs", "training"],
                                            ["hubs", "training"]]
    cford = gaps[0]
    assert cford["population"] == 2000 and cford["lat"] == 53.3 and cford["lon"] == -8.0
    assert cford["nearest_km"]["hubs"] == pytest.approx(0.3 * KM_PER_DEGREE, abs=1e-3)
    assert cford["nearest_km"]["networks"] == pytest.approx(0.2 * KM_PER_DEGREE, abs=1e-3)
    assert gaps[1]["nearest_km"] == pytest.approx({"hubs": 0.0, "training": 0.0, "networks": 0.5 * KM_PER_DEGREE},
                                                  abs=1e-3)
    assert report["siting"] == {"layer": "hubs", "sites": []}
    assert any("unclassified" in note for note in report["notes"])


def test_region_defaults_apply_when_no_radius_is_given():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND)
    assert report["radius_km"] == {"hubs": 20.0, "training": 30.0, "networks": 30.0}
    # networks at 30 km: Cford (22.2) and Eglen (0) only.
    assert report["layers"]["networks"]["covered_population"] == 2700
    assert report["full_support_share"] == 0.0


def test_include_planned_counts_the_planned_hub():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--include-planned")
    # H2 at 54.0 covers Dmore (11.1 km).
    assert report["layers"]["hubs"]["facilities"] == 2
    assert report["layers"]["hubs"]["covered_population"] == 1800
    assert report["include_planned"] is True
    without = analyze_json("--facilities", FACILITIES, "--demand", DEMAND)
    assert without["layers"]["hubs"]["facilities"] == 1
    assert without["layers"]["hubs"]["covered_population"] == 1500


def test_circuity_shrinks_reach():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--radius", "networks=50",
                          "--circuity", "1.5")
    # Road km = 1.5 x great-circle: networks Bton 66.7 and Dmore 66.7 drop out; Cford 33.4 stays.
    assert report["layers"]["networks"]["covered_population"] == 2700
    assert report["layers"]["hubs"]["covered_population"] == 1500  # Bton 16.7 km still within 20
    assert report["gaps"][0]["nearest_km"]["networks"] == pytest.approx(1.5 * 0.2 * KM_PER_DEGREE, abs=1e-3)
    assert report["circuity"] == 1.5


def test_siting_picks_the_largest_uncovered_town_first():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "2")
    siting = report["siting"]
    assert siting["layer"] == "hubs"
    # Uncovered by hubs: Cford 2000, Eglen 700, Dmore 300, each more than 20 km from the others.
    assert siting["sites"] == [
        {"name": "Cford", "lat": 53.3, "lon": -8.0, "added_population": 2000},
        {"name": "Eglen", "lat": 53.5, "lon": -8.0, "added_population": 700},
    ]
    assert siting["gap_to_optimum"] == 0.0


def test_siting_for_another_layer_with_a_wider_radius():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "1",
                          "--sites-layer", "training", "--radius", "training=45")
    # training within 45 km of 53.0: Aville, Bton, Cford (33.4). Uncovered: Eglen 700, Dmore 300,
    # 44.5 km apart: a site at either covers both.
    site = report["siting"]["sites"][0]
    assert report["siting"]["layer"] == "training"
    assert site["added_population"] == 1000 and site["name"] in ("Eglen", "Dmore")


def test_boundary_limits_demand_and_outside_facilities_still_serve():
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--boundary", BOUNDARY)
    assert report["boundary"] == "imported"
    # Aville (53.0) lies outside the box 53.05-53.95: 3500 people remain.
    assert report["demand"]["settlements"] == 4 and report["demand"]["population"] == 3500
    assert report["demand"]["outside_boundary"] == 1
    hubs = report["layers"]["hubs"]
    # H1 (53.0) is outside the boundary yet covers Bton inside it.
    assert hubs["facilities"] == 0 and hubs["facilities_serving_from_outside"] == 1
    assert hubs["covered_population"] == 500
    assert hubs["coverage_share"] == pytest.approx(500 / 3500, abs=1e-6)
    assert report["boundary_area_km2"] == pytest.approx(6650, rel=0.02)


def test_human_readable_output():
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--sites", "1")
    assert done.returncode == 0, done.stderr
    assert "hubs" in done.stdout and "1,500" in done.stdout
    assert "Cford (2,000): lacks hubs (nearest 33.4 km), training (nearest 33.4 km)" in done.stdout
    assert "1. Cford" in done.stdout and "+2,000 people" in done.stdout


def test_a_layer_with_no_facility_is_named_as_missing_not_as_none(tmp_path):
    # Only hubs in the data: training and networks are missing everywhere, which must not read as
    # "missing training none" (i.e. nothing missing).
    only_hubs = tmp_path / "hubs.geojson"
    only_hubs.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "H1", "layer": "hubs"},
         "geometry": {"type": "Point", "coordinates": [-8.0, 53.0]}}]}), encoding="utf-8")
    done = run("analyze", "--facilities", only_hubs, "--demand", DEMAND)
    assert done.returncode == 0, done.stderr
    assert "Aville (1,000): lacks training (none in the data), networks (none in the data)" in done.stdout
    assert " none," not in done.stdout and "missing" not in done.stdout


def test_fewer_sites_than_asked_says_why(tmp_path):
    # Uncovered by hubs: Cford, Eglen and Dmore; with 2 candidates only 2 sites can add anyone.
    candidates = tmp_path / "candidates.geojson"
    candidates.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name, "layer": "hubs"},
         "geometry": {"type": "Point", "coordinates": [-8.0, lat]}} for name, lat in (("Mill", 53.3), ("Depot", 53.9))
    ]}), encoding="utf-8")
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--sites", "3", "--candidates", candidates)
    assert done.returncode == 0, done.stderr
    assert "only 2 of the 3 new hubs sites asked for add anyone" in done.stdout
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "3", "--candidates", candidates)
    assert len(report["siting"]["sites"]) == 2 and report["siting"]["k"] == 3
    assert any(note.startswith("Only 2 of 3 sites add anyone") for note in report["siting"]["notes"])


def test_json_lists_the_largest_100_gaps_unless_all_gaps_is_given(tmp_path):
    many = tmp_path / "many.csv"
    # Populations tie in sevens, so the 100th gap falls inside a tie (broken by name).
    rows = [f"Town {i:03d},{50 + i * 0.01:.2f},-20.0,{1000 + i // 7}" for i in range(150)]
    many.write_text("name,lat,lon,population\n" + "\n".join(reversed(rows)) + "\n", encoding="utf-8")
    report = analyze_json("--facilities", FACILITIES, "--demand", many)
    assert report["gaps_total"] == 150 and len(report["gaps"]) == 100
    assert report["gaps"][0] == {**report["gaps"][0], "name": "Town 147", "population": 1021}
    full = analyze_json("--facilities", FACILITIES, "--demand", many, "--all-gaps")
    assert full["gaps_total"] == 150 and len(full["gaps"]) == 150
    assert report["gaps"] == full["gaps"][:100]
    expected = sorted(range(150), key=lambda i: (-(i // 7), f"Town {i:03d}"))
    assert [g["name"] for g in full["gaps"]] == [f"Town {i:03d}" for i in expected]
    text = run("analyze", "--facilities", FACILITIES, "--demand", many)
    assert "settlements lacking a layer within reach (150; largest first)" in text.stdout
    assert "... and 135 more (use --json --all-gaps for the full list)" in text.stdout


# -- workspace and region --------------------------------------------------------------------
def _regions_file(folder: Path, **extra) -> None:
    entry = {"id": "test-region", "name": "Test region", "countries": ["IE"], "nuts": ["IE999"],
             "radius_km": {"hubs": 20, "training": 30, "networks": 50}}
    entry.update(extra)
    (folder / "regions.json").write_text(json.dumps({"regions": [entry]}), encoding="utf-8")


def test_workspace_region_with_imported_boundary(workspace):
    _regions_file(workspace)
    done = run("import-boundary", BOUNDARY, "--workspace", workspace, "--region", "test-region", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["boundary"] == "imported"
    report = analyze_json("--workspace", workspace, "--region", "test-region", "--demand", DEMAND)
    assert report["region"] == "test-region" and report["region_name"] == "Test region"
    assert report["boundary"] == "imported" and "boundary.geojson" in report["boundary_label"]
    assert report["radius_km"] == {"hubs": 20.0, "training": 30.0, "networks": 50.0}
    assert report["demand"]["population"] == 3500
    assert report["layers"]["hubs"]["covered_population"] == 500
    assert report["layers"]["networks"]["covered_population"] == 3500
    assert report["full_support_share"] == pytest.approx(500 / 3500, abs=1e-6)


def test_workspace_region_with_geonames_demand_and_real_boundary(workspace, realdata, tmp_path):
    import geopandas as gpd

    nuts = gpd.read_file(realdata / "boundaries" / "nuts2021_20m_4326_IE.geojson")
    nuts.loc[nuts["NUTS_ID"] == "IE042"].to_file(tmp_path / "ie042.geojson", driver="GeoJSON")
    assert run("import-boundary", tmp_path / "ie042.geojson", "--workspace", workspace,
               "--region", "west-ireland").returncode == 0
    report = analyze_json("--workspace", workspace, "--region", "west-ireland")
    assert report["boundary"] == "imported"
    assert report["demand"]["source"] == "geonames"
    assert "dispersed rural population" in report["demand"]["note"]
    names = {g["name"] for g in report["gaps"]}
    assert "Galway" in names and "Ballaghaderreen" in names
    assert report["gaps"][0]["name"] == "Galway" and report["gaps"][0]["population"] == 85910
    # Nobody there has all three layers of the fixture's few facilities, so every town is a gap.
    assert report["full_support_share"] == 0.0
    assert len(report["gaps"]) == report["gaps_total"] == report["demand"]["settlements"]


def test_offline_fallback_to_the_approximate_outline(workspace):
    # IE042 is shipped in geodata/nuts; a code no shipped file holds needs the download, else the outline.
    (workspace / "regions.json").write_text(json.dumps({"regions": [{"id": "west-ireland", "nuts": ["IE999"]}]}),
                                            encoding="utf-8")
    report = analyze_json("--workspace", workspace, "--region", "west-ireland", "--online")  # GISCO: closed port
    assert report["boundary"] == "approximate"
    assert "approximate outline" in report["boundary_label"]
    assert any("could not be downloaded" in note and "127.0.0.1:9" in note for note in report["notes"])
    offline = analyze_json("--workspace", workspace, "--region", "west-ireland")
    assert offline["boundary"] == "approximate"
    assert any(note.startswith("offline: the official boundary of IE999 is not cached") for note in offline["notes"])
    assert offline["demand"]["settlements"] > 30  # GeoNames inside the outline
    # --offline is the default now and still accepted (old scripts); with --online it contradicts.
    assert analyze_json("--workspace", workspace, "--region", "west-ireland", "--offline") == offline
    line = one_line_error(run("analyze", "--workspace", workspace, "--region", "west-ireland", "--online",
                              "--offline"))
    assert "--online and --offline contradict" in line


def test_analyze_and_compare_never_download_without_online(workspace, gisco):
    # The stand-in GISCO server has the boundary, but nothing may be fetched unless --online is given.
    folder, url = gisco
    _regions_file(workspace, nuts=["IE999"])
    (folder / "IE999.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"NUTS_ID": "IE999"},
         "geometry": json.loads(shapely.to_geojson(box(-8.5, 53.05, -7.5, 53.95)))}]}), encoding="utf-8")
    # test-region has no approximate outline, so without the download there is no boundary at all.
    for command in (("analyze", "--workspace", workspace, "--region", "test-region", "--demand", DEMAND),
                    ("compare", "--workspace", workspace, "--region", "test-region")):
        line = one_line_error(run(*command, url=url))
        assert "offline: the official boundary of IE999 is not cached" in line, line
    assert analyze_json("--workspace", workspace, "--region", "test-region", "--demand", DEMAND, "--online",
                        url=url)["boundary"] == "official"


def test_official_boundary_downloaded_then_cached(workspace, gisco):
    folder, url = gisco
    _regions_file(workspace, nuts=["IE999"])
    (folder / "IE999.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"NUTS_ID": "IE999"},
         "geometry": json.loads(shapely.to_geojson(box(-8.5, 53.05, -7.5, 53.95)))}]}), encoding="utf-8")
    report = analyze_json("--workspace", workspace, "--region", "test-region", "--demand", DEMAND, "--online",
                          url=url)
    assert report["boundary"] == "official"
    assert "IE999" in report["boundary_label"] and "EuroGeographics" in report["boundary_attribution"]
    assert report["demand"]["population"] == 3500
    (folder / "IE999.geojson").unlink()
    cached = analyze_json("--workspace", workspace, "--region", "test-region", "--demand", DEMAND, "--offline",
                          url=CLOSED_PORT_URL)
    assert cached["boundary"] == "official" and cached["demand"]["population"] == 3500


def test_regions_override_changes_radius(workspace):
    (workspace / "regions.json").write_text(json.dumps({"regions": [
        {"id": "west-ireland", "radius_km": {"hubs": 7}}]}), encoding="utf-8")
    report = analyze_json("--workspace", workspace, "--region", "west-ireland", "--offline")
    assert report["radius_km"] == {"hubs": 7.0, "training": 30.0, "networks": 30.0}
    report = analyze_json("--workspace", workspace, "--region", "west-ireland", "--offline", "--radius", "hubs=9")
    assert report["radius_km"]["hubs"] == 9.0


def test_compare_prints_one_row_per_region(workspace):
    _regions_file(workspace)
    assert run("import-boundary", BOUNDARY, "--workspace", workspace, "--region", "test-region").returncode == 0
    done = run("compare", "--workspace", workspace, "--offline", "--json", "--region", "test-region",
               "--region", "lodz")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    rows = {row["region_id"]: row for row in out["regions"]}
    assert set(rows) == {"test-region", "lodz"}
    assert rows["test-region"]["boundary"] == "imported"
    assert rows["lodz"]["boundary"] == "official"  # PL711 shipped in geodata/nuts
    assert rows["lodz"]["population"] > 600_000
    text = run("compare", "--workspace", workspace, "--offline", "--region", "test-region")
    assert text.returncode == 0, text.stderr
    assert "Test region" in text.stdout and "imported" in text.stdout


def test_compare_keeps_whole_names_and_gives_the_boundary_note_once(workspace):
    # Every seed code is shipped in geodata/nuts: give two regions codes no shipped file holds.
    (workspace / "regions.json").write_text(json.dumps({"regions": [
        {"id": "armagh-banbridge-craigavon", "nuts": ["UKN99"]}, {"id": "lodz", "nuts": ["PL799"]}]}),
        encoding="utf-8")
    done = run("compare", "--workspace", workspace)
    assert done.returncode == 0, done.stderr
    assert "Armagh City, Banbridge & Craigavon " in done.stdout
    assert "West Pomerania (Zachodniopomorskie) " in done.stdout
    notes = [line for line in done.stdout.splitlines() if line.startswith("note:")]
    assert len(notes) == len(set(notes))
    boundary = [n for n in notes if "not cached" in n]
    assert len(boundary) == 1
    assert "these 2 regions" in boundary[0] and "Armagh City, Banbridge & Craigavon (UKN99)" in boundary[0]
    assert "--online" in boundary[0]


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (("--facilities", DATA / "nope.geojson", "--demand", DEMAND), "nope.geojson: cannot be opened"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--radius", "hubs=far"), "is not a number of kilometres"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--radius", "parks=3"), "LAYER=KM"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "0"), "between 1 and 10"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "2", "--sites-layer", "parks"), "not a layer"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--circuity", "0.5"), "between 1 and 3"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--circuity", "1e308"), "--circuity 1e308: give a factor between 1 and 3"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--circuity", "inf"), "between 1 and 3"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--circuity", "nan"), "between 1 and 3"),
    (("--facilities", FACILITIES), "no demand"),
    (("--demand", DEMAND), "no facilities"),
    (("--facilities", FACILITIES, "--region", "atlantis"), "unknown region 'atlantis'"),
    (("--facilities", FACILITIES, "--demand", BOUNDARY), "no population column"),
    (("--facilities", FACILITIES, "--demand", DEMAND, "--boundary", FACILITIES),
     "a boundary must be a polygon"),
])
def test_bad_inputs_give_one_line_errors(args, expected):
    assert expected in one_line_error(run("analyze", *args))


def test_as_a_user_runs_it_in_a_child_process():
    done = run_process("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--sites", "1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["layers"]["hubs"]["covered_population"] == 1500
    assert report["siting"]["sites"][0]["name"] == "Cford"
    line = one_line_error(run_process("analyze", "--facilities", FACILITIES, "--demand", DATA / "nope.csv"))
    assert line == "error: nope.csv: cannot be opened (No such file or directory). Check the path, or name a population layer stored in the workspace."


def test_unsupported_demand_file(tmp_path):
    sheet = tmp_path / "demand.xlsx"
    sheet.write_bytes(b"PK")
    assert "not a population layer" in one_line_error(run("analyze", "--facilities", FACILITIES, "--demand", sheet))


def test_demand_with_only_bad_rows(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon,population\nA,95,-8,10\n", encoding="utf-8")
    line = one_line_error(run("analyze", "--facilities", FACILITIES, "--demand", bad))
    assert "bad.csv: none of the 1 rows could be used (row 2: latitude 95" in line


def test_rejected_demand_rows_are_reported(tmp_path):
    report = analyze_json("--facilities", FACILITIES, "--demand", DATA / "demand_bad.csv")
    assert report["demand"]["file"]["rows_read"] == 4 and report["demand"]["file"]["accepted"] == 2
    assert [r["where"] for r in report["demand"]["file"]["rejected"]] == ["row 3", "row 4"]
    assert any("demand_bad.csv: 2 of 4 rows rejected" in note for note in report["notes"])


def test_bad_regions_file_and_missing_workspace(tmp_path, workspace):
    (workspace / "regions.json").write_text('{"regions": [{"id": "x", "name": "X"}]}', encoding="utf-8")
    line = one_line_error(run("analyze", "--workspace", workspace, "--region", "x"))
    assert "region 'x'" in line and "\"countries\" is missing" in line
    line = one_line_error(run("analyze", "--workspace", tmp_path / "nowhere", "--region", "lodz"))
    assert "does not exist" in line
    line = one_line_error(run("compare", "--workspace", tmp_path / "nowhere"))
    assert "does not exist" in line


def test_candidate_sites_file(tmp_path):
    candidates = tmp_path / "empty_buildings.geojson"
    candidates.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Old mill", "layer": "hubs", "status": "planned"},
         "geometry": {"type": "Point", "coordinates": [-8.0, 53.4]}},
        {"type": "Feature", "properties": {"name": "Depot", "layer": "hubs", "status": "planned"},
         "geometry": {"type": "Point", "coordinates": [-8.0, 53.9]}},
    ]}), encoding="utf-8")
    report = analyze_json("--facilities", FACILITIES, "--demand", DEMAND, "--sites", "1",
                          "--candidates", candidates)
    # The mill (53.4) reaches Cford (11.1 km) and Eglen (11.1 km): 2700; the depot only Dmore: 300.
    assert report["siting"]["sites"] == [{"name": "Old mill", "lat": 53.4, "lon": -8.0, "added_population": 2700}]


def test_the_report_names_a_missing_boundary_as_the_boundary_sources_do():
    from atlas.analyze import NO_BOUNDARY
    from geography.boundaries import NONE

    assert NO_BOUNDARY == NONE


# -- coverage per creative sector ---------------------------------------------------------------
def _sector_facilities(tmp_path: Path) -> Path:
    """Hubs at 53.0 (games, written in Polish) and 53.3 (music); training for all sectors; a network with none."""
    def feature(fid, layer, lat, sectors):
        properties = {"name": fid, "layer": layer, "status": "existing"}
        if sectors:
            properties["sectors"] = sectors
        return {"type": "Feature", "id": fid, "properties": properties,
                "geometry": {"type": "Point", "coordinates": [-8.0, lat]}}

    path = tmp_path / "sectors.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature("H1", "hubs", 53.0, "gry; design"), feature("H3", "hubs", 53.3, "muzyka"),
        feature("T1", "training", 53.0, "alla"), feature("N1", "networks", 53.5, None),
    ]}), encoding="utf-8")
    return path


def test_sector_counts_only_the_facilities_serving_it_and_accepts_aliases(tmp_path):
    facilities = _sector_facilities(tmp_path)
    everyone = analyze_json("--facilities", facilities, "--demand", DEMAND, "--radius", "hubs=20")
    assert "sector" not in everyone  # the default report is unchanged
    # Both hubs: Aville, Bton (H1) and Cford (H3) = 3500.
    assert everyone["layers"]["hubs"]["covered_population"] == 3500
    games = analyze_json("--facilities", facilities, "--demand", DEMAND, "--radius", "hubs=20", "--sector", "gry")
    assert games["sector"] == "games"
    assert games["layers"]["hubs"]["facilities"] == 1 and games["layers"]["hubs"]["covered_population"] == 1500
    assert games["layers"]["training"]["facilities"] == 1  # "alla": serves every sector
    assert games["layers"]["networks"]["facilities"] == 0  # lists no sector
    assert any(note.startswith("Sector games: only the 2 of 4 facilities") for note in games["notes"])
    for alias in ("games", "Spiele", "spel"):
        assert analyze_json("--facilities", facilities, "--demand", DEMAND, "--radius", "hubs=20",
                            "--sector", alias) == games
    music = analyze_json("--facilities", facilities, "--demand", DEMAND, "--radius", "hubs=20", "--sector", "Musik")
    assert music["sector"] == "music" and music["layers"]["hubs"]["covered_population"] == 2000  # Cford


def test_an_unknown_sector_is_a_one_line_error_listing_the_choices():
    line = one_line_error(run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--sector", "bärenzucht"))
    assert line.startswith("error: --sector 'bärenzucht' is not a creative sector; use one of architecture, design, games")
    assert "crafts" in line and "experience-based learning" in line and "publishing" in line
