"""Write a GeoPackage for QGIS: one table per layer (and geometry type) and per analysis result.

Layout of the file:

- ``hubs``, ``training``, ``networks``, ``unclassified``: the canonical columns, with Points
  and features without a location. A layer's lines, polygons or multi-geometries go to
  ``<layer>_lines``, ``<layer>_polygons``, ``<layer>_multipolygons`` … so every table has
  one declared geometry type (QGIS styles one type per table) and nothing is converted.
- one table per analysis result (``coverage_discs``, ``gap_areas`` …; a mix of Polygon
  and MultiPolygon is written as MultiPolygon) and per summary table (``coverage_summary``,
  ``comparison``: attribute tables without geometry);
- ``atlas_export``: what each table is (``kind`` = features / analysis / table, ``layer``,
  title, geometry type, rows), when, for which region and boundary. `loaders.gpkg` uses it
  to read the feature tables back.

``attributes`` stays a JSON text column, as in the workspace. Everything is EPSG:4326.
The file is written beside the target and renamed into place, so a failed export never
leaves half a GeoPackage under the requested name.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from exporters.common import ANALYSIS_TITLES, layer_order, layer_title, table_name
from loaders.features import COLUMNS, CRS

META_TABLE = "atlas_export"
META_COLUMNS = ("table_name", "kind", "layer", "title", "geometry_type", "rows", "exported_at", "region", "note")
# Table suffix per geometry type; Points (and missing geometries) keep the layer's own name.
_SUFFIX = {
    "Point": "", "MultiPoint": "_multipoints", "LineString": "_lines", "MultiLineString": "_multilines",
    "Polygon": "_polygons", "MultiPolygon": "_multipolygons", "GeometryCollection": "_collections",
    "LinearRing": "_lines",
}


_MULTI = {"POINT": "MULTIPOINT", "LINESTRING": "MULTILINESTRING", "POLYGON": "MULTIPOLYGON"}


def _geometry_type(frame: gpd.GeoDataFrame, *, promote: bool = False) -> str:
    geoms = frame.geometry.values
    present = geoms[~(geoms.isna() | geoms.is_empty)]
    types = set(shapely.get_type_id(present).tolist()) if len(present) else set()
    names = {shapely.GeometryType(t).name for t in types}
    if promote and len(names) == 2 and any(names == {single, multi} for single, multi in _MULTI.items()):
        names = {next(n for n in names if n.startswith("MULTI"))}
    if len(names) != 1:
        name = "Unknown" if names else "Point"
    else:
        name = {"POINT": "Point", "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString",
                "MULTILINESTRING": "MultiLineString", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon",
                "LINEARRING": "LineString", "GEOMETRYCOLLECTION": "GeometryCollection"}[names.pop()]
    has_z = bool(len(present)) and bool(shapely.has_z(present).any())
    return f"{name} Z" if has_z and name != "Unknown" else name


def split_by_geometry(layer: str, frame: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Split one layer's features into tables of a single geometry type, named by `_SUFFIX`."""
    geoms = frame.geometry.values
    kinds = pd.Series(geoms.geom_type, index=frame.index).fillna("Point")
    kinds = kinds.where(~geoms.is_empty, "Point")
    tables = {}
    for kind in sorted(kinds.unique(), key=lambda k: (_SUFFIX.get(k, "_other") != "", k)):
        tables[table_name(layer) + _SUFFIX.get(kind, "_other")] = frame[kinds == kind]
    return tables


def _write(frame: pd.DataFrame, path: Path, layer: str, *, promote: bool = False) -> str:
    """Write one table; `promote` turns a mix of Polygon and MultiPolygon (…) into the Multi type."""
    if isinstance(frame, gpd.GeoDataFrame):
        frame = frame.to_crs(CRS) if frame.crs is not None and frame.crs != CRS else frame
        if frame.crs is None:
            frame = frame.set_crs(CRS)
        geometry_type = _geometry_type(frame, promote=promote)
        pyogrio.write_dataframe(
            frame, path, layer=layer, driver="GPKG", geometry_type=geometry_type,
            promote_to_multi=promote and geometry_type.startswith("Multi"), use_arrow=True,
        )
        return geometry_type
    pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer, driver="GPKG", use_arrow=True)
    return ""


def _text_frame(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    # Canonical columns as text (a column of only None would otherwise become a non-text type).
    columns = [c for c in COLUMNS if c in features.columns]
    extra = [c for c in features.columns if c not in columns and c != features.geometry.name]
    text = features[columns].astype("string")
    out = pd.concat([text, features[extra]], axis=1) if extra else text
    return gpd.GeoDataFrame(out, geometry=features.geometry.values, crs=features.crs or CRS)


def write_gpkg(
    features: gpd.GeoDataFrame,
    path: str | Path,
    *,
    analysis: dict[str, pd.DataFrame] | None = None,
    region: str | None = None,
    note: str = "",
) -> Path:
    """Write features (one table per layer and geometry type) and analysis results to `path`.

    Parameters
    ----------
    features
        Canonical features (any CRS; written in EPSG:4326).
    path
        The ``.gpkg`` to create (replaced if it exists).
    analysis
        Named analysis results: GeoDataFrames become spatial tables, DataFrames attribute tables.
    region
        Region id recorded in ``atlas_export`` (None: the whole workspace).
    note
        Recorded with every table (e.g. which boundary was used).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL creates the file; an empty one is not a GeoPackage
    meta = []
    try:
        frame = _text_frame(features)
        for layer in layer_order(frame["layer"]):
            for table, part in split_by_geometry(layer, frame[frame["layer"] == layer]).items():
                geometry_type = _write(part.reset_index(drop=True), tmp, table)
                meta.append((table, "features", layer, layer_title(layer), geometry_type, len(part)))
        for name, result in (analysis or {}).items():
            table = table_name(name)
            geometry_type = _write(result.reset_index(drop=True), tmp, table, promote=True)
            kind = "analysis" if isinstance(result, gpd.GeoDataFrame) else "table"
            title = ANALYSIS_TITLES.get(name, name.replace("_", " "))
            meta.append((table, kind, "", title, geometry_type, len(result)))
        rows = [dict(zip(META_COLUMNS, m + (now, region or "", note))) for m in meta]
        meta_frame = pd.DataFrame(rows, columns=list(META_COLUMNS)) if rows else pd.DataFrame(
            {c: pd.Series(dtype="object") for c in META_COLUMNS}
        )
        pyogrio.write_dataframe(meta_frame.astype({"rows": "int64"}), tmp, layer=META_TABLE, driver="GPKG")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
