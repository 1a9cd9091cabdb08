"""Tests for great-circle nearest and within-radius queries on the unit sphere."""
from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest

from analysis.distance import (
    EARTH_RADIUS_KM,
    chord_from_km,
    km_from_chord,
    nearest_km,
    pairwise_km,
    within_km,
)

ONE_DEGREE_KM = EARTH_RADIUS_KM * math.pi / 180  # 111.19508... km of arc per degree


def test_one_degree_of_latitude_is_111_195_km():
    km, index = nearest_km(np.array([[15.0, 61.0]]), np.array([[15.0, 60.0]]))
    assert km[0] == pytest.approx(111.19508023, abs=1e-8)
    assert index.tolist() == [0]


def test_quarter_of_the_equator():
    km, _ = nearest_km(np.array([[90.0, 0.0]]), np.array([[0.0, 0.0]]))
    assert km[0] == pytest.approx(EARTH_RADIUS_KM * math.pi / 2, rel=1e-12)


def test_nearest_picks_the_closest_target_and_its_row():
    points = np.array([[15.0, 60.0], [15.0, 62.9], [14.0, 61.0]])
    targets = np.array([[15.0, 63.0], [15.0, 60.5], [14.0, 61.0]])
    km, index = nearest_km(points, targets)
    assert index.tolist() == [1, 0, 2]
    assert km == pytest.approx([0.5 * ONE_DEGREE_KM, 0.1 * ONE_DEGREE_KM, 0.0], abs=1e-9)


def test_no_targets_gives_inf_and_minus_one():
    km, index = nearest_km(np.array([[15.0, 60.0], [16.0, 61.0]]), np.empty((0, 2)))
    assert np.isinf(km).all()
    assert index.tolist() == [-1, -1]


def test_no_points_gives_empty_arrays():
    km, index = nearest_km(np.empty((0, 2)), np.array([[15.0, 60.0]]))
    assert km.shape == (0,) and index.shape == (0,)


def test_points_and_targets_without_coordinates_are_ignored():
    points = np.array([[15.0, 61.0], [np.nan, np.nan]])
    targets = np.array([[np.nan, np.nan], [15.0, 60.0]])
    km, index = nearest_km(points, targets)
    assert km[0] == pytest.approx(ONE_DEGREE_KM)
    assert index.tolist() == [1, -1]
    assert math.isinf(km[1])


def test_coincident_targets_tie_to_the_first_listed():
    targets = np.array([[20.0, 50.0], [15.0, 60.0], [15.0, 60.0], [15.0, 60.0]])
    _, index = nearest_km(np.array([[15.0, 60.1]]), targets)
    assert index.tolist() == [1]


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.uniform(-25, 40, 300), rng.uniform(27, 71, 300)])
    targets = np.column_stack([rng.uniform(-25, 40, 50), rng.uniform(27, 71, 50)])
    km, index = nearest_km(points, targets)
    brute = np.array([pairwise_km(np.repeat(p[None], len(targets), 0), targets) for p in points])
    assert km == pytest.approx(brute.min(axis=1), abs=1e-9)
    assert (index == brute.argmin(axis=1)).all()


@pytest.mark.parametrize(
    "a, b",
    [
        ((18.9553, 69.6492), (23.6821, 70.6634)),  # Tromsø - Hammerfest, far north of EPSG:3035's centre
        ((-21.8954, 64.1355), (-18.0878, 65.6835)),  # Reykjavík - Akureyri
        ((-15.4134, 28.0997), (-16.2546, 28.4636)),  # Las Palmas - Santa Cruz de Tenerife
        ((25.7823, 71.0308), (28.2083, 70.0730)),  # Honningsvåg - Vadsø
        ((10.0, 50.0), (10.5, 50.3)),  # near the centre, for contrast
    ],
)
def test_distances_stay_within_half_a_percent_of_the_ellipsoid(a, b):
    _, _, geodesic_m = pyproj.Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
    km, _ = nearest_km(np.array([a]), np.array([b]))
    assert km[0] == pytest.approx(geodesic_m / 1000, rel=0.005)


def test_within_counts_a_target_exactly_on_the_radius():
    points = np.array([[15.0, 61.0], [15.0, 61.3]])
    targets = np.array([[15.0, 60.0], [15.0, 60.8]])
    matrix = within_km(points, targets, ONE_DEGREE_KM)
    assert matrix.shape == (2, 2)
    assert matrix.dtype == bool
    assert matrix.toarray().tolist() == [[True, True], [False, True]]


def test_within_excludes_a_target_just_beyond_the_radius():
    matrix = within_km(np.array([[15.0, 61.0]]), np.array([[15.0, 60.0]]), ONE_DEGREE_KM - 1e-6)
    assert matrix.nnz == 0


def test_within_agrees_with_nearest_far_north():
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(15, 30, 400), rng.uniform(68, 71, 400)])
    targets = np.column_stack([rng.uniform(15, 30, 30), rng.uniform(68, 71, 30)])
    km, _ = nearest_km(points, targets)
    matrix = within_km(points, targets, 25.0)
    assert ((km <= 25.0) == (matrix.getnnz(axis=1) > 0)).all()
    rows, cols = matrix.nonzero()
    assert (pairwise_km(points[rows], targets[cols]) <= 25.0 + 1e-9).all()


def test_within_handles_empty_and_missing():
    assert within_km(np.array([[15.0, 60.0]]), np.empty((0, 2)), 10).shape == (1, 0)
    matrix = within_km(np.array([[np.nan, np.nan], [15.0, 60.0]]), np.array([[15.0, 60.0], [np.nan, 1]]), 10)
    assert matrix.toarray().tolist() == [[False, False], [True, False]]


def test_within_rejects_a_negative_radius():
    with pytest.raises(ValueError, match="radius_km must be"):
        within_km(np.array([[15.0, 60.0]]), np.array([[15.0, 60.0]]), -1)


def test_bad_shape_says_what_to_pass():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        nearest_km(np.array([15.0, 60.0, 1.0]), np.array([[15.0, 60.0]]))


def _destination(lon: float, lat: float, azimuth_deg: np.ndarray, km: float) -> np.ndarray:
    """Return lon/lat (n, 2) reached from (lon, lat) along each azimuth after `km` on the sphere."""
    phi1, lam1 = np.radians(lat), np.radians(lon)
    theta = np.radians(np.asarray(azimuth_deg, dtype=float))
    delta = km / EARTH_RADIUS_KM
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2
    )
    lon2 = (np.degrees(lam2) + 540.0) % 360.0 - 180.0
    return np.column_stack([lon2, np.degrees(phi2)])


def test_chord_and_destination_round_trip():
    assert km_from_chord(chord_from_km(1234.5)) == pytest.approx(1234.5, rel=1e-12)
    ring = _destination(-18.0, 65.0, np.arange(0, 360, 30), 20.0)
    km = pairwise_km(np.repeat([[-18.0, 65.0]], len(ring), 0), ring)
    assert km == pytest.approx(20.0, abs=1e-9)
