"""A region's boundary: imported by the user, official GISCO NUTS (cached), or an approximate outline."""
from __future__ import annotations

import io
import json
import os
import socket
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from atlas.regions import Region
from loaders.errors import ImportFileError

CRS = "EPSG:4326"
METRIC_CRS = "EPSG:3035"
IMPORTED, OFFICIAL, APPROXIMATE, NONE = "imported", "official", "approximate", "none"
BOUNDARIES = "boundaries"              # workspace table: region_id, source, file, fetched_at, geometry
NUTS_CACHE = "nuts_boundaries"         # workspace table: nuts_id, name, url, fetched_at, geometry
BOUNDARY_COLUMNS = ("region_id", "source", "file", "fetched_at")
NUTS_COLUMNS = ("nuts_id", "name", "url", "fetched_at")

# One small file per NUTS id (1:1 million, EPSG:4326, NUTS 2021): tens to hundreds of kB,
# instead of the 40 MB all-Europe level-3 file. Override with ATLAS_GISCO_NUTS_URL (tests).
GISCO_NUTS_URL = (
    "https://gisco-services.ec.europa.eu/distribution/v2/nuts/distribution/"
    "{nuts_id}-region-01m-4326-2021.geojson"
)
GISCO_ATTRIBUTION = "© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, 1:1 million)"
APPROXIMATE_LABEL = (
    "approximate outline (buffered concave hull of the region's GeoNames settlements), "
    "not an official boundary"
)
MAX_OUTLINE_VERTICES = 40
_BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip", ".shz")


class BoundaryUnavailable(OSError):
    """No boundary could be obtained from a source (offline, no such code, nothing imported).

    ``network`` is True when the cause was the connection (so later downloads would fail too).
    """

    def __init__(self, message: str, *, network: bool = False):
        super().__init__(message)
        self.network = network


@dataclass
class Boundary:
    """A region's boundary as one (multi)polygon in EPSG:4326, with where it came from.

    Attributes
    ----------
    geometry
        Polygon or MultiPolygon, lon/lat (EPSG:4326).
    source
        ``imported`` (a file the user gave), ``official`` (Eurostat GISCO NUTS 2021) or
        ``approximate`` (the outline shipped in ``geodata/``, or official parts completed
        with it).
    label
        One line saying what it is, for reports and map legends.
    attribution
        Copyright notice to show with the map, or "".
    notes
        Why a preferred source was not used (e.g. offline), for the report.
    network_failed
        True when a download failed for lack of a connection (callers looping over
        regions then stop trying).
    """

    geometry: BaseGeometry
    source: str
    label: str
    attribution: str = ""
    notes: list[str] = field(default_factory=list)
    network_failed: bool = False

    def area_km2(self) -> float:
        """Area in km², computed in EPSG:3035 (equal-area)."""
        return float(gpd.GeoSeries([self.geometry], crs=CRS).to_crs(METRIC_CRS).area.iloc[0] / 1e6)


# -- reading boundary files ------------------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _polygonal(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """Keep the polygon parts of a geometry (collections from KML), or None."""
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if hasattr(geometry, "geoms"):
        parts = [p for p in (_polygonal(g) for g in geometry.geoms) if p is not None]
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
    parts = [p for p in (_polygonal(g) for g in frame.geometry) if p is not None]
    if not parts:
        kinds = sorted({g.geom_type for g in frame.geometry if g is not None and not g.is_empty})
        found = f"only {', '.join(kinds)}" if kinds else "no geometry"
        raise ImportFileError(
            f"{name}: holds {found}; a boundary must be a polygon. "
            "Draw the region as a polygon (in My Maps: 'Draw a line' > 'Add line or shape' and close it) "
            "or export the area layer."
        )
    geometry = shapely.make_valid(shapely.union_all([shapely.make_valid(p) for p in parts]))
    geometry = _polygonal(geometry)
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


def import_boundary(workspace, region_id: str, data: bytes, name: str, *, nuts: tuple[str, ...] = ()) -> Boundary:
    """Store a boundary file the user gives for a region in the workspace and return it.

    The file is dissolved to one (multi)polygon in EPSG:4326 and replaces any boundary
    imported for that region before. It then takes precedence over official and
    approximate boundaries in `boundary_for`.
    """
    geometry, described = read_boundary_bytes(data, name, nuts=nuts)
    table = _read(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    table = table[~((table["region_id"] == region_id) & (table["source"] == IMPORTED))]
    row = gpd.GeoDataFrame(
        {"region_id": [region_id], "source": [IMPORTED], "file": [name], "fetched_at": [_now()]},
        geometry=[geometry], crs=CRS,
    )
    workspace.write_tables({BOUNDARIES: _concat(table, row)})
    return Boundary(geometry, IMPORTED, f"imported boundary: {described}")


def remove_imported_boundary(workspace, region_id: str) -> bool:
    """Forget the boundary imported for a region; return True when there was one."""
    table = _read(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    keep = ~((table["region_id"] == region_id) & (table["source"] == IMPORTED))
    if keep.all():
        return False
    workspace.write_tables({BOUNDARIES: gpd.GeoDataFrame(table[keep], geometry="geometry", crs=CRS)})
    return True


def _read(workspace, name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    frame = workspace.read_table(name) if workspace is not None else None
    if frame is None or frame.empty:
        return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in columns},
                                geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return frame


def _concat(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parts = [f for f in (old, new) if not f.empty]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)


def imported_boundary(workspace, region_id: str) -> Boundary | None:
    """Return the boundary imported for a region, or None."""
    table = _read(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    rows = table[(table["region_id"] == region_id) & (table["source"] == IMPORTED)]
    if rows.empty:
        return None
    row = rows.iloc[-1]
    return Boundary(row.geometry, IMPORTED, f"imported boundary: {row['file']} (imported {row['fetched_at']})")


# -- official GISCO NUTS boundaries ---------------------------------------------------------
def gisco_url(nuts_id: str, template: str | None = None) -> str:
    """Return the download address of one NUTS 2021 region (EPSG:4326, 1:1 million)."""
    template = template or os.environ.get("ATLAS_GISCO_NUTS_URL") or GISCO_NUTS_URL
    return template.format(nuts_id=nuts_id)


def _download(url: str, nuts_id: str, timeout_s: float) -> BaseGeometry:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (https/http only)
            data = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        raise BoundaryUnavailable(
            f"GISCO has no NUTS 2021 boundary for '{nuts_id}' (HTTP {exc.code} from {url}). "
            "Check the code in regions.json."
        ) from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BoundaryUnavailable(
            f"the official boundary of {nuts_id} could not be downloaded from {url} ({reason}); "
            "this looks like no internet connection", network=True,
        ) from None
    try:
        geometry, _ = read_boundary_bytes(data, f"{nuts_id}.geojson", nuts=(nuts_id,))
    except ImportFileError as exc:
        raise BoundaryUnavailable(f"the download from {url} is not a usable boundary ({exc})") from None
    return geometry


def official_boundary(
    nuts_ids: tuple[str, ...], workspace=None, *, online: bool = True, timeout_s: float = 5,
    url_template: str | None = None,
) -> tuple[dict[str, BaseGeometry], list[str]]:
    """Return the official GISCO geometry of each NUTS code, from the workspace cache or downloaded.

    Codes not yet cached are downloaded (when `online`) with a timeout and stored in the
    workspace's ``nuts_boundaries`` table, so the next call works offline.

    Returns
    -------
    The geometries by code, and the addresses they came from. Raises BoundaryUnavailable
    (naming the first code missing and why) when any code cannot be had.
    """
    cache = _read(workspace, NUTS_CACHE, NUTS_COLUMNS)
    found: dict[str, BaseGeometry] = {}
    urls: list[str] = []
    for row in cache.itertuples(index=False):
        if row.nuts_id in nuts_ids and row.nuts_id not in found:
            found[row.nuts_id] = row.geometry
            urls.append(row.url)
    missing = [c for c in nuts_ids if c not in found]
    if missing and not online:
        raise BoundaryUnavailable(
            f"offline: the official boundary of {', '.join(missing)} is not cached in the workspace yet"
        )
    new_rows = []
    problem: BoundaryUnavailable | None = None
    for nuts_id in missing:
        url = gisco_url(nuts_id, url_template)
        try:
            geometry = _download(url, nuts_id, timeout_s)
        except BoundaryUnavailable as exc:
            problem = exc
            # One failed connection means the others would wait for their timeout too.
            break
        found[nuts_id] = geometry
        urls.append(url)
        new_rows.append({"nuts_id": nuts_id, "name": "", "url": url, "fetched_at": _now(), "geometry": geometry})
    if new_rows and workspace is not None:
        fresh = gpd.GeoDataFrame(new_rows, geometry="geometry", crs=CRS)
        workspace.write_tables({NUTS_CACHE: _concat(cache, fresh)})
    if problem is not None:
        raise problem
    return found, urls


# -- approximate outlines from GeoNames settlements --------------------------------------
@lru_cache(maxsize=1)
def _place_arrays() -> dict[str, np.ndarray]:
    from loaders.gazetteer import place_table

    table = place_table()
    return {column: table[column].to_numpy() for column in ("name", "country", "admin1", "population", "lat", "lon")}


_TO_METRIC = Transformer.from_crs(CRS, METRIC_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(METRIC_CRS, CRS, always_xy=True)


def _town(name: str, countries: list[str]) -> tuple[float, float]:
    """Return (lat, lon) of the most populous GeoNames place of that name in the countries."""
    arrays = _place_arrays()
    mask = (arrays["name"] == name) & np.isin(arrays["country"], countries)
    if not mask.any():
        raise ValueError(f"outline_from: no GeoNames place named '{name}' in {', '.join(countries)}; "
                         "check the spelling (names as GeoNames writes them, with diacritics).")
    i = np.flatnonzero(mask)[np.argmax(arrays["population"][mask])]
    return float(arrays["lat"][i]), float(arrays["lon"][i])


def _select(selector: dict[str, Any]) -> np.ndarray:
    """Return the indices of the GeoNames places a selector picks."""
    arrays = _place_arrays()
    countries = list(selector["countries"])
    mask = np.isin(arrays["country"], countries)
    if selector.get("admin1"):
        mask &= np.isin(arrays["admin1"], list(selector["admin1"]))
    if selector.get("names"):
        mask &= np.isin(arrays["name"], list(selector["names"]))
    if selector.get("bbox"):
        x0, y0, x1, y1 = selector["bbox"]
        mask &= (arrays["lon"] >= x0) & (arrays["lon"] <= x1) & (arrays["lat"] >= y0) & (arrays["lat"] <= y1)
    x, y = _TO_METRIC.transform(arrays["lon"][mask], arrays["lat"][mask])
    index = np.flatnonzero(mask)
    keep = np.ones(len(index), dtype=bool)
    if selector.get("near"):
        near = np.zeros(len(index), dtype=bool)
        for town, km in selector["near"]:
            lat, lon = _town(town, countries)
            cx, cy = _TO_METRIC.transform(lon, lat)
            near |= np.hypot(x - cx, y - cy) <= km * 1000
        keep &= near
    anchors_in = [_town(t, countries) for t in selector.get("keep_nearest_to") or []]
    anchors_out = [_town(t, countries) for t in selector.get("drop_nearest_to") or []]
    if anchors_in and anchors_out:
        # Each place goes with its nearest anchor town: a coarse way to follow county lines.
        def distances(anchors):
            ax, ay = _TO_METRIC.transform([a[1] for a in anchors], [a[0] for a in anchors])
            return np.min(np.hypot(x[:, None] - np.asarray(ax)[None, :], y[:, None] - np.asarray(ay)[None, :]), axis=1)

        keep &= distances(anchors_in) <= distances(anchors_out)
    return index[keep]


def _simplify(geometry: BaseGeometry, max_vertices: int) -> BaseGeometry:
    """Simplify each polygon part until it has at most `max_vertices` vertices."""
    parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    out = []
    for part in parts:
        tolerance = 100.0
        simple = part
        while shapely.get_num_coordinates(simple) - 1 > max_vertices:
            simple = shapely.simplify(part, tolerance, preserve_topology=True)
            tolerance *= 1.3
        out.append(shapely.Polygon(simple.exterior))
    return shapely.union_all(out)


def outline_from_settlements(selectors: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> BaseGeometry:
    """Build an approximate outline from GeoNames settlements, in EPSG:4326.

    For each selector (a part of the region): pick GeoNames places of 500+ by country,
    GeoNames admin1 code, explicit names, a bbox, distance from a town (``near``:
    ``[[town, km], ...]``) and nearest-anchor-town rules (``keep_nearest_to`` /
    ``drop_nearest_to``: a place stays when its nearest listed town is a "keep" one);
    take their concave hull in EPSG:3035 (``concavity``, 0 = tightest, 1 = convex;
    default 0.3), grow it by ``buffer_km`` (default 5) and simplify it to at most
    40 vertices. The parts are then united.
    """
    parts = []
    arrays = _place_arrays()
    for selector in selectors:
        index = _select(selector)
        if len(index) == 0:
            raise ValueError(f"outline_from part {selector!r} picks no GeoNames settlement; widen it.")
        x, y = _TO_METRIC.transform(arrays["lon"][index], arrays["lat"][index])
        points = shapely.multipoints(np.column_stack([x, y]))
        hull = shapely.concave_hull(points, ratio=float(selector.get("concavity", 0.3)))
        buffered = shapely.buffer(hull, float(selector.get("buffer_km", 5)) * 1000, quad_segs=4)
        parts.append(_simplify(buffered, MAX_OUTLINE_VERTICES))
    metric = shapely.union_all(parts)
    return shapely.transform(metric, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))


def approximate_outline(region: Region) -> BaseGeometry:
    """Return the region's approximate outline: its outline file, else built from its selectors.

    Raises BoundaryUnavailable when the region has neither.
    """
    if region.outline is not None:
        geometry, _ = read_boundary_file(region.outline)
        return geometry
    if region.outline_from:
        return outline_from_settlements(region.outline_from)
    raise BoundaryUnavailable(
        f"region '{region.id}' has no approximate outline: add \"outline\" (a GeoJSON file) or "
        "\"outline_from\" (settlement selectors) to its entry, or import a boundary file"
    )


def outline_feature_collection(region: Region, geometry: BaseGeometry) -> dict[str, Any]:
    """Return the GeoJSON FeatureCollection written to ``geodata/outlines/<id>.geojson``."""
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {
                "region_id": region.id, "name": region.name, "source": APPROXIMATE,
                "label": APPROXIMATE_LABEL, "method": "outline_from in geodata/regions.json",
            },
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geometry, 1e-4))),
        }],
    }


def write_outline_files(regions_file: str | Path | None = None) -> list[Path]:
    """Rebuild every region's outline file from its ``outline_from`` selectors.

    Reads the regions file as plain JSON (so outlines can be built before they exist) and
    writes ``<folder of the file>/<outline>`` for each region that has both fields.
    Run ``python -m atlas.boundaries [regions.json]`` after changing a selector.
    """
    from atlas.regions import SHIPPED

    path = Path(regions_file or SHIPPED)
    doc = json.loads(path.read_text(encoding="utf-8"))
    written = []
    for entry in doc.get("regions", []):
        if not entry.get("outline") or not entry.get("outline_from"):
            continue
        region = Region(entry["id"], entry["name"], tuple(entry.get("countries", ())))
        geometry = outline_from_settlements(entry["outline_from"])
        target = path.parent / entry["outline"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(outline_feature_collection(region, geometry), ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


# -- the chain ---------------------------------------------------------------------------
def _as_region(region: Region | str, workspace) -> Region:
    if isinstance(region, Region):
        return region
    from atlas.regions import load_regions

    return load_regions(workspace).get(region)


def boundary_for(
    region: Region | str, workspace=None, *, online: bool = True, timeout_s: float = 5,
    url_template: str | None = None,
) -> Boundary:
    """Return a region's boundary from the best source available.

    Order: a boundary file imported for the region into the workspace; the official
    Eurostat GISCO NUTS 2021 boundary (union of the region's NUTS codes), from the
    workspace cache or downloaded with `timeout_s` when `online`; the approximate outline
    shipped in ``geodata/outlines`` (works offline). A region that only partly covers a
    NUTS code (``nuts_partial``) gets its official parts completed with the outline
    clipped to that code, and is reported as ``approximate``. ``notes`` says why a
    preferred source was skipped.

    Parameters
    ----------
    region
        A Region or its id (looked up with the workspace's regions).
    workspace
        A Workspace, or None (no imported boundaries, no cache).
    online
        Whether to try downloading official boundaries that are not cached.
    timeout_s
        Seconds to wait for the GISCO server per request.
    url_template
        Download address with ``{nuts_id}``; default `GISCO_NUTS_URL` or the
        ``ATLAS_GISCO_NUTS_URL`` environment variable.
    """
    region = _as_region(region, workspace)
    if workspace is not None:
        imported = imported_boundary(workspace, region.id)
        if imported is not None:
            return imported
    notes: list[str] = []
    official: dict[str, BaseGeometry] = {}
    network_failed = False
    codes = region.nuts + region.nuts_partial
    if codes:
        try:
            official, _ = official_boundary(codes, workspace, online=online, timeout_s=timeout_s,
                                            url_template=url_template)
        except BoundaryUnavailable as exc:
            network_failed = exc.network
            notes.append(f"{exc}; using the approximate outline instead. "
                         "Connect to the internet and run again, or import a boundary file for the region.")
    if official and region.official_is_exact:
        geometry = shapely.union_all([official[c] for c in region.nuts])
        return Boundary(geometry, OFFICIAL, f"official boundary: NUTS 2021 {' + '.join(region.nuts)} (Eurostat GISCO)",
                        GISCO_ATTRIBUTION, notes)
    try:
        outline = approximate_outline(region)
    except BoundaryUnavailable as exc:
        raise BoundaryUnavailable(f"{exc}. {' '.join(notes)}".strip()) from None
    if official:
        pieces = [official[c] for c in region.nuts]
        clip = shapely.union_all([official[c] for c in region.nuts_partial])
        pieces.append(shapely.intersection(outline, clip))
        geometry = _polygonal(shapely.union_all(pieces)) or outline
        exact = f"NUTS 2021 {' + '.join(region.nuts)} official and " if region.nuts else ""
        label = (f"approximate: {exact}the rest from the approximate outline clipped to "
                 f"{' + '.join(region.nuts_partial)} (Eurostat GISCO); not an official boundary of the whole region")
        return Boundary(geometry, APPROXIMATE, label, GISCO_ATTRIBUTION, notes)
    return Boundary(outline, APPROXIMATE, APPROXIMATE_LABEL, "GeoNames (CC BY 4.0)", notes, network_failed)


if __name__ == "__main__":
    import sys

    for written_path in write_outline_files(sys.argv[1] if len(sys.argv) > 1 else None):
        print(written_path)
