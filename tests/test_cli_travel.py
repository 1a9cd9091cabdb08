"""``python -m atlas analyze --network`` end to end: minutes in the JSON, the cache, bad files.

The town and its hand-computed times are in `tests/osm_fixtures.py`; facilities and demand
in `tests/data/travel/`.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from osm_fixtures import SEGMENT_M, write_town

DATA = Path(__file__).resolve().parent / "data" / "travel"
FACILITIES = DATA / "facilities.geojson"
DEMAND = DATA / "demand.csv"


def run(*args) -> SimpleNamespace:
    from atlas.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return write_town(tmp_path_factory.mktemp("osm") / "town.osm.pbf")


def test_json_in_minutes(town):
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--network", town, "--mode", "drive",
               "--minutes", "hubs=10", "--minutes", "training=12", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["measure"] == "minutes" and report["mode"] == "drive"
    assert report["minutes"] == {"hubs": 10.0, "training": 12.0, "networks": 30.0} and "radius_km" not in report
    assert report["layers"]["hubs"]["covered_population"] == 1300
    assert report["layers"]["training"]["covered_population"] == 1800
    gaps = {g["name"]: g for g in report["gaps"]}
    assert gaps["Westend"]["nearest_minutes"]["hubs"] == pytest.approx((5 * SEGMENT_M / (30 / 3.6)
                                                                         + 3 * SEGMENT_M / 10) / 60, abs=0.01)
    assert gaps["Isle"]["nearest_minutes"] == {"hubs": None, "training": None, "networks": 1.11}
    assert gaps["Isle"]["missing"] == ["hubs", "training"]
    assert not gaps["Farmoor"]["on_network"] and gaps["Farmoor"]["snap_m"] > 2000
    assert report["off_network"]["points"] == 1 and report["off_network"]["population"] == 50
    assert report["network"]["assumptions"]["speeds_kmh"]["residential"] == 30
    assert report["network"]["nodes"] == 23


def test_sites_in_minutes_and_text_report(town):
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--network", town,
               "--minutes", "hubs=10", "--sites", "1", "--json")
    assert done.returncode == 0, done.stderr
    siting = json.loads(done.stdout)["siting"]
    assert siting["sites"][0]["name"] == "Westend" and siting["measure"] == "minutes" and siting["minutes"] == 10
    text = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--network", town, "--mode", "walk",
               "--minutes", "hubs=20")
    assert text.returncode == 0, text.stderr
    assert "travel time by walk" in text.stdout and "20 min" in text.stdout
    assert "Westend (500): lacks hubs (nearest" in text.stdout and "off the walk network" in text.stdout


def test_network_cached_in_the_workspace(town, tmp_path):
    workspace = tmp_path / "ws"
    assert run("import", FACILITIES, "--workspace", workspace).returncode == 0
    args = ("analyze", "--workspace", workspace, "--demand", DEMAND, "--network", town, "--minutes", "hubs=10",
            "--json")
    first = json.loads(run(*args).stdout)
    second = json.loads(run(*args).stdout)
    assert first["network"]["cache"] == "built" and second["network"]["cache"] == "cached"
    assert len(list((workspace / "networks").glob("*.npz"))) == 1
    assert first["layers"] == second["layers"]


def test_without_network_still_km(town):
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--radius", "hubs=5", "--json")
    report = json.loads(done.stdout)
    assert "measure" not in report and report["radius_km"]["hubs"] == 5.0
    assert "nearest_km" in report["gaps"][0]


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"name,lat\nx,1\n", "not an OpenStreetMap PBF"),
])
def test_bad_network_files_exit_2_with_one_line(tmp_path, content, message):
    bad = tmp_path / "region.osm.pbf"
    bad.write_bytes(content)
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--network", bad)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


def test_no_roads_and_usage_errors(tmp_path, town):
    empty = write_town(tmp_path / "no_roads.osm.pbf", ways=[(1, [1, 2, 3], {"building": "yes"})])
    done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, "--network", empty)
    assert done.returncode == 2 and "holds no roads" in done.stderr
    cases = [
        (("--minutes", "hubs=10"), "--minutes needs --network"),
        (("--network", town, "--radius", "hubs=5"), "--radius is a distance in km"),
        (("--network", town, "--mode", "car"), "--mode 'car' is not a travel mode"),
        (("--network", town, "--minutes", "hubs=abc"), "not a number of minutes"),
        (("--mode", "walk"), "--mode needs --network"),
    ]
    for extra, message in cases:
        done = run("analyze", "--facilities", FACILITIES, "--demand", DEMAND, *extra)
        assert done.returncode == 2 and message in done.stderr, (extra, done.stderr)
