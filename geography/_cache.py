"""Boundary source names, their CRS, and the helpers that keep boundaries in workspace tables."""
from __future__ import annotations

from datetime import datetime, timezone

import geopandas as gpd
import pandas as pd

from errors import BoundaryUnavailable  # noqa: F401  (raised by every source)

CRS = "EPSG:4326"
METRIC_CRS = "EPSG:3035"
IMPORTED, OFFICIAL, APPROXIMATE, NONE = "imported", "official", "approximate", "none"


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_cached(workspace, name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    frame = workspace.read_table(name) if workspace is not None else None
    if frame is None or frame.empty:
        return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in columns},
                                geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return frame


def concat_frames(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parts = [f for f in (old, new) if not f.empty]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)
