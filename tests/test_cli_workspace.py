"""``python -m atlas edit|history|revert``, and every workspace command on a ``postgresql://`` URL.

Most tests run twice through the `location` fixture: on a folder (GeoPackage) and on a
fresh PostGIS database. The facilities fixture lies on the meridian 8° W (see
tests/test_cli_analyze.py): hubs H1 at 53.0 (existing) and H2 at 54.0 (planned), training
T1 at 53.0, networks N1 at 53.5; the demand inside the test boundary (53.05-53.95) is
Bton 53.1 (500), Cford 53.3 (2000), Eglen 53.5 (700), Dmore 53.9 (300): 3,500 people.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace
from unittest import mock

import pytest

from loaders import read_file
from tests.conftest import DATA, ROOT
from workspace import Workspace

FACILITIES = DATA / "analysis" / "facilities.geojson"
DEMAND = DATA / "analysis" / "demand.csv"
BOUNDARY = DATA / "analysis" / "boundary.geojson"
MIXED = DATA / "geojson" / "mixed.geojson"
H1, H2 = "facilities.geojson#H1", "facilities.geojson#H2"
CLOSED_PORT_URL = "http://127.0.0.1:9/{nuts_id}.geojson"
# The test boundary and the test region's radii, given as options (a URL workspace has no regions.json).
SCENARIO = ("--boundary", BOUNDARY, "--demand", DEMAND, "--radius", "hubs=20", "--radius", "training=30",
            "--radius", "networks=50")


def run(*args) -> SimpleNamespace:
    """Run ``python -m atlas ...`` in this process; return the exit code and the output."""
    from atlas.cli import main

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, {"ATLAS_GISCO_NUTS_URL": CLOSED_PORT_URL}), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def ok_json(*args):
    done = run(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line_error(done: SimpleNamespace) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture
def imported(location) -> str:
    """The location with facilities.geojson imported by anna."""
    done = run("import", FACILITIES, "--workspace", location, "--user", "anna")
    assert done.returncode == 0, done.stderr
    return location


# -- import --user, history ------------------------------------------------------------------
def test_import_records_the_user_and_history_lists_it(imported):
    [change] = ok_json("history", "--workspace", imported)
    assert change["action"] == "import" and change["user"] == "anna"
    assert change["rows"] == [] and change["reverts"] is None and change["reverted_by"] is None
    assert change["summary"] == "facilities.geojson: 5 feature(s), 0 rejected of 5 read"
    log = Workspace(imported).imports()
    assert list(log["user"]) == ["anna"] and change["import_id"] == log["import_id"].iloc[0]


def test_import_report_names_the_url_without_its_password(postgis_url):
    with_password = postgis_url.replace("postgres@", "postgres:not-needed@")
    report = ok_json("import", MIXED, "--workspace", with_password)
    assert report["workspace_features"] == 5
    assert "not-needed" not in report["workspace"] and report["workspace"].endswith(postgis_url.rsplit("/", 1)[1])


# -- edit ------------------------------------------------------------------------------------
def test_edit_prints_old_and_new_values_and_the_change_id(imported):
    done = run("edit", "--workspace", imported, "--feature", H2, "--set", "status=existing", "--set", "town=Boyle",
               "--user", "bo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{H2}: change 2, now version 2",
        "  status: 'planned' → 'existing'",
        "  town: (empty) → 'Boyle'",
    ]
    [edit, _] = ok_json("history", "--workspace", imported)
    assert (edit["change_id"], edit["user"], edit["action"]) == (2, "bo", "edit")
    assert edit["rows"] == [{"feature_id": H2, "field": "status", "old": "planned", "new": "existing"},
                            {"feature_id": H2, "field": "town", "old": None, "new": "Boyle"}]


def test_edit_json_and_clearing_a_field(imported):
    first = ok_json("edit", "--workspace", imported, "--feature", H1, "--set", "town=Tuam")
    assert first == {"change_id": 2, "feature_id": H1, "changes": {"town": {"old": None, "new": "Tuam"}},
                     "version": 2}
    cleared = ok_json("edit", "--workspace", imported, "--feature", H1, "--set", "town=", "--if-version", "2")
    assert cleared == {"change_id": 3, "feature_id": H1, "changes": {"town": {"old": "Tuam", "new": None}},
                       "version": 3}
    features = Workspace(imported).features().set_index("feature_id")
    assert features.loc[H1, "town"] is None


def test_edit_writes_kinds_and_sectors_in_the_shared_vocabulary(imported):
    done = ok_json("edit", "--workspace", imported, "--feature", H1, "--set", "kind=Klaster",
                   "--set", "sectors=rzemiosło; gry")
    assert done["changes"]["kind"]["new"] == "cluster"
    assert done["changes"]["sectors"]["new"] == "crafts; games"


def test_an_edit_that_changes_nothing(imported):
    done = run("edit", "--workspace", imported, "--feature", H1, "--set", "status=existing")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{H1}: nothing changed (version 1)\n"
    assert ok_json("edit", "--workspace", imported, "--feature", H1, "--set", "name=Hub South") == {
        "change_id": None, "feature_id": H1, "changes": {}, "version": 1}
    assert len(ok_json("history", "--workspace", imported)) == 1


def test_a_stale_version_is_refused_and_nothing_is_saved(imported):
    assert run("edit", "--workspace", imported, "--feature", H1, "--set", "town=Tuam", "--user", "bo").returncode == 0
    line = one_line_error(run("edit", "--workspace", imported, "--feature", H1, "--set", "town=Athenry",
                              "--if-version", "1"))
    assert f"feature '{H1}' changed after you opened it (bo changed town" in line
    assert Workspace(imported).features().set_index("feature_id").loc[H1, "town"] == "Tuam"
    assert len(ok_json("history", "--workspace", imported)) == 2


@pytest.mark.parametrize("args, expected", [
    (("--feature", "nope", "--set", "town=X"), "feature 'nope' is not in the workspace"),
    (("--feature", H1, "--set", "colour=red"), "fields ['colour'] cannot be edited; editable: name, layer"),
    (("--feature", H1, "--set", "feature_id=x"), "fields ['feature_id'] cannot be edited"),
    (("--feature", H1, "--set", "layer=parks"), "layer must be one of hubs, training, networks, unclassified"),
    (("--feature", H1, "--set", "status="), "status must be one of existing, planned"),
    (("--feature", H1, "--set", "town"), "--set 'town' is not FIELD=VALUE"),
    (("--feature", H1, "--set", "town=A", "--set", "town=B"), "--set town=... is given twice"),
    (("--feature", H1, "--set", "town=A", "--if-version", "two"), "--if-version 'two' is not a whole number"),
])
def test_edit_mistakes_give_one_line_errors(imported, args, expected):
    assert expected in one_line_error(run("edit", "--workspace", imported, *args))
    assert len(ok_json("history", "--workspace", imported)) == 1


def test_commands_on_a_missing_workspace_create_nothing(tmp_path):
    folder = tmp_path / "nowhere"
    for args in (("edit", "--feature", H1, "--set", "town=A"), ("history",), ("revert", "--change", "1")):
        line = one_line_error(run(*args, "--workspace", folder))
        assert f"{folder}: there is no workspace here yet" in line
    assert not folder.exists()


def test_a_missing_database_is_one_line(postgis_url):
    url = postgis_url.rsplit("/", 1)[0] + "/no_such_database"
    assert "cannot connect to the database" in one_line_error(run("history", "--workspace", url))


# -- history ---------------------------------------------------------------------------------
def test_history_newest_first_with_limit_and_feature(imported):
    run("edit", "--workspace", imported, "--feature", H1, "--set", "town=Tuam")
    run("edit", "--workspace", imported, "--feature", H2, "--set", "town=Boyle")
    run("import", MIXED, "--workspace", imported)
    changes = ok_json("history", "--workspace", imported)
    assert [c["change_id"] for c in changes] == [4, 3, 2, 1]
    assert [c["action"] for c in changes] == ["import", "edit", "edit", "import"]
    assert set(changes[0]) == {"change_id", "at", "user", "action", "summary", "import_id", "reverts",
                               "reverted_by", "rows"}
    assert [c["change_id"] for c in ok_json("history", "--workspace", imported, "--limit", "2")] == [4, 3]
    # The feature's import and its edit, each once.
    assert [c["change_id"] for c in ok_json("history", "--workspace", imported, "--feature", H1)] == [2, 1]
    assert ok_json("history", "--workspace", imported, "--feature", "nope") == []


def test_history_as_a_table(imported):
    run("edit", "--workspace", imported, "--feature", H1, "--set", "town=Tuam", "--user", "bo")
    done = run("history", "--workspace", imported)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["change", "at", "(UTC)", "user", "action", "summary"]
    assert lines[1].split()[0] == "2" and " bo " in lines[1] and "edited town of Hub South" in lines[1]
    assert lines[2] == f"  {H1} town: (empty) → 'Tuam'"
    assert lines[3].split()[0] == "1" and "anna" in lines[3] and "facilities.geojson: 5 feature(s)" in lines[3]
    assert "--limit 0: give how many" in one_line_error(run("history", "--workspace", imported, "--limit", "0"))


# -- revert ----------------------------------------------------------------------------------
def test_revert_a_change(imported):
    run("edit", "--workspace", imported, "--feature", H1, "--set", "town=Tuam", "--set", "name=Hub S.")
    undone = ok_json("revert", "--workspace", imported, "--change", "2", "--user", "carl")
    assert (undone["change_id"], undone["action"], undone["user"], undone["reverts"]) == (3, "revert", "carl", 2)
    assert undone["summary"] == "reverted edit 2: edited name, town of Hub South"
    assert undone["rows"] == [{"feature_id": H1, "field": "name", "old": "Hub S.", "new": "Hub South"},
                              {"feature_id": H1, "field": "town", "old": "Tuam", "new": None}]
    feature = Workspace(imported).features().set_index("feature_id").loc[H1]
    assert (feature["name"], feature["town"]) == ("Hub South", None)
    assert ok_json("history", "--workspace", imported)[1]["reverted_by"] == 3
    line = one_line_error(run("revert", "--workspace", imported, "--change", "2"))
    assert "change 2 (edited name, town of Hub South) was already reverted by change 3" in line


def test_revert_an_import_as_text(imported):
    import_id = Workspace(imported).imports()["import_id"].iloc[0]
    done = run("revert", "--workspace", imported, "--import", import_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "change 2: reverted import 1: facilities.geojson: 5 feature(s), 0 rejected of 5 read\n"
    assert Workspace(imported).features().empty
    assert "was already reverted by change 2" in one_line_error(
        run("revert", "--workspace", imported, "--import", import_id))


@pytest.mark.parametrize("args, expected", [
    (("--change", "99"), "change 99 is not in this workspace's history"),
    (("--import", "99"), "import 99 is not in this workspace's import log"),
    (("--change", "x"), "--change 'x' is not a whole number"),
])
def test_revert_mistakes(imported, args, expected):
    assert expected in one_line_error(run("revert", "--workspace", imported, *args))


def test_revert_needs_exactly_one_of_import_and_change(tmp_path):
    for args in ((), ("--change", "1", "--import", "1")):
        done = run("revert", "--workspace", tmp_path, *args)
        assert done.returncode == 2 and "--import" in done.stderr and done.stdout == ""


def test_edit_history_revert_as_a_real_process(location):
    def atlas(*args):
        return subprocess.run([sys.executable, "-m", "atlas", *map(str, args)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)

    assert atlas("import", FACILITIES, "--workspace", location, "--user", "anna").returncode == 0
    edit = atlas("edit", "--workspace", location, "--feature", H1, "--set", "town=Tuam", "--json")
    assert edit.returncode == 0, edit.stderr
    assert json.loads(edit.stdout)["version"] == 2
    stale = atlas("edit", "--workspace", location, "--feature", H1, "--set", "town=X", "--if-version", "1")
    assert stale.returncode == 2 and stale.stdout == "" and stale.stderr.count("\n") == 1
    assert "Traceback" not in stale.stderr
    revert = atlas("revert", "--workspace", location, "--change", "2")
    assert revert.returncode == 0 and revert.stdout.startswith("change 3: reverted edit 2")
    history = atlas("history", "--workspace", location, "--json")
    assert [c["action"] for c in json.loads(history.stdout)] == ["revert", "edit", "import"]


# -- analyze, compare, export on both backends ------------------------------------------------
def test_analyze_from_the_workspace_sees_its_edits(imported):
    report = ok_json("analyze", "--workspace", imported, *SCENARIO)
    assert report["demand"]["population"] == 3500
    assert report["layers"]["hubs"]["covered_population"] == 500  # Bton, 11 km from H1
    assert report["layers"]["networks"]["covered_population"] == 3500
    assert report["layers"]["hubs"]["facilities"] == 0  # H1 lies outside the box; H2 is planned
    run("edit", "--workspace", imported, "--feature", H2, "--set", "status=existing")
    report = ok_json("analyze", "--workspace", imported, *SCENARIO)
    assert report["layers"]["hubs"]["covered_population"] == 800  # + Dmore, 11 km from H2


def test_import_boundary_then_analyze_a_region(imported):
    done = run("import-boundary", BOUNDARY, "--workspace", imported, "--region", "west-ireland", "--json")
    assert done.returncode == 0, done.stderr
    report = ok_json("analyze", "--workspace", imported, "--region", "west-ireland", "--demand", DEMAND,
                     "--offline")
    assert report["boundary"] == "imported" and report["demand"]["population"] == 3500


def test_empty_workspace_errors_name_the_database(postgis_url):
    line = one_line_error(run("analyze", "--workspace", postgis_url, "--demand", DEMAND))
    assert f"workspace database {postgis_url.rsplit('/', 1)[1]} holds no imported features yet" in line
    line = one_line_error(run("export", "--workspace", postgis_url, "--format", "csv", "--out", "x.csv"))
    assert "holds no features yet" in line


def _timeless(value):
    """`value` (parsed JSON) with every ISO date-time replaced by a placeholder."""
    text = json.dumps(value, sort_keys=True)
    return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "<time>", text)


def test_folder_and_url_give_the_same_figures(tmp_path, postgis_url):
    folder = str(tmp_path / "ws")
    for location in (folder, postgis_url):
        assert run("import", FACILITIES, MIXED, "--workspace", location).returncode == 0
        assert run("edit", "--workspace", location, "--feature", H2, "--set", "status=existing").returncode == 0
        assert run("import-boundary", BOUNDARY, "--workspace", location, "--region", "west-ireland").returncode == 0

    def same(*args):
        """Run a command on both; return the folder's JSON after checking the URL's is equal."""
        on_folder, on_url = (ok_json(*args[:1], "--workspace", loc, *args[1:]) for loc in (folder, postgis_url))
        # The two imports ran a moment apart: times in labels may differ by a second, nothing else may.
        assert _timeless(on_url) == _timeless(on_folder)
        return on_folder

    report = same("analyze", "--region", "west-ireland", "--demand", DEMAND, "--offline", "--sites", "1")
    assert report["boundary"] == "imported"
    assert report["layers"]["hubs"]["covered_population"] == 800
    compared = same("compare", "--region", "west-ireland", "--region", "lodz", "--offline")
    rows = {r["region_id"]: r for r in compared["regions"]}
    assert rows["west-ireland"]["boundary"] == "imported" and rows["lodz"]["boundary"] == "official"
    # N1 and the Roscommon–Boyle trail (a line crossing the box); the Łódź hub is planned, its network unlocated.
    assert rows["west-ireland"]["facilities_networks"] == 2
    assert rows["lodz"]["facilities_hubs"] == rows["lodz"]["facilities_networks"] == 0

    outputs = []
    for location, name in ((folder, "folder"), (postgis_url, "url")):
        out = tmp_path / f"{name}.geojson"
        done = run("export", "--workspace", location, "--region", "west-ireland", "--format", "geojson",
                   "--out", out)
        assert done.returncode == 0, done.stderr
        outputs.append((done.stdout.splitlines()[0], read_file(out).features))
    (folder_line, folder_features), (url_line, url_features) = outputs
    assert url_line == folder_line.replace("folder.geojson", "url.geojson")
    assert folder_line == "Exported 3 feature(s): networks 2, unclassified 1 as GEOJSON to folder.geojson."
    columns = ["feature_id", "name", "layer", "status"]
    assert url_features[columns].to_dict("records") == folder_features[columns].to_dict("records")
    assert list(url_features.geometry.to_wkt()) == list(folder_features.geometry.to_wkt())
