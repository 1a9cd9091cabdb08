"""Great-circle distances in kilometres between lon/lat points, with a k-d tree on the unit sphere.

Points are mapped to unit vectors (x, y, z); the straight-line (chord) distance between
two unit vectors is a monotonic function of the great-circle angle, so a
``scipy.spatial.cKDTree`` on those vectors finds the great-circle nearest neighbour
exactly, with no projection and so no projection error anywhere on Earth (Iceland,
the Canaries and the North Cape are as exact as Brussels). Distances are on the sphere
of the mean Earth radius (IUGG R1 = 6371.0088 km), which stays within 0.5 % of the WGS84
ellipsoid's geodesic (worst case about 0.3 % on north-south lines near the poles or the
equator, typically under 0.2 % in Europe).
"""
from __future__ import annotations

from itertools import chain

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
# Distances that differ from a radius by less than this still count as "within" it, so a
# settlement placed exactly on the radius is covered despite floating-point rounding.
TOLERANCE_KM = 1e-9


def _as_lonlat(values: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return array.reshape(0, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(
            f"{what}: expected an array of shape (n, 2) with longitude, latitude in degrees, "
            f"got shape {array.shape}. Pass np.column_stack([lon, lat])."
        )
    return array


def to_xyz(lonlat: np.ndarray) -> np.ndarray:
    """Return unit vectors (n, 3) for lon/lat degrees (n, 2); rows with NaN stay NaN."""
    lonlat = _as_lonlat(lonlat, "lonlat")
    lon = np.radians(lonlat[:, 0])
    lat = np.radians(lonlat[:, 1])
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def chord_from_km(km: float | np.ndarray) -> float | np.ndarray:
    """Return the unit-sphere chord length for a great-circle distance in km."""
    angle = np.clip(np.asarray(km, dtype=float) / EARTH_RADIUS_KM, 0.0, np.pi)
    return 2.0 * np.sin(angle / 2.0)


def km_from_chord(chord: float | np.ndarray) -> float | np.ndarray:
    """Return the great-circle km for a unit-sphere chord length (inverse of `chord_from_km`).

    The chord of two nearby unit vectors is a difference of close numbers, which floating
    point computes exactly, so this stays accurate to ~1e-12 km even for coincident points.
    """
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))


def km_between_xyz(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return great-circle km between paired unit vectors (n, 3), well conditioned at any range."""
    cx = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    cy = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    cz = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]
    return EARTH_RADIUS_KM * np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), dot)


def pairwise_km(a_lonlat: np.ndarray, b_lonlat: np.ndarray) -> np.ndarray:
    """Return great-circle km between paired lon/lat points (row i of a to row i of b)."""
    return km_between_xyz(to_xyz(a_lonlat), to_xyz(b_lonlat))


def distinct_points(targets_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct finite unit vectors and, for each, the first original row index.

    Exact duplicates are dropped so that ties between coincident targets always go to the
    one listed first, whatever order the tree happens to visit them in.
    """
    finite = np.flatnonzero(np.isfinite(targets_xyz).all(axis=1))
    if finite.size == 0:
        return np.empty((0, 3)), np.empty(0, dtype=np.intp)
    xyz = targets_xyz[finite]
    order = np.lexsort((finite, xyz[:, 2], xyz[:, 1], xyz[:, 0]))  # stable: first listed wins
    ordered = xyz[order]
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = (ordered[1:] == ordered[:-1]).all(axis=1)
    keep = finite[np.sort(order[~repeat])]
    return targets_xyz[keep], keep


def nearest_km(points_lonlat: np.ndarray, targets_lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Find the great-circle distance from each point to its nearest target.

    Parameters
    ----------
    points_lonlat, targets_lonlat
        Arrays (n, 2) and (m, 2) of longitude, latitude in degrees (EPSG:4326 order).

    Returns
    -------
    km, index
        Distance in km (float, ``inf`` when there are no targets or the point has no
        coordinates) and the row of the nearest target in `targets_lonlat` (``-1`` then).
        Ties between coincident targets go to the first one listed.
    """
    return nearest_km_xyz(to_xyz(_as_lonlat(points_lonlat, "points_lonlat")), targets_lonlat)


def nearest_km_xyz(points_xyz: np.ndarray, targets_lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Do what :func:`nearest_km` does, for points already turned into unit vectors by `to_xyz`.

    Saves converting the same settlements again when measuring several layers.
    """
    targets = _as_lonlat(targets_lonlat, "targets_lonlat")
    n = len(points_xyz)
    km = np.full(n, np.inf)
    index = np.full(n, -1, dtype=np.intp)
    if n == 0 or len(targets) == 0:
        return km, index
    target_xyz, target_rows = distinct_points(to_xyz(targets))
    if len(target_rows) == 0:
        return km, index
    ok = np.isfinite(points_xyz).all(axis=1)
    tree = cKDTree(target_xyz)
    if ok.all():
        chord, found = tree.query(points_xyz, k=1, workers=-1)
        return km_from_chord(chord), target_rows[found]
    chord, found = tree.query(points_xyz[ok], k=1, workers=-1)
    km[ok] = km_from_chord(chord)
    index[ok] = target_rows[found]
    return km, index


def within_km(
    points_lonlat: np.ndarray, targets_lonlat: np.ndarray, radius_km: float
) -> sparse.csr_matrix:
    """Return which targets lie within `radius_km` great-circle km of each point.

    Parameters
    ----------
    points_lonlat, targets_lonlat
        Arrays (n, 2) and (m, 2) of longitude, latitude in degrees.
    radius_km
        Inclusive radius in km (a target exactly on the radius counts, up to 1e-9 km).

    Returns
    -------
    A boolean ``csr_matrix`` of shape (n, m); points or targets without coordinates
    have no entries.
    """
    points = _as_lonlat(points_lonlat, "points_lonlat")
    targets = _as_lonlat(targets_lonlat, "targets_lonlat")
    if not np.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius_km must be a finite number of km >= 0, got {radius_km!r}.")
    n, m = len(points), len(targets)
    target_xyz = to_xyz(targets)
    target_rows = np.flatnonzero(np.isfinite(target_xyz).all(axis=1))
    if n == 0 or target_rows.size == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    point_xyz = to_xyz(points)
    ok = np.isfinite(point_xyz).all(axis=1)
    tree = cKDTree(target_xyz[target_rows])
    # The relative rounding of a chord is ~1e-16, far below the 1e-9 km tolerance (1.6e-13).
    chord = float(chord_from_km(radius_km + TOLERANCE_KM))
    found = tree.query_ball_point(point_xyz[ok], chord, workers=-1, return_sorted=False)
    lengths = np.zeros(n, dtype=np.int64)
    lengths[ok] = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    local = np.fromiter(chain.from_iterable(found), dtype=np.intp, count=int(indptr[-1]))
    indices = target_rows[local]
    data = np.ones(len(indices), dtype=bool)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(n, m))
    matrix.sort_indices()
    return matrix
