"""Catchments: each settlement to its nearest facility of a layer, population per facility, overlaps.

Assignment uses exact great-circle distances (:mod:`analysis.distance`); coincident
facilities (same coordinates) tie to the one listed first, so the others serve nobody.
Catchment polygons are Voronoi cells drawn in an equal-area projection centred on the
region, for display: their edges can differ from the great-circle assignment by metres
to a few hundred metres, so their population is taken from the assignment, not from
point-in-cell tests, and always matches :func:`assign`.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.base import (
    check_circuity,
    covered_mask,
    demand_population,
    lonlat,
    select_facilities,
)
from analysis.crs import WGS84, local_crs, project, region_centre, unproject
from analysis.distance import (
    distinct_points,
    nearest_km,
    pairwise_km,
    to_xyz,
    within_km,
)

LARGE_FACTOR = 3.0


def _located(facilities: gpd.GeoDataFrame, layer: str, include_planned: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    chosen = select_facilities(facilities, layer, include_planned=include_planned)
    points = lonlat(chosen.geometry)
    located = np.isfinite(points).all(axis=1)
    return chosen.loc[located], points[located]


def _assignment(
    demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, layer: str, include_planned: bool,
    circuity: float, radius_km: float | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Return (demand in EPSG:4326, chosen facilities, km, row of the serving facility or -1)."""
    circuity = check_circuity(circuity)
    if demand.crs is not None and demand.crs.to_epsg() != 4326:
        demand = demand.to_crs(WGS84)
    chosen, targets = _located(facilities, layer, include_planned)
    km, index = nearest_km(lonlat(demand.geometry), targets)
    km = km * circuity
    if radius_km is not None:
        index = np.where(covered_mask(km, float(radius_km)), index, -1)
    return demand, chosen, km, index


def assign(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    layer: str,
    include_planned: bool = False,
    circuity: float = 1.0,
    radius_km: float | None = None,
    large_factor: float = LARGE_FACTOR,
) -> pd.DataFrame:
    """Assign each settlement to its nearest facility of `layer` and sum the population served.

    Parameters
    ----------
    demand
        Settlements (EPSG:4326 points with ``name`` and ``population``).
    facilities
        Canonical features; only located facilities of `layer` count (existing, plus
        planned with `include_planned`).
    radius_km
        When given, only settlements within this distance (x circuity) count as served;
        by default every settlement is served by its nearest facility, however far.
    large_factor
        A facility is flagged ``flag_large`` when it serves more than this many times
        the median population served by the layer's facilities (median over every
        located facility of the layer, including those serving nobody; default 3).

    Returns
    -------
    DataFrame, one row per located facility, largest population first: ``feature_id``,
    ``name``, ``status``, ``population`` (served), ``settlements`` (count), ``share``
    (of the demand's total population), ``max_km`` (farthest settlement served, NaN when
    none) and ``flag_large``. ``attrs`` holds ``median_population`` and
    ``large_threshold`` (the population above which a facility is flagged).
    """
    population = demand_population(demand)
    _, chosen, km, index = _assignment(demand, facilities, layer, include_planned, circuity, radius_km)
    served = index >= 0
    n = len(chosen)
    served_population = np.bincount(index[served], weights=population[served], minlength=n).astype(np.int64)
    settlements = np.bincount(index[served], minlength=n).astype(np.int64)
    max_km = np.full(n, np.nan)
    if served.any():
        np.fmax.at(max_km, index[served], km[served])
    total = int(population.sum())
    median = float(np.median(served_population)) if n else 0.0
    threshold = large_factor * median
    out = pd.DataFrame({
        "feature_id": chosen["feature_id"].to_numpy(dtype=object),
        "name": chosen["name"].to_numpy(dtype=object),
        "status": chosen["status"].to_numpy(dtype=object),
        "population": served_population,
        "settlements": settlements,
        "share": served_population / total if total else np.zeros(n),
        "max_km": max_km,
        "flag_large": served_population > threshold,
    })
    out = out.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"median_population": median, "large_threshold": threshold})
    return out


def catchment_polygons(
    facilities: gpd.GeoDataFrame,
    boundary: Any,
    *,
    layer: str,
    include_planned: bool = False,
    demand: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return each facility's Voronoi catchment, clipped to the region.

    Parameters
    ----------
    facilities
        Canonical features; located facilities of `layer` get a cell (those outside the
        boundary too: their cell is clipped to it and may be empty). A facility at the
        same coordinates as an earlier one gets an empty cell.
    boundary
        Region polygon in EPSG:4326, or None: cells are then clipped to the facilities'
        (and settlements') bounding box widened by 10 km.
    demand
        Settlements; when given, ``population`` and ``settlements`` come from the
        nearest-facility assignment (as in :func:`assign`), else they are missing (NA).

    Returns
    -------
    GeoDataFrame (EPSG:4326): ``feature_id``, ``name``, ``status``, ``population``,
    ``settlements``, ``area_km2`` (of the clipped cell, equal-area) and the cell polygon.
    """
    chosen, points = _located(facilities, layer, include_planned)
    if demand is not None and demand.crs is not None and demand.crs.to_epsg() != 4326:
        demand = demand.to_crs(WGS84)
    crs, region = None, shapely.Polygon()
    if boundary is not None and not boundary.is_empty:
        crs = local_crs(*region_centre(boundary))
        region = project(shapely.segmentize(boundary, 0.05), crs)
        if not region.is_valid:  # imported outlines can self-intersect; overlays need valid input
            region = shapely.make_valid(region)
    else:
        anchor = points if demand is None else np.vstack([points, lonlat(demand.geometry)])
        anchor = anchor[np.isfinite(anchor).all(axis=1)]
        if len(anchor):
            crs = local_crs(*region_centre(anchor))
            minx, miny, maxx, maxy = shapely.multipoints(project(shapely.points(anchor), crs)).bounds
            region = shapely.box(minx - 10_000, miny - 10_000, maxx + 10_000, maxy + 10_000)

    cells = np.array([shapely.Polygon()] * len(chosen), dtype=object)
    if len(chosen) and crs is not None:
        _, keep = distinct_points(to_xyz(points))
        xy = project(shapely.points(points[keep]), crs)
        if len(keep) == 1:
            cells[keep] = region
        else:
            diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=region, ordered=True)
            cells[keep] = shapely.intersection(np.asarray(diagram.geoms, dtype=object), region)
    areas = shapely.area(cells) / 1e6 if len(cells) else np.empty(0)

    population = pd.array([pd.NA] * len(chosen), dtype="Int64")
    settlements = pd.array([pd.NA] * len(chosen), dtype="Int64")
    if demand is not None:
        table = assign(demand, facilities, layer=layer, include_planned=include_planned).set_index("feature_id")
        ids = chosen["feature_id"].to_numpy(dtype=object)
        population = pd.array(table["population"].reindex(ids).fillna(0).astype(np.int64).to_numpy(), dtype="Int64")
        settlements = pd.array(table["settlements"].reindex(ids).fillna(0).astype(np.int64).to_numpy(), dtype="Int64")
    frame = pd.DataFrame({
        "feature_id": chosen["feature_id"].to_numpy(dtype=object),
        "name": chosen["name"].to_numpy(dtype=object),
        "status": chosen["status"].to_numpy(dtype=object),
        "population": population,
        "settlements": settlements,
        "area_km2": areas,
    })
    geometry = unproject(cells, crs) if len(cells) and crs is not None else cells
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


def lens_share(distance_km: np.ndarray, radius_km: float) -> np.ndarray:
    """Return the share of a disc's area that an equal disc `distance_km` away overlaps (0..1).

    Planar lens formula with exact great-circle centre distances; for discs of up to
    100 km the sphere's curvature changes the share by less than 0.01 %.
    """
    d = np.asarray(distance_km, dtype=float)
    r = float(radius_km)
    if r <= 0:
        return np.zeros_like(d)
    h = np.clip(d / (2 * r), 0.0, 1.0)
    lens = 2 * r * r * np.arccos(h) - (d / 2) * np.sqrt(np.clip(4 * r * r - d * d, 0.0, None))
    return np.clip(lens / (np.pi * r * r), 0.0, 1.0)


def overlaps(
    facilities: gpd.GeoDataFrame,
    *,
    layer: str,
    radius_km: float | dict[str, float],
    include_planned: bool = False,
    min_share: float = 0.5,
    circuity: float = 1.0,
) -> pd.DataFrame:
    """Return pairs of facilities of `layer` whose coverage discs overlap heavily.

    Parameters
    ----------
    radius_km
        The layer's radius in km, or a dict layer -> km (the layer's entry is used).
        Discs have ground radius ``radius_km / circuity``.
    min_share
        Report a pair when the overlap covers at least this share of one disc (0..1,
        inclusive); coincident facilities overlap 100 %.

    Returns
    -------
    DataFrame with ``a``, ``b`` (feature_ids, ``a`` listed first in `facilities`),
    ``a_name``, ``b_name``, ``distance_km`` (great-circle) and ``overlap_share``,
    heaviest overlap first.
    """
    radius = float(radius_km[layer] if isinstance(radius_km, dict) else radius_km)
    circuity = check_circuity(circuity)
    ground = radius / circuity
    chosen, points = _located(facilities, layer, include_planned)
    columns = ["a", "b", "a_name", "b_name", "distance_km", "overlap_share"]
    if len(chosen) < 2 or ground <= 0:
        return pd.DataFrame(columns=columns)
    near = within_km(points, points, 2 * ground).tocoo()
    upper = near.row < near.col
    i, j = near.row[upper], near.col[upper]
    distance = pairwise_km(points[i], points[j])
    share = lens_share(distance, ground)
    heavy = share >= min_share
    i, j, distance, share = i[heavy], j[heavy], distance[heavy], share[heavy]
    ids = chosen["feature_id"].to_numpy(dtype=object)
    names = chosen["name"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "a": ids[i], "b": ids[j], "a_name": names[i], "b_name": names[j],
        "distance_km": distance, "overlap_share": share,
    }, columns=columns)
    order = np.lexsort((j, i, -share))
    return out.iloc[order].reset_index(drop=True)
