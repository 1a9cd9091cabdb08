"""KML/KMZ loader: My Maps and Google Earth quirks, on small fixtures written for these tests."""
from __future__ import annotations

import json
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import shapely

from loaders import read_bytes
from loaders.errors import ImportFileError, NetworkLinkOnlyError, UnsupportedFileError
from loaders.kml import features_from_kml, features_from_kmz

KML_DIR = Path(__file__).parent / "data" / "kml"


def _read(name: str):
    data = (KML_DIR / name).read_bytes()
    result = features_from_kml(data, name)
    assert result.rows_read == _count_placemarks(data)
    assert result.accepted + len(result.rejected) == result.rows_read
    return result


def _count_placemarks(data: bytes) -> int:
    return len(re.findall(rb"<(?:\w+:)?Placemark[\s>/]", data))


def _row(result, name: str):
    rows = result.features[result.features["name"] == name]
    assert len(rows) == 1, f"{name!r} found {len(rows)} times"
    return rows.iloc[0]


def _kml(body: str, *, ns: str = 'xmlns="http://www.opengis.net/kml/2.2"') -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<kml {ns}><Document>{body}</Document></kml>'.encode()


def _kmz(tmp_path: Path, members: dict[str, bytes], name: str = "map.kmz") -> bytes:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path.read_bytes()


# --------------------------------------------------------------------------- My Maps layers
def test_my_maps_folders_become_layers_and_every_placemark_is_accounted_for():
    result = _read("mymaps_layers.kml")
    assert (result.rows_read, result.accepted, len(result.rejected)) == (12, 8, 4)
    assert result.features["layer"].value_counts().to_dict() == {"networks": 4, "training": 2, "hubs": 2}
    assert result.features.crs == "EPSG:4326"


def test_cdata_name_html_description_and_polish_diacritics_are_kept():
    result = _read("mymaps_layers.kml")
    row = _row(result, "Art_Inkubator & Fabryka Sztuki")
    assert row["description"] == (
        '<b>Typ:</b> incubator<br>Strona www: <a href="https://artinkubator.com">artinkubator.com</a>'
    )
    assert row["town"] == "Łódź"
    assert row["address"] == "ul. Tymienieckiego 3"


def test_name_with_trailing_newline_is_stripped():
    result = _read("mymaps_layers.kml")
    assert "Ripple Hub" in set(result.features["name"])


def test_extended_data_fills_canonical_fields_and_keeps_the_originals():
    row = _row(_read("mymaps_layers.kml"), "Art_Inkubator & Fabryka Sztuki")
    assert row["kind"] == "incubator"
    assert row["website"] == "https://artinkubator.com"
    assert row["contact"] == "biuro@artinkubator.com; +48 42 000 00 00"
    assert row["sectors"] == "design; games"  # in the shared vocabulary's list form
    assert row["helix"] == "public"
    attributes = json.loads(row["attributes"])
    assert attributes["Strona www:"] == "https://artinkubator.com"
    assert attributes["Telefon:"] == "+48 42 000 00 00"
    assert attributes["Miejscowość"] == "Łódź"
    assert attributes["gx_media_links"] == "https://example.org/photo.jpg"
    assert attributes["styleUrl"] == "#icon-1899-DB4436"
    assert attributes["folder"] == "Creative Hubs"


def test_placemark_id_becomes_the_feature_id():
    row = _row(_read("mymaps_layers.kml"), "Art_Inkubator & Fabryka Sztuki")
    assert row["feature_id"] == "mymaps_layers.kml#hub-1"


def test_source_ref_names_folder_and_placemark_number():
    result = _read("mymaps_layers.kml")
    assert _row(result, "Ripple Hub")["source_ref"] == "folder 'Creative Hubs' › placemark 2"
    assert _row(result, "Cluster area")["source_ref"] == "folder 'Networks' › placemark 2"


def test_status_from_folder_name_and_from_fields():
    result = _read("mymaps_layers.kml")
    assert _row(result, "Future course centre")["status"] == "planned"  # folder "(planned)"
    assert _row(result, "Existing despite the folder")["status"] == "existing"  # Status field wins
    assert _row(result, "Ripple Hub")["status"] == "planned"  # Stan: planowany
    assert _row(result, "Art_Inkubator & Fabryka Sztuki")["status"] == "existing"


def test_extended_data_layer_field_beats_the_folder():
    row = _row(_read("mymaps_layers.kml"), "Moved to networks by its own field")
    assert row["layer"] == "networks"
    assert row["kind"] == "cluster"
    assert json.loads(row["attributes"])["Layer"] == "Sieci"


def test_every_rejection_reason_names_the_placemark_and_the_fix():
    rejected = {r.where: r for r in _read("mymaps_layers.kml").rejected}
    no_geometry = rejected["folder 'Creative Hubs' › placemark 4"]
    assert re.search(r"'Address only' has no geometry.*ul\. Piotrkowska 1.*place it on the map", no_geometry.reason)
    assert no_geometry.raw["Adres"] == "ul. Piotrkowska 1"
    garbled = rejected["folder 'Training & Supports (planned)' › placemark 3"]
    assert re.search(r"'19\.5a,51\.7' are not 'longitude,latitude\[,altitude\]' numbers", garbled.reason)
    assert garbled.raw == {
        "name": "Garbled coordinates", "coordinates": "19.5a,51.7", "folder": "Training & Supports (planned)"
    }
    out_of_range = rejected["folder 'Training & Supports (planned)' › placemark 4"]
    assert re.search(r"latitude 95\.3.*outside −90…90.*longitude first", out_of_range.reason)
    short_line = rejected["folder 'Networks' › placemark 4"]
    assert "fewer than 2 points" in short_line.reason


def test_geometries_points_lines_polygons_with_holes_and_multigeometry():
    result = _read("mymaps_layers.kml")
    assert _row(result, "Ripple Hub")["geometry"].equals(shapely.Point(19.46, 51.76))  # z dropped
    assert not result.features.geometry.has_z.any()
    route = _row(result, "Festival route")["geometry"]
    assert route.geom_type == "LineString" and len(route.coords) == 3
    area = _row(result, "Cluster area")["geometry"]
    assert area.geom_type == "Polygon" and len(area.interiors) == 1
    assert area.interiors[0].coords[0] == area.interiors[0].coords[-1]  # unclosed ring closed
    assert _row(result, "Two meeting places")["geometry"].geom_type == "MultiPoint"


def test_empty_layer_folder_is_harmless():
    result = _read("mymaps_layers.kml")
    assert not result.features["source_ref"].str.contains("Untitled layer").any()


# --------------------------------------------------------------------------- single layer / document
def test_single_layer_export_takes_its_layer_from_the_document_name():
    result = _read("single_layer.kml")
    assert list(result.features["layer"]) == ["hubs", "hubs"]  # "Kreativa nav"
    first = _row(result, "Blekinge Kreativa Hus")
    assert first["source_ref"] == "document 'Kreativa nav' › placemark 1"
    assert first["town"] == "Karlskrona"
    assert first["status"] == "planned"  # Planerad: Ja
    assert _row(result, "Ronneby coworking")["status"] == "existing"


def test_placemarks_in_an_unnamed_document_are_unclassified():
    data = _kml("<Placemark><name>A</name><Point><coordinates>1,2</coordinates></Point></Placemark>")
    result = features_from_kml(data, "x.kml")
    assert result.features.iloc[0]["source_ref"] == "document › placemark 1"
    assert result.features.iloc[0]["layer"] == "unclassified"


def test_placemark_directly_under_kml_root():
    data = b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Solo</name>' \
           b"<Point><coordinates>-8.18,53.63</coordinates></Point></Placemark></kml>"
    result = features_from_kml(data, "solo.kml")
    assert (result.accepted, result.features.iloc[0]["source_ref"]) == (1, "placemark 1")


# --------------------------------------------------------------------------- Google Earth
def test_nested_folders_take_the_nearest_folder_that_names_a_layer():
    result = _read("earth_nested.kml")
    college = _row(result, "Blekinge Tekniska Högskola")
    assert college["layer"] == "training"  # from "Utbildning & stöd", two levels up
    assert college["source_ref"] == "folder 'Sverige/Utbildning & stöd/Karlskrona' › placemark 1"
    assert _row(result, "Unsorted place")["layer"] == "unclassified"  # Sverige/Misc
    assert _row(result, "Loose in the document")["source_ref"] == "document 'Alliance survey.kml' › placemark 1"


def test_schema_data_address_and_own_id():
    college = _row(_read("earth_nested.kml"), "Blekinge Tekniska Högskola")
    attributes = json.loads(college["attributes"])
    assert attributes["Grundad"] == "1989"
    assert college["sectors"] == "games; design"  # SimpleData "Sektorer"
    assert college["address"] == "Campus Gräsvik, Karlskrona"  # KML <address>
    assert college["feature_id"] == "earth_nested.kml#bth"
    assert "LookAt" not in attributes


def test_gx_track_linear_ring_and_mixed_multigeometry():
    result = _read("earth_nested.kml")
    track = _row(result, "Mentor walk")["geometry"]
    assert track.equals(shapely.LineString([(15.58, 56.16), (15.59, 56.17)]))
    ring = _row(result, "Harbour outline")["geometry"]
    assert ring.geom_type == "LineString" and ring.is_closed
    assert _row(result, "Mixed bag")["geometry"].geom_type == "GeometryCollection"


def test_kml_without_namespace():
    row = _row(_read("no_namespace.kml"), "Plain hub")
    assert (row["layer"], row["geometry"].x) == ("hubs", -8.45)


@pytest.mark.parametrize("version", ["2.0", "2.1", "2.2"])
def test_old_google_earth_namespaces(version):
    data = (KML_DIR / "earth_google_21.kml").read_bytes().replace(b"kml/2.1", f"kml/{version}".encode())
    result = features_from_kml(data, "old.kml")
    assert result.accepted == 1
    assert result.features.iloc[0]["layer"] == "networks"  # "Netzwerke"


def test_undeclared_namespace_prefixes_are_repaired():
    result = _read("undeclared_prefix.kml")
    assert result.accepted == 2
    assert _row(result, "Walk to the hub")["geometry"].geom_type == "LineString"
    assert _row(result, "Roscommon hub")["feature_id"] == "undeclared_prefix.kml#ID_00000"


def test_undeclared_unknown_prefix_is_repaired_too():
    data = _kml(
        "<Placemark><name>A</name><foo:note>hello</foo:note><Point><coordinates>1,2</coordinates></Point></Placemark>"
    )
    result = features_from_kml(data, "x.kml")
    assert json.loads(result.features.iloc[0]["attributes"])["note"] == "hello"


# --------------------------------------------------------------------------- network links
def test_network_link_only_explains_how_to_export_the_data():
    data = (KML_DIR / "networklink_only.kml").read_bytes()
    with pytest.raises(NetworkLinkOnlyError, match=r"networklink_only\.kml.*only a network link") as info:
        features_from_kml(data, "networklink_only.kml")
    message = str(info.value)
    assert "Export to KML/KMZ" in message and "UNticked" in message and "mid=EXAMPLE" in message


def test_network_link_next_to_placemarks_imports_the_placemarks_and_says_so():
    result = _read("networklink_and_places.kml")
    assert result.accepted == 1
    assert any("not fetched" in note for note in result.notes)
    assert result.summary()["notes"] == result.notes


# --------------------------------------------------------------------------- KMZ
def test_kmz_reads_doc_kml_and_ignores_images(tmp_path):
    kml = (KML_DIR / "mymaps_layers.kml").read_bytes()
    data = _kmz(tmp_path, {"doc.kml": kml, "images/icon-1.png": b"\x89PNG\r\n\x1a\nfake"})
    result = features_from_kmz(data, "map.kmz")
    assert (result.rows_read, result.accepted) == (12, 8)
    assert result.file == "map.kmz"
    assert _row(result, "Art_Inkubator & Fabryka Sztuki")["feature_id"] == "map.kmz#hub-1"


def test_kmz_without_doc_kml_uses_the_first_kml_at_the_root(tmp_path):
    single = (KML_DIR / "single_layer.kml").read_bytes()
    data = _kmz(tmp_path, {"files/other.kml": _kml(""), "Kreativa nav.kml": single})
    assert features_from_kmz(data, "map.kmz").accepted == 2


def test_kmz_with_kml_only_in_a_subfolder(tmp_path):
    data = _kmz(tmp_path, {"files/layer.kml": (KML_DIR / "single_layer.kml").read_bytes()})
    assert features_from_kmz(data, "map.kmz").accepted == 2


def test_network_link_only_kmz(tmp_path):
    data = _kmz(tmp_path, {"doc.kml": (KML_DIR / "networklink_only.kml").read_bytes()})
    with pytest.raises(NetworkLinkOnlyError, match=r"live\.kmz \(doc\.kml\).*Keep data up to date"):
        features_from_kmz(data, "live.kmz")


def test_dispatcher_picks_the_kml_loader_by_extension(tmp_path):
    data = _kmz(tmp_path, {"doc.kml": (KML_DIR / "single_layer.kml").read_bytes()})
    assert read_bytes(data, "x.kmz").accepted == 2
    assert read_bytes((KML_DIR / "single_layer.kml").read_bytes(), "x.kml").accepted == 2


def test_kmz_named_kml_says_to_rename_it(tmp_path):
    data = _kmz(tmp_path, {"doc.kml": (KML_DIR / "single_layer.kml").read_bytes()})
    with pytest.raises(ImportFileError, match=r"map\.kml: this is a zip archive \(a KMZ\).*Rename it to \.kmz"):
        features_from_kml(data, "map.kml")


# --------------------------------------------------------------------------- smaller quirks
def test_utf16_and_declared_single_byte_encodings():
    text = (KML_DIR / "single_layer.kml").read_text(encoding="utf-8")
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert features_from_kml(utf16, "u16.kml").accepted == 2
    polish = _kml(
        "<Placemark><name>Łódź Kaliska</name><Point><coordinates>19.43,51.76</coordinates></Point></Placemark>"
    ).decode().replace('encoding="UTF-8"', 'encoding="windows-1250"').encode("cp1250")
    assert features_from_kml(polish, "cp1250.kml").features.iloc[0]["name"] == "Łódź Kaliska"


def test_unescaped_html_in_description_is_kept_as_markup():
    data = _kml(
        '<Placemark><name>A</name><description>Open <b>daily</b> &amp; <a href="https://x.org">book</a>'
        "</description><Point><coordinates>1,2</coordinates></Point></Placemark>"
    )
    row = features_from_kml(data, "x.kml").features.iloc[0]
    assert row["description"] == 'Open <b>daily</b> &amp; <a href="https://x.org">book</a>'


def test_spaces_after_commas_in_coordinates_are_tolerated():
    data = _kml("<Placemark><name>A</name><LineString><coordinates>19.4, 51.7, 0 19.5 ,51.8"
                "</coordinates></LineString></Placemark>")
    geometry = features_from_kml(data, "x.kml").features.iloc[0]["geometry"]
    assert list(geometry.coords) == [(19.4, 51.7), (19.5, 51.8)]


def test_nan_and_missing_coordinates_are_rejected():
    data = _kml(
        "<Placemark><name>NaN</name><Point><coordinates>nan,51</coordinates></Point></Placemark>"
        "<Placemark><name>Empty</name><Point><coordinates>  </coordinates></Point></Placemark>"
        "<Placemark><name>Bare</name><Point/></Placemark>"
    )
    result = features_from_kml(data, "x.kml")
    assert (result.accepted, len(result.rejected)) == (0, 3)
    reasons = [r.reason for r in result.rejected]
    assert "outside" in reasons[0]
    assert "has no coordinates" in reasons[1] and "has no coordinates" in reasons[2]


def test_polygon_problems_are_rejected_with_reasons():
    data = _kml(
        "<Placemark><name>Flat</name><Polygon><outerBoundaryIs><LinearRing><coordinates>1,1 2,2 1,1"
        "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        "<Placemark><name>Hollow</name><Polygon><innerBoundaryIs><LinearRing><coordinates>1,1 2,2 2,1"
        "</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>"
        "<Placemark><name>Empty multi</name><MultiGeometry/></Placemark>"
    )
    reasons = [r.reason for r in features_from_kml(data, "x.kml").rejected]
    assert "fewer than 3 distinct points" in reasons[0]
    assert "no outer boundary" in reasons[1]
    assert "holds no geometry" in reasons[2]


def test_multigeometry_of_polygons_and_several_geometry_children():
    square = "<Polygon><outerBoundaryIs><LinearRing><coordinates>{0},0 {1},0 {1},1 {0},1</coordinates>" \
             "</LinearRing></outerBoundaryIs></Polygon>"
    data = _kml(
        f"<Placemark><name>Two areas</name><MultiGeometry>{square.format(0, 1)}{square.format(2, 3)}"
        "</MultiGeometry></Placemark>"
        "<Placemark><name>Two points</name><Point><coordinates>1,1</coordinates></Point>"
        "<Point><coordinates>2,2</coordinates></Point></Placemark>"
    )
    result = features_from_kml(data, "x.kml")
    assert _row(result, "Two areas")["geometry"].geom_type == "MultiPolygon"
    assert _row(result, "Two points")["geometry"].geom_type == "MultiPoint"


def test_repeated_ids_and_repeated_field_names_lose_nothing():
    data = _kml(
        '<Placemark id="p"><name>A</name><Point><coordinates>1,1</coordinates></Point></Placemark>'
        '<Placemark id="p"><name>B</name><ExtendedData><Data name="x"><value>1</value></Data>'
        '<Data name="x"><value>2</value></Data></ExtendedData><Point><coordinates>2,2</coordinates></Point>'
        "</Placemark>"
    )
    result = features_from_kml(data, "x.kml")
    assert result.accepted == 2
    attributes = json.loads(_row(result, "B")["attributes"])
    assert attributes == {"id": "p", "x": "1", "x (2)": "2"}


def test_timestamps_snippets_and_phone_numbers_are_kept():
    data = _kml(
        "<Placemark><name>A</name><Snippet>short</Snippet><phoneNumber>+46 455 000</phoneNumber>"
        "<TimeSpan><begin>2024</begin><end>2025</end></TimeSpan><visibility>0</visibility>"
        "<Point><coordinates>1,1</coordinates></Point></Placemark>"
    )
    row = features_from_kml(data, "x.kml").features.iloc[0]
    attributes = json.loads(row["attributes"])
    assert attributes == {
        "Snippet": "short", "phoneNumber": "+46 455 000", "TimeSpan.begin": "2024", "TimeSpan.end": "2025",
        "visibility": "0",
    }
    assert row["contact"] == "+46 455 000"


def test_model_location_becomes_a_point():
    data = _kml("<Placemark><name>Statue</name><Model><Location><longitude>-6.26</longitude>"
                "<latitude>53.35</latitude></Location></Model></Placemark>")
    assert features_from_kml(data, "x.kml").features.iloc[0]["geometry"].equals(shapely.Point(-6.26, 53.35))


def test_broken_tracks_and_models_are_rejected():
    data = _kml(
        "<Placemark><name>T</name><gx:Track><gx:coord>15.5</gx:coord></gx:Track></Placemark>"
        "<Placemark><name>E</name><gx:Track><when>2024</when></gx:Track></Placemark>"
        "<Placemark><name>M</name><Model><Link><href>m.dae</href></Link></Model></Placemark>",
        ns='xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"',
    )
    reasons = [r.reason for r in features_from_kml(data, "x.kml").rejected]
    assert "'15.5' is not 'longitude latitude altitude'" in reasons[0]
    assert "has no gx:coord points" in reasons[1]
    assert "has no Location longitude/latitude" in reasons[2]


def test_empty_document_gives_an_empty_result():
    result = features_from_kml(_kml("<name>Nothing yet</name><Folder><name>Hubs</name></Folder>"), "x.kml")
    assert (result.rows_read, result.accepted, result.rejected) == (0, 0, [])
    assert list(result.features.columns)[:2] == ["feature_id", "name"]


def test_malformed_xml_names_line_and_column():
    data = (KML_DIR / "malformed.kml").read_bytes()
    with pytest.raises(ImportFileError, match=r"malformed\.kml: not valid XML at line 6, column 54 \(mismatched tag\)"):
        features_from_kml(data, "malformed.kml")


def test_xml_that_is_not_kml():
    data = b'<?xml version="1.0"?><gpx version="1.1"><wpt lat="53" lon="-8"/></gpx>'
    with pytest.raises(UnsupportedFileError, match=r"track\.kml: this is XML but not KML .*<gpx>"):
        features_from_kml(data, "track.kml")


def test_memory_stays_flat_while_streaming():
    # 2,000 placemarks each carrying 10 kB that is not kept (a LookAt): if elements were not
    # cleared as the parse goes, the tree alone would take 20+ MB.
    body = "".join(
        f"<Placemark><name>P{i}</name><LookAt><range>{'9' * 10_000}</range></LookAt>"
        f"<Point><coordinates>{i % 180},{i % 90 + 1}</coordinates></Point></Placemark>"  # never 0,0
        for i in range(2000)
    )
    data = _kml(f"<Folder><name>Hubs</name>{body}</Folder>")
    tracemalloc.start()
    try:
        result = features_from_kml(data, "big.kml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.accepted == 2000
    assert result.features["source_ref"].iloc[-1] == "folder 'Hubs' › placemark 2000"
    assert peak < 8_000_000


def _folders_kml(*folders: tuple[str, int]) -> bytes:
    body = "".join(
        f"<Folder><name>{name}</name>"
        + "<Placemark><name>Old mill</name><Point><coordinates>-8.18,53.63</coordinates></Point></Placemark>" * count
        + "</Folder>"
        for name, count in folders
    )
    return f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'.encode()


def test_one_place_in_two_folders_is_two_features():
    # Both folders map to no layer (unclassified), but the user listed the place twice on purpose.
    result = features_from_kml(_folders_kml(("Museums", 1), ("Interesting things", 1)), "two.kml")
    assert result.accepted == 2 and not result.rejected
    assert result.features["feature_id"].nunique() == 2


def test_an_exact_repeat_inside_one_folder_is_a_duplicate():
    result = features_from_kml(_folders_kml(("Museums", 2)), "repeat.kml")
    assert result.accepted == 1
    [dup] = result.rejected
    assert dup.where == "folder 'Museums' › placemark 2"
    assert dup.reason.startswith("duplicate of folder 'Museums' › placemark 1")
