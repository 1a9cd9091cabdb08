"""``python -m atlas export``: every format, the choices, the analysis results and the errors."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from atlas.cli import main
from geography.boundaries import import_boundary
from loaders import read_file
from tests.conftest import ROOT
from tests.test_export_fixtures import assert_same_features, mymaps_kmz
from workspace import Workspace

# A rough box over Galway, Mayo and Roscommon, imported as the region's boundary so that the
# tests never need the network and do not depend on the shipped approximate outline.
WEST_BOX = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "west"}, "geometry": {
    "type": "Polygon", "coordinates": [[[-10.3, 52.9], [-7.8, 52.9], [-7.8, 54.4], [-10.3, 54.4], [-10.3, 52.9]]]}}]}


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.import_files([mymaps_kmz(tmp_path)])
    import_boundary(ws, "west-ireland", json.dumps(WEST_BOX).encode(), "west.geojson")
    return ws


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atlas", "export", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_geojson_export_as_a_real_subprocess(workspace, tmp_path):
    out = tmp_path / "all.geojson"
    proc = run("--workspace", str(workspace.path), "--format", "geojson", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "Exported 9 feature(s): hubs 4, training 2, networks 2, unclassified 1 as GEOJSON to all.geojson."
    )
    assert_same_features(workspace.features(), read_file(out).features, source_file="all.geojson")


@pytest.mark.parametrize("fmt", ["kml", "kmz", "gpkg", "xlsx", "csv"])
def test_every_format_writes_its_file(workspace, tmp_path, fmt, capsys):
    out = tmp_path / f"all.{fmt}"
    assert main(["export", "--workspace", str(workspace.path), "--format", fmt, "--out", str(out)]) == 0
    assert out.exists() and out.stat().st_size > 0
    assert str(out) in capsys.readouterr().out


def test_region_layers_and_status_select_features(workspace, tmp_path, capsys):
    out = tmp_path / "west.geojson"
    code = main(["export", "--workspace", str(workspace.path), "--region", "west-ireland", "--format", "geojson",
                 "--out", str(out), "--layers", "hubs,unclassified", "--status", "existing"])
    assert code == 0
    names = sorted(read_file(out).features["name"])
    assert names == ["Ballaghaderreen Creative Hub", "Unsorted place"]
    printed = capsys.readouterr().out
    assert "imported boundary" in printed


def test_without_region_every_feature_is_exported(workspace, tmp_path):
    out = tmp_path / "every.csv"
    assert main(["export", "--workspace", str(workspace.path), "--format", "csv", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + len(workspace.features())


def test_include_analysis_adds_result_tables_to_the_geopackage_and_report(workspace, tmp_path):
    gpkg = tmp_path / "west.gpkg"
    assert main(["export", "--workspace", str(workspace.path), "--region", "west-ireland", "--format", "gpkg",
                 "--out", str(gpkg), "--include", "analysis", "--sites", "2"]) == 0
    with sqlite3.connect(gpkg) as con:
        kinds = dict(con.execute("SELECT table_name, kind FROM atlas_export").fetchall())
        sites = con.execute("SELECT COUNT(*) FROM suggested_sites").fetchone()[0]
    assert {k for k, v in kinds.items() if v == "analysis"} >= {
        "region_boundary", "coverage_discs", "gap_areas", "uncovered_settlements", "suggested_sites",
        "catchments", "h3_grid",
    }
    assert {k for k, v in kinds.items() if v == "table"} >= {"coverage_summary", "comparison", "facility_catchments"}
    assert 1 <= sites <= 2
    xlsx = tmp_path / "west.xlsx"
    assert main(["export", "--workspace", str(workspace.path), "--region", "west-ireland", "--format", "xlsx",
                 "--out", str(xlsx), "--include", "analysis"]) == 0
    book = load_workbook(xlsx)
    assert {"Coverage", "Uncovered towns", "Suggested sites", "Comparison"} <= set(book.sheetnames)
    coverage = list(book["Coverage"].iter_rows(values_only=True))
    assert coverage[0][:3] == ("layer", "radius_km", "facilities")
    assert [row[0] for row in coverage[1:]] == ["hubs", "training", "networks", "full support (all layers at once)"]


@pytest.mark.parametrize("args, message", [
    (["--format", "geojson", "--out", "x.csv"], "does not end in .geojson"),
    (["--format", "csv", "--out", "x.csv", "--layers", "hubs,foo"], "unknown layer(s) foo"),
    (["--format", "csv", "--out", "x.csv", "--include", "analysis"], "--include analysis needs --region"),
    (["--format", "csv", "--out", "x.csv", "--include", "maps"], "only analysis, boundary can be included"),
    (["--format", "csv", "--out", "x.csv", "--include", "boundary"], "--include boundary needs --region"),
    (["--format", "csv", "--out", "x.csv", "--region", "atlantis"], "unknown region 'atlantis'"),
])
def test_user_errors_exit_2_with_one_line(workspace, tmp_path, capsys, args, message):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    assert main(["export", "--workspace", str(workspace.path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_missing_workspace_says_how_to_create_it(tmp_path, capsys):
    assert main(["export", "--workspace", str(tmp_path / "none"), "--format", "csv", "--out", str(tmp_path / "x.csv")]) == 2
    assert "holds no features yet. Import files first: python -m atlas import" in capsys.readouterr().err
