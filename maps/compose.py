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

from analysis.base import lonlat
from loaders.layers import LAYERS, PLANNED
from maps.deck import build_deck
from maps.features import AGGREGATE_ABOVE, facility_layers
from maps.filters import filter_features
from maps.isochrones import isochrone_label, isochrone_layers
from maps.legend import legend_items
from maps.overlays import (
    LABELS_ID,
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
from maps.style import LAYER_RGB, hex_colour
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
    region_total, region_drawn, outside
        With a region boundary: located features of the workspace inside it (whatever the
        filters), those of them drawn (after the layer toggles and filters), and located
        features outside it. None without a boundary.
    """

    discs: list[pdk.Layer]
    layers: list[pdk.Layer]
    present: tuple[str, ...] = ()
    planned: bool = False
    drawn: int = 0
    unlocated: int = 0
    aggregated: bool = False
    discs_skipped: bool = False
    region_total: int | None = None
    region_drawn: int | None = None
    outside: int | None = None


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
    boundary: BaseGeometry | None = None,
    spread_zoom: float | None = None,
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
    boundary
        The region's (multi)polygon (EPSG:4326): counts how many features are inside it,
        drawn or not (`FacilityMap.region_total` …). A feature is inside when its
        representative point is, as the region's other figures count it.
    spread_zoom
        The zoom the map opens at: points that would overlap there are spread apart for
        display (see `maps.features.spread_positions`).
    """
    layers = tuple(layers)
    counts = _region_counts(features, boundary)
    if features is None or len(features) == 0 or not layers:
        return FacilityMap([], [], region_drawn=0 if counts else None, **counts)
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
        layers=facility_layers(drawn, layers=layers, scale=scale, aggregate_above=aggregate_above, bounds=bounds,
                               spread_zoom=spread_zoom),
        present=tuple(layer for layer in layers if (drawn["layer"] == layer).any()),
        planned=bool((drawn["status"] == PLANNED).any()),
        drawn=len(drawn), unlocated=int((~located).sum()), aggregated=too_many,
        discs_skipped=bool(radius_km) and too_many,
        region_drawn=int(_inside(drawn, boundary).sum()) if counts else None, **counts,
    )


def _inside(features: gpd.GeoDataFrame, boundary: BaseGeometry) -> np.ndarray:
    """Mask of features whose representative point lies in `boundary` (False for unlocated ones)."""
    xy = lonlat(features.geometry)
    located = np.isfinite(xy).all(axis=1)
    mask = np.zeros(len(features), dtype=bool)
    mask[located] = shapely.intersects_xy(boundary, xy[located, 0], xy[located, 1])
    return mask


def _region_counts(features: gpd.GeoDataFrame | None, boundary: BaseGeometry | None) -> dict[str, int]:
    """``region_total`` and ``outside`` of the workspace's located features, or {} without a boundary."""
    if boundary is None or boundary.is_empty:
        return {}
    if features is None or len(features) == 0:
        return {"region_total": 0, "outside": 0}
    shapely.prepare(boundary)
    xy = lonlat(features.geometry)
    located = np.isfinite(xy).all(axis=1)
    total = int(shapely.intersects_xy(boundary, xy[located, 0], xy[located, 1]).sum())
    return {"region_total": total, "outside": int(located.sum()) - total}


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
    isochrones
        Areas each facility is reached from within a travel time (`analysis.travel.isochrones`:
        ``layer``, ``name``, ``minutes``, ``mode``, polygons).
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
    isochrones: gpd.GeoDataFrame | None = None


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


def _facilities(content: MapContent, scale: float, zoom: float | None = None) -> FacilityMap:
    c = content
    if c.facilities is not None:
        return c.facilities
    return facility_map(c.features, layers=c.layers, radius_km=c.radius_km, include_planned=c.include_planned,
                        circuity=c.circuity, scale=scale, bounds=_bounds(c), boundary=c.boundary, spread_zoom=zoom)


def atlas_layers(content: MapContent, *, scale: float = 1.0, zoom: float | None = None) -> list[pdk.Layer]:
    """Return every deck layer for `content`, bottom first.

    `zoom` is the initial view's: town labels that would overlap are left out, and facility
    points built here from `content.features` that would overlap are spread apart.
    """
    c = content
    fm = _facilities(c, scale, zoom)
    layers = boundary_layers(c.boundary, source=c.boundary_source, scale=scale)
    layers += area_share_layer(c.areas, layer=c.areas_layer)
    if c.h3_grid is not None:
        layers += h3_grid_layer(c.h3_grid, layer=c.h3_layer)
    layers += gap_layer(c.gaps)
    layers += fm.discs
    layers += isochrone_layers(c.isochrones)
    for layer, polygons in (c.catchments or {}).items():
        layers += catchment_layers(polygons, layer=layer)
    towns = settlement_layers(c.settlements, scale=scale, zoom=zoom)
    layers += [layer for layer in towns if layer.id != LABELS_ID]
    layers += uncovered_layer(c.uncovered, scale=scale)
    layers += fm.layers
    # Town names above the facilities (they are not pickable, so clicks reach the points
    # below): a group of facilities spread around a town's point would hide its name.
    layers += [layer for layer in towns if layer.id == LABELS_ID]
    layers += site_layers(c.sites, layer=c.sites_layer, scale=scale)
    return layers


def atlas_deck(
    content: MapContent, *, basemap: bool = False, scale: float = 1.0, height_px: int = 560, width_px: int = 900,
) -> pdk.Deck:
    """Return the Deck for `content`: no basemap unless asked, view fitted to the region.

    `width_px` and `height_px` are the canvas's size in CSS pixels as the page draws it: the
    zoom is chosen so the region's whole boundary fits that canvas (a view fitted for a wider
    canvas than the page has would cut a wide region's ends off).
    """
    view = view_for(content, width_px=width_px, height_px=height_px)
    return build_deck(atlas_layers(content, scale=scale, zoom=view.zoom), view, basemap=basemap,
                      large_tooltip=scale > 1.4)


def atlas_legend(content: MapContent) -> list[dict]:
    """Return the legend entries matching what `atlas_layers` draws."""
    c = content
    fm = _facilities(c, 1.0)
    items = legend_items(
        list(fm.present or c.layers), planned=fm.planned,
        boundary_source=c.boundary_source or None, discs=bool(fm.discs),
        gaps=c.gaps is not None and len(c.gaps) > 0,
        uncovered=c.uncovered is not None and len(c.uncovered) > 0,
        h3_layer=c.h3_layer if c.h3_grid is not None else None, sites=bool(c.sites),
        area_layer=c.areas_layer, area_shares=c.areas is not None and len(c.areas) > 0,
        attribution=c.attribution,
        catchments=[layer for layer, polygons in (c.catchments or {}).items() if polygons is not None and len(polygons)],
    )
    if c.isochrones is not None and len(c.isochrones):
        shown = c.isochrones.drop_duplicates(["layer", "minutes", "mode"])
        at = next((i for i, item in enumerate(items) if item["symbol"] in ("dashed", "line", "note")), len(items))
        items[at:at] = [{"label": isochrone_label(r.layer, r.minutes, r.mode), "colour": hex_colour(LAYER_RGB[r.layer]),
                         "symbol": "area"} for r in shown.itertuples(index=False)]
    return items
