"""Great-circle distances in kilometres between lon/lat points, found among unit vectors on the sphere.

Points are mapped to unit vectors (x, y, z); the straight-line (chord) distance between
two unit vectors is a monotonic function of the great-circle angle, so the nearest unit
vector is the great-circle nearest neighbour, exactly, with no projection and so no
projection error anywhere on Earth (Iceland, the Canaries and the North Cape are as
exact as Brussels). Distances are on the sphere of the mean Earth radius (IUGG R1 =
6371.0088 km), which stays within 0.5 % of the WGS84 ellipsoid's geodesic (worst case
about 0.3 % on north-south lines near the poles or the equator, typically under 0.2 %
in Europe).

The nearest target is found with a grid of square cells (NumPy, no SciPy: importing
``scipy.spatial`` costs a command-line analysis a third of a second) for up to
`KDTREE_POINTS` points; beyond that, or once SciPy is loaded anyway (the dashboard), with
``scipy.spatial.cKDTree``, about three times faster per point (a 1 km grid of Poland,
300,000 cells, is measured in a quarter of the time). Both give the same nearest target,
ties to the first listed. Radius queries (`within_km`, for siting and catchments) use
the k-d tree.
"""
from __future__ import annotations

import sys
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

EARTH_RADIUS_KM = 6371.0088
# Distances that differ from a radius by less than this still count as "within" it, so a
# settlement placed exactly on the radius is covered despite floating-point rounding.
TOLERANCE_KM = 1e-9
KDTREE_POINTS = 200_000
"""From this many points, the k-d tree's speed repays importing SciPy."""


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
    nearest = _nearest_tree_all if n >= KDTREE_POINTS or "scipy.spatial" in sys.modules else nearest_chord
    if ok.all():
        chord, found = nearest(points_xyz, target_xyz)
        return km_from_chord(chord), target_rows[found]
    chord, found = nearest(points_xyz[ok], target_xyz)
    km[ok] = km_from_chord(chord)
    index[ok] = target_rows[found]
    return km, index


# -- nearest target on a grid -------------------------------------------------------------
_NEIGHBOURS = np.array([(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)], dtype=np.int64)
_CELL_SHARE = 0.2  # first cell side, as a share of the targets' mean spacing (fewest pairs measured)
_MIN_CELL = 1e-5  # chord (64 m): keeps the cell numbers small and the rounding margin below meaningful
_MARGIN = 1e-9  # relative: far above the ~1e-15 rounding of projections and chords, far below a cell
_BRUTE_PAIRS = 1 << 16  # this few point-target pairs are simply all measured
_CHUNK_POINTS = 1 << 16  # points measured together: bounds the memory of the pairs (under 100 MB)
_PAIRS_PER_POINT = 16  # more candidates than this per point: targets packed far from the points
_MAX_CELLS_PER_SIDE = 2000  # bounds the table of cells (with 25 cells per target, reached at 160,000 targets)


def nearest_chord(points_xyz: np.ndarray, targets_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the chord to the nearest target of each point, and that target's row.

    Parameters
    ----------
    points_xyz, targets_xyz
        Unit vectors (n, 3) and (m, 3), all finite, m >= 1, no two targets equal (see
        `distinct_points`).

    Returns
    -------
    chord, index
        Each chord is ``sqrt(dx*dx + dy*dy + dz*dz)`` to the nearest target, as a k-d
        tree computes it; a tie goes to the target listed first.

    Notes
    -----
    The vectors are projected on the plane square to the targets' mean direction (which
    never lengthens a distance) and binned into square cells of side ``h``. A point is
    compared with the targets of its own and the 8 surrounding cells; every target within
    ``h`` plus the point's distance to its cell's edge lies there, so a nearest one found
    that close is the nearest of all. The other points are done again with cells twice as
    large, up to cells that hold the whole sphere. When the targets are packed far from
    the points (every point would meet too many of them), those points are left to a k-d
    tree.
    """
    n, m = len(points_xyz), len(targets_xyz)
    if n * m <= _BRUTE_PAIRS:
        return _nearest_among_all(points_xyz, targets_xyz)
    chord = np.full(n, np.inf)
    found = np.full(n, -1, dtype=np.intp)
    plane = _plane(targets_xyz)
    target_u, target_v = (np.ascontiguousarray(axis) for axis in (targets_xyz @ plane).T)
    point_u, point_v = (np.ascontiguousarray(axis) for axis in (points_xyz @ plane).T)
    points = [np.ascontiguousarray(points_xyz[:, k]) for k in range(3)]
    targets = [np.ascontiguousarray(targets_xyz[:, k]) for k in range(3)]
    extent = np.sort([np.ptp(target_u), np.ptp(target_v)])
    area = max(extent[0] * extent[1], extent[1] * 1e-3, 1e-12)
    side = float(np.clip(_CELL_SHARE * np.sqrt(area / m), max(_MIN_CELL, extent[1] / _MAX_CELLS_PER_SIDE), 2.0))
    todo = np.arange(n)
    crowded: list[np.ndarray] = []
    while todo.size:
        last = side >= 2.0  # cells of side 2 hold the whole projected sphere: every point is done
        cells = _Cells(target_u, target_v, min(side, 2.0))
        left = []
        for start in range(0, todo.size, _CHUNK_POINTS):
            chunk = todo[start:start + _CHUNK_POINTS]
            lo, count, reach = cells.lookup(point_u[chunk], point_v[chunk])
            total = int(count.sum())
            if total > _PAIRS_PER_POINT * chunk.size + _BRUTE_PAIRS:
                crowded.append(chunk)
                continue
            has = np.flatnonzero(count)
            best = np.full(chunk.size, np.inf)
            if total:
                starts = np.cumsum(count) - count
                pair = np.repeat(np.arange(chunk.size), count)  # each pair's point in the chunk
                candidates = cells.targets[np.arange(total) + (lo - starts)[pair]]
                rows = chunk[pair]
                d2 = _squared([axis[rows] for axis in points], targets, candidates)
                segments = starts[has]
                best[has] = np.minimum.reduceat(d2, segments)
                first = np.where(d2 == best[pair], candidates, m)
                found[chunk[has]] = np.minimum.reduceat(first, segments)
            limit = reach * (1.0 - _MARGIN)
            done = (best <= limit * limit) | last
            chord[chunk[done]] = np.sqrt(best[done])
            left.append(chunk[~done])
        todo = np.concatenate(left) if left else todo[:0]
        side *= 2.0
    if crowded:
        _nearest_by_tree(points_xyz, targets_xyz, np.concatenate(crowded), chord, found)
    return chord, found


def _plane(targets_xyz: np.ndarray) -> np.ndarray:
    """Two orthonormal axes (3, 2) square to the targets' mean direction (any, when they have none)."""
    centre = targets_xyz.mean(axis=0)
    norm = float(np.sqrt(centre @ centre))
    centre = centre / norm if norm > 1e-6 else np.array([0.0, 0.0, 1.0])
    helper = np.array([1.0, 0.0, 0.0]) if abs(centre[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(centre, helper)
    u /= np.sqrt(u @ u)
    return np.column_stack([u, np.cross(centre, u)])


class _Cells:
    """The targets binned in square cells of side `side`: for each cell, the targets of its 3 x 3 block."""

    def __init__(self, target_u: np.ndarray, target_v: np.ndarray, side: float):
        self.side = side
        i, j = np.floor(target_u / side).astype(np.int64), np.floor(target_v / side).astype(np.int64)
        # Two empty rings of cells around the targets' own: a point beyond them is moved onto
        # the outer one, where it finds no target.
        self.origin = (int(i.min()) - 2, int(j.min()) - 2)
        i -= self.origin[0]
        j -= self.origin[1]
        self.shape = (int(i.max()) + 3, int(j.max()) + 3)
        # Each target is listed in the 9 cells around its own, so a point finds every
        # target of its block in one run of the list.
        keys = ((i[:, None] + _NEIGHBOURS[:, 0]) * self.shape[1] + (j[:, None] + _NEIGHBOURS[:, 1])).ravel()
        order = _stable_order(keys)
        self.targets = order // len(_NEIGHBOURS)
        # A table of every cell (at most `_MAX_CELLS_PER_SIDE` squared): one look-up per point.
        self.count = np.bincount(keys, minlength=self.shape[0] * self.shape[1])
        self.start = np.cumsum(self.count) - self.count

    def lookup(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return, per point, where its block's targets start in `targets`, how many, and the reach.

        The reach is the cell side plus the point's distance to its cell's nearest edge:
        every target closer than that is in the block.
        """
        u = u / self.side
        v = v / self.side
        floor_u, floor_v = np.floor(u), np.floor(v)
        u -= floor_u
        v -= floor_v
        edge = np.minimum(np.minimum(u, 1.0 - u), np.minimum(v, 1.0 - v))
        i = np.minimum(np.maximum(floor_u.astype(np.int64) - self.origin[0], 0), self.shape[0] - 1)
        j = np.minimum(np.maximum(floor_v.astype(np.int64) - self.origin[1], 0), self.shape[1] - 1)
        keys = i * self.shape[1] + j
        edge += 1.0
        edge *= self.side
        return self.start[keys], self.count[keys], edge


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for cell numbers (0 <= key < 2**32), by 16-bit radix passes."""
    if int(keys.max()) < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def _squared(points: list[np.ndarray], targets: list[np.ndarray], cols: np.ndarray) -> np.ndarray:
    """Squared chords of the pairs (points, targets[cols]) (x, y, z of each), summed in x, y, z order as a k-d tree does."""
    dx = points[0] - targets[0][cols]
    dx *= dx
    dy = points[1] - targets[1][cols]
    dy *= dy
    dz = points[2] - targets[2][cols]
    dz *= dz
    dx += dy
    dx += dz
    return dx


def _nearest_among_all(points_xyz: np.ndarray, targets_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, m = len(points_xyz), len(targets_xyz)
    points = [points_xyz[:, k] for k in range(3)]
    targets = [targets_xyz[:, k] for k in range(3)]
    d2 = _squared([np.repeat(axis, m) for axis in points], targets, np.tile(np.arange(m), n)).reshape(n, m)
    found = d2.argmin(axis=1)  # the first of equal ones
    return np.sqrt(d2[np.arange(n), found]), found


def _nearest_tree_all(points_xyz: np.ndarray, targets_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What `nearest_chord` returns, found with a k-d tree (for many points)."""
    chord = np.empty(len(points_xyz))
    found = np.empty(len(points_xyz), dtype=np.intp)
    _nearest_by_tree(points_xyz, targets_xyz, np.arange(len(points_xyz)), chord, found)
    return chord, found


def _nearest_by_tree(points_xyz: np.ndarray, targets_xyz: np.ndarray, rows: np.ndarray, chord: np.ndarray,
                     found: np.ndarray) -> None:
    """Fill `chord` and `found` for the points `rows` with a k-d tree (ties to the first target, as the grid)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(targets_xyz)
    near, index = tree.query(points_xyz[rows], k=2, workers=-1)
    chord[rows], found[rows] = near[:, 0], index[:, 0]
    for k in np.flatnonzero(near[:, 1] == near[:, 0]).tolist():  # two targets exactly as near
        point = points_xyz[rows[k]]
        tied = np.array(sorted(tree.query_ball_point(point, near[k, 0] * (1.0 + _MARGIN))), dtype=np.intp)
        d2 = _squared([np.full(len(tied), point[axis]) for axis in range(3)],
                      [targets_xyz[:, axis] for axis in range(3)], tied)
        found[rows[k]] = tied[np.argmin(d2)]


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
    from scipy import sparse
    from scipy.spatial import cKDTree

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
