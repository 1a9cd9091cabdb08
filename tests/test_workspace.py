"""The workspace store on both backends (GeoPackage folder, PostGIS URL): imports, edits, history, reverts.

Every test here runs twice through the `location` fixture: once on a folder (GeoPackage)
and once on a fresh PostGIS database of the throwaway test cluster.
"""
import hashlib
import json
import subprocess
import sys
import textwrap

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from access import AccessDenied
from errors import ConflictError, UsageError, WorkspaceError
from tests.conftest import DATA, ROOT
from workspace import GPKG_NAME, Workspace

MIXED = DATA / "geojson" / "mixed.geojson"


def _geojson(path, names, lon=1.0):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + i / 100, 50.0]},
         "properties": {"name": name, "layer": "hubs"}} for i, name in enumerate(names)]}), encoding="utf-8")
    return path


def _snapshot(ws: Workspace) -> str:
    """Everything a user can read from the workspace, as one comparable text."""
    parts = [ws.features().to_json(), ws.rejected().to_json(), ws.imports().to_json(), ws.history().to_json()]
    return "\n".join(parts)


def test_import_writes_features_rejected_rows_and_log(location):
    ws = Workspace(location, user="anna")
    [result] = ws.import_files([MIXED])
    assert ws.exists()
    assert set(ws.tables()) >= {"features", "rejected", "import_log"}
    features = ws.features()
    assert len(features) == result.accepted == 5
    assert features.crs == "EPSG:4326"
    rejected = ws.rejected()
    assert list(rejected["where"]) == ["feature 2", "feature 6"]
    assert json.loads(rejected["raw"].iloc[0]) == {"name": "Bad longitude"}
    log = ws.imports().iloc[0]
    assert log.file == "mixed.geojson" and log.user == "anna"
    assert log.sha256 == hashlib.sha256(MIXED.read_bytes()).hexdigest()
    assert (log.rows_read, log.accepted, log.rejected) == (7, 5, 2)
    [change] = ws.history().itertuples()
    assert (change.action, change.user, change.import_id) == ("import", "anna", log.import_id)


def test_geometry_survives_the_database(location, tmp_path):
    ws = Workspace(location)
    [result] = ws.import_files([MIXED])
    got = ws.features().set_index("feature_id").geometry
    for fid, geometry in zip(result.features["feature_id"], result.features.geometry):
        if geometry is None:
            assert got[fid] is None
        else:
            assert got[fid].equals_exact(geometry, 0) and got[fid].geom_type == geometry.geom_type


def test_the_workspace_is_a_real_geopackage(tmp_path):
    import sqlite3

    ws = Workspace(tmp_path)
    ws.import_files([MIXED])
    current = sorted(ws.features()["name"])
    ws.close()  # GDAL's own SQLite must not share the file with an open connection of ours
    with sqlite3.connect(ws.gpkg) as db:
        kinds = dict(db.execute("select table_name, data_type from gpkg_contents").fetchall())
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert kinds["features"] == "features"
    assert kinds["import_log"] == "attributes"
    assert pyogrio.read_info(ws.gpkg, layer="features")["features"] == 5
    assert sorted(pyogrio.read_dataframe(ws.gpkg, layer="features")["name"]) == current
    assert oct(ws.gpkg.stat().st_mode & 0o777) != oct(0o600)  # others in the group may read it, as any file


def test_reimporting_the_same_file_does_not_duplicate(location):
    ws = Workspace(location)
    first = ws.import_files([MIXED])[0].features["feature_id"].tolist()
    ws.import_files([MIXED])
    features = ws.features()
    assert sorted(features["feature_id"]) == sorted(first)
    assert len(ws.rejected()) == 2
    assert len(ws.imports()) == 2  # the log keeps both imports


_CRASH = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from workspace import _sql
    from workspace import Workspace
    for backend in (_sql.GeoPackage, _sql.PostGIS):
        real = backend.insert_rows
        def crash(self, conn, table, columns, rows, real=real):
            real(self, conn, table, columns, rows)
            if table == "rejected":  # the features of the file are written: die mid-transaction
                os._exit(3)
        backend.insert_rows = crash
    Workspace({location!r}).import_files([{file!r}])
""")


def test_a_crash_mid_import_leaves_the_previous_workspace_intact(location, tmp_path):
    ws = Workspace(location)
    ws.import_files([MIXED])
    before = _snapshot(ws)
    ws.close()
    other = _geojson(tmp_path / "other.geojson", ["new"])
    script = _CRASH.format(root=str(ROOT), location=location, file=str(other))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr.decode()[-2000:]
    after = Workspace(location)
    assert _snapshot(after) == before
    assert "new" not in set(after.features()["name"])
    after.import_files([other])  # and the workspace still takes writes
    assert "new" in set(after.features()["name"])


def test_edits_survive_a_reimport(location):
    ws = Workspace(location)
    ws.import_files([MIXED])
    mystery = ws.features().set_index("name").loc["Mystery", "feature_id"]
    ws.edit_features({mystery: {"layer": "networks", "kind": "campsite"}})
    ws.import_files([MIXED])
    row = ws.features().set_index("name").loc["Mystery"]
    assert (row.layer, row.kind) == ("networks", "campsite")
    assert ws.base_features().set_index("name").loc["Mystery", "layer"] == "unclassified"


def test_editing_provenance_is_refused(location):
    ws = Workspace(location)
    with pytest.raises(ValueError, match="cannot be edited"):
        ws.edit_features({"x": {"source_file": "y"}})


def test_an_empty_workspace_reads_as_empty_frames(tmp_path):
    ws = Workspace(tmp_path / "nothing")
    assert ws.features().empty and list(ws.features().columns)[:2] == ["feature_id", "name"]
    assert ws.rejected().empty and ws.imports().empty and ws.tables() == []
    assert not (tmp_path / "nothing").exists()  # reading never creates anything


def test_an_edit_is_recorded_with_who_when_and_old_to_new(location):
    ws = Workspace(location, user="anna")
    ws.import_files([MIXED])
    fid = ws.features()["feature_id"].iloc[0]
    version = ws.versions([fid])[fid]
    change = ws.edit_features({fid: {"town": "Boyle"}}, versions={fid: version})
    assert ws.versions([fid])[fid] == version + 1
    entry = ws.history().iloc[0]
    assert (entry.change_id, entry.user, entry.action) == (change, "anna", "edit")
    rows = ws.change_rows(change)
    assert rows.to_dict("records") == [{"feature_id": fid, "field": "town", "old": None, "new": "Boyle"}]
    assert ws.history(feature_id=fid)["change_id"].tolist()[0] == change
    assert ws.edit_features({fid: {"town": "Boyle"}}) is None  # no change, no history entry
    assert len(ws.history()) == 2


def test_a_stale_edit_is_refused_naming_who_changed_what(location):
    anna, ben = Workspace(location, user="anna"), Workspace(location, user="ben")
    anna.import_files([MIXED])
    fid = anna.features()["feature_id"].iloc[0]
    seen = ben.versions([fid])[fid]  # Ben opens the feature
    anna.edit_features({fid: {"town": "Boyle"}}, versions={fid: seen})
    with pytest.raises(ConflictError, match=r"anna changed town from \(empty\) to 'Boyle'.*Your change \(town → 'Tuam'\)"):
        ben.edit_features({fid: {"town": "Tuam"}}, versions={fid: seen})
    assert ben.features().set_index("feature_id").loc[fid, "town"] == "Boyle"  # nothing lost, nothing overwritten


def test_an_edit_can_be_reverted_and_the_revert_is_recorded(location):
    ws = Workspace(location)
    ws.import_files([MIXED])
    fid = ws.features()["feature_id"].iloc[0]
    change = ws.edit_features({fid: {"town": "Boyle", "kind": "studio"}})
    undo = ws.revert(change)
    row = ws.features().set_index("feature_id").loc[fid]
    assert row.town is None and row.kind != "studio"
    history = ws.history().set_index("change_id")
    assert history.loc[change, "reverted_by"] == undo and history.loc[undo, "reverts"] == change
    with pytest.raises(ConflictError, match="already reverted"):
        ws.revert(change)


def test_reverting_an_edit_that_was_changed_since_is_refused(location):
    ws = Workspace(location)
    ws.import_files([MIXED])
    fid = ws.features()["feature_id"].iloc[0]
    first = ws.edit_features({fid: {"town": "Boyle"}})
    ws.edit_features({fid: {"town": "Tuam"}})
    with pytest.raises(ConflictError, match="has changed since change"):
        ws.revert(first)
    assert ws.features().set_index("feature_id").loc[fid, "town"] == "Tuam"


def test_reverting_an_import_removes_its_features_and_restores_what_it_replaced(location, tmp_path):
    ws = Workspace(location)
    ws.import_files([_geojson(tmp_path / "hubs.geojson", ["A", "B"])])
    ws.edit_features({ws.features().set_index("name").loc["A", "feature_id"]: {"town": "Boyle"}})
    second = _geojson(tmp_path / "hubs.geojson", ["A", "C"])
    ws.import_files([second])
    assert sorted(ws.features()["name"]) == ["A", "C"]
    one, two = ws.imports()["import_id"].tolist()
    ws.revert_import(two)
    restored = ws.features().set_index("name")
    assert sorted(restored.index) == ["A", "B"] and restored.loc["A", "town"] == "Boyle"
    assert ws.imports().set_index("import_id").loc[two, "reverted_by"] is not None
    ws.import_files([second])
    with pytest.raises(ConflictError, match="later import"):
        ws.revert_import(one)
    assert sorted(ws.features()["name"]) == ["A", "C"]


def test_reverting_the_only_import_empties_the_workspace_and_keeps_the_log(location):
    ws = Workspace(location)
    ws.import_files([MIXED])
    [import_id] = ws.imports()["import_id"]
    ws.revert_import(import_id)
    assert ws.features().empty and ws.rejected().empty
    assert len(ws.imports()) == 1 and len(ws.history()) == 2
    with pytest.raises(UsageError, match="import the file again"):
        ws.revert(int(ws.history()["change_id"].iloc[0]))


def test_added_features_can_be_reverted(location):
    ws = Workspace(location)
    ws.import_files([MIXED])
    site = ws.features().head(1).copy()
    site["feature_id"], site["name"], site["status"] = "site-1", "New hub near Gort", "planned"
    site["geometry"] = [Point(-8.8, 53.06)]
    change = ws.add_features(site)
    assert "New hub near Gort" in set(ws.features()["name"])
    ws.revert(change)
    assert "New hub near Gort" not in set(ws.features()["name"])


def test_a_viewer_reads_but_cannot_change_anything(location, tmp_path):
    Workspace(location, user="anna").import_files([MIXED])
    viewer = Workspace(location, user="vera", role="viewer")
    assert len(viewer.features()) == 5
    fid = viewer.features()["feature_id"].iloc[0]
    with pytest.raises(AccessDenied, match="vera is a viewer: importing needs the editor or admin role"):
        viewer.import_files([MIXED])
    with pytest.raises(AccessDenied, match="editing features"):
        viewer.edit_features({fid: {"town": "Boyle"}})
    with pytest.raises(AccessDenied, match="reverting"):
        viewer.revert(1)
    with pytest.raises(AccessDenied, match="saving a site"):
        viewer.add_features(viewer.features().head(1))
    assert len(Workspace(location).history()) == 1
    Workspace(location, user="ed", role="editor").edit_features({fid: {"town": "Boyle"}})


def test_side_tables_round_trip(location):
    ws = Workspace(location)
    frame = gpd.GeoDataFrame({"region_id": ["west"], "source": ["imported"]}, geometry=[Point(1, 2).buffer(1)],
                             crs="EPSG:4326")
    ws.write_tables({"boundaries": frame}, summary="boundary imported for west")
    back = ws.read_table("boundaries")
    assert back["region_id"].tolist() == ["west"] and back.geometry.iloc[0].equals(frame.geometry.iloc[0])
    assert "boundaries" in ws.tables() and ws.history().iloc[0].action == "boundary"


def test_a_workspace_written_before_the_history_is_upgraded_in_place(tmp_path):
    """The layout of the first version: GDAL tables features/rejected/import_log/edits, edits applied on read."""
    folder = tmp_path / "old"
    folder.mkdir()
    gpkg = folder / GPKG_NAME
    result = __import__("loaders").read_bytes(MIXED.read_bytes(), "mixed.geojson")
    features = result.features
    pyogrio.write_dataframe(features, gpkg, layer="features", driver="GPKG", geometry_type="Unknown")
    import pandas as pd

    log = pd.DataFrame([{"import_id": "2026-01-01T00:00:00+00:00|mixed.geojson", "file": "mixed.geojson",
                         "sha256": "ab", "imported_at": "2026-01-01T00:00:00+00:00", "rows_read": 7, "accepted": 5,
                         "rejected": 2}])
    pyogrio.write_dataframe(log, gpkg, layer="import_log", driver="GPKG")
    fid = features["feature_id"].iloc[0]
    edits = pd.DataFrame([{"feature_id": fid, "field": "town", "value": "Boyle", "edited_at": "2026-01-02"}])
    pyogrio.write_dataframe(edits, gpkg, layer="edits", driver="GPKG")
    ws = Workspace(folder)
    current = ws.features().set_index("feature_id")
    assert len(current) == 5 and current.loc[fid, "town"] == "Boyle"
    assert ws.base_features().set_index("feature_id").loc[fid, "town"] is None
    assert ws.imports()["file"].tolist() == ["mixed.geojson"]
    assert set(ws.history()["action"]) == {"upgrade", "import", "edit"}
    ws.edit_features({fid: {"town": "Tuam"}})  # and it takes new changes
    ws.close()
    assert pyogrio.read_info(gpkg, layer="features")["features"] == 5


def test_a_damaged_workspace_gives_one_line(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / GPKG_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(WorkspaceError, match="cannot be (opened|read)"):
        Workspace(folder).features()


def test_a_file_given_as_the_workspace_folder_is_refused(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(WorkspaceError, match="is a file, not a folder"):
        Workspace(file).import_files([MIXED])


def test_a_bad_database_url_gives_one_line_without_the_password():
    with pytest.raises(WorkspaceError, match=r"postgresql://atlas:\*\*\*@127.0.0.1:1/none: cannot connect") as info:
        Workspace("postgresql://atlas:secret@127.0.0.1:1/none").features()
    assert "secret" not in str(info.value)


def test_a_full_disk_gives_one_line_and_changes_nothing(tmp_path, monkeypatch):
    """SQLite's own 'database or disk is full' (SQLITE_FULL), reached by capping the file's page count."""
    from workspace import _sql

    ws = Workspace(tmp_path / "ws")
    ws.import_files([MIXED])
    before = _snapshot(ws)
    ws.close()
    real = _sql.GeoPackage.connect

    def small_disk(self):
        conn = real(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(_sql.GeoPackage, "connect", small_disk)
    big = _geojson(tmp_path / "big.geojson", [f"hub {i} " + "x" * 200 for i in range(2000)])
    with pytest.raises(WorkspaceError, match="the disk is full .* Nothing was changed; free some space"):
        Workspace(tmp_path / "ws").import_files([big])
    monkeypatch.undo()
    assert _snapshot(Workspace(tmp_path / "ws")) == before
