"""What the dashboard shows of travel-time results, without Streamlit: phrases, tables, catchment polygons."""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.base import lonlat, to_wgs84
from i18n import N_, formats
from i18n import gettext as _
from loaders.layers import LAYERS
from maps.isochrones import MODE_PHRASES

KM, MINUTES = "km", "minutes"
MEASURES = {KM: N_("Distance (km)"), MINUTES: N_("Travel time (min)")}
MODE_LABELS = {"drive": N_("Drive"), "walk": N_("Walk"), "bike": N_("Bike")}
DEFAULT_MINUTES = 30
"""Minutes per layer a slider starts at (as ``atlas analyze --network`` without ``--minutes``)."""


def mode_phrase(mode: str) -> str:
    """How the mode reads in a sentence: "by car", "on foot", "by bike" (current language)."""
    return _(MODE_PHRASES[mode]) if mode in MODE_PHRASES else mode


def reach_text(minutes: float, mode: str) -> str:
    """ "within 30 min by car" in the current language."""
    return _("within {minutes} {mode}").format(minutes=formats.minutes(minutes), mode=mode_phrase(mode))


def off_network_table(off_network: pd.DataFrame) -> pd.DataFrame:
    """The demand points too far from the network (`TravelCoverage.off_network`): town, population, km to a road."""
    return pd.DataFrame({
        "town": off_network["name"].to_numpy(dtype=object),
        "population": off_network["population"].to_numpy(dtype=np.int64),
        "km to the network": np.round(off_network["snap_m"].to_numpy(dtype=float) / 1000.0, 1),
    })


def catchment_polygons(nearest_id: np.ndarray, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                       boundary: Any, *, layer: str) -> gpd.GeoDataFrame:
    """Draw catchments by travel time: the Voronoi cells of the demand points, merged by their nearest facility.

    Parameters
    ----------
    nearest_id
        Per demand point, the feature_id of the facility of `layer` it reaches first by road
        (None when it reaches none: off network, or on an island).
    demand
        The demand points (``population``; EPSG:4326), in the order of `nearest_id`.
    facilities
        Canonical features (names of the facilities).
    boundary
        The region's polygon (EPSG:4326): cells are clipped to it.

    Returns
    -------
    GeoDataFrame (EPSG:4326): ``feature_id``, ``name``, ``population``, ``settlements`` and the
    merged cells; points that reach no facility belong to no catchment.
    """
    from analysis.crs import local_crs, project, region_centre, unproject

    demand = to_wgs84(demand)
    ids = np.asarray(nearest_id, dtype=object)
    points = lonlat(demand.geometry)
    keep = np.isfinite(points).all(axis=1) & pd.notna(ids)
    columns = ["feature_id", "name", "population", "settlements"]
    if not keep.any() or boundary is None or boundary.is_empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    crs = local_crs(*region_centre(boundary))
    region = project(boundary, crs)
    if not region.is_valid:
        region = shapely.make_valid(region)
    # Points at the same place share one cell (a Voronoi diagram has one cell per distinct point).
    unique, inverse = np.unique(np.round(points[keep], 6), axis=0, return_inverse=True)
    if len(unique) == 1:
        cells = np.array([region], dtype=object)
    else:
        xy = project(shapely.points(unique), crs)
        diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=region, ordered=True)
        cells = np.asarray(diagram.geoms, dtype=object)
    cells = cells[np.asarray(inverse).reshape(-1)]
    population = demand["population"].to_numpy(dtype=float)[keep]
    names = dict(zip(facilities["feature_id"].astype(str), facilities["name"].astype(str)))
    rows, shapes = [], []
    for fid in pd.unique(ids[keep]):
        mine = ids[keep] == fid
        shapes.append(unproject(shapely.intersection(shapely.union_all(cells[mine]), region), crs))
        rows.append({"feature_id": str(fid), "name": names.get(str(fid), str(fid)),
                     "population": int(population[mine].sum()), "settlements": int(mine.sum())})
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=gpd.GeoSeries(shapes, crs="EPSG:4326"),
                             crs="EPSG:4326")
    frame.attrs["layer"] = layer
    return frame.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)


def off_network_facilities(router: Any, facilities: gpd.GeoDataFrame, boundary: Any, *,
                           include_planned: bool = False) -> pd.DataFrame:
    """The region's facilities farther than the snapping limit from the network (they serve nobody).

    Only located facilities inside `boundary` (EPSG:4326) of the analysed statuses count: the
    workspace's facilities in other regions are off this region's network by nature.
    Columns ``name``, ``layer``, ``km to the network``.
    """
    from analysis.base import select_facilities

    rows = []
    for layer in LAYERS:
        chosen = select_facilities(facilities, layer, include_planned=include_planned)
        points = lonlat(chosen.geometry)
        located = np.isfinite(points).all(axis=1)
        inside = np.zeros(len(chosen), dtype=bool)
        if boundary is not None and located.any():
            inside[located] = shapely.intersects_xy(boundary, points[located, 0], points[located, 1])
        if not inside.any():
            continue
        snap = router.snap(points[inside])
        far = ~snap.on_network
        rows += [{"name": str(n), "layer": layer, "km to the network": round(float(m) / 1000.0, 1)}
                 for n, m in zip(chosen["name"].to_numpy(dtype=object)[inside][far], snap.metres[far])]
    return pd.DataFrame(rows, columns=["name", "layer", "km to the network"])
