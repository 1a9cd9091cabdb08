"""Gaps in coverage: settlements beyond reach, gap areas, coverage discs and an H3 distance grid.

Discs are geodesically exact: their vertices are computed on the sphere at exactly the
radius from the facility (no buffer in a projected CRS, so no projection error however
far the region lies from EPSG:3035's centre); only the straight edges between 128
vertices make a disc's area 0.04 % smaller than the true disc. Overlays and areas are
done in an equal-area projection centred on the region (:mod:`analysis.crs`).
Populations always come from the exact distances of the coverage result, never from
point-in-disc tests, so a settlement on a disc's rim counts as covered here as it does
in the coverage figures.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.base import check_circuity, check_radius, lonlat, select_facilities
from analysis.coverage import CoverageResult
from analysis.crs import WGS84, local_crs, project, region_centre, unproject
from analysis.distance import EARTH_RADIUS_KM, nearest_km
from loaders.layers import LAYERS

DISC_VERTICES = 128
# Finest H3 resolution picked automatically keeps the grid under this many cells.
MAX_AUTO_CELLS = 10_000
# Refuse grids that would take long to build and cannot be drawn anyway.
MAX_CELLS = 250_000


def _km_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def uncovered(result: CoverageResult) -> pd.DataFrame:
    """List every settlement lacking at least one analysed layer within its radius.

    Returns
    -------
    DataFrame with ``name``, ``population``, ``lat``, ``lon`` (degrees, NaN when the
    settlement has no location), ``missing`` (list of layers out of reach, canonical
    order) and ``nearest_km`` (dict layer -> km including circuity, None when the
    layer has no facility), largest population first, then by name.
    """
    s = result.settlements
    layers = result.analysed_layers
    rows = s.loc[~s["full_support"].to_numpy(dtype=bool)]
    coords = lonlat(rows.geometry)
    covered = {layer: rows[f"covered_{layer}"].to_numpy(dtype=bool) for layer in layers}
    km = {layer: rows[f"nearest_km_{layer}"].to_numpy(dtype=float) for layer in layers}
    missing = [[layer for layer in layers if not covered[layer][i]] for i in range(len(rows))]
    nearest = [{layer: _km_or_none(km[layer][i]) for layer in layers} for i in range(len(rows))]
    out = pd.DataFrame({
        "name": rows["name"].to_numpy(dtype=object),
        "population": rows["population"].to_numpy(dtype=np.int64),
        "lat": coords[:, 1],
        "lon": coords[:, 0],
        "missing": pd.Series(missing, dtype=object),
        "nearest_km": pd.Series(nearest, dtype=object),
    })
    order = np.lexsort((out["name"].astype(str).to_numpy(), -out["population"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _disc_polygons(centres: np.ndarray, radius_km: float, vertices: int = DISC_VERTICES) -> np.ndarray:
    """Return shapely polygons (lon/lat) with vertices exactly `radius_km` from each centre."""
    if len(centres) == 0 or radius_km <= 0:
        return np.array([shapely.Polygon()] * len(centres), dtype=object)
    phi1 = np.radians(centres[:, 1])[:, None]
    lam1 = np.radians(centres[:, 0])[:, None]
    theta = np.radians(np.linspace(0.0, 360.0, vertices, endpoint=False))[None, :]
    delta = radius_km / EARTH_RADIUS_KM
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2)
    ring = np.stack([np.degrees(lam2), np.degrees(phi2)], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)  # closed rings
    return shapely.polygons(ring)


def coverage_discs(
    facilities: gpd.GeoDataFrame,
    *,
    radius_km: dict[str, float],
    include_planned: bool = False,
    circuity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Return one coverage disc per located facility of each layer in `radius_km`.

    The disc holds every point whose great-circle distance times `circuity` is within the
    layer's radius, i.e. its radius is ``radius_km[layer] / circuity`` km on the ground.

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``layer``, ``feature_id``, ``name``, ``status``,
    ``radius_km`` (ground radius) and the disc polygon.
    """
    radius_km = check_radius(radius_km)
    circuity = check_circuity(circuity)
    frames = []
    for layer, radius in radius_km.items():
        chosen = select_facilities(facilities, layer, include_planned=include_planned)
        centres = lonlat(chosen.geometry)
        located = np.isfinite(centres).all(axis=1)
        chosen = chosen.loc[located]
        ground = radius / circuity
        frames.append(pd.DataFrame({
            "layer": layer,
            "feature_id": chosen["feature_id"].to_numpy(dtype=object),
            "name": chosen["name"].to_numpy(dtype=object),
            "status": chosen["status"].to_numpy(dtype=object),
            "radius_km": ground,
            "geometry": _disc_polygons(centres[located], ground),
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["layer", "feature_id", "name", "status", "radius_km", "geometry"]
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)


def _near(facilities: gpd.GeoDataFrame, boundary: Any, km: float) -> gpd.GeoDataFrame:
    """The facilities whose disc of `km` can reach the boundary's box (a national workspace, one region)."""
    if facilities is None or len(facilities) == 0:
        return facilities
    west, south, east, north = boundary.bounds
    dlat = km / 110.0 + 0.01
    widest = max(abs(south - dlat), abs(north + dlat))
    dlon = dlat / max(np.cos(np.radians(min(widest, 89.0))), 0.01)
    xy = lonlat(facilities.geometry)
    keep = ~np.isfinite(xy).all(axis=1) | (
        (xy[:, 0] >= west - dlon) & (xy[:, 0] <= east + dlon) & (xy[:, 1] >= south - dlat) & (xy[:, 1] <= north + dlat))
    return facilities if keep.all() else facilities.loc[keep]


def gap_areas(
    result: CoverageResult,
    facilities: gpd.GeoDataFrame,
    boundary: Any,
    *,
    layers: list[str] | None = None,
    explode: bool = False,
) -> gpd.GeoDataFrame:
    """Return, per layer, the part of the region beyond reach: boundary minus covered discs.

    Parameters
    ----------
    result
        The coverage result (its radii, circuity and planned scenario are reused).
    facilities
        The same facilities the result was computed from. Facilities outside the
        boundary still cut their disc out of it.
    boundary
        The region, a shapely (Multi)Polygon in EPSG:4326.
    layers
        Layers to return (default: every analysed layer).
    explode
        One row per separate gap polygon instead of one (Multi)Polygon per layer.

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``layer``, ``area_km2`` (on the ellipsoid),
    ``area_share`` (of the boundary's area), ``population`` (settlements inside the
    boundary that the coverage result marks uncovered for the layer) and the gap
    geometry (empty when the layer covers the whole region).
    """
    if boundary is None or boundary.is_empty:
        raise ValueError(
            "gap_areas needs the region's boundary; without one, use gaps.uncovered() "
            "for the settlements beyond reach."
        )
    layers = result.analysed_layers if layers is None else list(layers)
    unknown = [layer for layer in layers if layer not in result.radius_km]
    if unknown:
        raise ValueError(f"layers {unknown} were not analysed in this result; pick from {result.analysed_layers}.")
    crs = local_crs(*region_centre(boundary))
    # Straight lon/lat edges, as settlements are tested against them, stay nearly straight.
    boundary_m = project(shapely.segmentize(boundary, 0.05), crs)
    if not boundary_m.is_valid:  # imported outlines can self-intersect; overlays need valid input
        boundary_m = shapely.make_valid(boundary_m)
    boundary_area = boundary_m.area
    settlements = result.settlements
    points = lonlat(settlements.geometry)
    located = np.isfinite(points).all(axis=1)
    inside = np.zeros(len(settlements), dtype=bool)
    shapely.prepare(boundary)
    inside[located] = shapely.covers(boundary, shapely.points(points[located]))
    population = settlements["population"].to_numpy(dtype=np.int64)

    rows: list[dict[str, Any]] = []
    for layer in layers:
        discs = coverage_discs(
            _near(facilities, boundary, result.radius_km[layer] / result.circuity),
            radius_km={layer: result.radius_km[layer]},
            include_planned=result.include_planned, circuity=result.circuity,
        ).geometry.to_numpy()
        discs_m = project(discs, crs) if len(discs) else discs
        if len(discs_m):
            discs_m = discs_m[shapely.intersects(discs_m, boundary_m)]
        gap = boundary_m.difference(shapely.union_all(discs_m)) if len(discs_m) else boundary_m
        gap = shapely.make_valid(gap) if not gap.is_valid else gap
        in_gap = inside & ~settlements[f"covered_{layer}"].to_numpy(dtype=bool)
        if not explode:
            rows.append({
                "layer": layer, "area_km2": gap.area / 1e6,
                "area_share": gap.area / boundary_area if boundary_area else 0.0,
                "population": int(population[in_gap].sum()), "geometry": gap,
            })
            continue
        parts = [p for p in shapely.get_parts(gap) if p.area > 0]
        if not parts:
            continue
        part_population = np.zeros(len(parts), dtype=np.int64)
        if in_gap.any():
            # Uncovered settlements lie outside every disc, so inside a part; the nearest part
            # takes the rare one a rounding puts on an edge, keeping the parts' total equal
            # to the layer's.
            tree = shapely.STRtree(parts)
            gap_points = project(shapely.points(points[in_gap]), crs)
            part = np.full(len(gap_points), -1, dtype=np.int64)
            hit_point, hit_part = tree.query(gap_points, predicate="intersects")
            part[hit_point] = hit_part  # parts do not overlap: one part per point
            lost = np.flatnonzero(part < 0)
            if len(lost):
                part[lost] = tree.query_nearest(gap_points[lost], all_matches=False)[1]
            np.add.at(part_population, part, population[in_gap])
        for part, people in zip(parts, part_population):
            rows.append({
                "layer": layer, "area_km2": part.area / 1e6,
                "area_share": part.area / boundary_area if boundary_area else 0.0,
                "population": int(people), "geometry": part,
            })
    frame = pd.DataFrame(rows, columns=["layer", "area_km2", "area_share", "population", "geometry"])
    geometry = unproject(frame["geometry"].to_numpy(dtype=object), crs) if len(frame) else []
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


def _auto_resolution(boundary: Any) -> int:
    import h3

    crs = local_crs(*region_centre(boundary))
    area_km2 = project(boundary, crs).area / 1e6
    best = 0
    for res in range(0, 11):
        if area_km2 / h3.average_hexagon_area(res, "km^2") <= MAX_AUTO_CELLS:
            best = res
    return best


def h3_grid(
    boundary: Any,
    facilities: gpd.GeoDataFrame,
    *,
    resolution: int | None = 7,
    include_planned: bool = False,
    circuity: float = 1.0,
    layers: tuple[str, ...] = LAYERS,
) -> gpd.GeoDataFrame:
    """Return the H3 cells covering the region with the distance to the nearest facility per layer.

    Parameters
    ----------
    boundary
        The region, a shapely (Multi)Polygon in EPSG:4326. Every cell that overlaps it is
        returned (cells on the edge reach outside it).
    facilities
        Canonical features; facilities outside the boundary count too.
    resolution
        H3 resolution (7: cells of about 5.2 km²). None picks the finest resolution that
        keeps the grid under 10,000 cells.
    include_planned, circuity
        As in :func:`analysis.coverage.compute`.
    layers
        Layers to measure (default all three).

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``h3`` (cell id), ``nearest_km_<layer>`` (from the
    cell's centre, great-circle km x circuity, ``inf`` when the layer has no facility)
    and the cell polygon, sorted by cell id.
    """
    import h3  # only for the grid: listing uncovered settlements (every analysis) does without it

    if boundary is None or boundary.is_empty:
        raise ValueError("h3_grid needs the region's boundary (a polygon in EPSG:4326).")
    circuity = check_circuity(circuity)
    res = _auto_resolution(boundary) if resolution is None else int(resolution)
    if not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {resolution!r}.")
    crs = local_crs(*region_centre(boundary))
    expected = project(boundary, crs).area / 1e6 / h3.average_hexagon_area(res, "km^2")
    if expected > MAX_CELLS:
        raise ValueError(
            f"An H3 grid at resolution {res} would have about {expected:,.0f} cells over this region; "
            f"pick a coarser resolution (lower number) or resolution=None."
        )
    cells = sorted(h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(boundary), res, contain="overlap"))
    centres = np.array([h3.cell_to_latlng(c)[::-1] for c in cells], dtype=float).reshape(-1, 2)
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    frame = pd.DataFrame({"h3": pd.Series(cells, dtype=object)})
    for layer in layers:
        chosen = select_facilities(facilities, layer, include_planned=include_planned)
        km, _ = nearest_km(centres, lonlat(chosen.geometry))
        frame[f"nearest_km_{layer}"] = km * circuity
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([shapely.Polygon(r) for r in rings], crs=WGS84), crs=WGS84)
