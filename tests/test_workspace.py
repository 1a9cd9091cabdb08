"""The GeoPackage workspace: import log, re-import without duplicates, atomic writes, edits."""
import hashlib
import json
import sqlite3

import pyogrio
import pytest

from tests.conftest import DATA
from workspace import GPKG_NAME, Workspace

MIXED = DATA / "geojson" / "mixed.geojson"


def test_import_writes_features_rejected_rows_and_log(tmp_path):
    ws = Workspace(tmp_path / "ws")
    [result] = ws.import_files([MIXED])
    assert (ws.path / GPKG_NAME).exists()
    assert set(ws.tables()) >= {"features", "rejected", "import_log"}
    features = ws.features()
    assert len(features) == result.accepted == 5
    assert features.crs == "EPSG:4326"
    rejected = ws.rejected()
    assert list(rejected["where"]) == ["feature 2", "feature 6"]
    assert json.loads(rejected["raw"].iloc[0]) == {"name": "Bad longitude"}
    log = ws.imports().iloc[0]
    assert log.file == "mixed.geojson"
    assert log.sha256 == hashlib.sha256(MIXED.read_bytes()).hexdigest()
    assert (log.rows_read, log.accepted, log.rejected) == (7, 5, 2)


def test_the_workspace_is_a_real_geopackage(tmp_path):
    ws = Workspace(tmp_path)
    ws.import_files([MIXED])
    with sqlite3.connect(ws.gpkg) as db:
        kinds = dict(db.execute("select table_name, data_type from gpkg_contents").fetchall())
    assert kinds["features"] == "features"
    assert kinds["import_log"] == "attributes"
    assert pyogrio.read_info(ws.gpkg, layer="features")["features"] == 5


def test_reimporting_the_same_file_does_not_duplicate(tmp_path):
    ws = Workspace(tmp_path)
    first = ws.import_files([MIXED])[0].features["feature_id"].tolist()
    ws.import_files([MIXED])
    features = ws.features()
    assert sorted(features["feature_id"]) == sorted(first)
    assert len(ws.rejected()) == 2
    assert len(ws.imports()) == 2  # the log keeps both imports


def test_a_crash_mid_import_leaves_the_previous_workspace_intact(tmp_path, monkeypatch):
    ws = Workspace(tmp_path)
    ws.import_files([MIXED])
    before = ws.gpkg.read_bytes()
    calls = []
    real_write = pyogrio.write_dataframe

    def write_then_crash(*args, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", write_then_crash)
    other = tmp_path / "other.geojson"
    other.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 50]}, "properties": {"name": "new"}}]}))
    with pytest.raises(OSError, match="disk full"):
        ws.import_files([other])
    assert ws.gpkg.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [GPKG_NAME, "other.geojson"] or sorted(
        p.name for p in tmp_path.iterdir()) == sorted([GPKG_NAME, "other.geojson"])
    monkeypatch.undo()
    assert len(Workspace(tmp_path).features()) == 5


def test_edits_survive_a_reimport(tmp_path):
    ws = Workspace(tmp_path)
    ws.import_files([MIXED])
    mystery = ws.features().set_index("name").loc["Mystery", "feature_id"]
    ws.edit_features({mystery: {"layer": "networks", "kind": "campsite"}})
    ws.import_files([MIXED])
    row = ws.features().set_index("name").loc["Mystery"]
    assert (row.layer, row.kind) == ("networks", "campsite")
    assert ws.base_features().set_index("name").loc["Mystery", "layer"] == "unclassified"


def test_editing_provenance_is_refused(tmp_path):
    ws = Workspace(tmp_path)
    with pytest.raises(ValueError, match="cannot be edited"):
        ws.edit_features({"x": {"source_file": "y"}})


def test_an_empty_workspace_reads_as_empty_frames(tmp_path):
    ws = Workspace(tmp_path / "nothing")
    assert ws.features().empty and list(ws.features().columns)[:2] == ["feature_id", "name"]
    assert ws.rejected().empty and ws.imports().empty and ws.tables() == []
