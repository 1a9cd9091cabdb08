"""Data page, Geography: population layers and area files imported, listed and removed; roles respected.

The uploads go through the page's own `st.file_uploader` (AppTest drives it in the pinned
Streamlit); the data_ops functions behind the page are also tested directly.
"""
from __future__ import annotations

import json
import math

import pytest
from apptest_helpers import demo_copy, run_page, texts
from pyproj import Transformer

import access
import ui
from atlas import data_ops as ops
from errors import ImportFileError
from geography.areas import areas
from geography.demand_layers import demand_layers
from tests.test_shared_mode import _app, _goto, _sign_in, shared  # noqa: F401  (shared is the fixture)
from workspace import Workspace

PAGE = "pages/data.py"
LODZ = (19.45, 51.77)  # lon, lat


def grid_csv(size: int = 6) -> bytes:
    """A GEOSTAT-style 1 km grid of size × size cells around Łódź (GRD_ID, TOT_P_2021), 100 + i people each."""
    east, north = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True).transform(*LODZ)
    e0, n0 = math.floor(east / 1000) * 1000, math.floor(north / 1000) * 1000
    lines = ["GRD_ID,TOT_P_2021"]
    for i in range(size * size):
        n, e = n0 + (i // size - size // 2) * 1000, e0 + (i % size - size // 2) * 1000
        lines.append(f"CRS3035RES1000mN{n}E{e},{100 + i}")
    return ("\n".join(lines) + "\n").encode()


GRID_PEOPLE = sum(100 + i for i in range(36))


def areas_geojson(count: int = 5) -> bytes:
    """`count` small squares in a row east of Łódź, named and coded like a municipality file (no country)."""
    features = []
    for i in range(count):
        x, y = LODZ[0] + 0.05 * i, LODZ[1]
        ring = [[x, y], [x + 0.04, y], [x + 0.04, y + 0.04], [x, y + 0.04], [x, y]]
        features.append({"type": "Feature", "properties": {"name": f"Gmina {i + 1}", "code": f"10{i:02d}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def table_with(at, column: str):
    return next(f for f in frames(at) if column in f.columns)


# -- data_ops, directly ----------------------------------------------------------------------------------
def test_a_population_layer_is_stored_listed_and_removed(tmp_path):
    workspace = Workspace(demo_copy(tmp_path))
    rows = grid_csv() + b"CRS3035RES1000mN1E2,x\n"  # one unusable row
    lines = ops.import_population(workspace, "lodz grid.csv", rows, name="  ")
    assert lines[0].startswith("Stored population layer lodz-grid (36 grid cells, ")
    assert f"{GRID_PEOPLE:,} people" in lines[0] and "37 row(s) read" in lines[0]
    assert "1 row(s) rejected, e.g.:" in lines
    table = ops.population_table(workspace)
    assert table[["name", "file", "kind", "rows", "people"]].values.tolist() == [
        ["lodz-grid", "lodz grid.csv", "grid", 36, GRID_PEOPLE]]
    assert table["imported"].iloc[0].endswith(" UTC")
    assert ops.remove_population(workspace, "lodz-grid").startswith("Removed population layer 'lodz-grid'")
    assert ops.population_table(workspace).empty and not demand_layers(workspace)
    with pytest.raises(ValueError, match="no population layer 'lodz-grid'"):
        ops.remove_population(workspace, "lodz-grid")


def test_area_files_are_stored_listed_and_removed(tmp_path):
    workspace = Workspace(demo_copy(tmp_path))
    assert ops.area_files(workspace).empty
    line = ops.import_area_file(workspace, "gminy.geojson", areas_geojson(), country="PL")
    assert line.startswith("Imported 5 area(s) from gminy.geojson") and "names from 'name'" in line
    ops.import_area_file(workspace, "more.geojson", areas_geojson(2), country="")
    table = ops.area_files(workspace)
    assert table[["file", "areas", "countries"]].values.tolist() == [["gminy.geojson", 5, "PL"],
                                                                     ["more.geojson", 2, ""]]
    assert ops.remove_area_file(workspace, "more.geojson") == "Removed the 2 area(s) imported from more.geojson."
    assert ops.area_files(workspace)["file"].tolist() == ["gminy.geojson"]
    with pytest.raises(ImportFileError, match="no column of area names"):
        ops.import_area_file(workspace, "bare.geojson", areas_geojson().replace(b'"name"', b'"label"'))


# -- the page ------------------------------------------------------------------------------------------------
def test_a_grid_uploaded_on_the_page_becomes_a_population_choice_and_can_be_removed(tmp_path):
    folder = demo_copy(tmp_path)
    at = run_page(PAGE, folder, **{ui.REGION: "lodz"})
    assert "Geography" in [s.value for s in at.subheader]
    assert "No population layer stored" in texts(at)
    assert not any(s.key == ui.POPULATION for s in at.selectbox)  # only GeoNames: no picker yet
    at.file_uploader(key=f"{ui.DEMAND_FILE}.0").set_value([("lodz.csv", grid_csv(), "text/csv")])
    at.run()
    at.text_input(key=f"{ui.DEMAND_NAME}.0").input("lodz-1km")
    button(at, "Import layer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any(s.value.startswith("Stored population layer lodz-1km (36 grid cells") for s in at.success), \
        [s.value for s in at.success]
    listed = table_with(at, "people")
    assert listed[["name", "file", "kind", "rows", "people"]].values.tolist() == [
        ["lodz-1km", "lodz.csv", "grid", 36, GRID_PEOPLE]]
    # The sidebar offers it, and the uploader came back empty under its next round's key.
    picker = at.selectbox(key=ui.POPULATION)
    assert "lodz-1km" in picker.options[1] and len(picker.options) == 2
    assert at.session_state[ui.DEMAND_ROUND] == 1
    assert not at.file_uploader(key=f"{ui.DEMAND_FILE}.1").value
    assert len(demand_layers(Workspace(folder))) == 1  # imported once

    at.selectbox(key=ui.DEMAND_REMOVE).set_value("lodz-1km")
    button(at, "Remove layer").click().run()
    assert not at.exception
    assert any("Removed population layer 'lodz-1km'" in s.value for s in at.success)
    assert not demand_layers(Workspace(folder))
    assert not any(s.key == ui.POPULATION for s in at.selectbox)
    assert "No population layer stored" in texts(at)


def test_an_area_file_uploaded_on_the_page_is_listed_with_its_country(tmp_path):
    folder = demo_copy(tmp_path)
    at = run_page(PAGE, folder)
    uploader = at.file_uploader(key=f"{ui.AREAS_FILE}.0")
    assert "topojson" in uploader.proto.type or ".topojson" in uploader.proto.type
    uploader.set_value([("gminy.geojson", areas_geojson(), "application/geo+json")])
    at.run()
    at.selectbox(key=ui.AREAS_COUNTRY).set_value("PL")
    button(at, "Import areas").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(s.value.startswith("Imported 5 area(s) from gminy.geojson") for s in at.success)
    assert table_with(at, "countries")[["file", "areas", "countries"]].values.tolist() == [["gminy.geojson", 5, "PL"]]
    assert at.session_state[ui.AREAS_ROUND] == 1
    assert set(areas(Workspace(folder))["country"]) == {"PL"}

    button(at, "Remove areas").click().run()
    assert not at.exception
    assert areas(Workspace(folder)).empty
    assert "No areas imported" in texts(at)


@pytest.mark.parametrize("uploader, file, data, label", [
    (ui.DEMAND_FILE, "people.csv", b"Name,Latitude,Longitude,Population\nA,95.3,19.4,12\n", "Import layer"),
    (ui.DEMAND_FILE, "people.geojson", b"{not json", "Import layer"),
    (ui.AREAS_FILE, "gminy.geojson", b'{"type": "FeatureCollection", "features": []}', "Import areas"),
    (ui.AREAS_FILE, "gminy.kmz", b"PK\x03\x04 broken", "Import areas"),
])
def test_a_bad_file_gives_one_error_line_and_nothing_is_stored(tmp_path, uploader, file, data, label):
    folder = demo_copy(tmp_path)
    before = Workspace(folder).stamp()
    at = run_page(PAGE, folder)
    at.file_uploader(key=f"{uploader}.0").set_value([(file, data, "application/octet-stream")])
    at.run()
    button(at, label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "\n" not in at.error[0].value, [e.value for e in at.error]
    assert file.split(".")[0] in at.error[0].value
    assert Workspace(folder).stamp() == before
    assert at.file_uploader(key=f"{uploader}.0").value  # kept, so the user can see what failed


# -- roles (shared mode) ------------------------------------------------------------------------------------


def test_a_viewer_sees_the_stored_geography_but_no_control_to_change_it(shared):  # noqa: F811
    config = access.load_config(shared / "atlas.json")
    for name in ("west", "south"):
        location = access.workspace_location(config, name)
        ops.import_population(Workspace(location), "lodz.csv", grid_csv())
        ops.import_area_file(Workspace(location), "gminy.geojson", areas_geojson(), country="PL")
    at = _goto(_sign_in(_app(), "vera"), PAGE)
    assert "Geography" in [s.value for s in at.subheader]
    assert table_with(at, "people")["name"].tolist() == ["lodz"]
    assert table_with(at, "countries")["file"].tolist() == ["gminy.geojson"]
    assert not at.get("file_uploader")
    assert not {"Import layer", "Remove layer", "Import areas", "Remove areas"} & {b.label for b in at.button}

    at = _goto(_sign_in(_app(), "ed"), PAGE)
    assert {"Import layer", "Remove layer", "Import areas", "Remove areas"} <= {b.label for b in at.button}
