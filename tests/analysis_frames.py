"""Small demand and facility frames for the analysis tests, built in EPSG:4326."""
from __future__ import annotations

import math

import geopandas as gpd
from shapely.geometry import Point

from analysis.distance import EARTH_RADIUS_KM

DEG_KM = EARTH_RADIUS_KM * math.pi / 180  # km per degree of great circle


def demand_frame(rows):
    """Rows of (name, population, lon, lat) -> demand frame."""
    names, pops, lons, lats = zip(*rows) if rows else ((), (), (), ())
    return gpd.GeoDataFrame({"name": list(names), "population": list(pops)},
                            geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")


def facility_frame(rows):
    """Rows of (feature_id, layer, status, (lon, lat) | shapely geometry | None) -> features."""
    ids, layers, statuses, geoms = zip(*rows) if rows else ((), (), (), ())
    shapes = [g if g is None or hasattr(g, "geom_type") else Point(g) for g in geoms]
    return gpd.GeoDataFrame(
        {"feature_id": list(ids), "name": [f"name {i}" for i in ids], "layer": list(layers),
         "kind": None, "status": list(statuses), "town": None},
        geometry=gpd.GeoSeries(shapes, crs="EPSG:4326"), crs="EPSG:4326",
    )
