"""Boundary source names, their CRS, the error when a source gives none, and the workspace-table helpers."""
from __future__ import annotations

from datetime import datetime, timezone

import geopandas as gpd
import pandas as pd

CRS = "EPSG:4326"
METRIC_CRS = "EPSG:3035"
IMPORTED, OFFICIAL, APPROXIMATE, NONE = "imported", "official", "approximate", "none"


class BoundaryUnavailable(OSError):
    """No boundary could be obtained from a source (offline, no such code, nothing imported).

    ``network`` is True when the cause was the connection (so later downloads would fail too).
    """

    def __init__(self, message: str, *, network: bool = False):
        super().__init__(message)
        self.network = network


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read(workspace, name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    frame = workspace.read_table(name) if workspace is not None else None
    if frame is None or frame.empty:
        return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in columns},
                                geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return frame


def _concat(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parts = [f for f in (old, new) if not f.empty]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)
