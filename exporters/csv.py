"""Write features (or any result) as CSV: latitude/longitude columns for points, WKT for the rest.

Columns: the canonical schema in order, with ``latitude``, ``longitude`` and ``wkt`` after
``description``; ``attributes`` stays one JSON text column (CSV is flat and keys differ per
row). Points fill latitude/longitude and leave ``wkt`` empty; lines and polygons leave
latitude/longitude empty and give the geometry as WKT (lon lat, 6 decimals). Text that a
spreadsheet could run as a formula gets a leading apostrophe (see `exporters.safe_cells`).
The file is UTF-8 with a byte-order mark, so Excel shows Łódź as Łódź, and CRLF line ends.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from exporters.common import property_columns, round6
from exporters.safe_cells import csv_value
from loaders.features import CRS


def geometry_columns(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return ``latitude``, ``longitude`` (points) and ``wkt`` (other geometries) for each row."""
    if frame.crs is not None and frame.crs != CRS:
        frame = frame.to_crs(CRS)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    n = len(geoms)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    wkt = np.full(n, None, dtype=object)
    if n:
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(np.where(shapely.is_missing(geoms), None, geoms)))
        points = present & (shapely.get_type_id(np.where(present, geoms, None)) == 0)
        if points.any():
            lon[points] = round6(shapely.get_x(geoms[points]))
            lat[points] = round6(shapely.get_y(geoms[points]))
        others = present & ~points
        if others.any():
            wkt[others] = shapely.to_wkt(geoms[others], rounding_precision=6, trim=True)
    return pd.DataFrame({"latitude": lat, "longitude": lon, "wkt": wkt}, index=frame.index)


def flat_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` without geometry: geometry as latitude/longitude/WKT after ``description``."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame)
    columns = property_columns(frame)
    table = pd.DataFrame(frame[columns])
    geo = geometry_columns(frame)
    at = columns.index("description") + 1 if "description" in columns else len(columns)
    for offset, name in enumerate(geo.columns):
        table.insert(at + offset, name if name not in table.columns else f"geometry_{name}", geo[name])
    return table


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return repr(value)
    return csv_value(value if isinstance(value, (str, int)) else str(value))


def csv_text(frame: pd.DataFrame) -> str:
    """Return `frame` as CSV text (header row first; formula-like text neutralised)."""
    table = flat_table(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_value(str(c)) for c in table.columns])
    columns = [table[c].astype(object).tolist() for c in table.columns]
    writer.writerows([_cell(v) for v in row] for row in zip(*columns))
    return buffer.getvalue()


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write `frame` as CSV (UTF-8 with BOM, CRLF) to `path`; return the path."""
    path = Path(path)
    path.write_bytes(csv_text(frame).encode("utf-8-sig"))
    return path
