"""Fit a map view (Web Mercator centre and zoom) to a lon/lat bounding box, and project lon/lat to its pixels."""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pydeck as pdk

DEFAULT_BOUNDS = (-11.0, 35.0, 30.0, 70.0)  # Europe, when there is nothing to fit


def _merc_y(lat: float) -> float:
    """Return the Web Mercator y of a latitude as a fraction of the world (0 top, 1 bottom)."""
    lat = max(min(lat, 85.0511), -85.0511)
    phi = math.radians(lat)
    return (1.0 - math.log(math.tan(math.pi / 4 + phi / 2)) / math.pi) / 2.0


def _lat_from_merc_y(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(math.pi * (1 - 2 * y))) - math.pi / 2)


# deck.gl's world is 512 px wide at zoom 0 (tiles of 512 px): at zoom z it is 512 * 2**z px.
WORLD_PX = 512.0
MAX_LAT = 85.0511


def world_xy(lon, lat, zoom: float) -> np.ndarray:
    """Return Web Mercator world pixels (x right, y down from the north-west corner) at `zoom`.

    `lon`, `lat` are degrees (EPSG:4326), scalars or arrays; the result has shape ``(..., 2)``.
    """
    size = WORLD_PX * 2.0 ** zoom
    lon = np.asarray(lon, dtype=float)
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT))
    x = (lon + 180.0) / 360.0 * size
    y = (1.0 - np.log(np.tan(np.pi / 4 + phi / 2)) / np.pi) / 2.0 * size
    return np.stack([x, y], axis=-1)


def lonlat_from_world(xy: np.ndarray, zoom: float) -> np.ndarray:
    """Return lon/lat degrees (EPSG:4326) of Web Mercator world pixels at `zoom` (inverse of `world_xy`)."""
    size = WORLD_PX * 2.0 ** zoom
    xy = np.asarray(xy, dtype=float)
    lon = xy[..., 0] / size * 360.0 - 180.0
    lat = np.degrees(2 * np.arctan(np.exp(np.pi * (1 - 2 * xy[..., 1] / size))) - np.pi / 2)
    return np.stack([lon, lat], axis=-1)


def _view_values(view: pdk.ViewState | Mapping) -> tuple[float, float, float]:
    if isinstance(view, Mapping):
        return float(view["longitude"]), float(view["latitude"]), float(view["zoom"])
    return float(view.longitude), float(view.latitude), float(view.zoom)


def project(lon, lat, view: pdk.ViewState | Mapping, *, width_px: float, height_px: float) -> np.ndarray:
    """Return where deck.gl draws lon/lat on a canvas showing `view` (no pitch, no bearing).

    Parameters
    ----------
    lon, lat
        Degrees (EPSG:4326), scalars or arrays.
    view
        A `pydeck.ViewState` or the deck JSON's ``initialViewState`` (longitude, latitude, zoom).
    width_px, height_px
        The canvas size in CSS pixels; the view's centre is the canvas's centre.

    Returns
    -------
    numpy.ndarray
        ``(..., 2)`` CSS pixels from the canvas's top-left corner (x right, y down).
    """
    centre_lon, centre_lat, zoom = _view_values(view)
    offset = world_xy(lon, lat, zoom) - world_xy(centre_lon, centre_lat, zoom)
    return offset + np.array([width_px / 2.0, height_px / 2.0])


def fit_view(
    bounds: tuple[float, float, float, float] | None,
    *,
    width_px: int = 900,
    height_px: int = 560,
    padding: float = 0.08,
    max_zoom: float = 13.0,
) -> pdk.ViewState:
    """Return a view showing the whole bounding box.

    Parameters
    ----------
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees (EPSG:4326); None or an
        invalid box gives a view of Europe.
    width_px, height_px
        The expected size of the map in pixels (the zoom is chosen for it).
    padding
        Share of the box added on each side.
    max_zoom
        Upper limit, so that a single point does not zoom to street level.

    The values are rounded so that the same bounds always give the same view: the
    browser keeps the user's pan and zoom across reruns as long as the view sent is
    unchanged.
    """
    if bounds is None or not all(math.isfinite(v) for v in bounds) or bounds[0] > bounds[2] or bounds[1] > bounds[3]:
        bounds = DEFAULT_BOUNDS
    min_lon, min_lat, max_lon, max_lat = bounds
    x0, x1 = (min_lon + 180.0) / 360.0, (max_lon + 180.0) / 360.0
    y0, y1 = _merc_y(max_lat), _merc_y(min_lat)
    dx = max((x1 - x0) * (1 + 2 * padding), 1e-9)
    dy = max((y1 - y0) * (1 + 2 * padding), 1e-9)
    # deck.gl's world is 512 px wide at zoom 0 (tiles of 512 px).
    zoom = math.log2(min(width_px / (WORLD_PX * dx), height_px / (WORLD_PX * dy)))
    zoom = max(min(zoom, max_zoom), 1.0)
    centre_lon = (min_lon + max_lon) / 2.0
    centre_lat = _lat_from_merc_y((y0 + y1) / 2.0)
    # Rounded down, never up: a zoom rounded up could push the box's edges off the canvas.
    return pdk.ViewState(
        latitude=round(centre_lat, 4), longitude=round(centre_lon, 4), zoom=math.floor(zoom * 100) / 100,
        pitch=0, bearing=0,
    )
