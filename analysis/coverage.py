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

from analysis.base import (
    check_circuity,
    check_radius,
    covered_mask,
    demand_population,
    lonlat,
    select_facilities,
    to_wgs84,
)
from analysis.distance import nearest_km_xyz, to_xyz
from loaders.vocabulary import (
    ALL_SECTORS,
    SECTORS,
    sector_choice,
    sector_names,
    serves_sector,
)

SECTOR_CHOICES: tuple[str, ...] = tuple(s for s in SECTORS if s != ALL_SECTORS)
"""The creative sectors an analysis can be restricted to (canonical names, vocabulary order)."""


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


@dataclass(frozen=True)
class Nearest:
    """The nearest facility of each layer for every demand point, whatever the radius.

    Attributes
    ----------
    layers
        Per layer: great-circle km to the nearest facility (``inf`` without one), that
        facility's ``feature_id`` (None), located facilities counted, and facilities of
        the layer without a location.
    include_planned
        Whether planned facilities were searched too.
    points
        Demand points searched (a guard against reuse with other demand).
    """

    layers: dict[str, tuple[np.ndarray, np.ndarray, int, int]]
    include_planned: bool
    points: int


def nearest_facilities(
    demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, layers, *, include_planned: bool = False,
) -> Nearest:
    """Find, for every demand point, the nearest facility of each of `layers` (see `Nearest`)."""
    demand = to_wgs84(demand)
    points_xyz = to_xyz(lonlat(demand.geometry))
    found: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}
    for layer in layers:
        chosen = select_facilities(facilities, layer, include_planned=include_planned)
        targets = lonlat(chosen.geometry)
        located = np.isfinite(targets).all(axis=1)
        km, index = nearest_km_xyz(points_xyz, targets)
        ids = chosen["feature_id"].to_numpy(dtype=object)
        nearest_id = np.full(len(demand), None, dtype=object)
        hit = index >= 0
        nearest_id[hit] = ids[index[hit]]
        found[layer] = (km, nearest_id, int(located.sum()), int((~located).sum()))
    return Nearest(found, include_planned, len(demand))


def compute(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    radius_km: dict[str, float],
    include_planned: bool = False,
    circuity: float = 1.0,
    nearest: Nearest | None = None,
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
    nearest
        The nearest facilities found earlier for this demand and these facilities
        (`nearest_facilities`): they do not depend on the radius, so a radius slider needs
        no new search. Layers it lacks are searched.

    Returns
    -------
    CoverageResult
    """
    radius_km = check_radius(radius_km)
    circuity = check_circuity(circuity)
    demand = to_wgs84(demand)
    population = demand_population(demand)
    total = int(population.sum())
    usable = nearest is not None and nearest.include_planned == include_planned and nearest.points == len(demand)
    known = dict(nearest.layers) if usable else {}
    missing = [layer for layer in radius_km if layer not in known]
    if missing:
        known.update(nearest_facilities(demand, facilities, missing, include_planned=include_planned).layers)

    settlements = demand.copy()
    full = np.ones(len(demand), dtype=bool)
    layers: dict[str, dict[str, Any]] = {}
    unlocated: dict[str, int] = {}
    for layer, radius in radius_km.items():
        km, nearest_id, located_count, unlocated_count = known[layer]
        km = km * circuity
        covered = covered_mask(km, radius)
        settlements[f"nearest_km_{layer}"] = km
        settlements[f"nearest_id_{layer}"] = pd.Series(nearest_id, index=demand.index, dtype=object)
        settlements[f"covered_{layer}"] = covered
        full &= covered
        covered_population = int(population[covered].sum())
        layers[layer] = {
            "facilities": located_count,
            "covered_population": covered_population,
            "coverage_share": covered_population / total if total else 0.0,
            "uncovered_settlements": int((~covered).sum()),
        }
        unlocated[layer] = unlocated_count
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


def facilities_in_sector(facilities: gpd.GeoDataFrame, sector: str | None) -> gpd.GeoDataFrame:
    """Return the facilities that serve `sector`: their ``sectors`` list it, or ``all``.

    `sector` is a canonical sector or an alias of one (``"gry"`` → games, see
    `loaders.vocabulary`); None or ``""`` returns `facilities` unchanged. Facilities that
    list no sector are left out of a sector's analysis: nothing says they serve it.
    Cells stored before the vocabulary ("gry, design") are read through it as well.

    Raises
    ------
    ValueError
        When `sector` names no known sector, listing the choices.
    """
    if not sector:
        return facilities
    canonical = sector_choice(sector)
    if canonical is None:
        raise ValueError(f"'{sector}' is not a creative sector; use one of {', '.join(SECTOR_CHOICES)}.")
    if "sectors" not in facilities:
        return facilities.iloc[:0]
    cells = facilities["sectors"]
    serves = {cell: serves_sector(cell, canonical) for cell in cells.dropna().unique()}
    keep = np.fromiter((serves.get(cell, False) for cell in cells.tolist()), dtype=bool, count=len(cells))
    return facilities.loc[keep]


def sectors_in(facilities: gpd.GeoDataFrame) -> list[str]:
    """Return the canonical sectors some facility lists, in vocabulary order (``all`` left out)."""
    if "sectors" not in facilities:
        return []
    listed = {name for cell in facilities["sectors"].dropna().unique() for name in sector_names(cell)}
    return [sector for sector in SECTOR_CHOICES if sector in listed]
