"""Reverting side-table changes (boundaries, area files, population layers) on both backends.

Every test here runs twice through the `location` fixture: once on a folder (GeoPackage)
and once on a fresh PostGIS database of the throwaway test cluster.
"""
import contextlib
import io
import json
import shutil

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box, mapping

from atlas import data_ops
from errors import ConflictError, UsageError
from geography.boundaries import (
    BOUNDARIES,
    import_boundary,
    imported_boundary,
    remove_imported_boundary,
)
from geography.demand_layers import (
    INDEX,
    PREFIX,
    demand_layers,
    import_demand,
    remove_demand,
)
from tests.conftest import ROOT
from workspace import GPKG_NAME, Workspace

DEMO = ROOT / "geodata" / "demo_workspace"


def _grid(*people: int) -> bytes:
    """A GEOSTAT-style 1 km grid CSV: one cell per value, side by side along one row."""
    rows = ["GRD_ID,TOT_P_2021"] + [f"CRS3035RES1000mN3200000E{5000000 + 1000 * i},{p}" for i, p in enumerate(people)]
    return ("\n".join(rows) + "\n").encode()


def _boundary(west: float) -> bytes:
    return json.dumps({"type": "Feature", "properties": {},
                       "geometry": mapping(box(west, 53, west + 1, 54))}).encode()


def _population(ws: Workspace) -> dict[str, int]:
    return {layer.name: layer.population for layer in demand_layers(ws)}


def _count(ws: Workspace, table: str) -> int:
    return int(ws._rows(f"SELECT count(*) FROM {table}")[0][0])


def _last(ws: Workspace) -> dict:
    return ws.history().iloc[0].to_dict()


def test_reverting_a_boundary_import_empties_the_table(location):
    ws = Workspace(location, user="anna")
    import_boundary(ws, "west", _boundary(-9), "west.geojson")
    change = int(_last(ws)["change_id"])
    assert _last(ws)["action"] == "boundary" and imported_boundary(ws, "west") is not None

    new = ws.revert(change)

    assert ws.read_table(BOUNDARIES) is None and imported_boundary(ws, "west") is None
    top = _last(ws)
    assert (top["change_id"], top["action"], top["reverts"], top["user"]) == (new, "revert", change, "anna")
    assert top["summary"] == "reverted boundary 1: imported boundary west.geojson for region west"
    assert ws.history().set_index("change_id").loc[change, "reverted_by"] == new
    with pytest.raises(ConflictError, match=f"already reverted by change {new}"):
        ws.revert(change)


def test_removing_a_boundary_is_reverted_with_its_geometry(location):
    ws = Workspace(location)
    stored = import_boundary(ws, "west", _boundary(-9), "west.geojson").geometry
    assert remove_imported_boundary(ws, "west") and imported_boundary(ws, "west") is None
    ws.revert(int(_last(ws)["change_id"]))
    back = imported_boundary(ws, "west")
    assert back is not None and back.geometry.equals(stored)


def test_reverting_a_population_layer_import_leaves_no_layer(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100, 50), "grid.csv", name="grid")
    assert _population(ws) == {"grid": 150}
    ws.revert(int(_last(ws)["change_id"]))
    assert demand_layers(ws) == []
    assert ws.read_table(PREFIX + "grid") is None and ws.read_table(INDEX) is None
    assert not any(t.startswith(PREFIX) or t == INDEX for t in ws.tables())


def test_a_replaced_layer_comes_back_and_a_revert_can_be_reverted(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100), "first.csv", name="grid")
    first = int(_last(ws)["change_id"])
    import_demand(ws, _grid(300, 400), "second.csv", name="grid")
    second = int(_last(ws)["change_id"])
    second_rows = ws.read_table(PREFIX + "grid")

    undo = ws.revert(second)
    assert _population(ws) == {"grid": 100} and demand_layers(ws)[0].file == "first.csv"
    assert len(ws.read_table(PREFIX + "grid")) == 1

    redo = ws.revert(undo)
    assert _population(ws) == {"grid": 700} and demand_layers(ws)[0].file == "second.csv"
    assert_geodataframe_equal(ws.read_table(PREFIX + "grid"), second_rows)
    assert _last(ws)["reverts"] == undo and _last(ws)["summary"].startswith(f"reverted revert {undo}: ")

    # The first import is under the second again: it cannot be undone until that is.
    with pytest.raises(ConflictError, match=f"later change {redo} .*revert change {redo} first"):
        ws.revert(first)
    ws.revert(redo)
    ws.revert(first)
    assert demand_layers(ws) == []


def test_a_later_change_to_the_same_table_blocks_the_revert(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100), "a.csv", name="a")
    first = int(_last(ws)["change_id"])
    import_demand(ws, _grid(200), "b.csv", name="b")  # rewrites the layer index too
    second = int(_last(ws)["change_id"])
    before = ws.history().to_json()

    with pytest.raises(ConflictError, match=rf"change {first} \(imported population layer 'a'.*wrote "
                                            rf"'demand_layers'.*later change {second} .*revert change {second} first"):
        ws.revert(first)
    assert ws.history().to_json() == before and _population(ws) == {"a": 100, "b": 200}  # nothing changed

    ws.revert(second)
    ws.revert(first)  # once the later change is undone, the earlier one may be
    assert demand_layers(ws) == [] and ws.read_table(PREFIX + "a") is None


def test_an_unrelated_later_change_does_not_block(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100), "a.csv", name="a")
    layer = int(_last(ws)["change_id"])
    import_boundary(ws, "west", _boundary(-9), "west.geojson")
    ws.revert(layer)
    assert demand_layers(ws) == [] and imported_boundary(ws, "west") is not None


def test_removing_a_layer_is_reverted(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100, 20), "a.csv", name="a")
    assert remove_demand(ws, "a") and demand_layers(ws) == []
    ws.revert(int(_last(ws)["change_id"]))
    assert _population(ws) == {"a": 120} and len(ws.read_table(PREFIX + "a")) == 2


def test_a_cache_write_keeps_no_versions(location):
    ws = Workspace(location)
    frame = gpd.GeoDataFrame({"nuts_id": ["IE0"]}, geometry=[Point(1, 2).buffer(1)], crs="EPSG:4326")
    assert ws.write_tables({"nuts_boundaries": frame}) is None
    assert ws.write_tables({"nuts_boundaries": frame.assign(nuts_id="IE1")}) is None  # replaces the cache
    assert ws.read_table("nuts_boundaries")["nuts_id"].tolist() == ["IE1"]
    assert ws.history().empty
    assert _count(ws, "side_versions") == 0 and _count(ws, "side_writes") == 0


def test_a_recorded_write_keeps_what_it_replaced(location):
    ws = Workspace(location)
    frame = gpd.GeoDataFrame({"region_id": ["west"]}, geometry=[Point(1, 2).buffer(1)], crs="EPSG:4326")
    first = ws.write_tables({"boundaries": frame}, summary="first")
    second = ws.write_tables({"boundaries": frame.assign(region_id="east")}, summary="second")
    assert (first, second) == (1, 2)
    assert ws._rows("SELECT change_id, count(*) FROM side_versions GROUP BY change_id") == [(2, 1)]
    ws.revert(second)
    assert ws.read_table("boundaries")["region_id"].tolist() == ["west"]
    assert ws._rows("SELECT change_id, count(*) FROM side_versions GROUP BY change_id") == [(3, 1)]


def test_a_workspace_made_before_side_versions_is_opened_and_upgraded_when_needed(location):
    ws = Workspace(location)
    frame = gpd.GeoDataFrame({"region_id": ["west"]}, geometry=[Point(1, 2).buffer(1)], crs="EPSG:4326")
    ws.write_tables({"boundaries": frame}, summary="old boundary")
    conn = ws._connection()
    # As a schema-2 workspace of the previous release: no side history, so no versions of that change.
    for table in ("side_writes", "side_versions"):
        conn.execute(f"DROP TABLE {table}")
    if ws.backend == "GeoPackage":
        conn.execute("DELETE FROM gpkg_contents WHERE table_name IN ('side_writes', 'side_versions')")
    ws.close()

    ws = Workspace(location)
    assert ws.read_table("boundaries")["region_id"].tolist() == ["west"]
    assert ws.history()["summary"].tolist() == ["old boundary"]
    assert data_ops.revertible(ws)  # listed; reverting it says why it cannot be
    with pytest.raises(UsageError, match="change 1 .*made before the workspace kept the rows"):
        ws.revert(1)
    new = ws.write_tables({"boundaries": frame.assign(region_id="east")}, summary="new boundary")
    ws.revert(new)
    assert ws.read_table("boundaries")["region_id"].tolist() == ["west"]


def test_the_demo_workspace_is_read_without_being_rewritten(tmp_path):
    folder = shutil.copytree(DEMO, tmp_path / "demo_workspace")
    before = (folder / GPKG_NAME).read_bytes()
    ws = Workspace(folder)
    assert len(ws.history()) and ws.read_table(BOUNDARIES) is None and data_ops.revertible(ws)
    ws.close()
    assert (folder / GPKG_NAME).read_bytes() == before  # reading writes nothing, not even the history tables
    ws = Workspace(folder)
    import_boundary(ws, "west", _boundary(-9), "west.geojson")  # the history tables are made on first use
    ws.revert(int(_last(ws)["change_id"]))
    assert imported_boundary(ws, "west") is None


def test_the_data_page_lists_boundary_changes(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100), "a.csv", name="a")
    change = int(_last(ws)["change_id"])
    assert "imported population layer 'a'" in data_ops.revertible(ws)[change]
    assert data_ops.revert_change(ws, change).startswith("Undid boundary: imported population layer 'a'")
    assert change not in data_ops.revertible(ws) and demand_layers(ws) == []


def _cli(*args) -> tuple[int, str, str]:
    from atlas.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_the_cli_reverts_a_population_layer(location):
    ws = Workspace(location)
    import_demand(ws, _grid(100), "a.csv", name="a")
    ws.close()
    code, out, err = _cli("history", "--workspace", location, "--json")
    assert code == 0, err
    [change] = json.loads(out)
    assert change["action"] == "boundary"

    code, out, err = _cli("revert", "--workspace", location, "--change", change["change_id"])
    assert code == 0, err
    assert out == f"change 2: reverted boundary 1: {change['summary']}\n"
    assert demand_layers(Workspace(location)) == []

    code, out, err = _cli("revert", "--workspace", location, "--change", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["reverts"] == 2 and _population(Workspace(location)) == {"a": 100}
