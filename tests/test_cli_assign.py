"""``python -m atlas assign``: a layer for exactly the features of one folder or sheet of one file."""
from __future__ import annotations

import json

import pytest

from atlas.data_ops import folders, in_folder, source_folder
from test_cli_workspace import run
from workspace import Workspace

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Map</name>
<Folder><name>Kempingi</name>{a}</Folder>
<Folder><name>Kempingi (OpenStreetMap)</name>{b}</Folder>
<Folder><name>Pola namiotowe/biwakowe</name>{c}</Folder>
</Document></kml>"""


def _placemarks(prefix: str, n: int, lon: float) -> str:
    return "".join(f"<Placemark><name>{prefix} {i}</name><Point><coordinates>{lon + i / 100},52.{i},0"
                   "</coordinates></Point></Placemark>" for i in range(1, n + 1))


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "campteam.kml"
    path.write_text(KML.format(a=_placemarks("camp", 3, 19.0), b=_placemarks("osm", 5, 20.0),
                               c=_placemarks("pole", 2, 21.0)), encoding="utf-8")
    other = tmp_path / "other.kml"
    other.write_text(KML.format(a=_placemarks("x", 2, 17.0), b="", c=""), encoding="utf-8")
    done = run("import", path, other, "--workspace", tmp_path / "ws")
    assert done.returncode == 0, done.stderr
    return tmp_path / "ws"


def test_source_folder_reads_every_loader_convention():
    assert source_folder("folder 'Hubs' › placemark 3") == "Hubs"
    assert source_folder("folder 'Ireland/Hubs' › placemark 3") == "Ireland/Hubs"
    assert source_folder("sheet 'Hubs', row 12") == "Hubs"
    assert source_folder("table 'hubs' › row 3") == "hubs"
    assert source_folder("folder 'It's here' › placemark 1") == "It's here"
    assert source_folder("feature 3") is None and source_folder(None) is None


def test_assign_moves_exactly_the_folder_of_that_file(workspace):
    done = run("assign", "--workspace", workspace, "--file", "campteam.kml", "--folder", "Kempingi",
               "--layer", "networks", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["features"] == 3
    features = Workspace(workspace).features()
    moved = features[features["layer"] == "networks"]
    assert sorted(moved["name"]) == ["camp 1", "camp 2", "camp 3"]  # not the OSM folder, not other.kml
    assert set(moved["source_file"]) == {"campteam.kml"}
    history = run("history", "--workspace", workspace, "--limit", "1", "--json")
    assert json.loads(history.stdout)[0]["action"] == "assign"


def test_a_folder_name_with_a_slash_is_one_folder(workspace):
    done = run("assign", "--workspace", workspace, "--file", "campteam.kml", "--folder", "Pola namiotowe",
               "--layer", "hubs")
    assert done.returncode == 2 and "no folder or sheet named exactly 'Pola namiotowe'" in done.stderr
    assert "'Pola namiotowe/biwakowe' (2)" in done.stderr
    done = run("assign", "--workspace", workspace, "--file", "campteam.kml", "--folder", "Pola namiotowe/biwakowe",
               "--layer", "hubs")
    assert done.returncode == 0 and done.stdout.startswith("2 feature(s)")


def test_unknown_file_or_layer_is_one_line(workspace):
    done = run("assign", "--workspace", workspace, "--file", "nope.kml", "--folder", "Kempingi", "--layer", "hubs")
    assert done.returncode == 2 and "its files: campteam.kml, other.kml" in done.stderr
    done = run("assign", "--workspace", workspace, "--file", "campteam.kml", "--folder", "Kempingi", "--layer", "x")
    assert done.returncode == 2 and "is not one of" in done.stderr


def test_folders_count_each_folder_once(workspace):
    table = folders(Workspace(workspace).features(), "campteam.kml")
    assert dict(zip(table["folder"], table["features"])) == {
        "Kempingi": 3, "Kempingi (OpenStreetMap)": 5, "Pola namiotowe/biwakowe": 2}
    assert len(in_folder(Workspace(workspace).features(), "other.kml", "Kempingi")) == 2


def test_atrakcje_of_the_real_campteam_map_moves_its_four_placemarks(tmp_path, realdata):
    done = run("import", realdata / "mymaps" / "campteam_pl_map.kml",
               realdata / "mymaps" / "warsaw_pomoc_dla_bezdomnych_doc.kml", "--workspace", tmp_path / "ws")
    assert done.returncode == 0, done.stderr
    done = run("assign", "--workspace", tmp_path / "ws", "--file", "campteam_pl_map.kml", "--folder", "Atrakcje",
               "--layer", "networks")
    assert done.returncode == 0 and done.stdout.startswith("4 feature(s)")
    features = Workspace(tmp_path / "ws").features()
    assert (features["layer"] == "networks").sum() == 4
    assert set(features.loc[features["layer"] == "networks", "source_file"]) == {"campteam_pl_map.kml"}
