"""Rejected rows fixed and accepted, and points moved by an edit: on both workspace backends.

An ambiguous town ("Newport": one in Co. Mayo, one in Co. Tipperary) is rejected on
import; the user picks one and accepts the row. The accept is one recorded change that
can be undone, a second accept of the same row is refused, and a re-import of the file
keeps the fix.
"""
from __future__ import annotations

import pytest
from shapely.geometry import Point

from atlas import data_ops as ops
from errors import ConflictError, UsageError
from workspace import Workspace

# "Newport" is two towns in Ireland (GeoNames 2962256 in Mayo, 2962257 in Tipperary): rejected as ambiguous.
ROWS = (b"Name,Type,Town,Country,Latitude,Longitude\n"
        b"Westport Hub,co-working,Westport,IE,53.8,-9.52\n"
        b"Newport Arts Hub,studio,Newport,Ireland,,\n")
MAYO = Point(-9.54526, 53.88508)  # Newport, Co. Mayo (GeoNames)


def _rejected_id(ws: Workspace) -> int:
    [rid] = ws.rejected()["rejected_id"].astype(int).tolist()
    return rid


@pytest.fixture
def ws(location) -> Workspace:
    workspace = Workspace(location, user="anna")
    workspace.import_bytes(ROWS, "audit.csv")
    assert workspace.rejected()["where"].tolist() == ["row 3"]
    return workspace


def test_accepting_a_rejected_row_makes_a_feature_in_one_recorded_change_and_undo_puts_it_back(ws):
    rid = _rejected_id(ws)
    change, fid = ws.accept_rejected(rid, {"name": "Newport Arts Hub", "layer": "hubs", "kind": "studio",
                                           "town": "Newport", "country": "IE"}, MAYO, location_source="gazetteer")
    row = ws.features().set_index("feature_id").loc[fid]
    assert (row["name"], row["layer"], row["status"], row["town"], row["country"]) == (
        "Newport Arts Hub", "hubs", "existing", "Newport", "IE")
    assert (row["geometry"].x, row["geometry"].y) == (-9.54526, 53.88508)
    assert (row["source_file"], row["source_ref"], row["location_source"]) == ("audit.csv", "row 3", "gazetteer")
    assert '"Town": "Newport"' in row["attributes"]  # the row as typed is kept
    assert ws.rejected().empty
    entry = ws.history().iloc[0]
    assert (entry["change_id"], entry["user"], entry["action"]) == (change, "anna", "accept")
    assert entry["summary"] == "accepted rejected row audit.csv row 3 as Newport Arts Hub (hubs) at 53.88508, -9.54526"
    rows = ws.change_rows(change).set_index("field")
    assert rows.loc["geometry", "new"] == "POINT (-9.54526 53.88508)" and rows.loc["geometry", "old"] is None
    assert change in set(ws.history(feature_id=fid)["change_id"])

    undo = ws.revert(change)
    assert fid not in set(ws.features()["feature_id"])
    back = ws.rejected()
    assert back["where"].tolist() == ["row 3"] and "ambiguous" in back["reason"].iloc[0]
    assert ws.history().set_index("change_id").loc[change, "reverted_by"] == undo
    assert len(ws.features()) == 1
    # Undoing the undo is refused with what to do instead.
    with pytest.raises(UsageError, match="accept the row again"):
        ws.revert(undo)


def test_a_second_accept_of_the_same_row_is_refused_and_makes_no_duplicate(ws, location):
    rid = _rejected_id(ws)
    other = Workspace(location, user="ben")  # another session that listed the row before anna accepted it
    assert _rejected_id(other) == rid
    ws.accept_rejected(rid, {"name": "Newport Arts Hub", "layer": "hubs"}, MAYO)
    with pytest.raises(ConflictError, match=r"audit.csv, row 3 was already accepted by anna .*Nothing was changed"):
        other.accept_rejected(rid, {"name": "Newport (Tipperary)", "layer": "hubs"}, Point(-8.40972, 52.71111))
    names = other.features()["name"].tolist()
    assert names.count("Newport Arts Hub") == 1 and "Newport (Tipperary)" not in names
    assert [a for a in other.history()["action"]].count("accept") == 1


@pytest.mark.parametrize("geometry, message", [
    (None, "no location yet"),
    (Point(-9.5, 95.0), "outside latitude"),
])
def test_an_accept_without_a_usable_location_changes_nothing(ws, geometry, message):
    before = len(ws.history())
    with pytest.raises(UsageError, match=message):
        ws.accept_rejected(_rejected_id(ws), {"name": "Newport Arts Hub"}, geometry)
    assert len(ws.history()) == before and len(ws.rejected()) == 1 and len(ws.features()) == 1


def test_page_logic_accepts_typed_coordinates_and_refuses_bad_ones(ws):
    rid = _rejected_id(ws)
    values = ops.rejected_prefill(ws, rid)
    assert {k: values[k] for k in ("name", "kind", "town", "country", "layer", "status", "lat", "lon")} == {
        "name": "Newport Arts Hub", "kind": "studio", "town": "Newport", "country": "IE",
        "layer": "unclassified", "status": "existing", "lat": "", "lon": ""}
    with pytest.raises(UsageError, match="^no location: pick a place for the town, or type both"):
        ops.accept_rejected(ws, rid, values)
    with pytest.raises(UsageError, match="outside −90…90"):
        ops.accept_rejected(ws, rid, {**values, "lat": "95,3", "lon": "-9.5"})
    assert len(ws.rejected()) == 1
    message = ops.accept_rejected(ws, rid, {**values, "layer": "hubs", "lat": "53,885", "lon": "-9.545"})
    assert message.startswith("Accepted Newport Arts Hub as a feature of hubs at 53.88500, -9.54500")
    row = ws.features().set_index("name").loc["Newport Arts Hub"]
    assert (row["geometry"].y, row["geometry"].x, row["location_source"]) == (53.885, -9.545, "coordinates")


def test_a_reimport_of_the_file_keeps_the_accepted_fix(ws):
    rid = _rejected_id(ws)
    accept, fid = ws.accept_rejected(rid, {"name": "Newport Arts Hub", "layer": "hubs"}, MAYO)
    result = ws.import_bytes(ROWS, "audit.csv")  # the file still says only "Newport"
    assert len(result.rejected) == 1 and any("accepted earlier with a fix" in n for n in result.notes)
    assert ws.rejected().empty
    features = ws.features().set_index("feature_id")
    assert len(features) == 2 and features.loc[fid, "geometry"].equals(MAYO)
    reimport = int(ws.history().iloc[0]["change_id"])
    # Again: the fix survives every later import of the file, not only the first.
    ws.import_bytes(ROWS, "audit.csv")
    assert ws.rejected().empty and fid in set(ws.features()["feature_id"])
    # The accept cannot be undone under the imports that kept it; undoing those first, it can.
    with pytest.raises(ConflictError, match="revert import"):
        ws.revert(accept)
    ws.revert(int(ws.history().iloc[0]["change_id"]))
    ws.revert(reimport)
    ws.revert(accept)
    assert fid not in set(ws.features()["feature_id"]) and ws.rejected()["where"].tolist() == ["row 3"]


def test_a_reimport_that_now_places_the_row_replaces_the_accepted_feature(ws):
    ws.accept_rejected(_rejected_id(ws), {"name": "Newport Arts Hub", "layer": "hubs"}, MAYO)
    fixed = ROWS.replace(b"Newport,Ireland,,", b"Newport,Ireland,53.9,-9.55")  # the file now has coordinates
    ws.import_bytes(fixed, "audit.csv")
    features = ws.features()
    assert features["name"].tolist().count("Newport Arts Hub") == 1 and ws.rejected().empty
    row = features.set_index("name").loc["Newport Arts Hub"]
    assert (row["geometry"].y, row["location_source"]) == (53.9, "coordinates")


def test_an_edit_moves_a_point_in_one_recorded_change_that_can_be_undone_and_survives_a_reimport(ws):
    fid = ws.features().set_index("name").loc["Westport Hub", "feature_id"]
    change = ws.edit_features({fid: {"town": "Newport", "geometry": MAYO, "location_source": "gazetteer"}},
                              versions={fid: 1})
    row = ws.features().set_index("feature_id").loc[fid]
    assert (row["town"], row["geometry"].x, row["geometry"].y, row["location_source"]) == (
        "Newport", -9.54526, 53.88508, "gazetteer")
    summary = ws.history().iloc[0]["summary"]
    assert summary == ("edited geometry, location_source, town of Westport Hub "
                       "(moved from 53.80000, -9.52000 to 53.88508, -9.54526)")
    rows = ws.change_rows(change).set_index("field")
    assert (rows.loc["geometry", "old"], rows.loc["geometry", "new"]) == ("POINT (-9.52 53.8)",
                                                                          "POINT (-9.54526 53.88508)")
    assert ws.base_features().set_index("feature_id").loc[fid, "geometry"].equals(Point(-9.52, 53.8))
    ws.import_bytes(ROWS, "audit.csv")  # the user's move is applied again to the re-imported row
    assert ws.features().set_index("feature_id").loc[fid, "geometry"].equals(MAYO)
    ws.revert(int(ws.history().iloc[0]["change_id"]))  # undo the re-import
    ws.revert(change)
    row = ws.features().set_index("feature_id").loc[fid]
    assert (row["town"], row["geometry"].x, row["geometry"].y, row["location_source"]) == (
        "Westport", -9.52, 53.8, "coordinates")


def test_a_point_outside_the_globe_is_refused(ws):
    fid = ws.features()["feature_id"].iloc[0]
    with pytest.raises(UsageError, match="outside latitude"):
        ws.edit_features({fid: {"geometry": Point(200, 10)}})
