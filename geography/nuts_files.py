"""Official GISCO NUTS 2021 polygons shipped in ``geodata/nuts`` (1:20 million, EPSG:4326), read offline."""
from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import CRS

NUTS_FOLDER = Path(__file__).resolve().parents[1] / "geodata" / "nuts"
NUTS_FILES = tuple(f"nuts2021_20m_4326_{c}.geojson" for c in ("IE", "UK_NI", "SE", "PL", "DE", "LT"))
SHIPPED_ATTRIBUTION = (
    "© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, 1:20 million)"
)
SHIPPED_SCALE = "1:20 million"


@functools.lru_cache(maxsize=1)
def _table() -> gpd.GeoDataFrame:
    frames = []
    for name in NUTS_FILES:
        frame = pyogrio.read_dataframe(NUTS_FOLDER / name, columns=["NUTS_ID", "LEVL_CODE", "CNTR_CODE", "NAME_LATN"],
                                       use_arrow=False)
        frame["file"] = name
        frames.append(frame)
    table = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    if not table.crs.equals(CRS):
        table = table.to_crs(CRS)
    return table.drop_duplicates("NUTS_ID").set_index("NUTS_ID", drop=False)


def shipped_nuts() -> gpd.GeoDataFrame:
    """Return every shipped NUTS 2021 region (levels 0-3): ``NUTS_ID``, ``LEVL_CODE``, ``CNTR_CODE``,
    ``NAME_LATN``, ``file`` and its (multi)polygon in EPSG:4326, indexed by ``NUTS_ID``."""
    return _table().copy()


def shipped_codes() -> frozenset[str]:
    """Return the NUTS codes the shipped files hold."""
    return frozenset(_table().index)


def shipped_boundaries(nuts_ids: tuple[str, ...] | list[str]) -> dict[str, BaseGeometry]:
    """Return the shipped geometry (EPSG:4326) of each code found in ``geodata/nuts``; missing codes are left out."""
    table = _table()
    out: dict[str, BaseGeometry] = {}
    for code in nuts_ids:
        code = str(code).upper()
        if code in table.index:
            out[code] = shapely.make_valid(table.at[code, "geometry"])
    return out
