"""Read GeoPackages (our own exports, or any with feature tables) into canonical features.

The file is opened in memory with SQLite (no temporary file, no GDAL driver state) and
only read. Tables read: those that ``atlas_export`` lists as ``features`` (what
`exporters.gpkg` writes), else every feature table in ``gpkg_contents``. Columns named
like canonical ones fill them (``feature_id`` verbatim, so our exports round-trip),
``attributes`` (JSON text) is merged back and any other column is kept in ``attributes``.
A table without a ``layer`` column takes its layer from the table name. Geometries in
another CRS are reprojected to EPSG:4326. ``source_ref`` is ``table 'hubs' › row 3``.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS as ProjCRS
from pyproj.exceptions import ProjError

from i18n import Message, Text
from loaders.errors import ImportFileError
from loaders.features import COLUMNS, CRS, LoadResult, Rejected, make_result
from loaders.geojson import attributes_from
from loaders.layers import layer_from_name

_MAGIC = b"SQLite format 3\x00"
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_CANONICAL = set(COLUMNS) - {"feature_id", "source_file", "source_ref", "attributes", "location_source"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _wkb(blob: bytes | None) -> bytes | None:
    """Strip the GeoPackage header from a geometry blob; None for a missing or empty geometry."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        return None
    return bytes(blob[8 + envelope:])


def _tables(con: sqlite3.Connection) -> list[tuple[str, str | None]]:
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    if "gpkg_contents" not in names:
        return []
    if "atlas_export" in names:
        listed = con.execute("SELECT table_name, layer FROM atlas_export WHERE kind = 'features'").fetchall()
        return [(t, layer or None) for t, layer in listed if t in names]
    rows = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'").fetchall()
    return [(t, None) for (t,) in rows if t in names]


def _crs(con: sqlite3.Connection, table: str) -> tuple[str | None, Any]:
    row = con.execute(
        "SELECT g.column_name, s.definition, s.organization, s.organization_coordsys_id "
        "FROM gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id "
        "WHERE g.table_name = ?", (table,),
    ).fetchone()
    if row is None:
        return None, None
    column, definition, organization, code = row
    if organization and str(organization).upper() == "EPSG" and code == 4326:
        return column, None
    if not definition or definition == "undefined":
        return column, None
    try:
        return column, ProjCRS.from_wkt(definition)
    except Exception:  # pyproj raises CRSError and others for odd definitions
        return column, None


def _check(geometry: Any) -> str | None:
    coords = shapely.get_coordinates(geometry)
    if len(coords) and not np.isfinite(coords).all():
        return Text("a coordinate is not a finite number (NaN or infinite). "
                    "Fix the geometry in QGIS (Vector → Geometry Tools → Check Validity) and save it again.")
    if len(coords) and ((np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any()):
        lon, lat = coords[(np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)][0]
        return Text("a point at longitude {lon}, latitude {lat} is outside −180…180 / −90…90. "
                    "Check the layer's CRS in QGIS and save it as EPSG:4326.", lon=lon, lat=lat)
    return None


def features_from_gpkg(data: bytes, source_file: str) -> LoadResult:
    """Read the feature tables of a GeoPackage given as bytes into canonical features.

    Parameters
    ----------
    data
        The ``.gpkg`` file content.
    source_file
        The file name (provenance and messages).
    """
    if not data:
        raise ImportFileError(Message("{file}: the file is empty (0 bytes). Export the GeoPackage again.",
                                      file=source_file))
    if not data.startswith(_MAGIC):
        raise ImportFileError(Message(
            "{file}: not a GeoPackage (a GeoPackage is an SQLite database). Save the layer from QGIS as GeoPackage, "
            "or export it again.", file=source_file))
    con = sqlite3.connect(":memory:")
    # Text that is not UTF-8 (a damaged page, another tool's encoding) is read with U+FFFD
    # in place of the bad bytes instead of failing the whole file.
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        con.deserialize(data)
        tables = _tables(con)
        if not tables:
            raise ImportFileError(Message(
                "{file}: the GeoPackage holds no feature tables. Save a point, line or polygon layer into it (QGIS: "
                "Export → Save Features As → GeoPackage).", file=source_file))
        records, rejected, read = [], [], 0
        for table, table_layer in tables:
            geometry_column, crs = _crs(con, table)
            cursor = con.execute(f"SELECT * FROM {_quote(table)}")
            names = [d[0] for d in cursor.description]
            for number, values in enumerate(cursor, start=1):
                read += 1
                where = f"table '{table}' › row {number}"
                row = dict(zip(names, values))
                blob = row.pop(geometry_column, None) if geometry_column else None
                row.pop("fid", None)
                wkb = _wkb(blob)
                geometry = None
                if wkb is not None:
                    try:
                        geometry = shapely.from_wkb(wkb)
                        if crs is not None:
                            geometry = gpd.GeoSeries([geometry], crs=crs).to_crs(CRS).iloc[0]
                    except (shapely.errors.GEOSException, ValueError, TypeError, ProjError) as exc:
                        rejected.append(Rejected(where, Text("geometry cannot be read ({reason}). Fix it in QGIS.",
                                                             reason=str(exc)[:200]), row))
                        continue
                    problem = _check(geometry)
                    if problem:
                        rejected.append(Rejected(where, problem, row))
                        continue
                attributes = attributes_from(row.pop("attributes", None))
                extra = {k: v for k, v in row.items() if k not in COLUMNS and v is not None}
                record = {k: row.get(k) for k in _CANONICAL}
                if not record.get("layer"):
                    record["layer"] = table_layer or layer_from_name(table)
                record.update(
                    feature_id=row.get("feature_id") or None,
                    geometry=None if geometry is None or geometry.is_empty else geometry,
                    location_source=row.get("location_source") or ("coordinates" if geometry is not None else "none"),
                    source_ref=where,
                    attributes={**attributes, **extra},
                )
                records.append(record)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        # SQLite's message quotes a damaged schema, whose bytes may not even be UTF-8.
        reason = Text("its table definitions are damaged") if isinstance(exc, UnicodeDecodeError) else str(exc)[:200]
        raise ImportFileError(Message(
            "{file}: the GeoPackage cannot be read ({reason}). The file is damaged or cut short: export it again.",
            file=source_file, reason=reason)) from None
    finally:
        con.close()
    return make_result(source_file, records, rejected, read)


__all__ = ["features_from_gpkg"]
