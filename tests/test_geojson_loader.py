"""GeoJSON FeatureCollections into canonical features."""
import json

import pytest

from loaders import read_bytes, read_file
from loaders.errors import ImportFileError, UnsupportedFileError
from tests.conftest import DATA


def test_feature_collection_maps_properties_and_keeps_the_rest():
    result = read_file(DATA / "geojson" / "mixed.geojson")
    assert result.rows_read == 7
    assert result.accepted + len(result.rejected) == result.rows_read
    by_name = result.features.set_index("name")
    art = by_name.loc["Łódź Art Center"]
    assert (art.layer, art.status, art.kind) == ("hubs", "planned", "incubator")
    assert json.loads(art.attributes) == {"floor_m2": 420}
    assert art.feature_id == "mixed.geojson#h1"
    assert by_name.loc["Łódź online creatives"].location_source == "none"
    assert by_name.loc["Roscommon–Boyle trail"].geometry.geom_type == "LineString"
    assert by_name.loc["Mystery"].layer == "unclassified"


def test_rejections_name_the_feature_and_the_fix():
    result = read_file(DATA / "geojson" / "mixed.geojson")
    reasons = {r.where: r.reason for r in result.rejected}
    assert "outside −90…90 / −180…180" in reasons["feature 2"]
    assert "longitude first" in reasons["feature 2"]
    assert reasons["feature 6"].startswith("duplicate of feature 5")


def test_own_feature_id_is_kept_verbatim_for_round_trips():
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 50]},
           "properties": {"feature_id": "abc123", "name": "x", "attributes": "{\"k\": \"v\"}"}}]}
    result = read_bytes(json.dumps(doc).encode(), "export.geojson")
    row = result.features.iloc[0]
    assert row.feature_id == "abc123"
    assert json.loads(row.attributes) == {"k": "v"}


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (b"{not json", "not valid JSON"),
    (b'{"type": "Point", "coordinates": [1, 2]}', "FeatureCollection"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_unreadable_geojson_gives_a_clear_error(content, match):
    with pytest.raises(ImportFileError, match=match):
        read_bytes(content, "bad.geojson")


def test_unknown_extension_is_refused_with_the_supported_list():
    with pytest.raises(UnsupportedFileError, match=r"notes.docx: '.docx' files are not imported.*\.kmz"):
        read_bytes(b"x", "notes.docx")
