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
) -> tuple[MapContent, str]:
    """Return the map content and the one big sentence for a story step.

    `facilities(layers, radius_km)` returns the facility layers to draw (the page caches
    them); `counts` are the facilities inside the region per layer (existing/planned),
    `gaps` the hub gap areas and `sites` the suggested hub sites (the last two steps).
    """
    base = dict(boundary=boundary, boundary_source=boundary_source, settlements=settlements)
    radius = result.radius_km
    if step.id == "region":
        text = (f"{result.population:,} people live in {len(settlements)} settlements of 500+; "
                f"{result.full_support_share:.0%} have a hub, training and a network within reach.")
        return MapContent(**base, facilities=facilities((), None)), text
    if step.id in LAYERS:
        layer = step.id
        figures = result.layers[layer]
        planned = counts[layer]["planned"]
        text = (f"{counts[layer]['existing']} {LAYER_LABELS[layer].lower()}"
                + (f" (+{planned} planned)" if planned else "")
                + f": {figures['coverage_share']:.0%} of people within {radius[layer]:g} km.")
        return MapContent(**base, facilities=facilities((layer,), {layer: radius[layer]})), text
    left_out = result.settlements[~result.settlements[f"covered_{HUBS}"]]
    if step.id == "gaps":
        people = int(left_out["population"].sum())
        text = (f"{people:,} people in {len(left_out)} settlements have no hub within {radius[HUBS]:g} km"
                + (f"; the largest is {left_out.sort_values('population').iloc[-1]['name']}." if len(left_out) else "."))
        return MapContent(**base, facilities=facilities((HUBS,), None), gaps=gaps, uncovered=left_out), text
    sites = sites or []
    added = sum(int(s["added_population"]) for s in sites)
    names = ", ".join(str(s["name"]) for s in sites)
    text = (f"{len(sites)} new hubs near {names} would bring {added:,} more people within reach."
            if sites else "Every settlement already has a hub within reach.")
    return MapContent(**base, facilities=facilities((HUBS,), {HUBS: radius[HUBS]}), uncovered=left_out,
                      sites=sites, sites_layer=HUBS), text
