"""Coverage broken down by area inside a region: municipality, county or NUTS 3.

Alliances plan per municipality ("does every kommun have a meeting place?"), so one
number per region is not enough. `by_area` splits a `CoverageResult` over a set of area
polygons: every demand point (settlement or grid-cell centre) belongs to exactly one
area, so the areas partition the region and their populations sum to the region's.

A point inside no area polygon but within `SNAP_M` of one (generalised coastlines at 1:20M
leave slivers; a cell centre can sit just past the shore) is given to the nearest area;
`AreaBreakdown.moved` counts them so a report can say so. Points further from every area
(the areas file does not cover the whole region, e.g. Blekinge's five kommuner inside a
region that adds Kristianstad) form one more row, `REST`, so the rows still add up.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.base import lonlat, select_facilities
from analysis.coverage import CoverageResult

METRIC_CRS = "EPSG:3035"  # ETRS89 LAEA Europe: nearest-area distances in metres
SNAP_M = 5_000.0
"""A demand point this close to an area (metres) but in none belongs to the nearest one."""
REST = "Rest of the region (in no area)"


@dataclass
class AreaBreakdown:
    """Coverage per area.

    Attributes
    ----------
    table
        One row per area, in the areas' order: ``name``, ``population``, ``points``
        (demand points in it), per analysed layer ``covered_population_<layer>``,
        ``coverage_share_<layer>`` (0..1; NaN with no population), ``facilities_<layer>``
        (located facilities of the scenario inside the area) and ``per_100k_<layer>``
        (facilities per 100,000 inhabitants; NaN with no population); and
        ``full_support_share``.
    geometry
        The area polygons (EPSG:4326), same order as ``table``, for a choropleth (None for
        the `REST` row).
    moved
        Demand points inside no area polygon but within `SNAP_M` of one, given to the nearest.
    layers
        The analysed layers, in canonical order.
    """

    table: pd.DataFrame
    geometry: gpd.GeoSeries
    moved: int
    layers: list[str]

    def frame(self) -> gpd.GeoDataFrame:
        """Return the table with the area polygons, for maps and GeoJSON/GPKG exports."""
        return gpd.GeoDataFrame(self.table.copy(), geometry=self.geometry.reset_index(drop=True), crs="EPSG:4326")

    def records(self) -> list[dict]:
        """Return the ``by_area`` JSON list: name, population, layers, full_support_share."""
        out = []
        for row in self.table.to_dict("records"):
            out.append({
                "name": row["name"],
                "population": int(row["population"]),
                "layers": {layer: {
                    "covered_population": int(row[f"covered_population_{layer}"]),
                    "coverage_share": _share(row[f"coverage_share_{layer}"]),
                    "facilities": int(row[f"facilities_{layer}"]),
                    "per_100k": _share(row[f"per_100k_{layer}"], 2),
                } for layer in self.layers},
                "full_support_share": _share(row["full_support_share"]),
            })
        return out


def _share(value: float, digits: int = 6) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def assign_areas(points_lonlat: np.ndarray, areas: np.ndarray, *, snap_m: float | None = SNAP_M) -> tuple[np.ndarray, int]:
    """Return, per point, the index of the area holding it, and how many were snapped to the nearest area.

    Points on a shared border go to the first area in order. A point inside no area but
    within `snap_m` metres of one goes to the nearest one; other points get ``len(areas)``
    (the rest of the region). With ``snap_m=None`` a point inside no area gets -1 (a
    facility outside the region is in no area). Points without a location always get -1.
    """
    count = len(points_lonlat)
    index = np.full(count, -1, dtype=np.int64)
    if not count:
        return index, 0
    located = np.isfinite(points_lonlat).all(axis=1)
    rows = np.flatnonzero(located)
    if len(areas):
        geoms = np.asarray(areas, dtype=object)
        hit_point, hit_area = shapely.STRtree(geoms).query(shapely.points(points_lonlat[rows]),
                                                           predicate="intersects")
        order = np.lexsort((hit_area, hit_point))  # by point, then area: the first area wins
        hit_point, hit_area = hit_point[order], hit_area[order]
        first = np.ones(len(hit_point), dtype=bool)
        first[1:] = hit_point[1:] != hit_point[:-1]
        index[rows[hit_point[first]]] = hit_area[first]
    lost = rows[index[rows] < 0]
    if snap_m is None or not len(lost):
        return index, 0
    index[lost] = len(areas)
    if not len(areas):
        return index, 0
    metric = gpd.GeoSeries(np.asarray(areas, dtype=object), crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    lost_points = gpd.GeoSeries(shapely.points(points_lonlat[lost]), crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    near_point, near_area = shapely.STRtree(metric).query_nearest(lost_points, max_distance=snap_m, all_matches=False)
    index[lost[near_point]] = near_area
    return index, int(len(near_point))


def by_area(
    result: CoverageResult,
    areas: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    name_column: str = "name",
    assigned: tuple[np.ndarray, int] | None = None,
) -> AreaBreakdown:
    """Break a region's coverage down by area.

    Parameters
    ----------
    result
        The region's coverage (its ``settlements`` are the demand points inside the region).
    areas
        Polygons partitioning the region (EPSG:4326 or any CRS), with a name column.
    facilities
        The facilities the result was computed from; counted per area under the result's
        scenario (existing, plus planned when it includes them).
    name_column
        Column holding each area's name.
    assigned
        `assign_areas` of the result's demand points against these areas, when known
        already (it depends on neither radius nor facilities).

    Returns
    -------
    AreaBreakdown
    """
    if name_column not in areas.columns:
        raise ValueError(f"areas have no '{name_column}' column (found: {', '.join(map(str, areas.columns))})")
    areas = areas.to_crs("EPSG:4326") if areas.crs is not None and not areas.crs.equals("EPSG:4326") else areas
    areas = areas.reset_index(drop=True)
    settlements = result.settlements
    index, moved = assigned or assign_areas(lonlat(settlements.geometry), areas.geometry.to_numpy())
    population = settlements["population"].to_numpy(dtype=np.int64)
    counted = index >= 0
    names = areas[name_column].astype(str).tolist()
    geometry = list(areas.geometry.to_numpy())
    if (index == len(areas)).any():
        names.append(REST)
        geometry.append(None)
    n = len(names)

    def per_area(mask: np.ndarray) -> np.ndarray:
        keep = counted & mask
        return np.bincount(index[keep], weights=population[keep], minlength=n).astype(np.int64)

    area_population = per_area(np.ones(len(settlements), dtype=bool))
    with np.errstate(divide="ignore", invalid="ignore"):
        table = {
            "name": np.array(names, dtype=object),
            "population": area_population,
            "points": np.bincount(index[counted], minlength=n).astype(np.int64),
        }
        for layer in result.analysed_layers:
            covered = per_area(settlements[f"covered_{layer}"].to_numpy(dtype=bool))
            table[f"covered_population_{layer}"] = covered
            table[f"coverage_share_{layer}"] = np.where(area_population > 0, covered / area_population, np.nan)
            chosen = select_facilities(facilities, layer, include_planned=result.include_planned)
            where, _ = assign_areas(lonlat(chosen.geometry), areas.geometry.to_numpy(), snap_m=None)
            inside = np.bincount(where[where >= 0], minlength=n).astype(np.int64)
            table[f"facilities_{layer}"] = inside
            table[f"per_100k_{layer}"] = np.where(area_population > 0, inside * 100_000 / area_population, np.nan)
        full = per_area(settlements["full_support"].to_numpy(dtype=bool))
        table["full_support_share"] = np.where(area_population > 0, full / area_population, np.nan)
    return AreaBreakdown(pd.DataFrame(table), gpd.GeoSeries(geometry, crs="EPSG:4326"), moved,
                         result.analysed_layers)
