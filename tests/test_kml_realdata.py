"""KML/KMZ loader on real exports nobody on this project wrote (../shared/realdata, see its MANIFEST.md)."""
from __future__ import annotations

import html
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from loaders.errors import NetworkLinkOnlyError
from loaders.kml import features_from_kml, features_from_kmz
from tests.conftest import find_realdata

# The same lookup as the `realdata` fixture (ATLAS_REALDATA, ../shared/realdata, /work/shared/realdata).
REALDATA = find_realdata()[0] or Path(__file__).resolve().parents[2] / "shared" / "realdata"
NETWORK_LINK_ONLY = "harzweser_Freizeit_networklink.kmz"


@pytest.fixture(scope="module")
def real() -> Path:
    """The real exports; skip only when the folder is absent on this machine."""
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} is not present on this machine")
    return REALDATA


def _files() -> list[str]:
    if not REALDATA.is_dir():
        return ["(realdata absent)"]
    paths = sorted(REALDATA.glob("mymaps/*.km[lz]")) + sorted(REALDATA.glob("kml_other/*.km[lz]"))
    return [f"{p.parent.name}/{p.name}" for p in paths]


def _kml_text(path: Path) -> bytes:
    """The KML inside, read independently of the loader (doc.kml for a KMZ)."""
    if path.suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            return archive.read("doc.kml")
    return path.read_bytes()


def _load(path: Path):
    data = path.read_bytes()
    loader = features_from_kmz if path.suffix == ".kmz" else features_from_kml
    return loader(data, path.name)


def _by_folder(result) -> Counter:
    refs = list(result.features["source_ref"]) + [r.where for r in result.rejected]
    return Counter(re.match(r"(.*) › placemark \d+$", ref).group(1) for ref in refs)


def _attributes(result) -> list[dict]:
    return [json.loads(a) for a in result.features["attributes"]]


def test_all_the_manifest_files_are_there(real):
    names = [Path(f).name for f in _files()]
    assert len(names) == 15  # 9 My Maps KML, 3 KMZ, 3 other KML
    assert NETWORK_LINK_ONLY in names


@pytest.mark.parametrize("name", _files())
def test_every_placemark_is_accounted_for(real, name):
    path = real / name
    if path.name == NETWORK_LINK_ONLY:
        pytest.skip("holds no placemarks; see test_network_link_only_kmz")
    text = _kml_text(path)
    expected = len(re.findall(rb"<Placemark[\s>]", text))
    result = _load(path)
    assert result.rows_read == expected
    assert result.accepted + len(result.rejected) == expected
    # These are genuine exports: nothing may be refused except an exact repeat of an earlier entry.
    for rejected in result.rejected:
        assert rejected.reason.startswith("duplicate of "), rejected.reason
    # Nothing the user typed is lost: every ExtendedData field name survives in the attributes.
    data_names = {html.unescape(n.decode()) for n in re.findall(rb'<Data name="([^"]*)"', text)}
    kept = set().union(*_attributes(result)) if result.accepted else set()
    assert data_names <= kept


def test_infrastructure_club_folders_names_and_lines(real):
    result = _load(real / "mymaps" / "infrastructureclub_travel_guide_map.kml")
    assert result.rows_read == 1367
    assert _by_folder(result) == {
        "folder 'Interesting Things'": 359, "folder 'Museums / attractions'": 581, "folder 'Industry'": 42,
        "folder 'Historic / ruins / structures'": 135, "folder 'Nature'": 65,
        "folder 'Not open to public but visible'": 66, "folder 'Science'": 24,
        "folder 'Para-infrastructural / cultural'": 94, "folder 'Stays'": 1,
    }
    names = set(result.features["name"])
    assert "Ffestiniog & Welsh Highland Railways" in names  # CDATA name
    assert "Ripple Rock site" in names  # trailing newline stripped
    assert (result.features.geom_type == "LineString").sum() == 3
    assert sum("gx_media_links" in a for a in _attributes(result)) == 42
    assert any(a["styleUrl"].endswith("-labelson-nodesc") for a in _attributes(result))


def test_campteam_polish_folders_and_colon_field_names(real):
    result = _load(real / "mymaps" / "campteam_pl_map.kml")
    assert result.rows_read == 1060
    assert _by_folder(result) == {
        "folder 'Atrakcje'": 4,
        "folder 'Kempingi - polecone przez Grupowiczów CampTeam'": 21,
        "folder 'Pola namiotowe/biwakowe - polecone przez Grupowiczów CampTeam'": 14,
        "folder 'Kempingi'": 48,
        "folder 'Kempingi (OpenStreetMap)'": 374,
        "folder 'Pola Namiotowe (OpenStreetMap)'": 229,
        "folder 'Parkingi Leśne (Źródło OpenStreetMap Google).kml'": 363,
        "folder 'Miejsce na biwak  - polecone przez Grupowiczów CampTeam'": 7,  # double space kept
    }
    attributes = _attributes(result)
    with_www = [(a, row) for a, (_, row) in zip(attributes, result.features.iterrows()) if "Strona www:" in a]
    assert with_www
    for a, row in with_www:
        if a["Strona www:"]:
            assert a["Strona www:"] in row["website"]
    with_phone = [(a, row) for a, (_, row) in zip(attributes, result.features.iterrows()) if a.get("Telefon:")]
    assert with_phone and all(a["Telefon:"] in row["contact"] for a, row in with_phone)
    assert any("Dodaj nowe miejsce do mapy:" in a for a in attributes)
    assert result.features["description"].str.contains("opis: <br>").any()  # auto-built HTML kept


def test_campteam_single_layer_has_no_folder(real):
    result = _load(real / "mymaps" / "campteam_pl_Kempingi.kml")
    assert result.accepted == 21
    assert set(_by_folder(result)) == {"document 'Kempingi - polecone przez Grupowiczów CampTeam'"}
    assert "Dodaj nowe miejsce do mapy:" in _attributes(result)[0]


def test_warsaw_empty_default_layer_and_media_links(real):
    result = _load(real / "mymaps" / "warsaw_pomoc_dla_bezdomnych_doc.kml")
    assert result.accepted == 73
    assert len(_by_folder(result)) == 1  # "Warstwa bez nazwy" is empty
    assert sum("gx_media_links" in a for a in _attributes(result)) == 40


def test_tbilisi_cyrillic_folders_and_directions_lines(real):
    result = _load(real / "mymaps" / "tbilisi_doc.kml")
    assert result.rows_read == 238
    folders = _by_folder(result)
    assert len(folders) == 10 and folders["folder 'музеи'"] == 18
    assert sum(1 for f in folders if f.startswith("folder 'Directions from")) == 4
    assert (result.features.geom_type == "LineString").sum() == 4


def test_metrolink_lines_with_osm_tag_names(real):
    result = _load(real / "mymaps" / "manchester_metrolinkMap.kml")
    assert (result.accepted, set(result.features.geom_type)) == (778, {"LineString"})
    assert len(_by_folder(result)) == 9
    attributes = _attributes(result)
    first = attributes[0]
    assert first["@id"] == "way/929905"
    assert first["ref:GB:tfgm"] == "ATL" and first["ref:GB:tfgm:direction"] == "OUT"
    assert sum("ref" in a for a in attributes) == 423
    assert sum("maxspeed" in a for a in attributes) == 584


def test_railway_stations_type_field_becomes_kind(real):
    result = _load(real / "mymaps" / "manchester_RailwayStationNode.kml")
    assert result.accepted == 99
    assert set(result.features["kind"]) == {"railwaystop"}  # ExtendedData "type", unknown: kept cleaned
    assert "stationCode" in _attributes(result)[0]


def test_service_area_polygon(real):
    result = _load(real / "mymaps" / "service_area_polygon_myMap.kml")
    polygon = result.features.iloc[0]["geometry"]
    assert polygon.geom_type == "Polygon" and len(polygon.exterior.coords) == 47
    assert result.features.iloc[0]["source_ref"] == "document 'Service area' › placemark 1"


def test_vancouver_directions_layers(real):
    result = _load(real / "mymaps" / "vancouver_directions_Untitled_map.kml")
    assert result.rows_read == 30
    assert len(_by_folder(result)) == 10
    assert result.features.geom_type.value_counts().to_dict() == {"Point": 20, "LineString": 10}


def test_real_kmz_with_icons(real):
    result = _load(real / "mymaps" / "harzweser_MAZ_4.kmz")
    assert result.accepted == 2
    row = result.features[result.features["name"] == "Werk-Statt-Schule e.V."].iloc[0]
    assert row["source_ref"] == "folder 'Favoriten' › placemark 1"
    assert "37154 Northeim" in row["description"]
    assert "gx_media_links" in json.loads(row["attributes"])


def test_real_kmz_with_custom_photo_icons(real):
    result = _load(real / "mymaps" / "imported_photos_Untitled_map_1.kmz")
    assert _by_folder(result) == {"folder 'Imported Photos'": 23}
    assert all("gx_media_links" in a and a["styleUrl"].startswith("#icon-ci-") for a in _attributes(result))


def test_network_link_only_kmz(real):
    data = (real / "mymaps" / NETWORK_LINK_ONLY).read_bytes()
    with pytest.raises(NetworkLinkOnlyError, match=r"harzweser_Freizeit_networklink\.kmz.*google\.de/maps/d.*UNticked"):
        features_from_kmz(data, NETWORK_LINK_ONLY)


def test_earth_web_polygons_with_gx_styles(real):
    result = _load(real / "kml_other" / "korcula_Marina_Korkyra_5_earthweb.kml")
    assert (result.accepted, set(result.features.geom_type)) == (62, {"Polygon"})
    assert result.features["feature_id"].str.startswith("korcula_Marina_Korkyra_5_earthweb.kml#").all()


def test_banksy_without_document_name(real):
    result = _load(real / "kml_other" / "banksy_united_kingdom.kml")
    assert result.accepted == 33
    assert set(_by_folder(result)) == {"document"}
    assert result.features["description"].str.startswith("<img src=").sum() == 32  # CDATA HTML kept
    assert result.features["description"].notna().all()


def test_earth_pro_file_with_undeclared_xsi_prefix(real):
    result = _load(real / "kml_other" / "isle_of_wight_health_earthpro_doc.kml")
    assert result.accepted == 318
    assert result.features.iloc[0]["name"] == "The Shen Clinic"
    assert result.features.iloc[0]["feature_id"] == "isle_of_wight_health_earthpro_doc.kml#ID_00000"
    assert _by_folder(result) == {"folder 'Health care facilities'": 318}
