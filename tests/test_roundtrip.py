"""Round trips lose nothing: My Maps KMZ → export → import gives the same features, field by field."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from atlas.export import export_workspace
from exporters import export
from loaders import read_file
from tests.test_export_fixtures import assert_same_features, mymaps_kmz
from workspace import Workspace


@pytest.fixture
def source(tmp_path):
    """The My Maps-style KMZ as imported: the features every round trip must give back."""
    result = read_file(mymaps_kmz(tmp_path))
    assert result.rejected == []
    return result.features


def test_the_fixture_exercises_what_a_round_trip_can_lose(source):
    by_name = source.set_index("name")
    assert set(source["layer"]) == {"hubs", "training", "networks", "unclassified"}
    assert set(source["status"]) == {"existing", "planned"}
    assert set(source.geometry.geom_type) == {"Point", "Polygon", "LineString"}
    assert "Łódź Art Center" in by_name.index
    assert "<b>" in by_name.loc["Łódź Art Center", "description"]
    # The KML reader keeps every field, including its own styleUrl/folder notes and 'status'.
    attributes = json.loads(by_name.loc["Borås Textile Hub", "attributes"])
    assert {"status", "folder", "styleUrl", "Rooms"} <= set(attributes)


@pytest.mark.parametrize("fmt", ["geojson", "kml", "kmz", "gpkg"])
def test_mymaps_kmz_to_export_and_back_gives_the_same_features(source, tmp_path, fmt):
    out = tmp_path / "out" / f"partners.{fmt}"
    result = export(source, fmt, out)
    assert result.files == [out]
    again = read_file(out)
    assert again.rejected == []
    assert again.rows_read == len(source)
    assert_same_features(source, again.features, source_file=out.name)


@pytest.mark.parametrize("fmt", ["geojson", "kml", "gpkg"])
def test_a_second_round_trip_is_identical_to_the_first(source, tmp_path, fmt):
    first = tmp_path / f"first.{fmt}"
    export(source, fmt, first)
    once = read_file(first).features
    second = tmp_path / f"second.{fmt}"
    export(once, fmt, second)
    assert_same_features(source, read_file(second).features, source_file=second.name)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_sheet_values_keep_their_types_through_geojson_and_gpkg(tmp_path, fmt):
    book = Workbook()
    sheet = book.active
    sheet.title = "Hubs"
    sheet.append(["Name", "Type", "Latitude", "Longitude", "Floor m2", "Open late", "Ref"])
    sheet.append(["Fabryka Sztuki", "studio", 51.745, 19.48, 420, True, "=1+1"])
    sheet.append(["Sölvesborg makerspace", "makerspace", 56.05, 14.58, 88.5, False, "-"])
    book.save(tmp_path / "audit.xlsx")
    features = read_file(tmp_path / "audit.xlsx").features
    out = tmp_path / f"audit-export.{fmt}"
    export(features, fmt, out)
    assert_same_features(features, read_file(out).features, source_file=out.name)


def test_workspace_edits_survive_an_export_and_a_reimport(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    workspace.import_files([mymaps_kmz(tmp_path)])
    unsorted = workspace.features().set_index("name").loc["Unsorted place", "feature_id"]
    workspace.edit_features({unsorted: {"layer": "networks", "kind": "meet-up"}})
    out = tmp_path / "edited.geojson"
    export_workspace(workspace, "geojson", out)
    copy = Workspace(tmp_path / "copy")
    copy.import_files([out])
    assert_same_features(workspace.features(), copy.features(), source_file=out.name)
    assert copy.features().set_index("name").loc["Unsorted place", "layer"] == "networks"


# Real Google My Maps and Google Earth exports (../shared/realdata): every one the KML reader
# accepts must come back unchanged. Coordinates: GeoJSON rounds to 6 decimals (RFC 7946
# practice, ≤ 5 cm off), KML to 7 as My Maps writes them (≤ 5 mm off for Google Earth files
# with more), GeoPackage keeps them bit for bit.
REAL_FILES = [
    "mymaps/campteam_pl_Kempingi.kml", "mymaps/campteam_pl_map.kml", "mymaps/harzweser_MAZ_4.kmz",
    "mymaps/imported_photos_Untitled_map_1.kmz", "mymaps/infrastructureclub_travel_guide_map.kml",
    "mymaps/manchester_RailwayStationNode.kml", "mymaps/manchester_metrolinkMap.kml",
    "mymaps/service_area_polygon_myMap.kml", "mymaps/tbilisi_doc.kml", "mymaps/vancouver_directions_Untitled_map.kml",
    "mymaps/warsaw_pomoc_dla_bezdomnych_doc.kml", "kml_other/banksy_united_kingdom.kml",
    "kml_other/isle_of_wight_health_earthpro_doc.kml", "kml_other/korcula_Marina_Korkyra_5_earthweb.kml",
]
# equals_exact compares point distances: half a unit of the last decimal on both axes is √2/2 units.
TOLERANCE = {"geojson": 0.71e-6, "kml": 0.71e-7, "gpkg": 1e-12}


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_exports_round_trip_through_every_gis_format(realdata, tmp_path, name):
    path = realdata / name
    if not path.exists():
        pytest.skip(f"{name} is not in this copy of realdata")
    source = read_file(path).features
    assert len(source)
    for fmt, tolerance in TOLERANCE.items():
        out = tmp_path / f"{path.stem}.{fmt}"
        export(source, fmt, out)
        again = read_file(out)
        assert again.rejected == [], (fmt, again.rejected[:3])
        assert_same_features(source, again.features, source_file=out.name, tolerance=tolerance)
