"""Boundaries: reading boundary files, the imported > official (cached, shipped, downloaded) > approximate chain."""
from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, box

from errors import BoundaryUnavailable
from geography.boundaries import (
    APPROXIMATE,
    IMPORTED,
    NUTS_CACHE,
    OFFICIAL,
    approximate_outline,
    boundary_for,
    import_boundary,
    official_boundary,
    outline_from_settlements,
    read_boundary_bytes,
    remove_imported_boundary,
)
from geography.regions import Region, load_regions
from loaders.errors import ImportFileError
from workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "analysis"
CLOSED_PORT_URL = "http://127.0.0.1:9/{nuts_id}.geojson"  # discard port: nothing listens


def _polygon_geojson(geometry, **props) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geometry))}
    ]}).encode()


def _region(**kw) -> Region:
    base = dict(id="test", name="Test", countries=("IE",), nuts=("IE042",))
    base.update(kw)
    return Region(**base)


# -- reading files -------------------------------------------------------------------------
def test_geojson_boundary_is_dissolved():
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(box(0, 50, 1, 51)))},
        {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(box(1, 50, 2, 51)))},
    ]}).encode()
    geometry, described = read_boundary_bytes(data, "two.geojson")
    assert geometry.geom_type == "Polygon"
    assert geometry.equals(box(0, 50, 2, 51))
    assert described == "2 feature(s) of two.geojson"


def test_gpkg_in_another_crs_is_reprojected(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(-8.5, 53.0, -8.0, 53.5)], crs="EPSG:4326").to_crs("EPSG:2157")
    frame.to_file(tmp_path / "b.gpkg", layer="area")
    geometry, _ = read_boundary_bytes((tmp_path / "b.gpkg").read_bytes(), "b.gpkg")
    x0, y0, x1, y1 = geometry.bounds
    assert (x0, y0, x1, y1) == pytest.approx((-8.5, 53.0, -8.0, 53.5), abs=1e-6)


def test_zipped_shapefile_in_a_folder(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame({"id": [1]}, geometry=[box(14.0, 56.0, 15.0, 56.5)], crs="EPSG:4326").to_crs("EPSG:3006").to_file(
        folder / "region.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"export/{path.name}")
    geometry, _ = read_boundary_bytes(buffer.getvalue(), "region.zip")
    assert geometry.bounds == pytest.approx((14.0, 56.0, 15.0, 56.5), abs=1e-6)


def test_zip_without_dbf_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("region.shp", b"x")
    with pytest.raises(ImportFileError, match=r"region.zip: region.shp comes without its .shx or .dbf"):
        read_boundary_bytes(buffer.getvalue(), "region.zip")


def test_kml_polygon_boundary():
    kml = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Area</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
-8.5,53.0,0 -8.0,53.0,0 -8.0,53.5,0 -8.5,53.5,0 -8.5,53.0,0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"""
    geometry, _ = read_boundary_bytes(kml, "area.kml")
    assert geometry.equals(box(-8.5, 53.0, -8.0, 53.5))


def test_points_only_are_refused_with_a_fix():
    data = _polygon_geojson(Point(-8, 53))
    with pytest.raises(ImportFileError, match=r"pts.geojson: holds only Point; a boundary must be a polygon"):
        read_boundary_bytes(data, "pts.geojson")


def test_empty_and_unknown_files_are_refused():
    with pytest.raises(ImportFileError, match="the file is empty"):
        read_boundary_bytes(b"", "a.geojson")
    with pytest.raises(ImportFileError, match=r"'.pdf' is not a boundary format"):
        read_boundary_bytes(b"%PDF", "a.pdf")
    with pytest.raises(ImportFileError, match=r"bad.geojson: cannot be read as a boundary"):
        read_boundary_bytes(b"{not json", "bad.geojson")


def test_nuts_file_is_filtered_to_the_region(realdata):
    data = (realdata / "boundaries" / "nuts2021_20m_4326_IE.geojson").read_bytes()
    geometry, described = read_boundary_bytes(data, "ie.geojson", nuts=("IE042",))
    assert described == "IE042 from ie.geojson"
    galway, dublin = Point(-9.05095, 53.27245), Point(-6.24889, 53.33306)
    assert geometry.contains(galway) and not geometry.contains(dublin)


# -- the chain ---------------------------------------------------------------------------
def test_imported_boundary_wins_and_can_be_removed(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    region = load_regions().get("west-ireland")
    imported = import_boundary(workspace, region.id, (DATA / "boundary.geojson").read_bytes(), "boundary.geojson")
    assert imported.source == IMPORTED
    found = boundary_for(region, workspace, online=False)
    assert found.source == IMPORTED and "boundary.geojson" in found.label
    assert found.geometry.equals(box(-8.5, 53.05, -7.5, 53.95))
    # A second import replaces the first.
    import_boundary(workspace, region.id, _polygon_geojson(box(-9, 53, -8, 54)), "other.geojson")
    assert boundary_for(region, workspace, online=False).geometry.equals(box(-9, 53, -8, 54))
    assert remove_imported_boundary(workspace, region.id)
    assert boundary_for(region, workspace, online=False).source == OFFICIAL  # IE042 is shipped in geodata/nuts


def _unshipped(region_id: str = "west-ireland", code: str = "IE999") -> Region:
    """A seed region (with its approximate outline) whose NUTS code no shipped file holds."""
    return dataclasses.replace(load_regions().get(region_id), nuts=(code,))


def test_offline_falls_back_to_the_approximate_outline_with_a_clear_note(tmp_path):
    region = _unshipped()
    found = boundary_for(region, Workspace(tmp_path), online=True, timeout_s=2, url_template=CLOSED_PORT_URL)
    assert found.source == APPROXIMATE
    assert "approximate" in found.label
    assert found.network_failed
    assert "could not be downloaded" in found.notes[0] and "using the approximate outline" in found.notes[0]
    offline = boundary_for(region, Workspace(tmp_path), online=False)
    assert offline.source == APPROXIMATE and "offline" in offline.notes[0]


def test_official_boundary_is_downloaded_once_then_cached(tmp_path, gisco):
    folder, url = gisco
    official = box(-10.3, 52.9, -7.9, 54.4)
    (folder / "IE999.geojson").write_bytes(_polygon_geojson(official, NUTS_ID="IE999"))
    workspace = Workspace(tmp_path / "ws")
    region = _unshipped()
    first = boundary_for(region, workspace, url_template=url)
    assert first.source == OFFICIAL
    assert first.geometry.equals(official)
    assert "IE999" in first.label and "1:1 million" in first.label and "EuroGeographics" in first.attribution
    cache = workspace.read_table(NUTS_CACHE)
    assert list(cache["nuts_id"]) == ["IE999"] and cache["url"].iloc[0] == url.format(nuts_id="IE999")
    (folder / "IE999.geojson").unlink()  # the server has nothing now: the cache must answer
    second = boundary_for(region, workspace, online=False)
    assert second.source == OFFICIAL and second.geometry.equals(official)


def test_shipped_codes_are_never_downloaded_and_a_cached_finer_copy_wins(tmp_path, gisco):
    folder, url = gisco
    region = load_regions().get("west-ireland")
    served = box(-10.3, 52.9, -7.9, 54.4)
    (folder / "IE042.geojson").write_bytes(_polygon_geojson(served, NUTS_ID="IE042"))
    workspace = Workspace(tmp_path / "ws")
    shipped = boundary_for(region, workspace, url_template=url)  # online, but IE042 is shipped
    assert shipped.source == OFFICIAL and "1:20 million" in shipped.label
    assert "© EuroGeographics for the administrative boundaries" in shipped.attribution
    assert workspace.read_table(NUTS_CACHE) is None  # nothing fetched
    assert not shipped.geometry.equals(served)
    # A 1:1 million copy downloaded earlier into the workspace is finer than the shipped file: it wins.
    official_boundary(("IE042",), workspace, url_template=url)
    cached = boundary_for(region, workspace, online=False)
    assert cached.geometry.equals(served) and "1:1 million" in cached.label


def test_missing_code_on_the_server_says_which(tmp_path, gisco):
    _, url = gisco
    with pytest.raises(BoundaryUnavailable, match=r"GISCO has no NUTS 2021 boundary for 'XX999' \(HTTP 404"):
        official_boundary(("XX999",), Workspace(tmp_path), url_template=url)
    found = boundary_for(_region(nuts=("XX999",), outline=None, outline_from=(
        {"countries": ["IE"], "names": ["Galway"], "buffer_km": 5},)), Workspace(tmp_path), url_template=url)
    assert found.source == APPROXIMATE and "HTTP 404" in found.notes[0]
    assert not found.network_failed


def test_partial_region_completes_official_parts_with_the_clipped_outline(tmp_path):
    # Offline, no municipality imported: SE221 official (shipped), Kristianstad approximate.
    region = load_regions().get("blekinge")
    found = boundary_for(region, Workspace(tmp_path / "ws"), online=False)
    assert found.source == APPROXIMATE
    assert found.label.startswith("approximate boundary: official NUTS 2021 SE221 (Eurostat GISCO, 1:20 million)")
    assert "approximate Kristianstad" in found.label and "clipped to SE224" in found.label
    assert "EuroGeographics" in found.attribution and "GeoNames" in found.attribution
    assert any("Municipality Kristianstad is not among the areas imported" in n for n in found.notes)
    nuts = gpd.read_file(ROOT / "geodata" / "nuts" / "nuts2021_20m_4326_SE.geojson").set_index("NUTS_ID")
    kristianstad = Point(14.15242, 56.03129)
    malmo = Point(13.00073, 55.60587)
    assert found.geometry.contains(kristianstad)
    assert not found.geometry.contains(malmo)
    assert found.geometry.buffer(1e-9).covers(nuts.at["SE221", "geometry"])


def test_region_without_any_boundary_source(tmp_path):
    region = _region(nuts=(), outline=None, outline_from=())
    with pytest.raises(BoundaryUnavailable, match=r"region 'test' has no approximate outline"):
        boundary_for(region, Workspace(tmp_path), online=False)


# -- approximate outlines -------------------------------------------------------------------
def test_outline_from_settlements_contains_its_towns():
    geometry = outline_from_settlements([{"countries": ["SE"], "admin1": ["02"], "buffer_km": 6}])
    for lon, lat in ((15.58661, 56.16156), (14.86, 56.2)):  # Karlskrona, Ronneby area
        assert geometry.contains(Point(lon, lat))
    assert not geometry.contains(Point(14.15242, 56.03129))  # Kristianstad is Skåne
    assert shapely.get_num_coordinates(geometry) - 1 <= 40


def test_single_town_outline_is_a_disc_of_the_buffer():
    geometry = outline_from_settlements([{"countries": ["PL"], "names": ["Łódź"], "buffer_km": 9.5}])
    area_km2 = gpd.GeoSeries([geometry], crs="EPSG:4326").to_crs("EPSG:3035").area.iloc[0] / 1e6
    assert 250 < area_km2 < 290  # pi * 9.5² = 283.5 km², a 16-gon is a little smaller


def test_unknown_anchor_town_is_named():
    with pytest.raises(ValueError, match=r"no GeoNames place named 'Nowhereville' in IE"):
        outline_from_settlements([{"countries": ["IE"], "near": [["Nowhereville", 10]]}])


def test_approximate_outlines_are_close_to_the_official_nuts(realdata):
    # A check of the method, not a source of it: outlines come from GeoNames only.
    registry = load_regions()
    files = {"west-ireland": ("IE", "IE042"), "west-pomerania": ("PL", "PL42"), "lodz": ("PL", "PL711")}
    for region_id, (country, code) in files.items():
        nuts = gpd.read_file(realdata / "boundaries" / f"nuts2021_20m_4326_{country}.geojson")
        official = nuts.loc[nuts["NUTS_ID"] == code].geometry.iloc[0]
        outline = approximate_outline(registry.get(region_id))
        areas = gpd.GeoSeries([outline.intersection(official), outline.union(official)], crs="EPSG:4326").to_crs(
            "EPSG:3035").area
        assert areas.iloc[0] / areas.iloc[1] > 0.7, region_id
