"""The shared pieces of every analysis: facility selection, lon/lat of any geometry, checks of radii.

Coverage, gaps, catchments, siting and comparison all build on these; each module of
`analysis` holds one operation.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.distance import TOLERANCE_KM
from loaders.layers import EXISTING, LAYERS, PLANNED

CRS = "EPSG:4326"


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    # A frame without a CRS is taken to be lon/lat already (the canonical CRS).
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        return frame.to_crs(CRS)
    return frame


def lonlat(geometry: gpd.GeoSeries | gpd.array.GeometryArray | np.ndarray) -> np.ndarray:
    """Return (n, 2) lon/lat degrees of each geometry's location; NaN where there is none.

    Points are used as they are; lines, polygons and Multi* geometries by their
    ``representative_point()`` (a point guaranteed to lie on the line or inside the
    polygon, unlike the centroid); missing or empty geometries give NaN (no location).
    The geometry must already be in EPSG:4326.
    """
    geoms = np.asarray(geometry.values if isinstance(geometry, gpd.GeoSeries) else geometry, dtype=object)
    out = np.full((len(geoms), 2), np.nan)
    if len(geoms) == 0:
        return out
    if (shapely.get_type_id(geoms) == 0).all():  # all points (settlements): one pass, unless one is empty
        coordinates = shapely.get_coordinates(geoms)
        if len(coordinates) == len(geoms):
            return coordinates
    missing = shapely.is_missing(geoms)
    present = ~missing
    present[present] = ~shapely.is_empty(geoms[present])
    kind = np.full(len(geoms), -1)
    kind[present] = shapely.get_type_id(geoms[present])
    points = kind == 0
    out[points, 0] = shapely.get_x(geoms[points])
    out[points, 1] = shapely.get_y(geoms[points])
    other = present & ~points
    if other.any():
        reps = shapely.point_on_surface(geoms[other])
        out[other, 0] = shapely.get_x(reps)
        out[other, 1] = shapely.get_y(reps)
    return out


def select_facilities(
    facilities: gpd.GeoDataFrame, layer: str, *, include_planned: bool = False
) -> gpd.GeoDataFrame:
    """Return the facilities of `layer` that count in the scenario, in EPSG:4326.

    Existing facilities always count, planned ones only with `include_planned`. A missing
    status counts as existing (the canonical default). Facilities without a location
    are kept here (callers count them as unlocated; distances ignore them).

    Raises
    ------
    ValueError
        When a status is neither ``existing`` nor ``planned``, naming the features.
    """
    facilities = to_wgs84(facilities)
    status = facilities["status"]
    known = status.isna() | status.isin((EXISTING, PLANNED))
    if not known.all():
        bad = facilities.loc[~known]
        listed = ", ".join(f"{fid} ({st!r})" for fid, st in zip(bad["feature_id"][:5], bad["status"][:5]))
        raise ValueError(
            f"facilities: {int((~known).sum())} feature(s) have a status other than "
            f"'{EXISTING}' or '{PLANNED}': {listed}. Set their status to one of those two."
        )
    keep = facilities["layer"] == layer
    if not include_planned:
        keep &= status.ne(PLANNED) | status.isna()
    return facilities.loc[keep.to_numpy(dtype=bool)]


def demand_population(demand: gpd.GeoDataFrame) -> np.ndarray:
    """Return the ``population`` column as int64, checking it is a whole number >= 0.

    Raises
    ------
    ValueError
        When the column is missing or holds empty, negative or fractional values.
    """
    if "population" not in demand.columns or "name" not in demand.columns:
        raise ValueError(
            "demand: expected columns 'name' and 'population' (inhabitants, whole number >= 0); "
            f"got {list(demand.columns)}. Rename the population column to 'population'."
        )
    values = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        names = demand["name"].to_numpy(dtype=object)[bad][:5]
        raw = demand["population"].to_numpy(dtype=object)[bad][:5]
        listed = ", ".join(f"{n!r} ({p!r})" for n, p in zip(names, raw))
        raise ValueError(
            f"demand: {int(bad.sum())} settlement(s) have a population that is not a whole "
            f"number >= 0: {listed}. Fix or remove those rows."
        )
    return values.astype(np.int64)


def check_radius(radius_km: dict[str, float]) -> dict[str, float]:
    """Return `radius_km` in canonical layer order, checking layers and values (km >= 0)."""
    unknown = [k for k in radius_km if k not in LAYERS]
    if unknown:
        raise ValueError(
            f"radius_km: unknown layer(s) {unknown}; use {list(LAYERS)}, "
            "e.g. radius_km={'hubs': 20, 'training': 30, 'networks': 30}."
        )
    if not radius_km:
        raise ValueError(f"radius_km: give a radius in km for at least one of {list(LAYERS)}.")
    out = {}
    for layer in LAYERS:
        if layer in radius_km:
            value = float(radius_km[layer])
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"radius_km[{layer!r}] must be a number of km >= 0, got {radius_km[layer]!r}.")
            out[layer] = value
    return out


def check_circuity(circuity: float) -> float:
    """Return `circuity` as float, checking it is >= 1 (roads are never shorter than the arc)."""
    value = float(circuity)
    if not np.isfinite(value) or value < 1.0:
        raise ValueError(f"circuity must be a factor >= 1.0 (about 1.3 for roads), got {circuity!r}.")
    return value


def covered_mask(km: np.ndarray, radius_km: float) -> np.ndarray:
    """Return ``km <= radius_km`` with the inclusive tolerance used everywhere."""
    return km <= radius_km + TOLERANCE_KM
