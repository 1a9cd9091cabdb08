"""The meeting story: region → hubs → training → networks → gaps → suggested sites, one map per step."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd

from analysis.coverage import CoverageResult
from errors import UsageError
from i18n import N_, Message, formats, ngettext
from i18n import gettext as _
from loaders.layers import HUBS, LAYERS, NETWORKS, TRAINING
from maps.compose import FacilityMap, MapContent
from maps.isochrones import MODE_PHRASES
from maps.style import LAYER_LABELS, layer_label


@dataclass(frozen=True)
class Step:
    """One step of the story: its id and title (English; `Step.label` is the title in the reader's language)."""

    id: str
    title: str

    @property
    def label(self) -> str:
        """The step's title in the current language."""
        return _(self.title)


STEPS: tuple[Step, ...] = (
    Step("region", N_("The region")),
    Step(HUBS, LAYER_LABELS[HUBS]),
    Step(TRAINING, LAYER_LABELS[TRAINING]),
    Step(NETWORKS, LAYER_LABELS[NETWORKS]),
    Step("gaps", N_("Where the gaps are")),
    Step("sites", N_("Where new hubs would help most")),
)


def step_from_url(value: str, count: int = len(STEPS)) -> int:
    """Return the step index (0-based) of a ``?step=`` value, which counts from 1 as the page shows it.

    Raises
    ------
    UsageError
        When `value` is not a whole number from 1 to `count`; the message says which steps exist.
    """
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise UsageError(Message("?step={value} in the address is not a step of the story: use 1 to {count}. "
                                 "Showing the step this session had.", value=value[:20], count=count))
    return int(text) - 1


def next_step(index: int, count: int = len(STEPS), *, wrap: bool = False) -> int:
    """Return the step after `index`: the last stays last, or with `wrap` (auto-advance) comes back to the first."""
    if index + 1 < count:
        return index + 1
    return 0 if wrap else count - 1


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
    isochrones: Callable[[str], gpd.GeoDataFrame] | None = None,
    mode: str = "",
) -> tuple[MapContent, str]:
    """Return the map content and the one big sentence for a story step.

    `facilities(layers, radius_km)` returns the facility layers to draw (the page caches
    them); `counts` are the facilities inside the region per layer (existing/planned),
    `gaps` the hub gap areas and `sites` the suggested hub sites (the last two steps).
    `settlements` label the map; `result` counts the demand, whose points are
    `demand_kind`. With `too_few` demand points no share is claimed (one city point is
    0 % or 100 % covered) and the sentences say to load a population grid.

    A travel-time `result` (``measure == "minutes"``, `analysis.travel.TravelCoverage`) is
    told in minutes by `mode` ("within 30 min by car"); `isochrones(layer)` then returns the
    areas drawn instead of coverage discs.
    """
    base = dict(boundary=boundary, boundary_source=boundary_source, settlements=settlements,
                attribution=attribution)
    minutes = getattr(result, "measure", "km") == "minutes"
    radius = result.minutes if minutes else result.radius_km
    reach = {layer: (_("{minutes} {mode}").format(minutes=formats.minutes(value), mode=_(MODE_PHRASES.get(mode, mode)))
                     if minutes else formats.km(value)) for layer, value in radius.items()}
    discs = (lambda layer: None) if minutes else (lambda layer: {layer: radius[layer]})
    shapes = (lambda layer: isochrones(layer)) if minutes and isochrones is not None else (lambda layer: None)
    points = len(result.settlements)
    if step.id == "region":
        text = _("{people} people live in {points}; ").format(
            people=formats.number(result.population), points=_count(points, demand_kind))
        text += (_("too few points to tell who has what within reach: load a population grid.")
                 if too_few else _("{share} have a hub, training and a network within reach.").format(
                     share=formats.percent(result.full_support_share)))
        return MapContent(**base, facilities=facilities((), None)), text
    if step.id in LAYERS:
        layer = step.id
        figures = result.layers[layer]
        planned = counts[layer]["planned"]
        text = (f"{formats.number(counts[layer]['existing'])} {layer_label(layer).lower()}"
                + (_(" (+{count} planned)").format(count=formats.number(planned)) if planned else "")
                + (_(": within {radius} of whom cannot be told from {points}.").format(
                    radius=reach[layer], points=_count(points, "demand points"))
                   if too_few else _(": {share} of people within {radius}.").format(
                    share=formats.percent(figures["coverage_share"]), radius=reach[layer])))
        return MapContent(**base, facilities=facilities((layer,), discs(layer)), isochrones=shapes(layer)), text
    left_out = result.settlements[~result.settlements[f"covered_{HUBS}"]]
    if too_few:
        text = _("With {points} the gaps cannot be found; load a population grid "
                 "(for example the Eurostat 1 km grid) to see them.").format(points=_count(points, "demand points"))
        return MapContent(**base, facilities=facilities((HUBS,), None)), text
    if step.id == "gaps":
        people = int(left_out["population"].sum())
        text = _("{people} people in {points} have no hub within {radius}").format(
            people=formats.number(people), points=_count(len(left_out), demand_kind), radius=reach[HUBS])
        text += (_("; the largest is {name}.").format(name=left_out.sort_values("population").iloc[-1]["name"])
                 if len(left_out) else ".")
        return MapContent(**base, facilities=facilities((HUBS,), None), gaps=gaps, uncovered=left_out), text
    sites = sites or []
    added = sum(int(s["added_population"]) for s in sites)
    names = ", ".join(str(s["name"]) for s in sites)
    text = (ngettext("{count} new hub near {names} would bring {people} more people within reach.",
                     "{count} new hubs near {names} would bring {people} more people within reach.", len(sites)).format(
                count=formats.number(len(sites)), names=names, people=formats.number(added))
            if sites else _("No new hub would bring more people within reach: everyone counted has one."))
    return MapContent(**base, facilities=facilities((HUBS,), discs(HUBS)), uncovered=left_out,
                      sites=sites, sites_layer=HUBS, isochrones=shapes(HUBS)), text


# What demand points are (`demand_kind`: data names from the analysis) counted in running text, with
# their plural forms in the reader's language (literal `ngettext` calls, so that the plurals are extracted);
# a kind not listed is shown as given.
_FORMS: dict[str, Callable[[int], str]] = {
    "settlements of 500+": lambda n: ngettext("{count} settlement of 500+", "{count} settlements of 500+", n),
    "settlements": lambda n: ngettext("{count} settlement", "{count} settlements", n),
    "grid cells": lambda n: ngettext("{count} grid cell", "{count} grid cells", n),
    "raster cells": lambda n: ngettext("{count} raster cell", "{count} raster cells", n),
    "areas": lambda n: ngettext("{count} area", "{count} areas", n),
    "demand points": lambda n: ngettext("{count} demand point", "{count} demand points", n),
}


def _count(n: int, plural: str) -> str:
    """ "1 settlement of 500+", "3 settlements of 500+", "2 grid cells" in the reader's language. """
    form = _FORMS.get(plural)
    return form(n).format(count=formats.number(n)) if form else f"{formats.number(n)} {plural}"
