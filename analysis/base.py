"""Coverage of settlements by hubs, training and networks within a radius per layer.

A settlement is covered by layer L when an existing facility of L (plus the planned
ones, in the "include planned" scenario) lies within ``radius_km[L]``, measured as the
great-circle distance times the road-circuity factor, inclusive (a settlement exactly on
the radius is covered; see :data:`analysis.distance.TOLERANCE_KM`). Distances come from
:mod:`analysis.distance`: exact on the sphere, no projection, within 0.5 % of the
ellipsoid. Figures count settlement points only: dispersed rural population that no
settlement point represents is not in them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.distance import TOLERANCE_KM, nearest_km_xyz, to_xyz
from loaders.layers import EXISTING, LAYERS, PLANNED

CRS = "EPSG:4326"


@dataclass
class CoverageResult:
    """Coverage of one region's settlements, per layer and overall.

    Attributes
    ----------
    radius_km
        The radius used per analysed layer, km (layers in canonical order).
    include_planned, circuity
        The scenario: planned facilities counted or not; the factor applied to
        great-circle distances (1.0 = straight line, about 1.3 for roads).
    settlements
        The demand frame (EPSG:4326, same index) plus, per analysed layer,
        ``nearest_km_<layer>`` (great-circle km x circuity, ``inf`` with no facility),
        ``nearest_id_<layer>`` (feature_id of that facility, or None),
        ``covered_<layer>`` (bool); and ``full_support`` (covered by every analysed layer).
    layers
        Per analysed layer: ``facilities`` (located facilities counted),
        ``covered_population``, ``coverage_share`` (0..1, 0 when population is 0),
        ``uncovered_settlements``.
    population
        Total population of the settlements.
    full_support_share
        Share of the population covered by all analysed layers at once (0..1).
    unlocated
        Per analysed layer, facilities counted by status but without a location (no
        geometry): they cover nothing and are not in ``layers[...]["facilities"]``.
    """

    radius_km: dict[str, float]
    include_planned: bool
    circuity: float
    settlements: gpd.GeoDataFrame
    layers: dict[str, dict[str, Any]]
    population: int
    full_support_share: float
    unlocated: dict[str, int] = field(default_factory=dict)

    @property
    def analysed_layers(self) -> list[str]:
        """Return the layers this result covers, in canonical order."""
        return list(self.radius_km)


def _to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
    facilities = _to_wgs84(facilities)
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


def compute(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    radius_km: dict[str, float],
    include_planned: bool = False,
    circuity: float = 1.0,
) -> CoverageResult:
    """Compute which settlements have a facility of each layer within its radius.

    Parameters
    ----------
    demand
        Settlements, EPSG:4326 points with ``name`` and ``population``. Rows without a
        geometry count in the population but are never covered. Non-point geometries
        (grid cells) are located by their representative point.
    facilities
        Canonical features (EPSG:4326). Only layers named in `radius_km` are analysed;
        ``unclassified`` features and features without a location are ignored;
        lines and polygons are located by their representative point.
    radius_km
        Radius per layer in km, e.g. ``{"hubs": 20, "training": 30, "networks": 30}``;
        a layer left out is not analysed (and ``full_support`` then means every
        analysed layer).
    include_planned
        Count planned facilities as well as existing ones (a scenario).
    circuity
        Factor (>= 1) applied to great-circle distances to approximate road distance.

    Returns
    -------
    CoverageResult
    """
    radius_km = check_radius(radius_km)
    circuity = check_circuity(circuity)
    demand = _to_wgs84(demand)
    population = demand_population(demand)
    total = int(population.sum())
    points_xyz = to_xyz(lonlat(demand.geometry))

    settlements = demand.copy()
    full = np.ones(len(demand), dtype=bool)
    layers: dict[str, dict[str, Any]] = {}
    unlocated: dict[str, int] = {}
    for layer, radius in radius_km.items():
        chosen = select_facilities(facilities, layer, include_planned=include_planned)
        targets = lonlat(chosen.geometry)
        located = np.isfinite(targets).all(axis=1)
        km, index = nearest_km_xyz(points_xyz, targets)
        km = km * circuity
        covered = covered_mask(km, radius)
        ids = chosen["feature_id"].to_numpy(dtype=object)
        nearest_id = np.full(len(demand), None, dtype=object)
        found = index >= 0
        nearest_id[found] = ids[index[found]]
        settlements[f"nearest_km_{layer}"] = km
        settlements[f"nearest_id_{layer}"] = pd.Series(nearest_id, index=demand.index, dtype=object)
        settlements[f"covered_{layer}"] = covered
        full &= covered
        covered_population = int(population[covered].sum())
        layers[layer] = {
            "facilities": int(located.sum()),
            "covered_population": covered_population,
            "coverage_share": covered_population / total if total else 0.0,
            "uncovered_settlements": int((~covered).sum()),
        }
        unlocated[layer] = int((~located).sum())
    settlements["full_support"] = full
    full_population = int(population[full].sum())
    return CoverageResult(
        radius_km=radius_km,
        include_planned=include_planned,
        circuity=circuity,
        settlements=settlements,
        layers=layers,
        population=total,
        full_support_share=full_population / total if total else 0.0,
        unlocated=unlocated,
    )
