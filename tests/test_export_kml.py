"""KML/KMZ export for Google My Maps: folders, styles, ExtendedData, and splitting to fit its limits."""
from __future__ import annotations

import json
import re
import zipfile
from xml.etree import ElementTree

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from exporters.kml import MY_MAPS, Limits, write_kml
from loaders import read_file
from loaders.features import COLUMNS
from tests.test_export_fixtures import mymaps_kmz

NS = {"k": "http://www.opengis.net/kml/2.2"}


def _features(n: int, layer: str = "hubs", *, start: int = 0) -> gpd.GeoDataFrame:
    """`n` canonical point features of `layer`, with distinct ids and positions."""
    frame = pd.DataFrame({c: [None] * n for c in COLUMNS})
    frame["feature_id"] = [f"{layer}-{start + i}" for i in range(n)]
    frame["name"] = [f"{layer} place {start + i}" for i in range(n)]
    frame["layer"] = layer
    frame["status"] = "existing"
    frame["attributes"] = "{}"
    points = [shapely.Point(10 + (start + i) * 1e-4, 50 + (i % 100) * 1e-3) for i in range(n)]
    return gpd.GeoDataFrame(frame.astype(object), geometry=gpd.GeoSeries(points, crs="EPSG:4326"))


def _folders(path) -> list[tuple[str, int]]:
    data = zipfile.ZipFile(path).read("doc.kml") if path.suffix == ".kmz" else path.read_bytes()
    root = ElementTree.fromstring(data)
    return [(f.find("k:name", NS).text, len(f.findall("k:Placemark", NS))) for f in root.iter(f"{{{NS['k']}}}Folder")]


def test_my_maps_limits_are_the_documented_ones():
    assert (MY_MAPS.rows_per_layer, MY_MAPS.layers_per_file, MY_MAPS.bytes_per_file) == (2000, 10, 5 * 1024 * 1024)


def test_one_folder_and_one_style_per_layer_with_extended_data(tmp_path):
    features = read_file(mymaps_kmz(tmp_path)).features
    result = write_kml(features, tmp_path / "map.kml")
    assert result.files == [tmp_path / "map.kml"]
    root = ElementTree.parse(result.files[0]).getroot()
    folders = root.findall(".//k:Folder", NS)
    assert [f.find("k:name", NS).text for f in folders] == [
        "Creative Industries Hubs & Infrastructure", "Creative Industries Training & Supports",
        "Creative Industries Networks", "Unclassified",
    ]
    styles = {s.get("id") for s in root.findall(".//k:Style", NS)}
    assert styles == {"layer-hubs", "layer-training", "layer-networks", "layer-unclassified"}
    for folder in folders:
        urls = {p.find("k:styleUrl", NS).text for p in folder.findall("k:Placemark", NS)}
        assert len(urls) == 1 and urls.pop().lstrip("#") in styles
    mark = next(p for p in root.iter(f"{{{NS['k']}}}Placemark") if p.find("k:name", NS).text == "Łódź Art Center")
    data = {d.get("name"): d.find("k:value", NS).text for d in mark.findall(".//k:Data", NS)}
    assert data["layer"] == "hubs" and data["status"] == "planned" and data["kind"] == "incubator"
    assert data["Notes"] == "floor 2 — ask for Zoë"
    assert "attributes.folder" in data and "folder" not in data  # the reader's own key is escaped
    assert "<b>Łódź Art Center</b>" in mark.find("k:description", NS).text


def test_kmz_holds_doc_kml(tmp_path):
    features = read_file(mymaps_kmz(tmp_path)).features
    result = write_kml(features, tmp_path / "map.kmz")
    assert zipfile.ZipFile(result.files[0]).namelist() == ["doc.kml"]


def test_2001_rows_in_a_layer_make_two_files(tmp_path):
    features = pd.concat([_features(2001, "hubs"), _features(30, "training")], ignore_index=True)
    result = write_kml(gpd.GeoDataFrame(features, crs="EPSG:4326"), tmp_path / "big.kmz")
    assert [p.name for p in result.files] == ["big-1-of-2.kmz", "big-2-of-2.kmz"]
    assert _folders(result.files[0]) == [
        ("Creative Industries Hubs & Infrastructure (1 of 2)", 2000),
        ("Creative Industries Training & Supports", 30),
    ]
    assert _folders(result.files[1]) == [("Creative Industries Hubs & Infrastructure (2 of 2)", 1)]
    assert "2 KMZ files" in result.message and "2,000 rows per layer" in result.message
    assert "Creative Industries Hubs & Infrastructure (2,001 rows)" in result.message
    back = pd.concat([read_file(p).features for p in result.files], ignore_index=True)
    assert sorted(back["feature_id"]) == sorted(features["feature_id"])


def test_exactly_2000_rows_fit_in_one_file(tmp_path):
    result = write_kml(_features(2000), tmp_path / "fits.kml")
    assert [p.name for p in result.files] == ["fits.kml"]
    assert "Wrote 2000 placemark(s)" in result.message


def test_more_than_ten_layers_are_split_into_files_of_ten(tmp_path):
    features = _features(2, "hubs")
    analysis = {
        f"result_{i:02d}": gpd.GeoDataFrame({"value": [i]}, geometry=[shapely.Point(i, 50)], crs="EPSG:4326")
        for i in range(11)
    }
    result = write_kml(features, tmp_path / "many.kml", analysis=analysis)
    assert len(result.files) == 2
    counts = [len(_folders(p)) for p in result.files]
    assert counts == [10, 2] and all(c <= 10 for c in counts)
    assert "10 layers per map" in result.message


def test_a_file_over_the_byte_limit_is_halved_until_it_fits(tmp_path):
    limits = Limits(rows_per_layer=2000, layers_per_file=10, bytes_per_file=40_000)
    result = write_kml(_features(300), tmp_path / "heavy.kml", limits=limits)
    assert len(result.files) > 1
    assert all(p.stat().st_size <= 40_000 for p in result.files)
    assert sum(n for p in result.files for _, n in _folders(p)) == 300
    back = pd.concat([read_file(p).features for p in result.files], ignore_index=True)
    assert back["feature_id"].is_unique and len(back) == 300


def test_features_without_location_are_left_out_and_the_note_says_so(tmp_path):
    features = _features(3)
    features.loc[1, "geometry"] = None
    result = write_kml(features, tmp_path / "x.kml")
    assert _folders(result.files[0]) == [("Creative Industries Hubs & Infrastructure", 2)]
    assert any("1 feature(s) without a location" in n for n in result.notes)


def test_attributes_that_are_not_text_are_written_as_json_text(tmp_path):
    features = _features(1)
    features.loc[0, "attributes"] = json.dumps({"floor_m2": 420, "tags": ["a", "b"], "folder": "x"})
    text = write_kml(features, tmp_path / "x.kml").files[0].read_text(encoding="utf-8")
    assert '<Data name="floor_m2"><value>420</value></Data>' in text
    assert '<Data name="tags"><value>["a", "b"]</value></Data>' in text
    assert '<Data name="attributes.folder"><value>x</value></Data>' in text
    restored = json.loads(read_file(tmp_path / "x.kml").features.iloc[0]["attributes"])
    assert restored == {"floor_m2": "420", "tags": '["a", "b"]', "folder": "x"}


def test_names_with_markup_are_escaped(tmp_path):
    features = _features(1)
    features.loc[0, "name"] = "Hub <Zgierz> & Łódź ]]>"
    path = write_kml(features, tmp_path / "x.kml").files[0]
    assert re.search(r"<name>Hub &lt;Zgierz&gt; &amp; Łódź \]\]&gt;</name>", path.read_text(encoding="utf-8"))
    assert read_file(path).features.iloc[0]["name"] == "Hub <Zgierz> & Łódź ]]>"


def test_polygons_are_written_counter_clockwise_with_holes(tmp_path):
    features = _features(1)
    features.loc[0, "geometry"] = shapely.Polygon(
        [(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)], [[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2)]]
    )
    path = write_kml(gpd.GeoDataFrame(features, crs="EPSG:4326"), tmp_path / "x.kml").files[0]
    polygon = read_file(path).features.geometry.iloc[0]
    assert polygon.exterior.is_ccw and len(polygon.interiors) == 1
    assert polygon.equals(features.geometry.iloc[0])


@pytest.mark.parametrize("bad", [Limits(rows_per_layer=2000, layers_per_file=10, bytes_per_file=200)])
def test_a_single_placemark_too_big_for_a_file_is_a_clear_error(tmp_path, bad):
    with pytest.raises(ValueError, match="larger than 200 bytes of KML; simplify its geometry"):
        write_kml(_features(1), tmp_path / "x.kml", limits=bad)
