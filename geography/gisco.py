"""Official Eurostat GISCO NUTS 2021 boundaries: download and the workspace cache."""
from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geography._cache import (
    CRS,
    BoundaryUnavailable,
    concat_frames,
    now_utc,
    read_cached,
)
from geography.boundary_files import read_boundary_bytes
from i18n import Message
from loaders.errors import ImportFileError

NUTS_CACHE = "nuts_boundaries"         # workspace table: nuts_id, name, url, fetched_at, geometry
NUTS_COLUMNS = ("nuts_id", "name", "url", "fetched_at")

# One small file per NUTS id (1:1 million, EPSG:4326, NUTS 2021): tens to hundreds of kB,
# instead of the 40 MB all-Europe level-3 file. Override with ATLAS_GISCO_NUTS_URL (tests).
GISCO_NUTS_URL = (
    "https://gisco-services.ec.europa.eu/distribution/v2/nuts/distribution/"
    "{nuts_id}-region-01m-4326-2021.geojson"
)
GISCO_ATTRIBUTION = "© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, 1:1 million)"
GISCO_SCALE = "1:1 million"


def gisco_url(nuts_id: str, template: str | None = None) -> str:
    """Return the download address of one NUTS 2021 region (EPSG:4326, 1:1 million)."""
    template = template or os.environ.get("ATLAS_GISCO_NUTS_URL") or GISCO_NUTS_URL
    return template.format(nuts_id=nuts_id)


def _download(url: str, nuts_id: str, timeout_s: float) -> BaseGeometry:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (https/http only)
            data = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        raise BoundaryUnavailable(Message(
            "GISCO has no NUTS 2021 boundary for '{code}' (HTTP {status} from {url}). "
            "Check the code in regions.json.", code=nuts_id, status=exc.code, url=url)
        ) from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BoundaryUnavailable(Message(
            "the official boundary of {code} could not be downloaded from {url} ({reason}); "
            "this looks like no internet connection", code=nuts_id, url=url, reason=reason), network=True,
        ) from None
    try:
        geometry, _ = read_boundary_bytes(data, f"{nuts_id}.geojson", nuts=(nuts_id,))
    except ImportFileError as exc:
        raise BoundaryUnavailable(Message("the download from {url} is not a usable boundary ({problem})",
                                          url=url, problem=exc.args[0] if exc.args else "")) from None
    return geometry


def _from_cache(cache, nuts_ids) -> tuple[dict[str, BaseGeometry], list[str]]:
    found: dict[str, BaseGeometry] = {}
    urls: list[str] = []
    for row in cache.itertuples(index=False):
        if row.nuts_id in nuts_ids and row.nuts_id not in found:
            found[row.nuts_id] = row.geometry
            urls.append(row.url)
    return found, urls


def cached_boundaries(nuts_ids: tuple[str, ...], workspace=None) -> dict[str, BaseGeometry]:
    """Return the geometry of each code already downloaded into the workspace cache (1:1 million); no network."""
    found, _ = _from_cache(read_cached(workspace, NUTS_CACHE, NUTS_COLUMNS), nuts_ids)
    return found


def official_boundary(
    nuts_ids: tuple[str, ...], workspace=None, *, online: bool = True, timeout_s: float = 5,
    url_template: str | None = None,
) -> tuple[dict[str, BaseGeometry], list[str]]:
    """Return the official GISCO geometry of each NUTS code, from the workspace cache or downloaded.

    Codes not yet cached are downloaded (when `online`) with a timeout and stored in the
    workspace's ``nuts_boundaries`` table, so the next call works offline.

    Returns
    -------
    The geometries by code, and the addresses they came from. Raises BoundaryUnavailable
    (naming the first code missing and why) when any code cannot be had.
    """
    cache = read_cached(workspace, NUTS_CACHE, NUTS_COLUMNS)
    found, urls = _from_cache(cache, nuts_ids)
    missing = [c for c in nuts_ids if c not in found]
    if missing and not online:
        raise BoundaryUnavailable(Message(
            "offline: the official boundary of {codes} is not cached in the workspace yet", codes=", ".join(missing))
        )
    new_rows = []
    problem: BoundaryUnavailable | None = None
    for nuts_id in missing:
        url = gisco_url(nuts_id, url_template)
        try:
            geometry = _download(url, nuts_id, timeout_s)
        except BoundaryUnavailable as exc:
            problem = exc
            # One failed connection means the others would wait for their timeout too.
            break
        found[nuts_id] = geometry
        urls.append(url)
        new_rows.append({"nuts_id": nuts_id, "name": "", "url": url, "fetched_at": now_utc(), "geometry": geometry})
    if new_rows and workspace is not None:
        fresh = gpd.GeoDataFrame(new_rows, geometry="geometry", crs=CRS)
        workspace.write_tables({NUTS_CACHE: concat_frames(cache, fresh)})
    if problem is not None:
        raise problem
    return found, urls
