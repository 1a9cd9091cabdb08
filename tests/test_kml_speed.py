"""The fast paths of a large KML import give what the plain ones give: column-wise features, batched parser events, the JSON encoder, the INSERT without empty columns."""
from __future__ import annotations

import io
import json
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from loaders import read_bytes
from loaders._kml_parse import _EndEvents
from loaders.features import MAX_TEXT_CHARS, _attributes_text, build_features, build_features_from_columns
from workspace import Workspace

_KEYS = ("name", "kind", "sectors", "helix", "address", "town", "country", "website", "contact", "description",
         "layer", "status", "location_source", "source_ref", "attributes", "own_id", "feature_id", "group", "geometry")


def _records() -> list[dict]:
    point = shapely.Point(15.0, 52.0)
    return [
        {"name": "Hub A ", "layer": "Hubs", "status": "planerad", "group": "Folder 1", "geometry": point,
         "attributes": {"Typ": "x", "b": 1}, "source_ref": "r1"},
        {"name": "Hub A", "layer": "hubs", "group": "Folder 1", "geometry": point, "source_ref": "r2"},  # duplicate
        {"name": "Kurs", "layer": "Utbildning", "kind": 7, "geometry": shapely.LineString([(0, 1), (1, 2)]),
         "own_id": "id-1", "source_ref": "r3", "attributes": {2: "number key"}},
        {"name": "x" * (MAX_TEXT_CHARS + 1), "geometry": point, "source_ref": "r4"},  # too long
        {"name": "No place", "town": "Łódź", "location_source": "gazetteer", "geometry": None, "source_ref": "r5"},
        {"name": "Given", "feature_id": "file.kmz#7", "geometry": shapely.Point(), "source_ref": "r6",
         "description": "  keeps its lead  "},
    ]


def test_columns_give_the_same_features_and_rejections_as_records():
    records = _records()
    expected, expected_rejected = build_features(records, "f.kmz")
    columns = {key: [rec.get(key) for rec in records] for key in _KEYS if key != "kind"}
    columns["kind"] = [rec.get("kind") for rec in records]
    frame, rejected = build_features_from_columns(columns, len(records), "f.kmz")
    assert_geodataframe_equal(frame, expected)
    assert [(r.where, r.reason, r.raw) for r in rejected] == [(r.where, r.reason, r.raw) for r in expected_rejected]
    assert len(rejected) == 2  # the repeat and the too-long name


def test_a_column_left_out_is_empty_in_every_row():
    records = [{"name": "A", "geometry": shapely.Point(1, 2)}, {"name": "B", "geometry": shapely.Point(3, 4)}]
    expected, _ = build_features(records, "f.csv")
    frame, _ = build_features_from_columns({"name": ["A", "B"], "geometry": [r["geometry"] for r in records]},
                                           2, "f.csv")
    assert_geodataframe_equal(frame, expected)
    assert frame["kind"].tolist() == [None, None]


def test_no_rows_give_the_empty_canonical_frame():
    frame, rejected = build_features_from_columns({}, 0, "f.kml")
    assert_geodataframe_equal(frame, build_features([], "f.kml")[0])
    assert rejected == []


@pytest.mark.parametrize("attributes", [
    {"b": "2", "a": "Łódź \"quoted\" \\ \n\t\x00"},
    {"n": 1, "f": 0.1, "nan": float("nan"), "inf": float("inf"), "none": None, "t": True},
    {"nested": {"z": [1, {"y": None}], "a": (1, 2)}, "set": {1}, "bytes": b"x"},
])
def test_attributes_are_the_json_the_standard_encoder_writes(attributes):
    assert _attributes_text(attributes) == json.dumps(attributes, ensure_ascii=False, sort_keys=True, default=str)


def test_circular_attributes_are_still_reported():
    looped: dict = {"a": 1}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular"):
        _attributes_text(looped)


def _placemarks(count: int) -> bytes:
    body = "".join(
        f"<Placemark><name>P{i}</name><description><![CDATA[<b>{i}</b>]]></description>"
        f'<ExtendedData><Data name="Typ"><value>Hub</value></Data></ExtendedData>'
        f"<Point><coordinates>{i % 90}.5,{i % 45}.25,0</coordinates></Point></Placemark>\n"
        for i in range(count)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Folder><name>Hubs</name>{body}</Folder></Document></kml>").encode()


def test_batched_events_are_iterparse_events_across_chunk_boundaries():
    data = _placemarks(3000)  # about 600 KB: ten chunks, placemarks cut at every boundary
    events = _EndEvents(io.BytesIO(data), plain=True)
    batched = [(event, element.tag, element.text) for batch in events for event, element in batch]
    iterator = ET.iterparse(io.BytesIO(data), events=("end",))
    plain = [(event, element.tag, element.text) for event, element in iterator]
    assert batched == plain
    assert events.root.tag == iterator.root.tag


def test_the_safe_parser_gives_the_same_events():
    data = _placemarks(300)
    fast, safe = _EndEvents(io.BytesIO(data), plain=True), _EndEvents(io.BytesIO(data), plain=False)
    tags = [[(event, element.tag) for batch in events for event, element in batch] for events in (fast, safe)]
    assert tags[0] == tags[1]
    assert fast.root.tag == safe.root.tag


def test_a_large_file_is_read_whole():
    result = read_bytes(_placemarks(3000), "big.kml")
    assert result.accepted == 3000 and result.rejected == []
    assert result.features["source_ref"].iloc[2999] == "folder 'Hubs' › placemark 3000"
    assert result.features["kind"].unique().tolist() == ["creative hub"]  # "Hub" in the shared vocabulary


def test_columns_empty_in_every_row_are_stored_as_null(tmp_path):
    data = _placemarks(50)
    ws = Workspace(tmp_path / "ws")
    result = ws.import_bytes(data, "hubs.kml")
    stored = ws.features()
    assert_geodataframe_equal(stored, result.features, check_like=True)
    conn = sqlite3.connect(ws.gpkg)
    nulls = conn.execute("SELECT count(*) FROM features WHERE town IS NULL AND original IS NULL "
                         "AND contact IS NULL").fetchone()[0]
    assert nulls == 50
    assert isinstance(stored, gpd.GeoDataFrame)
