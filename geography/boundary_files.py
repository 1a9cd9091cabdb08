"""Read boundary files (GeoJSON, GeoPackage, KML/KMZ, zipped shapefile) into one (multi)polygon in EPSG:4326."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import CRS
from loaders.errors import ImportFileError

_BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip", ".shz")


def polygonal(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """Keep the polygon parts of a geometry (collections from KML), or None."""
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if hasattr(geometry, "geoms"):
        parts = [p for p in (polygonal(g) for g in geometry.geoms) if p is not None]
        return shapely.union_all(parts) if parts else None
    return None


def _frame_from_bytes(data: bytes, name: str) -> gpd.GeoDataFrame:
    suffix = Path(name).suffix.lower()
    if suffix in (".kml", ".kmz"):
        from loaders import read_bytes

        return read_bytes(data, name).features
    if suffix in (".zip", ".shz"):
        return pyogrio.read_dataframe(_flat_shapefile_zip(data, name), use_arrow=False)
    if suffix not in (".geojson", ".json", ".gpkg"):
        raise ImportFileError(
            f"{name}: '{suffix or 'no extension'}' is not a boundary format we read. "
            "Use GeoJSON, GeoPackage (.gpkg), KML/KMZ or a zipped shapefile (.zip)."
        )
    if suffix == ".gpkg":
        # In memory the GeoPackage has no .gpkg name and GDAL warns; inside a zip it has one.
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("boundary.gpkg", data)
        data = buffer.getvalue()
    return pyogrio.read_dataframe(data, use_arrow=False)


def _flat_shapefile_zip(data: bytes, name: str) -> bytes:
    """Return a zip holding only the first shapefile of `data`, at the archive's root.

    GDAL finds a shapefile in an in-memory zip only at the root; exports often put it in a
    folder. Repacking in memory avoids temp files.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [n for n in archive.namelist() if not n.startswith("__MACOSX") and not n.endswith("/")]
            shp = sorted(n for n in members if n.lower().endswith(".shp"))
            if not shp:
                raise ImportFileError(
                    f"{name}: the zip holds no .shp file. Zip the shapefile's .shp, .shx, .dbf and .prj together."
                )
            stem = shp[0][:-4]
            parts = [n for n in members if n.startswith(stem + ".") and "." not in n[len(stem) + 1:]]
            if not any(n.lower().endswith(".dbf") for n in parts) or not any(n.lower().endswith(".shx") for n in parts):
                raise ImportFileError(
                    f"{name}: {Path(shp[0]).name} comes without its .shx or .dbf file. "
                    "Zip all the shapefile's files (.shp, .shx, .dbf, .prj) together."
                )
            flat = io.BytesIO()
            with zipfile.ZipFile(flat, "w") as out:
                for member in parts:
                    out.writestr("boundary" + member[len(stem):].lower(), archive.read(member))
    except zipfile.BadZipFile:
        raise ImportFileError(f"{name}: not a valid zip archive. Zip the shapefile's .shp, .shx, .dbf and .prj again.") from None
    return flat.getvalue()


def read_boundary_bytes(data: bytes, name: str, *, nuts: tuple[str, ...] = ()) -> tuple[BaseGeometry, str]:
    """Read a boundary file's bytes and dissolve it to one (multi)polygon in EPSG:4326.

    Parameters
    ----------
    data, name
        File content and name (the extension picks the format: GeoJSON, GPKG, KML/KMZ,
        zipped shapefile).
    nuts
        When the file has a ``NUTS_ID`` column holding any of these codes (e.g. a whole
        country's NUTS file), only those features are kept.

    Returns
    -------
    The geometry and a short description of what was kept.

    Raises ImportFileError when the file cannot be read or holds no polygon.
    """
    if not data:
        raise ImportFileError(f"{name}: the file is empty. Export the boundary again.")
    try:
        frame = _frame_from_bytes(data, name)
    except ImportFileError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportFileError(
            f"{name}: cannot be read as a boundary ({first}). "
            "Export it again as GeoJSON, GeoPackage, KML or a zipped shapefile."
        ) from None
    described = f"{len(frame)} feature(s) of {name}"
    id_column = next((c for c in frame.columns if str(c).lower() == "nuts_id"), None)
    if id_column is not None and nuts:
        chosen = frame[frame[id_column].astype(str).str.upper().isin(nuts)]
        if not chosen.empty:
            frame = chosen
            described = f"{', '.join(sorted(chosen[id_column].astype(str)))} from {name}"
    if frame.crs is None:
        bounds = frame.total_bounds if len(frame) else np.array([0, 0, 0, 0])
        if not (np.all(np.abs(bounds[[0, 2]]) <= 180) and np.all(np.abs(bounds[[1, 3]]) <= 90)):
            raise ImportFileError(
                f"{name}: the coordinates are not longitude/latitude and the file names no CRS. "
                "Include the .prj file in the zip (or export in EPSG:4326)."
            )
        frame = frame.set_crs(CRS)
    elif not frame.crs.equals(CRS):
        frame = frame.to_crs(CRS)
    parts = [p for p in (polygonal(g) for g in frame.geometry) if p is not None]
    if not parts:
        kinds = sorted({g.geom_type for g in frame.geometry if g is not None and not g.is_empty})
        found = f"only {', '.join(kinds)}" if kinds else "no geometry"
        raise ImportFileError(
            f"{name}: holds {found}; a boundary must be a polygon. "
            "Draw the region as a polygon (in My Maps: 'Draw a line' > 'Add line or shape' and close it) "
            "or export the area layer."
        )
    geometry = shapely.make_valid(shapely.union_all([shapely.make_valid(p) for p in parts]))
    geometry = polygonal(geometry)
    if geometry is None or geometry.is_empty or geometry.area == 0:
        raise ImportFileError(f"{name}: the polygons have no area. Check the file holds the region's outline.")
    return geometry, described


def read_boundary_file(path: str | Path, *, nuts: tuple[str, ...] = ()) -> tuple[BaseGeometry, str]:
    """Read a boundary file from disk (see `read_boundary_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be opened ({exc.strerror}). Check the path.") from None
    return read_boundary_bytes(data, path.name, nuts=nuts)
