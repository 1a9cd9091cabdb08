"""The meeting story: region → hubs → training → networks → gaps → suggested sites, one map per step."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd

from analysis.coverage import CoverageResult
from loaders.layers import HUBS, LAYERS, NETWORKS, TRAINING
from maps.compose import FacilityMap, MapContent
from maps.style import LAYER_LABELS


@dataclass(frozen=True)
class Step:
    """One step of the story: its id and title."""

    id: str
    title: str


STEPS: tuple[Step, ...] = (
    Step("region", "The region"),
    Step(HUBS, LAYER_LABELS[HUBS]),
    Step(TRAINING, LAYER_LABELS[TRAINING]),
    Step(NETWORKS, LAYER_LABELS[NETWORKS]),
    Step("gaps", "Where the gaps are"),
    Step("sites", "Where new hubs would help most"),
)


def step_content(
    step: Step,
    *,
    facilities: Callable[[tuple[str, ...], dict[str, float] | None], FacilityMap],
    boundary,
    boundary_source: str,
    settlements: gpd.GeoDataFrame,
    result: CoverageResult,
    counts: dict[str, dict[str, int]],
    gaps: gpd.GeoDataFrame | None = None,
    sites: list[dict] | None = None,
    demand_kind: str = "settlements of 500+",
    too_few: bool = False,
    attribution: str = "",
) -> tuple[MapContent, str]:
    """Return the map content and the one big sentence for a story step.

    `facilities(layers, radius_km)` returns the facility layers to draw (the page caches
    them); `counts` are the facilities inside the region per layer (existing/planned),
    `gaps` the hub gap areas and `sites` the suggested hub sites (the last two steps).
    `settlements` label the map; `result` counts the demand, whose points are
    `demand_kind`. With `too_few` demand points no share is claimed (one city point is
    0 % or 100 % covered) and the sentences say to load a population grid.
    """
    base = dict(boundary=boundary, boundary_source=boundary_source, settlements=settlements,
                attribution=attribution)
    radius = result.radius_km
    points = len(result.settlements)
    if step.id == "region":
        text = f"{result.population:,} people live in {_count(points, demand_kind)}; "
        text += ("too few points to tell who has what within reach: load a population grid."
                 if too_few else f"{result.full_support_share:.0%} have a hub, training and a network within reach.")
        return MapContent(**base, facilities=facilities((), None)), text
    if step.id in LAYERS:
        layer = step.id
        figures = result.layers[layer]
        planned = counts[layer]["planned"]
        text = (f"{counts[layer]['existing']} {LAYER_LABELS[layer].lower()}"
                + (f" (+{planned} planned)" if planned else "")
                + (f": within {radius[layer]:g} km of whom cannot be told from {_count(points, 'demand points')}."
                   if too_few else f": {figures['coverage_share']:.0%} of people within {radius[layer]:g} km."))
        return MapContent(**base, facilities=facilities((layer,), {layer: radius[layer]})), text
    left_out = result.settlements[~result.settlements[f"covered_{HUBS}"]]
    if too_few:
        text = (f"With {_count(points, 'demand points')} the gaps cannot be found; load a population grid "
                "(for example the Eurostat 1 km grid) to see them.")
        return MapContent(**base, facilities=facilities((HUBS,), None)), text
    if step.id == "gaps":
        people = int(left_out["population"].sum())
        text = (f"{people:,} people in {_count(len(left_out), demand_kind)} have no hub within {radius[HUBS]:g} km"
                + (f"; the largest is {left_out.sort_values('population').iloc[-1]['name']}." if len(left_out) else "."))
        return MapContent(**base, facilities=facilities((HUBS,), None), gaps=gaps, uncovered=left_out), text
    sites = sites or []
    added = sum(int(s["added_population"]) for s in sites)
    names = ", ".join(str(s["name"]) for s in sites)
    text = (f"{_count(len(sites), 'new hubs')} near {names} would bring {added:,} more people within reach."
            if sites else "No new hub would bring more people within reach: everyone counted has one.")
    return MapContent(**base, facilities=facilities((HUBS,), {HUBS: radius[HUBS]}), uncovered=left_out,
                      sites=sites, sites_layer=HUBS), text


_SINGULAR = {"settlements of 500+": "settlement of 500+", "settlements": "settlement", "grid cells": "grid cell",
             "raster cells": "raster cell", "areas": "area", "demand points": "demand point", "new hubs": "new hub"}


def _count(n: int, plural: str) -> str:
    """ "1 settlement of 500+", "3 settlements of 500+", "1 new hub", "2 new hubs". """
    return f"{n:,} {_SINGULAR.get(plural, plural) if n == 1 else plural}"
