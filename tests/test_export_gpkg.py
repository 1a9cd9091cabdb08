"""GeoPackage export: one table per layer and geometry type, per analysis result; readable by QGIS and by us."""
from __future__ import annotations

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from exporters.gpkg import META_TABLE, write_gpkg
from loaders import read_bytes, read_file
from loaders.errors import ImportFileError
from tests.test_export_fixtures import mymaps_kmz


@pytest.fixture
def features(tmp_path):
    return read_file(mymaps_kmz(tmp_path)).features


def _sql(path, query):
    with sqlite3.connect(path) as con:
        return con.execute(query).fetchall()


def test_one_table_per_layer_and_geometry_type_registered_in_gpkg_contents(features, tmp_path):
    path = write_gpkg(features, tmp_path / "out.gpkg")
    contents = dict(_sql(path, "SELECT table_name, data_type FROM gpkg_contents"))
    assert contents == {
        "hubs": "features", "hubs_polygons": "features", "training": "features", "networks": "features",
        "networks_lines": "features", "unclassified": "features", META_TABLE: "attributes",
    }
    geometry_types = dict(_sql(path, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert geometry_types == {
        "hubs": "POINT", "hubs_polygons": "POLYGON", "training": "POINT", "networks": "POINT",
        "networks_lines": "LINESTRING", "unclassified": "POINT",
    }
    assert set(_sql(path, "SELECT DISTINCT srs_id FROM gpkg_geometry_columns")) == {(4326,)}
    assert _sql(path, "PRAGMA application_id") == [(0x47504B47,)]  # 'GPKG'
    assert _sql(path, "PRAGMA integrity_check") == [("ok",)]


def test_gdal_reads_each_table_with_its_rows(features, tmp_path):
    path = write_gpkg(features, tmp_path / "out.gpkg")
    hubs = pyogrio.read_dataframe(path, layer="hubs")
    assert sorted(hubs["name"]) == sorted(features.loc[(features["layer"] == "hubs") & (features.geom_type == "Point"), "name"])
    assert hubs.crs.to_epsg() == 4326
    assert set(hubs.columns) >= {"feature_id", "attributes", "geometry"}


def test_metadata_table_describes_every_table(features, tmp_path):
    analysis = {
        "gap_areas": gpd.GeoDataFrame({"layer": ["hubs", "training"], "area_km2": [12.5, 3.0]},
                                      geometry=[shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])],
                                      crs="EPSG:4326"),
        "coverage_summary": pd.DataFrame({"layer": ["hubs"], "coverage_share": [0.61]}),
    }
    path = write_gpkg(features, tmp_path / "out.gpkg", analysis=analysis, region="west-ireland", note="approximate outline")
    meta = pyogrio.read_dataframe(path, layer=META_TABLE).set_index("table_name")
    assert meta.loc["hubs", "kind"] == "features" and meta.loc["hubs", "rows"] == 3 and meta.loc["hubs_polygons", "rows"] == 1
    assert meta.loc["gap_areas", "kind"] == "analysis" and meta.loc["gap_areas", "geometry_type"] == "MultiPolygon"
    assert meta.loc["coverage_summary", "kind"] == "table"
    assert set(meta["region"]) == {"west-ireland"} and set(meta["note"]) == {"approximate outline"}
    gaps = dict(_sql(path, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))["gap_areas"]
    assert gaps == "MULTIPOLYGON"  # Polygon and MultiPolygon promoted, for QGIS
    assert _sql(path, "SELECT data_type FROM gpkg_contents WHERE table_name = 'coverage_summary'") == [("attributes",)]


def test_the_loader_reads_only_feature_tables(features, tmp_path):
    analysis = {"suggested_sites": gpd.GeoDataFrame({"name": ["Boyle"]}, geometry=[shapely.Point(-8.3, 53.97)],
                                                    crs="EPSG:4326")}
    path = write_gpkg(features, tmp_path / "out.gpkg", analysis=analysis)
    result = read_file(path)
    assert result.rows_read == len(features) and "Boyle" not in set(result.features["name"])
    assert result.features.iloc[0]["source_ref"].startswith("table 'hubs' › row ")


def test_replacing_an_existing_file_leaves_no_stray_tables(features, tmp_path):
    path = tmp_path / "out.gpkg"
    write_gpkg(features, path)
    write_gpkg(features[features["layer"] == "training"], path)
    assert {t for (t,) in _sql(path, "SELECT table_name FROM gpkg_contents")} == {"training", META_TABLE}
    assert list(tmp_path.glob(".out-*")) == []


def test_a_foreign_geopackage_is_read_with_layers_from_table_names(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["Fabryka Sztuki"], "Branża": ["sztuka"], "population": [12]},
                             geometry=[shapely.Point(19.48, 51.745)], crs="EPSG:4326").to_crs("EPSG:3035")
    pyogrio.write_dataframe(frame, tmp_path / "qgis.gpkg", layer="Huby kreatywne", driver="GPKG")
    result = read_bytes((tmp_path / "qgis.gpkg").read_bytes(), "qgis.gpkg")
    row = result.features.iloc[0]
    assert row["layer"] == "hubs" and row["name"] == "Fabryka Sztuki"
    assert row["attributes"] == '{"Branża": "sztuka", "population": 12}'
    assert row.geometry.x == pytest.approx(19.48) and row.geometry.y == pytest.approx(51.745)  # from EPSG:3035


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"PK\x03\x04 not sqlite", "not a GeoPackage"),
    (b"SQLite format 3\x00" + b"\x00" * 50, "cannot be read|no feature tables"),
])
def test_unreadable_geopackages_give_a_clear_error(data, match):
    with pytest.raises(ImportFileError, match=match):
        read_bytes(data, "broken.gpkg")
