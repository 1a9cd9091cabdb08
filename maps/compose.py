"""One call that builds a page's map from features, boundary and (optional) analysis results."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from shapely.geometry.base import BaseGeometry

from loaders.layers import LAYERS, PLANNED
from maps.deck import build_deck
from maps.features import AGGREGATE_ABOVE, facility_layers
from maps.filters import filter_features
from maps.legend import legend_items
from maps.overlays import (
    area_share_layer,
    boundary_layers,
    catchment_layers,
    coverage_disc_layers,
    gap_layer,
    h3_grid_layer,
    settlement_layers,
    site_layers,
    uncovered_layer,
)
from maps.records import bounds_of
from maps.view import fit_view


@dataclass
class FacilityMap:
    """The facility layers of a map, built once (a page may cache it), and what the legend needs.

    Attributes
    ----------
    discs, layers
        Coverage-disc layers (drawn under everything else) and facility layers (on top).
    present
        Facility layers with at least one feature drawn; `planned`: any planned one drawn.
    drawn, unlocated
        Features drawn, and matching features left out for having no location.
    aggregated
        True when the points were sent as H3 hexagons (more than `AGGREGATE_ABOVE`).
    discs_skipped
        True when discs were asked for but left out (too many facilities to draw one each).
    """

    discs: list[pdk.Layer]
    layers: list[pdk.Layer]
    present: tuple[str, ...] = ()
    planned: bool = False
    drawn: int = 0
    unlocated: int = 0
    aggregated: bool = False
    discs_skipped: bool = False


def facility_map(
    features: gpd.GeoDataFrame | None,
    *,
    layers: tuple[str, ...] | list[str] = LAYERS,
    kinds: tuple[str, ...] | list[str] | None = None,
    sectors: tuple[str, ...] | list[str] | None = None,
    statuses: tuple[str, ...] | list[str] | None = None,
    radius_km: Mapping[str, float] | None = None,
    include_planned: bool = False,
    circuity: float = 1.0,
    scale: float = 1.0,
    bounds: tuple[float, float, float, float] | None = None,
    aggregate_above: int = AGGREGATE_ABOVE,
) -> FacilityMap:
    """Filter the features and build their deck layers (and coverage discs when `radius_km` is given).

    Parameters
    ----------
    features
        Canonical features (EPSG:4326), or None for none.
    layers, kinds, sectors, statuses
        Filters (see `maps.filters.filter_features`); `layers` also sets the drawing order.
    radius_km, include_planned, circuity
        Coverage discs for the shown layers with these radii (km) in that scenario.
    scale
        Size factor of points and lines (2 for the projector).
    bounds
        The region's lon/lat box (chooses the hexagon size when aggregating).
    aggregate_above
        Points above this count are drawn as H3 hexagons; no discs are drawn then.
    """
    layers = tuple(layers)
    if features is None or len(features) == 0 or not layers:
        return FacilityMap([], [])
    shown = filter_features(features, layers=layers, kinds=kinds, sectors=sectors, statuses=statuses)
    geoms = shown.geometry.values
    located = ~(shapely.is_missing(np.asarray(geoms, dtype=object)) | shapely.is_empty(np.asarray(geoms, dtype=object)))
    drawn = shown[located]
    too_many = int(located.sum()) > aggregate_above
    discs: list[pdk.Layer] = []
    if radius_km and not too_many:
        discs = coverage_disc_layers(drawn, {k: v for k, v in radius_km.items() if k in layers},
                                     include_planned=include_planned, circuity=circuity)
    return FacilityMap(
        discs=discs,
        layers=facility_layers(drawn, layers=layers, scale=scale, aggregate_above=aggregate_above, bounds=bounds),
        present=tuple(layer for layer in layers if (drawn["layer"] == layer).any()),
        planned=bool((drawn["status"] == PLANNED).any()),
        drawn=len(drawn), unlocated=int((~located).sum()), aggregated=too_many,
        discs_skipped=bool(radius_km) and too_many,
    )


@dataclass
class MapContent:
    """What to draw. Everything is optional; facilities come from `facilities` or `features`.

    Attributes
    ----------
    facilities
        Prebuilt facility layers (`facility_map`, e.g. cached by the page).
    features
        Canonical features to draw (EPSG:4326) when `facilities` is not given.
    layers
        Facility layers shown (toggles), in drawing order.
    boundary, boundary_source
        The region's (multi)polygon and where it came from (``approximate`` is dashed).
    settlements
        Demand points (name, population) for orientation labels.
    radius_km
        With `features`: coverage discs of these radii for the shown layers.
    include_planned, circuity
        The coverage scenario the discs follow.
    gaps
        Gap polygons (``area_km2``, ``population``).
    uncovered
        Uncovered settlements (``name``, ``population``, ``nearest_km_<layer>``).
    h3_grid, h3_layer
        H3 cells with ``nearest_km_<h3_layer>``.
    catchments
        ``{layer: catchment polygons}``.
    sites, sites_layer
        Suggested sites (name, lat, lon, added_population) and their layer.
    areas, areas_layer
        Areas with coverage shares (`analysis.by_area.AreaBreakdown.frame()`), coloured by
        the share of `areas_layer` (None: full support).
    attribution
        Copyright notice of the boundary data (shown in the legend).
    """

    facilities: FacilityMap | None = None
    features: gpd.GeoDataFrame | None = None
    layers: tuple[str, ...] = LAYERS
    boundary: BaseGeometry | None = None
    boundary_source: str = ""
    settlements: gpd.GeoDataFrame | None = None
    radius_km: Mapping[str, float] | None = None
    include_planned: bool = False
    circuity: float = 1.0
    gaps: gpd.GeoDataFrame | None = None
    uncovered: gpd.GeoDataFrame | None = None
    h3_grid: pd.DataFrame | None = None
    h3_layer: str = "hubs"
    catchments: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sites: list[dict] | None = None
    sites_layer: str = "hubs"
    areas: gpd.GeoDataFrame | None = None
    areas_layer: str | None = "hubs"
    attribution: str = ""


def _bounds(content: MapContent) -> tuple[float, float, float, float] | None:
    if content.boundary is not None:
        return bounds_of([content.boundary])
    if content.features is not None:
        return bounds_of(content.features.geometry)
    return None


def view_for(content: MapContent, *, width_px: int = 900, height_px: int = 560) -> pdk.ViewState:
    """Return the view fitted to the region (or to all features when there is no boundary).

    Depends only on the boundary, so filters and sliders never move the map.
    """
    return fit_view(_bounds(content), width_px=width_px, height_px=height_px)


def _facilities(content: MapContent, scale: float) -> FacilityMap:
    c = content
    if c.facilities is not None:
        return c.facilities
    return facility_map(c.features, layers=c.layers, radius_km=c.radius_km, include_planned=c.include_planned,
                        circuity=c.circuity, scale=scale, bounds=_bounds(c))


def atlas_layers(content: MapContent, *, scale: float = 1.0, zoom: float | None = None) -> list[pdk.Layer]:
    """Return every deck layer for `content`, bottom first (`zoom`: the initial view's, to declutter labels)."""
    c = content
    fm = _facilities(c, scale)
    layers = boundary_layers(c.boundary, source=c.boundary_source, scale=scale)
    layers += area_share_layer(c.areas, layer=c.areas_layer)
    if c.h3_grid is not None:
        layers += h3_grid_layer(c.h3_grid, layer=c.h3_layer)
    layers += gap_layer(c.gaps)
    layers += fm.discs
    for layer, polygons in (c.catchments or {}).items():
        layers += catchment_layers(polygons, layer=layer)
    layers += settlement_layers(c.settlements, scale=scale, zoom=zoom)
    layers += uncovered_layer(c.uncovered, scale=scale)
    layers += fm.layers
    layers += site_layers(c.sites, layer=c.sites_layer, scale=scale)
    return layers


def atlas_deck(
    content: MapContent, *, basemap: bool = False, scale: float = 1.0, height_px: int = 560, width_px: int = 900,
) -> pdk.Deck:
    """Return the Deck for `content`: no basemap unless asked, view fitted to the region."""
    view = view_for(content, width_px=width_px, height_px=height_px)
    return build_deck(atlas_layers(content, scale=scale, zoom=view.zoom), view, basemap=basemap,
                      large_tooltip=scale > 1.4)


def atlas_legend(content: MapContent) -> list[dict]:
    """Return the legend entries matching what `atlas_layers` draws."""
    c = content
    fm = _facilities(c, 1.0)
    return legend_items(
        list(fm.present or c.layers), planned=fm.planned,
        boundary_source=c.boundary_source or None, discs=bool(fm.discs),
        gaps=c.gaps is not None and len(c.gaps) > 0,
        uncovered=c.uncovered is not None and len(c.uncovered) > 0,
        h3_layer=c.h3_layer if c.h3_grid is not None else None, sites=bool(c.sites),
        area_layer=c.areas_layer, area_shares=c.areas is not None and len(c.areas) > 0,
        attribution=c.attribution,
        catchments=[layer for layer, polygons in (c.catchments or {}).items() if polygons is not None and len(polygons)],
    )
