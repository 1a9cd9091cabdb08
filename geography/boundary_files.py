"""Read boundary files (GeoJSON, TopoJSON, GeoPackage, KML/KMZ, zipped shapefile) as polygons in EPSG:4326."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import CRS, METRIC_CRS
from i18n import Message, Text
from loaders.errors import ImportFileError

_BOUNDARY_SUFFIXES = (".geojson", ".json", ".topojson", ".gpkg", ".kml", ".kmz", ".zip", ".shz")
_FORMATS = Text("GeoJSON, TopoJSON, GeoPackage, KML or a zipped shapefile")
# Where EPSG:3035 (ETRS89-LAEA Europe) coordinates of Europe fall, in metres. Nuts2json
# TopoJSON files are in EPSG:3035 but, as TopoJSON has no CRS member, do not say so.
_LAEA_EUROPE = (1.0e6, 0.5e6, 8.0e6, 7.0e6)


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


def _frame_from_bytes(data: bytes, name: str) -> tuple[gpd.GeoDataFrame, str, str]:
    """Read the polygon layer of a file: the frame, the GDAL driver name and the layer's name ("" if the only one)."""
    suffix = Path(name).suffix.lower()
    if suffix in (".kml", ".kmz"):
        from loaders import read_bytes

        return read_bytes(data, name).features, "KML", ""
    if suffix in (".zip", ".shz"):
        return pyogrio.read_dataframe(_flat_shapefile_zip(data, name), use_arrow=False), "ESRI Shapefile", ""
    if suffix not in (".geojson", ".json", ".topojson", ".gpkg"):
        raise ImportFileError(Message(
            "{file}: '{suffix}' is not a boundary format we read. Use GeoJSON, TopoJSON, GeoPackage (.gpkg), KML/KMZ "
            "or a zipped shapefile (.zip).", file=name, suffix=suffix or Text("no extension")))
    if suffix == ".gpkg":
        # In memory the GeoPackage has no .gpkg name and GDAL warns; inside a zip it has one.
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("boundary.gpkg", data)
        data = buffer.getvalue()
    layers = [str(row[0]) for row in pyogrio.list_layers(data)]
    if len(layers) <= 1:
        return pyogrio.read_dataframe(data, use_arrow=False), pyogrio.read_info(data)["driver"], ""
    return _polygon_layer(data, layers)


def _polygon_layer(data: bytes, layers: list[str]) -> tuple[gpd.GeoDataFrame, str, str]:
    """Pick the layer holding the most polygons (a TopoJSON has one layer per object: regions, borders, graticule)."""
    best: tuple[int, gpd.GeoDataFrame, str] | None = None
    for layer in layers:
        frame = pyogrio.read_dataframe(data, layer=layer, use_arrow=False)
        count = int(frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).sum()) if len(frame) else 0
        if best is None or count > best[0]:
            best = (count, frame, layer)
    assert best is not None
    return best[1], pyogrio.read_info(data, layer=best[2])["driver"], best[2]


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
                raise ImportFileError(Message(
                    "{file}: the zip holds no .shp file. Zip the shapefile's .shp, .shx, .dbf and .prj together.",
                    file=name))
            stem = shp[0][:-4]
            parts = [n for n in members if n.startswith(stem + ".") and "." not in n[len(stem) + 1:]]
            if not any(n.lower().endswith(".dbf") for n in parts) or not any(n.lower().endswith(".shx") for n in parts):
                raise ImportFileError(Message(
                    "{file}: {shp} comes without its .shx or .dbf file. Zip all the shapefile's files (.shp, .shx, "
                    ".dbf, .prj) together.", file=name, shp=Path(shp[0]).name))
            flat = io.BytesIO()
            with zipfile.ZipFile(flat, "w") as out:
                for member in parts:
                    out.writestr("boundary" + member[len(stem):].lower(), archive.read(member))
    except zipfile.BadZipFile:
        raise ImportFileError(Message("{file}: not a valid zip archive. Zip the shapefile's .shp, .shx, .dbf and .prj "
                                      "again.", file=name)) from None
    return flat.getvalue()


def _lonlat(bounds: np.ndarray) -> bool:
    return bool(np.all(np.abs(bounds[[0, 2]]) <= 180) and np.all(np.abs(bounds[[1, 3]]) <= 90))


def _in_laea_europe(bounds: np.ndarray) -> bool:
    x0, y0, x1, y1 = _LAEA_EUROPE
    return bool(bounds[0] >= x0 and bounds[2] <= x1 and bounds[1] >= y0 and bounds[3] <= y1)


def _polygon_frame(data: bytes, name: str) -> tuple[gpd.GeoDataFrame, str]:
    """Read a boundary or area file into a frame in EPSG:4326, plus a note on its layer and CRS ("" if none)."""
    if not data:
        raise ImportFileError(Message("{file}: the file is empty. Export the boundary again.", file=name))
    try:
        frame, driver, layer = _frame_from_bytes(data, name)
    except ImportFileError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportFileError(Message(
            "{file}: cannot be read as a boundary ({reason}). Export it again as {formats}.", file=name, reason=first,
            formats=_FORMATS)) from None
    notes = [f"layer '{layer}'"] if layer else []
    if frame.crs is None:
        bounds = frame.total_bounds if len(frame) else np.array([0, 0, 0, 0])
        if _lonlat(bounds):
            frame = frame.set_crs(CRS)
        elif driver == "TopoJSON" and _in_laea_europe(bounds):
            frame = frame.set_crs(METRIC_CRS).to_crs(CRS)
            notes.append("coordinates taken as EPSG:3035 (metres, as Nuts2json TopoJSON)")
        else:
            raise ImportFileError(Message(
                "{file}: the coordinates are not longitude/latitude and the file names no CRS. Include the .prj file "
                "in the zip (or export in EPSG:4326).", file=name))
    elif not frame.crs.equals(CRS):
        frame = frame.to_crs(CRS)
    return frame, ", ".join(notes)


def _no_polygon(frame: gpd.GeoDataFrame, name: str) -> ImportFileError:
    kinds = sorted({g.geom_type for g in frame.geometry if g is not None and not g.is_empty})
    found = Text("only {kinds}", kinds=", ".join(kinds)) if kinds else Text("no geometry")
    return ImportFileError(Message(
        "{file}: holds {found}; a boundary must be a polygon. Draw the region as a polygon (in My Maps: 'Draw a "
        "line' > 'Add line or shape' and close it) or export the area layer.", file=name, found=found))


def _id_column(frame: gpd.GeoDataFrame, nuts: tuple[str, ...]) -> str | None:
    """The column of NUTS codes: ``NUTS_ID``, or ``id`` when it holds one of `nuts` (Nuts2json)."""
    columns = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    if "nuts_id" in columns:
        return columns["nuts_id"]
    if "id" in columns and nuts and frame[columns["id"]].astype(str).str.upper().isin(nuts).any():
        return columns["id"]
    return None


def read_boundary_bytes(data: bytes, name: str, *, nuts: tuple[str, ...] = ()) -> tuple[BaseGeometry, str]:
    """Read a boundary file's bytes and dissolve it to one (multi)polygon in EPSG:4326.

    Parameters
    ----------
    data, name
        File content and name (the extension picks the format: GeoJSON, TopoJSON, GPKG,
        KML/KMZ, zipped shapefile). Of a file with several layers (a TopoJSON's objects)
        the one holding the most polygons is read. A TopoJSON without lon/lat
        coordinates whose values fit Europe in EPSG:3035 (Nuts2json files) is taken as
        EPSG:3035 and reprojected.
    nuts
        When the file has a ``NUTS_ID`` column (or an ``id`` column of NUTS codes)
        holding any of these codes (e.g. a whole country's NUTS file), only those
        features are kept.

    Returns
    -------
    The geometry and a short description of what was kept.

    Raises ImportFileError when the file cannot be read or holds no polygon.
    """
    frame, read_note = _polygon_frame(data, name)
    described = f"{len(frame)} feature(s) of {name}"
    id_column = _id_column(frame, nuts)
    if id_column is not None and nuts:
        chosen = frame[frame[id_column].astype(str).str.upper().isin(nuts)]
        if not chosen.empty:
            frame = chosen
            described = f"{', '.join(sorted(chosen[id_column].astype(str)))} from {name}"
    if read_note:
        described += f" ({read_note})"
    parts = [p for p in (polygonal(g) for g in frame.geometry) if p is not None]
    if not parts:
        raise _no_polygon(frame, name)
    geometry = shapely.make_valid(shapely.union_all([shapely.make_valid(p) for p in parts]))
    geometry = polygonal(geometry)
    if geometry is None or geometry.is_empty or geometry.area == 0:
        raise ImportFileError(Message(
            "{file}: the polygons have no area. Check the file holds the region's outline.", file=name))
    return geometry, described


def read_area_bytes(data: bytes, name: str) -> tuple[gpd.GeoDataFrame, str, int]:
    """Read a file of area polygons (municipalities, counties) without dissolving them.

    Same formats and layer/CRS rules as `read_boundary_bytes`.

    Returns
    -------
    The polygon features (their attribute columns and a valid (multi)polygon in
    EPSG:4326), a note on the layer/CRS used ("" if nothing to say), and how many
    features were left out for having no polygon.

    Raises ImportFileError when the file cannot be read or holds no polygon.
    """
    frame, read_note = _polygon_frame(data, name)
    geometries = [polygonal(shapely.make_valid(g)) if g is not None else None for g in frame.geometry]
    keep = np.array([g is not None and not g.is_empty and g.area > 0 for g in geometries], dtype=bool)
    if not keep.any():
        raise _no_polygon(frame, name)
    out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name)[keep].reset_index(drop=True),
                           geometry=[g for g, k in zip(geometries, keep) if k], crs=CRS)
    return out, read_note, int((~keep).sum())


def read_boundary_file(path: str | Path, *, nuts: tuple[str, ...] = ()) -> tuple[BaseGeometry, str]:
    """Read a boundary file from disk (see `read_boundary_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(Message(
            "{file}: cannot be opened ({reason}). Check the path.", file=path.name, reason=exc.strerror)) from None
    return read_boundary_bytes(data, path.name, nuts=nuts)
