"""Population layers kept in the workspace: imported once, chosen as demand for any region.

An alliance loads the Eurostat 1 km grid (or a census table, a GHS-POP/WorldPop raster,
polygons with a population) once; every region then takes the cells inside its boundary
and its countries. Point layers (settlements, grid-cell centres) are stored as points;
polygon layers are stored as polygons and weighted by area for each region's boundary
(`loaders.grids.demand_from_polygons`), so a polygon cut by a region border counts the
part inside. The built-in demand, GeoNames settlements of 500+, needs no import.

Each layer is a workspace side table ``demand/<name>``; the table ``demand_layers``
lists them (name, file, kind, points, population, notes, imported_at). Importing or
removing a layer is a recorded change.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from errors import UsageError
from geography._cache import CRS, now_utc
from geography.settlements import clip
from i18n import Message
from loaders.errors import ImportFileError
from loaders.grids import demand_from_grid_csv, demand_from_polygons, demand_from_raster, looks_like_grid_csv
from loaders.population import DemandLoad, demand_from_bytes, polygon_frame

GEONAMES = "geonames"
"""The built-in demand: GeoNames settlements of 500+ (no import needed)."""
INDEX = "demand_layers"
PREFIX = "demand/"
INDEX_COLUMNS = ("name", "file", "kind", "points", "population", "notes", "imported_at")
POLYGONS, POINTS = "polygons", "points"
_RASTER = (".tif", ".tiff")
_NAME = re.compile(r"[^\w.-]+", re.UNICODE)


@dataclass
class DemandLayer:
    """One stored population layer, as listed in the workspace.

    Attributes
    ----------
    name
        The layer's name (the file name without its extension unless given).
    file
        The file it came from.
    kind
        ``grid`` (grid-cell centres), ``raster`` (populated raster cells), ``settlements``
        (points with a population) or ``polygons`` (areal weighting per region).
    points
        Rows stored (cells, settlements or polygons).
    population
        People they hold.
    notes
        How the file was read (cell size, cells skipped ...).
    """

    name: str
    file: str
    kind: str
    points: int
    population: int
    notes: list[str] = field(default_factory=list)
    imported_at: str = ""

    def label(self) -> str:
        """One line for pickers and reports: "<name> (1 km grid cells, 38,012,345 people)"."""
        what = "areas, weighted by area" if self.kind == POLYGONS else KIND_POINTS.get(self.kind, self.kind)
        return f"{self.name} ({self.points:,} {what}, {self.population:,} people)"


def layer_name(file: str) -> str:
    """The default layer name of a file: its stem with spaces and punctuation as dashes."""
    stem = Path(file).stem.strip() or "population"
    return _NAME.sub("-", stem).strip("-")[:80] or "population"


KIND_POINTS = {"grid": "grid cells", "raster": "raster cells", "polygons": "areas", "settlements": "settlements"}
"""What a layer's demand points are, by its kind, for reports ("21,365 grid cells")."""


def read_demand_file(data: bytes, name: str, *, boundary: BaseGeometry | None = None) -> tuple[DemandLoad, str]:
    """Read any population layer we support; return the load and its kind.

    GeoTIFF rasters (``.tif``), grid CSVs with ``GRD_ID`` cell codes, CSV tables of
    settlements (name, lat, lon, population) and GeoJSON/GeoPackage points. Polygons
    with a population are turned into points by areal weighting inside `boundary`
    (the whole polygon without one).
    """
    load, kind, _ = _read(data, name, boundary)
    return load, kind


def _read(data: bytes, name: str, boundary: BaseGeometry | None) -> tuple[DemandLoad, str, gpd.GeoDataFrame | None]:
    """`read_demand_file`, plus the polygons themselves (name, population, geometry) for a polygon layer."""
    suffix = Path(name).suffix.lower()
    if suffix in _RASTER:
        return demand_from_raster(data, name, boundary=boundary), "raster", None
    if suffix in (".csv", ".txt", ".tsv") and looks_like_grid_csv(data):
        return demand_from_grid_csv(data, name, boundary=boundary), "grid", None
    if suffix in (".geojson", ".json", ".gpkg"):
        polygons = polygon_frame(data, name)
        if polygons is not None:
            frame, column = polygons
            load = demand_from_polygons(frame, name, column, boundary=boundary)
            return load, POLYGONS, _polygons_for_storage(frame.rename(columns={column: "population"}))
    return demand_from_bytes(data, name), "settlements", None


def demand_layers(workspace) -> list[DemandLayer]:
    """The population layers stored in the workspace, in import order."""
    index = workspace.read_table(INDEX) if workspace is not None else None
    if index is None or index.empty:
        return []
    return [DemandLayer(str(r["name"]), str(r["file"]), str(r["kind"]), int(r["points"]), int(r["population"]),
                        list(json.loads(r["notes"] or "[]")), str(r["imported_at"] or ""))
            for r in index.to_dict("records")]


def _index_frame(layers: list[DemandLayer]) -> pd.DataFrame:
    return pd.DataFrame([{"name": la.name, "file": la.file, "kind": la.kind, "points": la.points,
                          "population": la.population, "notes": json.dumps(la.notes, ensure_ascii=False),
                          "imported_at": la.imported_at} for la in layers], columns=list(INDEX_COLUMNS))


def import_demand(workspace, data: bytes, file: str, *, name: str | None = None) -> tuple[DemandLayer, DemandLoad]:
    """Read a population file and keep it in the workspace as layer `name` (replacing one of that name).

    Returns the stored layer and the load (rejected rows with their place and reason).
    Raises ImportFileError when the file cannot be read or holds no population.
    """
    name = layer_name(name or file)
    if name == GEONAMES:
        raise UsageError(Message("'{name}' is the built-in settlements layer; give the population layer another name.",
                                 name=GEONAMES))
    load, kind, polygons = _read(data, file, None)
    if not load.accepted:
        raise ImportFileError(Message(
            "{file}: no row holds a usable population ({count} rejected). Fix the rows listed, or check the file is "
            "a population layer.", file=file, count=len(load.rejected)))
    # Polygons are kept as polygons (weighted by area for each region's boundary), points as points.
    stored = polygons if polygons is not None else gpd.GeoDataFrame(
        load.demand[["name", "population", "country", "geometry"]].copy(), geometry="geometry", crs=CRS)
    layer = DemandLayer(name, Path(file).name, kind, len(stored), int(load.demand["population"].sum()),
                        list(load.notes), now_utc())
    others = [la for la in demand_layers(workspace) if la.name != name]
    summary = (f"imported population layer '{name}' from {layer.file}: {layer.points:,} {kind} rows, "
               f"{layer.population:,} people" + (f", {len(load.rejected)} rejected" if load.rejected else ""))
    workspace.write_tables({PREFIX + name: stored, INDEX: _index_frame(others + [layer])}, summary=summary)
    return layer, load


def _polygons_for_storage(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keep = [c for c in ("name", "population") if c in frame.columns]
    out = gpd.GeoDataFrame(frame[keep].copy(), geometry=frame.geometry.values, crs=frame.crs or CRS)
    if "name" not in out:
        out.insert(0, "name", [f"area {i + 1}" for i in range(len(out))])
    return out.to_crs(CRS)


def remove_demand(workspace, name: str) -> bool:
    """Forget a stored population layer; return whether there was one."""
    layers = demand_layers(workspace)
    if not any(la.name == name for la in layers):
        return False
    workspace.write_tables({PREFIX + name: pd.DataFrame(), INDEX: _index_frame([la for la in layers if la.name != name])},
                           summary=f"removed population layer '{name}'")
    return True


def get_layer(workspace, name: str) -> DemandLayer:
    """The stored layer called `name`; UsageError listing the others when there is none."""
    layers = demand_layers(workspace)
    for layer in layers:
        if layer.name == name:
            return layer
    known = ", ".join([GEONAMES, *(la.name for la in layers)])
    raise UsageError(Message(
        "no population layer '{name}' in this workspace (it has: {known}). Import one with: python -m atlas "
        "import-demand FILE --workspace LOC", name=name, known=known))


def demand_for(workspace, name: str, boundary: BaseGeometry | None, countries=None) -> tuple[gpd.GeoDataFrame, DemandLayer, int]:
    """The demand of stored layer `name` inside `boundary` and `countries`.

    Returns the demand frame (``name``, ``population``, ``country``, Point EPSG:4326), the
    layer, and how many stored rows lay outside (left out).
    """
    layer = get_layer(workspace, name)
    stored = workspace.read_table(PREFIX + name)
    if stored is None or stored.empty:
        raise UsageError(Message("population layer '{name}' holds no rows; import it again.", name=name))
    if layer.kind == POLYGONS:
        load = demand_from_polygons(stored, layer.file, "population", boundary=boundary)
        return load.demand, layer, len(stored) - len(load.demand)
    for column in ("country", "geonameid"):
        if column not in stored:
            stored[column] = None
    inside = clip(stored, boundary, countries=countries) if boundary is not None else stored
    return inside.reset_index(drop=True), layer, len(stored) - len(inside)
