"""Export page: the command line's choices, files made in memory, download buttons, empty states."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from apptest_helpers import demo_copy, empty_workspace, run_page, texts

from atlas.export import cli_command, export_to_memory
from workspace import Workspace

PAGE = "pages/export.py"


def downloads(at) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_geojson_of_the_region_is_ready_to_download(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(PAGE, workspace)
    assert at.radio(key="export.format").value == "geojson"
    [label] = downloads(at)
    assert label.startswith("Download west-ireland-export.geojson (")
    files, result = export_to_memory(workspace, "geojson", "west-ireland-export", region="west-ireland")
    doc = json.loads(files[0][1])
    names = {f["properties"]["name"] for f in doc["features"]}
    assert "PorterShed Galway" in names and "Art Inkubator w Fabryce Sztuki" not in names
    assert at.success[0].value == result.message
    assert f"Exported {len(doc['features'])} feature(s)" in at.success[0].value
    assert "python -m atlas export --workspace" in texts(at) and "--region west-ireland" in texts(at)


def layers_picker(at):
    [picker] = [m for m in at.multiselect if m.label == "Layers"]
    return picker


def test_choices_change_the_files(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(PAGE, workspace)
    at.radio(key="export.scope").set_value("all")
    at.radio(key="export.format").set_value("kmz")
    layers_picker(at).set_value(["hubs"])
    at.selectbox(key="export.status").set_value("planned")
    at.run()
    assert not at.exception
    [label] = downloads(at)
    assert label.startswith("Download workspace-export.kmz")
    features = Workspace(workspace).features()
    planned_hubs = features[(features["layer"] == "hubs") & (features["status"] == "planned")]
    assert f"Wrote {len(planned_hubs)} placemark(s) in 1 layer(s)" in at.success[0].value
    files, _ = export_to_memory(workspace, "kmz", "x", layers=["hubs"], status="planned")
    assert zipfile.ZipFile(__import__("io").BytesIO(files[0][1])).namelist() == ["doc.kml"]
    assert at.toggle(key="export.analysis").disabled  # analysis needs a region


def test_analysis_export_waits_for_a_click_then_offers_the_geopackage(tmp_path):
    at = run_page(PAGE, demo_copy(tmp_path))
    at.radio(key="export.format").set_value("gpkg")
    at.toggle(key="export.analysis").set_value(True)
    at.run()
    assert not downloads(at)
    next(b for b in at.button if b.label == "Prepare the export with analysis").click().run()
    assert not at.exception
    [label] = downloads(at)
    assert label.startswith("Download west-ireland-export.gpkg")
    assert "analysis result(s)" in at.success[0].value
    assert any("dispersed rural" in c.value for c in at.caption)


def test_an_export_error_is_shown_with_its_fix_not_a_traceback(tmp_path, monkeypatch):
    import atlas.export
    from errors import ExportError

    def refuse(*args, **kwargs):
        raise ExportError("one placemark of 'Hubs' is larger than 5,242,880 bytes of KML; "
                                    "simplify its geometry (e.g. in QGIS) and export again.")

    monkeypatch.setattr(atlas.export, "export_to_memory", refuse)
    at = run_page(PAGE, demo_copy(tmp_path))
    assert not at.exception
    assert "simplify its geometry" in at.error[0].value
    assert not downloads(at)


def test_no_layer_chosen_warns_instead_of_exporting(tmp_path):
    at = run_page(PAGE, demo_copy(tmp_path))
    layers_picker(at).set_value([]).run()
    assert [w.value for w in at.warning] == ["Pick at least one layer to export."]
    assert not downloads(at)


def test_cli_command_matches_the_choices():
    assert cli_command("/ws", "csv", "x.csv", region="lodz", layers=["hubs"], status="planned") == (
        "python -m atlas export --workspace /ws --region lodz --format csv --out x.csv --layers hubs --status planned")
    with pytest.raises(ValueError, match="unknown format 'shp'"):
        cli_command("/ws", "shp", "x.shp")


def test_empty_workspace_shows_the_empty_state(tmp_path):
    at = run_page(PAGE, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not downloads(at) and not at.radio


def test_missing_workspace_points_to_the_data_page(tmp_path):
    at = run_page(PAGE, tmp_path / "nowhere")
    assert "No workspace at" in texts(at)
    assert not downloads(at)


def test_layer_choice_starts_again_in_another_workspace_and_what_is_left_out_is_said(tmp_path):
    import ui

    first = demo_copy(tmp_path / "a")
    at = run_page(PAGE, first)
    at.radio(key="export.scope").set_value("all").run()
    layers_picker(at).set_value(["hubs"]).run()
    assert "Left out of this export" in " ".join(i.value for i in at.info)
    second = tmp_path / "b" / "ws"
    Workspace(second).import_files([Path(__file__).parent / "data" / "kml" / "earth_nested.kml"])
    at.text_input(key=ui.WORKSPACE).set_value(str(second)).run()
    assert not at.exception
    present = sorted(set(Workspace(second).features()["layer"]))
    assert sorted(layers_picker(at).value) == present  # every layer of this workspace, not the old choice
