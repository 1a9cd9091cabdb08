"""Data page: uploads, the import report, layer assignment, field fixes, history, empty states."""
from __future__ import annotations

import pytest
from apptest_helpers import demo_copy, empty_workspace, run_page, texts
from pyproj import Geod
from shapely.geometry import Point

import ui
from atlas import data_ops as ops
from errors import WorkspaceError
from tests.test_export_fixtures import mymaps_kmz
from workspace import Workspace

PAGE = "pages/data.py"


def uploader(at):
    """The facility uploader (its key carries a round number: it is a new, empty widget after each import)."""
    [found] = [u for u in at.get("file_uploader") if u.key and u.key.startswith(ui.UPLOADS + ".")]
    return found


@pytest.fixture
def kmz_workspace(tmp_path):
    """A workspace holding the My Maps-style fixture (one unclassified feature)."""
    folder = tmp_path / "ws"
    Workspace(folder).import_files([mymaps_kmz(tmp_path)])
    return folder


def frames(at) -> list:
    return [d.value for d in at.dataframe]


# -- the import path, tested directly ------------------------------------------------------------------
def test_import_uploads_reports_every_file_with_rejected_rows_and_errors(tmp_path):
    workspace = Workspace(tmp_path / "new")
    good = mymaps_kmz(tmp_path).read_bytes()
    rows = b"Name,Type,Latitude,Longitude\nHub A,co-working,53.9,-8.5\nHub B,studio,95.3,-8.5\n"
    calls = []
    reports = ops.import_uploads(workspace, [("map.kmz", good), ("hubs.csv", rows), ("notes.docx", b"x")],
                                 progress=lambda done, total, name: calls.append((done, total, name)))
    assert [r["file"] for r in reports] == ["map.kmz", "hubs.csv", "notes.docx"]
    assert calls == [(0, 3, "map.kmz"), (1, 3, "hubs.csv"), (2, 3, "notes.docx"), (3, 3, "")]
    kmz, csv, docx = reports
    assert (kmz["rows_read"], kmz["accepted"], kmz["rejected"]) == (9, 9, [])
    assert kmz["by_layer"] == {"hubs": 4, "training": 2, "networks": 2, "unclassified": 1}
    assert kmz["preview"][0]["name"] == "Ballaghaderreen Creative Hub"
    assert csv["accepted"] + len(csv["rejected"]) == csv["rows_read"] == 2
    assert "95,3" in csv["rejected"][0]["reason"] or "95.3" in csv["rejected"][0]["reason"]
    assert docx["error"].startswith("notes.docx: '.docx' files are not imported")
    assert len(workspace.features()) == 10 and len(workspace.imports()) == 2
    table = ops.report_table(reports)
    assert table["rejected"].tolist() == [0, 1, 0]
    rejected = ops.rejected_table(reports)
    assert rejected.iloc[0]["file"] == "hubs.csv" and rejected.iloc[0]["where"]
    assert ops.rejected_csv(rejected).startswith(b"\xef\xbb\xbffile,where,reason\r\n")
    again = ops.import_uploads(workspace, [("map.kmz", good)])
    assert again[0]["reimport"] and "re-imported" in ops.report_table(again).iloc[0]["remark"]


def test_field_changes_keep_only_real_changes():
    current = {"name": "Hub", "town": None, "kind": "studio", "status": "existing"}
    assert ops.field_changes(current, {"name": " Hub ", "town": "", "kind": "co-working"}) == {"kind": "co-working"}
    with pytest.raises(ValueError, match="status must be one of existing, planned"):
        ops.field_changes(current, {"status": "maybe"})
    with pytest.raises(ValueError, match="cannot be edited"):
        ops.field_changes(current, {"feature_id": "x"})


# -- the page --------------------------------------------------------------------------------------------
def test_demo_workspace_shows_history_and_stored_rejected_rows(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(PAGE, workspace)
    history = frames(at)[-1]
    assert len(history) == len(Workspace(workspace).imports())
    assert set(history["file"]) >= {"west_ireland_mymaps.kmz", "west_ireland_audit.xlsx"}
    stored = frames(at)[-2]
    assert len(stored) == len(Workspace(workspace).rejected()) >= 1
    assert "Newport" in " ".join(stored["reason"])
    assert any(b.label == "Download all rejected rows (CSV)" for b in at.get("download_button"))
    assert at.button[0].label == "Import 0 file(s)" and at.button[0].disabled


def test_uploading_a_file_imports_it_and_shows_the_report(kmz_workspace):
    at = run_page(PAGE, kmz_workspace)
    rows = b"Name,Type,Latitude,Longitude\nHub A,co-working,53.9,-8.5\nHub B,studio,95.3,-8.5\n"
    uploader(at).set_value([("hubs.csv", rows, "text/csv")])
    at.run()
    next(b for b in at.button if b.label == "Import 1 file(s)").click().run()
    assert not at.exception
    report = frames(at)[0]
    assert report.iloc[0][["file", "read", "accepted", "rejected"]].tolist() == ["hubs.csv", 2, 1, 1]
    rejected = frames(at)[1]
    assert rejected.iloc[0]["file"] == "hubs.csv" and "latitude" in rejected.iloc[0]["reason"].lower()
    assert any(b.label == "Download rejected rows (CSV)" for b in at.get("download_button"))
    # The uploader is empty again: a second click cannot import the same file twice.
    assert not uploader(at).value
    assert next(b for b in at.button if b.label.startswith("Import ") and b.label.endswith("file(s)")).disabled
    assert "Hub A" in set(Workspace(kmz_workspace).features()["name"])
    assert Workspace(kmz_workspace).imports()["file"].tolist()[-1] == "hubs.csv"


def test_a_seeded_report_is_shown_with_errors_naming_file_and_fix(tmp_path, kmz_workspace):
    report = ops.FileReport("broken.kmz", error="broken.kmz: the KMZ holds no .kml file. Export the map again.")
    good = ops.FileReport("audit.csv", rows_read=3, accepted=2, by_layer={"hubs": 2},
                          rejected=[{"where": "row 4", "reason": "latitude '95,3' is outside −90…90."}],
                          preview=[{"name": "Hub A", "layer": "hubs"}])
    at = run_page(PAGE, kmz_workspace, **{ui.REPORT: [report.to_dict(), good.to_dict()]})
    assert [e.value for e in at.error] == ["broken.kmz: the KMZ holds no .kml file. Export the map again."]
    table = frames(at)[0]
    assert table["file"].tolist() == ["broken.kmz", "audit.csv"]
    assert table["accepted"].tolist() == [0, 2]
    assert frames(at)[1].to_dict("records") == [
        {"file": "audit.csv", "where": "row 4", "reason": "latitude '95,3' is outside −90…90."}]
    assert "1 row(s) could not be used" in texts(at)
    assert not at.exception


def test_assigning_a_layer_edits_the_workspace(kmz_workspace):
    at = run_page(PAGE, kmz_workspace)
    unsorted = Workspace(kmz_workspace).features().set_index("name").loc["Unsorted place", "feature_id"]
    assert "Unclassified features (1)" in [s.value for s in at.subheader]
    at.multiselect(key=ui.ASSIGN_IDS).set_value([unsorted]).run()
    at.selectbox(key=ui.ASSIGN_LAYER).set_value("networks")
    next(b for b in at.button if b.label == "Assign layer").click()
    at.run()
    assert not at.exception
    assert Workspace(kmz_workspace).features().set_index("feature_id").loc[unsorted, "layer"] == "networks"
    assert "1 feature(s) moved to networks." in [s.value for s in at.success]
    assert not any(s.value.startswith("Unclassified") for s in at.subheader)


def save_form(at):
    """Click the edit form's "Save changes" (its submit button, not the one under the town's places)."""
    next(b for b in at.button if b.label == "Save changes" and b.key != "data.edit_place_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_fixing_a_field_is_saved_as_an_edit(kmz_workspace):
    at = run_page(PAGE, kmz_workspace)
    fid = Workspace(kmz_workspace).features().set_index("name").loc["Borås Textile Hub", "feature_id"]
    at.selectbox(key=ui.EDIT_ID).set_value(fid).run()
    at.text_input(key=ui.field_key(fid, "kind")).input("textile studio")
    at.selectbox(key=ui.field_key(fid, "status")).set_value("planned")
    save_form(at)
    row = Workspace(kmz_workspace).features().set_index("feature_id").loc[fid]
    assert (row["kind"], row["status"]) == ("textile studio", "planned")
    edits = Workspace(kmz_workspace).edits()
    assert set(edits["field"]) == {"kind", "status"}
    assert "Saved status, kind of Borås Textile Hub." in [s.value for s in at.success]


# -- a new town offers to move the point ---------------------------------------------------------------
def open_town_change(at, fid: str, town: str, country: str | None = None) -> list[str]:
    """Open feature `fid`, type a new town (and country), save the form; return the offered places' labels."""
    at.selectbox(key=ui.EDIT_ID).set_value(fid).run()
    at.text_input(key=ui.field_key(fid, "town")).input(town)
    if country is not None:
        at.text_input(key=ui.field_key(fid, "country")).input(country)
    save_form(at)
    return [str(o) for o in at.radio(key=ui.EDIT_PLACE).options]


def test_a_new_town_offers_its_places_and_the_picked_one_moves_the_point(kmz_workspace):
    ws = Workspace(kmz_workspace)
    fid = ws.features().set_index("name").loc["Ballaghaderreen Creative Hub", "feature_id"]
    at = run_page(PAGE, kmz_workspace)
    labels = open_town_change(at, fid, "Newport", "IE")
    # Both Irish Newports, most populous first, each with area, population, coordinates and distance.
    assert [label.rsplit(" · ", 1)[0] for label in labels[:2]] == [
        "Newport · IE, area M · pop. 1,806 · 52.7111, -8.4097",
        "Newport · IE, area C · pop. 626 · 53.8851, -9.5453"]
    assert labels[2] == "Keep the point where it is"
    geod = Geod(ellps="WGS84")  # the distance from the current point (-8.577, 53.903), checked on the ellipsoid
    for label, (lon, lat) in zip(labels, [(-8.40972, 52.71111), (-9.54526, 53.88508)]):
        km = float(label.rsplit(" · ", 1)[1].removesuffix(" km from the current point"))
        assert km == pytest.approx(geod.inv(-8.577, 53.903, lon, lat)[2] / 1000, rel=0.005), label
    assert ws.features().set_index("feature_id").loc[fid, "town"] is None  # nothing saved yet
    at.radio(key=ui.EDIT_PLACE).set_value(2962256).run()  # Newport, Co. Mayo
    at.button(key="data.edit_place_save").click().run()
    assert not at.exception
    row = Workspace(kmz_workspace).features().set_index("feature_id").loc[fid]
    assert (row["town"], row["country"], row["location_source"]) == ("Newport", "IE", "gazetteer")
    assert (row["geometry"].x, row["geometry"].y) == (-9.54526, 53.88508)
    assert "The point moved to Newport (53.88508, -9.54526)." in at.success[0].value
    entry = Workspace(kmz_workspace).history().iloc[0]
    assert entry["action"] == "edit" and entry["summary"].endswith(
        "of Ballaghaderreen Creative Hub (moved from 53.90300, -8.57700 to 53.88508, -9.54526)")
    changes = Workspace(kmz_workspace).change_rows(int(entry["change_id"])).set_index("field")
    assert (changes.loc["geometry", "old"], changes.loc["geometry", "new"]) == (
        "POINT (-8.577 53.903)", "POINT (-9.54526 53.88508)")
    # The move is part of the edit, and undone with it.
    Workspace(kmz_workspace).revert(int(entry["change_id"]))
    assert Workspace(kmz_workspace).features().set_index("feature_id").loc[fid, "geometry"].equals(
        Point(-8.577, 53.903))


def test_a_new_town_can_keep_the_point_where_it_is(kmz_workspace):
    fid = Workspace(kmz_workspace).features().set_index("name").loc["Borås Textile Hub", "feature_id"]
    at = run_page(PAGE, kmz_workspace)
    labels = open_town_change(at, fid, "Borås")
    assert labels[-1] == "Keep the point where it is" and labels[0].startswith("Borås · SE")
    at.selectbox(key=ui.field_key(fid, "status")).set_value("planned")  # after the form was sent: not saved
    at.radio(key=ui.EDIT_PLACE).set_value(0).run()
    at.button(key="data.edit_place_save").click().run()
    assert not at.exception
    row = Workspace(kmz_workspace).features().set_index("feature_id").loc[fid]
    assert row["town"] == "Borås" and row["geometry"].equals(Point(12.94, 57.721))
    assert "geometry" not in set(Workspace(kmz_workspace).edits()["field"])
    assert [s.value for s in at.success] == ["Saved town of Borås Textile Hub. The point stays where it is."]


def test_an_unknown_town_says_so_and_the_point_stays(kmz_workspace):
    fid = Workspace(kmz_workspace).features().set_index("name").loc["Borås Textile Hub", "feature_id"]
    at = run_page(PAGE, kmz_workspace)
    at.selectbox(key=ui.EDIT_ID).set_value(fid).run()
    at.text_input(key=ui.field_key(fid, "town")).input("Xqzville")
    at.text_input(key=ui.field_key(fid, "country")).input("SE")
    save_form(at)  # nothing to choose from: saved at once
    assert not at.get("radio")
    assert [w.value for w in at.warning] == [
        "No place named 'Xqzville' in SE among the GeoNames settlements of 500+ people: the point stays where it is."]
    assert [s.value for s in at.success] == ["Saved town, country of Borås Textile Hub."]
    row = Workspace(kmz_workspace).features().set_index("feature_id").loc[fid]
    assert row["town"] == "Xqzville" and (row["geometry"].x, row["geometry"].y) == (12.94, 57.721)
    assert "geometry" not in set(Workspace(kmz_workspace).edits()["field"])


def test_a_rejected_newport_row_is_fixed_by_picking_its_town_and_accepted(tmp_path):
    workspace = demo_copy(tmp_path)
    [rid] = Workspace(workspace).rejected()["rejected_id"].astype(int).tolist()
    at = run_page(PAGE, workspace)
    at.selectbox(key=ui.REJECTED_ID).set_value(rid).run()
    assert not at.exception
    key = ui.field_key(f"rejected-{rid}", "name")
    assert at.text_input(key=key).value == "Newport Arts Hub"  # prefilled from the row
    assert at.selectbox(key=ui.field_key(f"rejected-{rid}", "layer")).value == "hubs"  # from its sheet
    picker = at.radio(key=f"{ui.REJECTED_PLACE}.{rid}")
    assert [str(o).split(" · ")[:2] for o in picker.options[:2]] == [["Newport", "IE, area M"],
                                                                    ["Newport", "IE, area C"]]
    at.button(key="data.accept_rejected").click().run()  # nothing picked, no coordinates typed
    assert any(e.value.startswith("no location: pick a place for the town") for e in at.error)
    assert len(Workspace(workspace).rejected()) == 1
    at.radio(key=f"{ui.REJECTED_PLACE}.{rid}").set_value(2962256).run()
    at.button(key="data.accept_rejected").click().run()
    assert not at.exception
    after = Workspace(workspace)
    assert after.rejected().empty
    row = after.features().set_index("name").loc["Newport Arts Hub"]
    assert (row["layer"], row["town"], row["geometry"].x, row["geometry"].y) == ("hubs", "Newport", -9.54526, 53.88508)
    assert after.history().iloc[0]["summary"].startswith(
        "accepted rejected row west_ireland_audit.xlsx sheet 'Hubs & Infrastructure', row 10 as Newport Arts Hub")
    assert any(s.value.startswith("Accepted Newport Arts Hub as a feature of hubs at Newport (IE)")
               for s in at.success), [s.value for s in at.success]
    assert "Fix a rejected row" not in [s.value for s in at.subheader]  # none left


def test_empty_workspace_invites_an_import(tmp_path):
    at = run_page(PAGE, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert uploader(at)
    assert frames(at)[-1].empty  # import history
    assert not at.exception


def test_missing_workspace_says_an_import_creates_it(tmp_path):
    at = run_page(PAGE, tmp_path / "nowhere")
    assert "importing files creates it here" in texts(at)
    assert uploader(at)
    assert not at.dataframe


def test_a_broken_regions_file_is_named_and_imports_still_work(kmz_workspace):
    (kmz_workspace / "regions.json").write_text('{"regions": [{"id": "x"}]}', encoding="utf-8")
    at = run_page(PAGE, kmz_workspace)
    assert not at.exception
    assert any("regions.json" in e.value for e in at.error)
    assert uploader(at)
    assert len(frames(at)[-1]) == 1  # the import history is still shown


def test_a_save_on_a_stale_version_is_refused_and_names_who_changed_it(kmz_workspace):
    at = run_page(PAGE, kmz_workspace)
    fid = Workspace(kmz_workspace).features().set_index("name").loc["Borås Textile Hub", "feature_id"]
    at.selectbox(key=ui.EDIT_ID).set_value(fid).run()  # opened at version 1
    Workspace(kmz_workspace, user="anna").edit_features({fid: {"town": "Ulricehamn"}})  # meanwhile, elsewhere
    at.text_input(key=ui.field_key(fid, "town")).input("Borås")
    save_form(at)
    at.button(key="data.edit_place_save").click().run()  # the new town: keep the point
    assert not at.exception
    assert any("anna changed town" in e.value and "town → 'Borås'" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert Workspace(kmz_workspace).features().set_index("feature_id").loc[fid, "town"] == "Ulricehamn"


def test_the_changes_are_listed_and_an_edit_can_be_undone_from_the_page(kmz_workspace):
    ws = Workspace(kmz_workspace, user="anna")
    fid = ws.features().set_index("name").loc["Borås Textile Hub", "feature_id"]
    change = ws.edit_features({fid: {"town": "Ulricehamn"}})
    at = run_page(PAGE, kmz_workspace)
    listed = next(f for f in frames(at) if "what" in f.columns)
    assert listed["change"].tolist()[0] == change and listed["who"].tolist()[0] == "anna"
    at.selectbox(key=ui.REVERT_ID).set_value(change)
    next(b for b in at.button if b.label == "Undo").click()
    at.run()
    assert not at.exception
    assert any(s.value.startswith("Undid edit: edited town of Borås Textile Hub") for s in at.success), \
        [s.value for s in at.success]
    assert Workspace(kmz_workspace).features().set_index("feature_id").loc[fid, "town"] != "Ulricehamn"


def test_a_new_workspace_is_not_created_in_a_system_or_busy_folder(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    for folder, message in ((busy, "already holds other files"), ("/etc", "system or home folder"),
                            (tmp_path / "notes.txt", "is a file")):
        if str(folder).endswith("notes.txt"):
            (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(WorkspaceError, match=message):
            ops.import_uploads(Workspace(folder), [("a.csv", b"Name,Latitude,Longitude\nA,53,-8\n")])
    assert not (busy / "atlas.gpkg").exists()


# -- the country selector decides where a town without coordinates is ---------------------------------
# Mutation caught: the page ignoring its "Country for town names without coordinates" choice
# (pages/data.py passing no country, or always the first). "Grunwald" is a village in Poland
# and, folded, Grünwald near Munich: only the country tells them apart.
@pytest.mark.parametrize("choice, expected", [
    ("DE", ("Grünwald", "DE", 48.04, 11.52)),
    ("PL", ("Grunwald", "PL", 53.48, 20.09)),
    ("(any)", None),
])
def test_the_country_chosen_on_the_page_decides_which_town_is_used(kmz_workspace, choice, expected):
    at = run_page(PAGE, kmz_workspace, **{ui.REGION: "south-baltic"})  # Poland, Germany, Lithuania, Sweden
    selector = next(s for s in at.selectbox if s.label == "Country for town names without coordinates")
    assert selector.options == ["PL", "DE", "LT", "SE", "(any)"]
    selector.set_value(choice)
    uploader(at).set_value([("towns.csv", b"Name,Town\nField Studio,Grunwald\n", "text/csv")])
    at.run()
    next(b for b in at.button if b.label == "Import 1 file(s)").click().run()
    assert not at.exception
    report = frames(at)[0]
    assert report.iloc[0][["file", "read"]].tolist() == ["towns.csv", 1]
    features = Workspace(kmz_workspace).features().set_index("name")
    if expected is None:  # no country: the name is ambiguous, and the row says so
        assert "Field Studio" not in features.index
        assert "town 'Grunwald' is ambiguous" in frames(at)[1].iloc[0]["reason"]
        return
    town, country, lat, lon = expected
    row = features.loc["Field Studio"]
    assert row["location_source"] == "gazetteer"
    assert (round(row["geometry"].y, 2), round(row["geometry"].x, 2)) == (lat, lon), f"not {town} ({country})"


def test_assign_a_layer_to_exactly_one_folder(tmp_path):
    import ui as ui_module
    from workspace import Workspace as _Workspace

    kml = tmp_path / "camps.kml"
    kml.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                   "<Folder><name>Atrakcje</name>" + "".join(
                       f"<Placemark><name>a{i}</name><Point><coordinates>19.{i},52.1,0</coordinates></Point>"
                       "</Placemark>" for i in range(1, 5)) + "</Folder>"
                   "<Folder><name>Atrakcje (OpenStreetMap)</name>" + "".join(
                       f"<Placemark><name>o{i}</name><Point><coordinates>20.{i},52.1,0</coordinates></Point>"
                       "</Placemark>" for i in range(1, 7)) + "</Folder></Document></kml>", encoding="utf-8")
    workspace = tmp_path / "ws"
    _Workspace(workspace).import_files([kml])
    at = run_page("pages/data.py", workspace)
    picker = at.selectbox(key=ui_module.ASSIGN_FOLDER)
    assert sorted(picker.options) == ["Atrakcje (OpenStreetMap) — camps.kml (6)", "Atrakcje — camps.kml (4)"]
    picker.set_value("camps.kml\x1fAtrakcje").run()  # the option's value: file and folder
    at.selectbox(key=ui_module.ASSIGN_FOLDER_LAYER).set_value("networks").run()
    at.button(key="data.assign_folder").click().run()
    assert not at.exception
    features = _Workspace(workspace).features()
    assert sorted(features.loc[features["layer"] == "networks", "name"]) == ["a1", "a2", "a3", "a4"]
    assert "4 feature(s) of 'Atrakcje' moved to networks." in [s.value for s in at.success]
