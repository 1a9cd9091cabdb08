"""``python -m atlas import``: the JSON report and exit codes, run as a real subprocess."""
import json
import subprocess
import sys

from tests.conftest import DATA, ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "atlas", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_json_report(tmp_path):
    proc = run("import", str(DATA / "geojson" / "mixed.geojson"), "--workspace", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["workspace"] == str(tmp_path)
    assert report["workspace_features"] == 5
    [entry] = report["files"]
    assert entry["file"] == "mixed.geojson"
    assert entry["rows_read"] == 7 and entry["accepted"] == 5
    assert entry["accepted"] + len(entry["rejected"]) == entry["rows_read"]
    assert entry["rejected"][0]["where"] == "feature 2"
    assert entry["by_layer"] == {"hubs": 2, "training": 0, "networks": 2, "unclassified": 1}
    assert entry["location_source"] == {"coordinates": 4, "gazetteer": 0}


def test_reimport_keeps_the_workspace_count(tmp_path):
    for _ in range(2):
        proc = run("import", str(DATA / "geojson" / "mixed.geojson"), "--workspace", str(tmp_path), "--json")
    assert json.loads(proc.stdout)["workspace_features"] == 5


def test_human_readable_output(tmp_path):
    proc = run("import", str(DATA / "geojson" / "mixed.geojson"), "--workspace", str(tmp_path))
    assert proc.returncode == 0
    assert "mixed.geojson: 7 read, 5 imported (hubs 2, networks 2, unclassified 1), 2 rejected" in proc.stdout


def test_unreadable_file_gives_one_line_and_nonzero_exit(tmp_path):
    bad = tmp_path / "broken.geojson"
    bad.write_text("{oops")
    proc = run("import", str(bad), "--workspace", str(tmp_path / "ws"), "--json")
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "broken.geojson: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "ws" / "atlas.gpkg").exists()


def test_missing_file(tmp_path):
    proc = run("import", str(tmp_path / "nope.kmz"), "--workspace", str(tmp_path))
    assert proc.returncode == 2 and "nope.kmz: cannot be opened" in proc.stderr
