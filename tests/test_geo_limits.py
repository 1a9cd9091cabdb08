"""The geo loaders fail closed: hostile or odd members give rejected rows or one clean error.

Each case here ended in a traceback, a wrong acceptance or an altered value before (found
by the fuzzer, see `bench/fuzz.py`); accepted + rejected == rows read is checked throughout.
"""
from __future__ import annotations

import io
import json
import sqlite3
import struct
import zipfile

import pytest

from errors import AtlasError
from loaders import read_bytes
from loaders import geojson as geojson_loader
from loaders.errors import ImportFileError
from loaders.features import MAX_TEXT_CHARS, clean_text
from tests.conftest import DATA


def _collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(geometry=None, **properties) -> dict:
    if geometry is None:
        geometry = {"type": "Point", "coordinates": [15.58, 56.16]}
    return {"type": "Feature", "geometry": geometry, "properties": {"name": "Hub", **properties}}


def _read(data: bytes, name: str = "odd.geojson"):
    result = read_bytes(data, name)
    assert result.accepted + len(result.rejected) == result.rows_read
    result.summary()  # builds the per-layer counts: a list as a layer used to break it
    return result


def _reasons(result) -> dict[str, str]:
    return {r.where: r.reason for r in result.rejected}


# ----------------------------------------------------------------------------- GeoJSON members
@pytest.mark.parametrize("key, value, expected", [
    ("layer", ["hubs", "training"], "property 'layer' is a list"),
    ("status", {"value": "planned"}, "property 'status' is an object"),
    ("location_source", 3, "property 'location_source' is a number"),
    ("feature_id", ["a", "b"], "property 'feature_id' is a list"),
    ("feature_id", {"id": 1}, "property 'feature_id' is an object"),
    ("name", {"en": "Hub"}, "property 'name' is an object"),
    ("description", [["nested"]], "property 'description' is a list holding a list"),
])
def test_a_member_of_the_wrong_type_rejects_its_feature_with_the_property_named(key, value, expected):
    result = _read(_collection(_feature(), _feature(**{key: value}, town="Karlskrona")))
    assert result.accepted == 1
    reason = _reasons(result)["feature 2"]
    assert expected in reason and "expected text" in reason


def test_a_feature_id_number_and_a_list_of_names_are_stringified_as_documented():
    result = _read(_collection(_feature(feature_id=17, sectors=["design", "games", 3])))
    row = result.features.iloc[0]
    assert row.feature_id == "17"
    assert row.sectors == "design; games; 3"


def test_a_feature_id_that_is_an_object_is_rejected_not_hashed():
    doc = _feature()
    doc["id"] = {"x": 1}
    result = _read(_collection(doc))
    assert "the Feature 'id' is an object" in _reasons(result)["feature 1"]


# ----------------------------------------------------------------------------- GeoJSON geometries
@pytest.mark.parametrize("geometry, expected", [
    ({"type": "Circle", "coordinates": [1, 2]}, "geometry type \"Circle\" is not one of"),
    ({"type": ["Point"], "coordinates": [1, 2]}, "geometry type [\"Point\"] is not one of"),
    ({"type": "LineString", "coordinates": [[15.5, 56.1]]}, "LineString has 1 position, fewer than the 2"),
    ({"type": "Polygon", "coordinates": [[[15, 56], [16, 56], [15, 56]]]}, "outer ring has 3 positions, fewer than the 4"),
    ({"type": "Polygon", "coordinates": [[[15, 56], [16, 56], [16, 57], [15, 56]], [[15.5, 56.5]]]},
     "hole 1 has 1 position"),
    ({"type": "Point", "coordinates": ["15.5", "56.1"]}, "not two finite numbers"),
    ({"type": "Point", "coordinates": [float("nan"), 56.1]}, "not two finite numbers"),
    ({"type": "Point", "coordinates": [1e400, 56.1]}, "not two finite numbers"),
    ({"type": "Point", "coordinates": [True, False]}, "not two finite numbers"),
    ({"type": "Point", "coordinates": [15.5]}, "where a [longitude, latitude] position is expected"),
    ({"type": "Point", "coordinates": []}, "Point has empty coordinates"),
    ({"type": "Point", "coordinates": None}, "Point has null coordinates"),
    ({"type": "Point"}, "Point has null coordinates"),
    ({"type": "MultiPolygon", "coordinates": [[]]}, "MultiPolygon part has no rings"),
    ({"type": "GeometryCollection", "geometries": []}, "GeometryCollection holds no geometries"),
    ({"type": "Point", "coordinates": [0, 0]}, "latitude 0, longitude 0 is a placeholder"),
    ({"type": "Point", "coordinates": [190, 56]}, "GeoJSON stores longitude first"),
    ("POINT (15 56)", "the geometry is text"),
])
def test_a_geometry_that_cannot_be_right_is_a_rejected_row_with_the_reason(geometry, expected):
    result = _read(_collection(_feature(), _feature(geometry, town="Karlskrona")))
    assert result.accepted == 1
    assert expected in _reasons(result)["feature 2"]


def test_null_geometry_stays_an_unlocated_feature_but_empty_coordinates_do_not():
    unlocated = _feature()
    unlocated["geometry"] = None
    result = _read(_collection(unlocated, _feature({"type": "MultiPoint", "coordinates": []}, name="Empty")))
    assert result.features.iloc[0].location_source == "none"
    assert result.features.iloc[0].geometry is None
    assert "MultiPoint has empty coordinates" in _reasons(result)["feature 2"]


def test_a_zero_vertex_of_a_line_is_kept_only_a_point_at_zero_is_a_placeholder():
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    assert _read(_collection(_feature(line))).accepted == 1


# ----------------------------------------------------------------------------- GeoJSON file limits
def test_deep_nesting_is_one_clean_error_naming_the_limit():
    data = b'{"type": "FeatureCollection", "features": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    with pytest.raises(ImportFileError, match=r"deep\.geojson: arrays and objects are nested 100002 levels deep, "
                                              r"more than the 100 levels.*MAX_NESTING"):
        read_bytes(data, "deep.geojson")


def test_brackets_inside_strings_do_not_count_as_nesting():
    result = _read(_collection(_feature(description='[[[[{{{{ "\\" ' * 200)))
    assert result.accepted == 1
    assert geojson_loader.nesting_depth(b'{"a": "[[[[", "b": [[1]]}') == 3


def test_an_oversized_file_is_refused_naming_the_limit(monkeypatch):
    monkeypatch.setattr(geojson_loader, "MAX_GEOJSON_BYTES", 1000)
    with pytest.raises(ImportFileError, match=r"big\.geojson: the file is 0 MB, more than the 0 MB .*MAX_GEOJSON_BYTES"):
        read_bytes(_collection(*[_feature(name=f"Hub {i}") for i in range(30)]), "big.geojson")


def test_an_integer_too_long_to_read_is_a_clean_error():
    data = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties": {"n": ' \
        + b"9" * 5000 + b"}}]}"
    with pytest.raises(ImportFileError, match="not valid GeoJSON"):
        read_bytes(data, "long.geojson")


def test_a_field_over_the_size_limit_rejects_its_row_naming_field_and_limit():
    result = _read(_collection(_feature(), _feature(name="x" * (MAX_TEXT_CHARS + 1))))
    assert result.accepted == 1
    reason = _reasons(result)["feature 2"]
    assert f"field 'name' is {MAX_TEXT_CHARS + 1:,} characters long (limit {MAX_TEXT_CHARS:,})" in reason


def test_deeply_nested_attributes_text_is_kept_as_text():
    result = _read(_collection(_feature(attributes="[" * 5000 + "]" * 5000)))
    assert json.loads(result.features.iloc[0].attributes) == {"attributes": "[" * 5000 + "]" * 5000}


# ----------------------------------------------------------------------------- leading white space
def test_clean_text_trims_only_trailing_white_space():
    assert clean_text("\t=1 \n") == "\t=1"
    assert clean_text(" =1") == " =1"
    assert clean_text("\r=1") == "\r=1"
    assert clean_text(" \t\n") is None
    assert clean_text([" a ", "", "b"]) == " a; b"


def test_geojson_keeps_leading_white_space_in_text_and_other_properties():
    result = _read(_collection(_feature(name=" =1", description="\t=1\n", town="\r=1", Note=" =2")))
    row = result.features.iloc[0]
    assert (row["name"], row.description, row.town) == (" =1", "\t=1", "\r=1")
    assert json.loads(row.attributes) == {"Note": " =2"}


def _kml(placemarks: str, *, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (f'{declaration}<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Hubs</name>'
            f"{placemarks}</Folder></Document></kml>").encode("utf-8")


def _placemark(name: str = "Hub", coordinates: str = "15.58,56.16", value: str = "x") -> str:
    return (f"<Placemark><name>{name}</name><ExtendedData><Data name=\"Notes\"><value>{value}</value></Data>"
            f"</ExtendedData><Point><coordinates>{coordinates}</coordinates></Point></Placemark>")


def test_kml_keeps_leading_white_space_as_written_but_not_pretty_printing():
    data = _kml(_placemark(" =1", "15.1,56.1", " =2") + _placemark("&#9;=1", "15.2,56.2", "&#13;=2")
                + _placemark("&#13;=1", "15.3,56.3") + _placemark("\n        Indented hub\n      ", "15.4,56.4",
                                                                  "\n   Indented value\n  "))
    result = _read(data, "ws.kml")
    names = list(result.features["name"])
    assert names == [" =1", "\t=1", "\r=1", "Indented hub"]
    notes = [json.loads(a)["Notes"] for a in result.features["attributes"]]
    assert notes == [" =2", "\r=2", "x", "Indented value"]


# ----------------------------------------------------------------------------- KML/KMZ
def _kmz(kml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding, expected", [
    ("bogus", "names the encoding 'bogus', which is not a known text encoding"),
    ("rot13", "names 'rot13', which is not a text encoding"),
    ("zlib", "names 'zlib', which is not a text encoding"),
    ("utf-7", "names the encoding 'utf-7', which the XML reader cannot decode"),
    ("shift_jis", "names the encoding 'shift_jis', which the XML reader cannot decode"),
])
@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_a_made_up_encoding_is_one_clean_error_with_the_fix(encoding, expected, suffix):
    kml = _kml(_placemark(), declaration=f'<?xml version="1.0" encoding="{encoding}"?>')
    data = _kmz(kml) if suffix == ".kmz" else kml
    with pytest.raises(ImportFileError, match=rf"map{suffix}.*{expected}.*save it as UTF-8") as caught:
        read_bytes(data, f"map{suffix}")
    assert "\n" not in str(caught.value)


def test_a_single_byte_encoding_still_reads():
    kml = _kml(_placemark("Łódź Hub"), declaration='<?xml version="1.0" encoding="windows-1250"?>')
    data = kml.decode("utf-8").encode("cp1250")
    assert list(_read(data, "pl.kml").features["name"]) == ["Łódź Hub"]


@pytest.mark.parametrize("coordinates", ["0,0", "0,0,0", "0.0,0.0,120", "-0,-0"])
def test_a_kml_point_at_zero_zero_is_rejected_as_a_placeholder_like_a_sheet_row(coordinates):
    result = _read(_kml(_placemark("Real", "15.58,56.16") + _placemark("Not yet placed", coordinates)), "zero.kml")
    assert list(result.features["name"]) == ["Real"]
    reason = _reasons(result)["folder 'Hubs' › placemark 2"]
    assert "latitude 0, longitude 0 is a placeholder, not a place" in reason
    assert "export again" in reason


def test_a_kml_line_through_zero_zero_is_kept():
    line = "<Placemark><name>Line</name><LineString><coordinates>0,0 1,1</coordinates></LineString></Placemark>"
    assert _read(_kml(line), "line.kml").accepted == 1


# ----------------------------------------------------------------------------- GeoPackage
def _gpkg() -> bytes:
    from exporters.gpkg import write_gpkg
    from loaders import read_file

    features = read_file(DATA / "geojson" / "mixed.geojson").features
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return write_gpkg(features, Path(folder) / "x.gpkg").read_bytes()


def test_a_gpkg_whose_schema_is_damaged_is_one_clean_error():
    data = bytearray(_gpkg())
    at = data.find(b"TRIGGER")
    assert at > 0
    data[at] = 0xE2  # SQLite quotes the damaged schema in its message, which is then not UTF-8
    with pytest.raises(ImportFileError, match=r"x\.gpkg: the GeoPackage cannot be read .*export it again"):
        read_bytes(bytes(data), "x.gpkg")


def test_a_gpkg_point_with_nan_coordinates_is_rejected():
    con = sqlite3.connect(":memory:")
    con.deserialize(_gpkg())
    table = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'").fetchone()[0]
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{trigger}"')  # the R-tree triggers call SpatiaLite functions
    blob = b"GP\x00\x01" + struct.pack("<i", 4326) + struct.pack("<bIdd", 1, 1, float("nan"), 56.0)  # (NaN, NaN) would be POINT EMPTY
    con.execute(f'UPDATE "{table}" SET geom = ? WHERE rowid = (SELECT min(rowid) FROM "{table}")', (blob,))
    con.commit()
    result = _read(con.serialize(), "nan.gpkg")
    assert any("not a finite number" in r.reason for r in result.rejected)


def test_every_failure_above_is_an_atlas_error():
    assert issubclass(ImportFileError, AtlasError)


def test_a_gpkg_attributes_column_nested_too_deep_is_kept_as_text():
    con = sqlite3.connect(":memory:")
    con.deserialize(_gpkg())
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{trigger}"')
    table = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'").fetchone()[0]
    deep = "[" * 5000 + "]" * 5000  # json.loads would raise RecursionError
    con.execute(f'UPDATE "{table}" SET attributes = ?', (deep,))
    con.commit()
    result = _read(con.serialize(), "deep.gpkg")
    assert result.accepted >= 1
    assert any(json.loads(a) == {"attributes": deep} for a in result.features["attributes"])
