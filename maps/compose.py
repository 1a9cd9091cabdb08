"""One call that builds a page's map from features, boundary and (optional) analysis results."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pydeck as pdk
from shapely.geometry.base import BaseGeometry

from loaders.layers import LAYERS
from maps.deck import build_deck
from maps.features import AGGREGATE_ABOVE, facility_layers
from maps.legend import legend_items
from maps.overlays import (
    boundary_layers, catchment_layers, coverage_disc_layers, gap_layer, h3_grid_layer, settlement_layers,
    site_layers, uncovered_layer,
)
from maps.records import bounds_of
from maps.view import fit_view


@dataclass
class MapContent:
    """What to draw. Everything but `features` is optional.

    Attributes
    ----------
    features
        Canonical features to draw (EPSG:4326), already filtered.
    layers
        Facility layers shown (toggles), in drawing order.
    boundary, boundary_source
        The region's (multi)polygon and where it came from (``approximate`` is dashed).
    settlements
        Demand points (name, population) for orientation labels.
    radius_km
        When given, coverage discs of these radii are drawn for the shown layers.
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
    """

    features: gpd.GeoDataFrame
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


def view_for(content: MapContent, *, width_px: int = 900, height_px: int = 560) -> pdk.ViewState:
    """Return the view fitted to the region (or to all features when there is no boundary).

    Depends only on the boundary, so filters and sliders never move the map.
    """
    bounds = bounds_of([content.boundary]) if content.boundary is not None else bounds_of(content.features.geometry)
    return fit_view(bounds, width_px=width_px, height_px=height_px)


def atlas_layers(content: MapContent, *, scale: float = 1.0, zoom: float | None = None) -> list[pdk.Layer]:
    """Return every deck layer for `content`, bottom first (`zoom`: the initial view's, to declutter labels)."""
    c = content
    shown = [layer for layer in c.layers]
    bounds = bounds_of([c.boundary]) if c.boundary is not None else None
    layers = boundary_layers(c.boundary, source=c.boundary_source, scale=scale)
    if c.h3_grid is not None:
        layers += h3_grid_layer(c.h3_grid, layer=c.h3_layer)
    layers += gap_layer(c.gaps)
    if c.radius_km:
        layers += coverage_disc_layers(c.features[c.features["layer"].isin(shown)],
                                       {k: v for k, v in c.radius_km.items() if k in shown},
                                       include_planned=c.include_planned, circuity=c.circuity)
    for layer, polygons in (c.catchments or {}).items():
        layers += catchment_layers(polygons, layer=layer)
    layers += settlement_layers(c.settlements, scale=scale, zoom=zoom)
    layers += uncovered_layer(c.uncovered, scale=scale)
    layers += facility_layers(c.features, layers=shown, scale=scale, aggregate_above=AGGREGATE_ABOVE, bounds=bounds)
    layers += site_layers(c.sites, layer=c.sites_layer, scale=scale)
    return layers


def atlas_deck(
    content: MapContent, *, basemap: bool = False, scale: float = 1.0, height_px: int = 560,
) -> pdk.Deck:
    """Return the Deck for `content`: no basemap unless asked, view fitted to the region."""
    view = view_for(content, height_px=height_px)
    return build_deck(atlas_layers(content, scale=scale, zoom=view.zoom), view, basemap=basemap,
                      large_tooltip=scale > 1.4)


def atlas_legend(content: MapContent) -> list[dict]:
    """Return the legend entries matching what `atlas_layers` draws."""
    c = content
    present = [layer for layer in c.layers if (c.features["layer"] == layer).any()]
    return legend_items(
        present or list(c.layers), planned=bool((c.features["status"] == "planned").any()),
        boundary_source=c.boundary_source or None, discs=bool(c.radius_km),
        gaps=c.gaps is not None and len(c.gaps) > 0,
        uncovered=c.uncovered is not None and len(c.uncovered) > 0,
        h3_layer=c.h3_layer if c.h3_grid is not None else None, sites=bool(c.sites),
    )
