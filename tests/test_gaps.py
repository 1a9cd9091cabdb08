"""Tests for uncovered settlements, gap areas, coverage discs and the H3 grid."""
from __future__ import annotations

import math

import h3
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, box

from analysis import coverage, gaps
from analysis.distance import EARTH_RADIUS_KM, nearest_km, pairwise_km
from tests.analysis_frames import DEG_KM, demand_frame, facility_frame

GEOD = pyproj.Geod(ellps="WGS84")


def geod_area_km2(geometry):
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def cap_area_km2(radius_km):
    """Area of a spherical cap of geodesic radius `radius_km` (the exact disc on the sphere)."""
    return 2 * math.pi * EARTH_RADIUS_KM**2 * (1 - math.cos(radius_km / EARTH_RADIUS_KM))


DEMAND = demand_frame([
    ("Alby", 100, 15.0, 60.1),
    ("Borg", 200, 15.0, 60.2),
    ("Dal", 300, 15.0, 60.3),
    ("Ek", 300, 15.5, 60.9),
    ("Outside", 5000, 13.0, 60.5),  # outside the boundary below
])
BOUNDARY = box(14.0, 60.05, 16.0, 61.0)


def test_uncovered_lists_settlements_without_full_support_largest_first():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (15.0, 60.0)),
        ("t1", "training", "existing", (15.0, 60.3)),
    ])
    result = coverage.compute(DEMAND, facilities, radius_km={"hubs": 0.2 * DEG_KM, "training": 0.2 * DEG_KM,
                                                             "networks": 30})
    table = gaps.uncovered(result)
    # Nobody has a network, so every settlement is listed; Dal and Ek tie on 300: by name.
    assert table["name"].tolist() == ["Outside", "Dal", "Ek", "Borg", "Alby"]
    assert list(table.columns) == ["name", "population", "lat", "lon", "missing", "nearest_km"]
    dal = table.iloc[1]
    assert dal["missing"] == ["hubs", "networks"]
    assert dal["nearest_km"]["hubs"] == pytest.approx(0.3 * DEG_KM)
    assert dal["nearest_km"]["training"] == 0.0
    assert dal["nearest_km"]["networks"] is None
    assert (dal["lat"], dal["lon"]) == (60.3, 15.0)
    borg = table.iloc[3]
    assert borg["missing"] == ["networks"]  # exactly on the hubs and training radius: covered


def test_uncovered_is_empty_with_full_support():
    facilities = facility_frame([(f"{layer}1", layer, "existing", (15.0, 60.2))
                                 for layer in ("hubs", "training", "networks")])
    result = coverage.compute(DEMAND.iloc[:3], facilities, radius_km=dict.fromkeys(("hubs", "training", "networks"), 12))
    assert len(gaps.uncovered(result)) == 0


def test_gap_of_a_region_without_facilities_is_the_whole_region():
    result = coverage.compute(DEMAND, facility_frame([]), radius_km={"hubs": 20})
    frame = gaps.gap_areas(result, facility_frame([]), BOUNDARY)
    assert frame.crs == "EPSG:4326"
    assert list(frame.columns) == ["layer", "area_km2", "area_share", "population", "geometry"]
    row = frame.iloc[0]
    assert row["layer"] == "hubs"
    assert row["area_km2"] == pytest.approx(geod_area_km2(BOUNDARY), rel=0.002)
    assert row["area_share"] == pytest.approx(1.0)
    assert row["population"] == 900  # Outside is not in the region
    assert row.geometry.symmetric_difference(BOUNDARY).area < 1e-6


def test_a_disc_inside_the_region_is_cut_out_exactly():
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.5))])
    result = coverage.compute(DEMAND, facilities, radius_km={"hubs": 20.0})
    row = gaps.gap_areas(result, facilities, BOUNDARY).iloc[0]
    disc = geod_area_km2(BOUNDARY) - row["area_km2"]
    assert disc == pytest.approx(cap_area_km2(20.0), rel=0.01)
    assert row["population"] == 900


def test_a_facility_outside_the_boundary_still_cuts_its_disc():
    # Hub at 60.0°N, boundary from 60.05°N: the disc (r = 0.2° = 22.24 km) pokes 16.7 km in.
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.0))])
    radius = 0.2 * DEG_KM
    result = coverage.compute(DEMAND, facilities, radius_km={"hubs": radius})
    row = gaps.gap_areas(result, facilities, BOUNDARY).iloc[0]
    d = 0.05 * DEG_KM  # centre to the boundary's southern edge
    segment = radius**2 * math.acos(d / radius) - d * math.sqrt(radius**2 - d**2)
    assert geod_area_km2(BOUNDARY) - row["area_km2"] == pytest.approx(segment, rel=0.015)
    # Alby and Borg (on the rim) are covered; Dal and Ek are in the gap.
    assert row["population"] == 600
    assert not row.geometry.contains(Point(15.0, 60.1))
    assert row.geometry.contains(Point(15.0, 60.3))


def test_gaps_respect_planned_and_circuity_of_the_result():
    facilities = facility_frame([("h1", "hubs", "planned", (15.0, 60.5))])
    base = coverage.compute(DEMAND, facilities, radius_km={"hubs": 26.0})
    plan = coverage.compute(DEMAND, facilities, radius_km={"hubs": 26.0}, include_planned=True, circuity=1.3)
    assert gaps.gap_areas(base, facilities, BOUNDARY).iloc[0]["area_km2"] == pytest.approx(geod_area_km2(BOUNDARY),
                                                                                            rel=0.002)
    row = gaps.gap_areas(plan, facilities, BOUNDARY).iloc[0]
    assert geod_area_km2(BOUNDARY) - row["area_km2"] == pytest.approx(cap_area_km2(20.0), rel=0.01)


def test_exploded_gaps_carry_their_own_population():
    # A hub band across the middle splits the region into a south and a north gap.
    boundary = box(15.0, 60.0, 15.2, 61.0)
    demand = demand_frame([("South", 10, 15.1, 60.05), ("North", 20, 15.1, 60.95), ("Mid", 5, 15.1, 60.5)])
    facilities = facility_frame([("h1", "hubs", "existing", (15.1, 60.5))])
    result = coverage.compute(demand, facilities, radius_km={"hubs": 30.0})
    parts = gaps.gap_areas(result, facilities, boundary, explode=True)
    assert len(parts) == 2
    assert sorted(parts["population"].tolist()) == [10, 20]
    north = parts.loc[parts["population"] == 20].iloc[0]
    assert north.geometry.contains(Point(15.1, 60.95))
    whole = gaps.gap_areas(result, facilities, boundary).iloc[0]
    assert parts["area_km2"].sum() == pytest.approx(whole["area_km2"])
    assert whole["population"] == 30


def test_a_fully_covered_layer_has_an_empty_gap():
    facilities = facility_frame([("h1", "hubs", "existing", (15.1, 60.5))])
    boundary = box(15.0, 60.4, 15.2, 60.6)
    result = coverage.compute(DEMAND, facilities, radius_km={"hubs": 50.0})
    row = gaps.gap_areas(result, facilities, boundary).iloc[0]
    assert row["area_km2"] == 0.0 and row["population"] == 0
    assert row.geometry.is_empty
    assert len(gaps.gap_areas(result, facilities, boundary, explode=True)) == 0


def test_gap_area_far_north_is_right():
    # Finnmark, 70°N, 2,000 km from EPSG:3035's centre: area and disc still exact.
    boundary = box(22.0, 69.5, 27.0, 71.0)
    demand = demand_frame([("Hammerfest", 10000, 23.6821, 70.6634)])
    facilities = facility_frame([("h1", "hubs", "existing", (24.5, 70.2))])
    result = coverage.compute(demand, facilities, radius_km={"hubs": 40.0})
    row = gaps.gap_areas(result, facilities, boundary).iloc[0]
    assert geod_area_km2(boundary) - row["area_km2"] == pytest.approx(cap_area_km2(40.0), rel=0.01)
    assert row["population"] == 10000


def test_gap_areas_need_a_boundary_and_known_layers():
    result = coverage.compute(DEMAND, facility_frame([]), radius_km={"hubs": 20})
    with pytest.raises(ValueError, match="needs the region's boundary"):
        gaps.gap_areas(result, facility_frame([]), None)
    with pytest.raises(ValueError, match="not analysed"):
        gaps.gap_areas(result, facility_frame([]), BOUNDARY, layers=["training"])


def test_coverage_discs_have_their_vertices_on_the_radius():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (-21.9, 64.1)),  # Reykjavík
        ("h2", "hubs", "planned", (-18.1, 65.7)),
        ("t1", "training", "existing", (-16.25, 28.46)),  # Tenerife
    ])
    discs = gaps.coverage_discs(facilities, radius_km={"hubs": 20, "training": 39}, circuity=1.3)
    assert discs.crs == "EPSG:4326"
    assert discs["feature_id"].tolist() == ["h1", "t1"]
    assert discs["radius_km"].tolist() == pytest.approx([20 / 1.3, 30.0])
    for (lon, lat), disc, radius in zip([(-21.9, 64.1), (-16.25, 28.46)], discs.geometry, discs["radius_km"]):
        ring = np.asarray(disc.exterior.coords)
        km = pairwise_km(np.repeat([[lon, lat]], len(ring), 0), ring)
        assert km == pytest.approx(radius, abs=1e-9)
        geodesic = GEOD.inv(np.full(len(ring), lon), np.full(len(ring), lat), ring[:, 0], ring[:, 1])[2] / 1000
        assert geodesic == pytest.approx(radius, rel=0.005)
    with_planned = gaps.coverage_discs(facilities, radius_km={"hubs": 20}, include_planned=True)
    assert with_planned["feature_id"].tolist() == ["h1", "h2"]
    assert list(with_planned.columns) == ["layer", "feature_id", "name", "status", "radius_km", "geometry"]


def test_h3_grid_covers_the_region_with_distances_from_cell_centres():
    boundary = box(15.0, 60.0, 15.5, 60.3)
    facilities = facility_frame([("h1", "hubs", "existing", (15.2, 60.1)), ("t1", "training", "existing", (14.0, 60.0))])
    grid = gaps.h3_grid(boundary, facilities, resolution=7)
    assert grid.crs == "EPSG:4326"
    assert list(grid.columns) == ["h3", "nearest_km_hubs", "nearest_km_training", "nearest_km_networks", "geometry"]
    assert all(h3.get_resolution(c) == 7 for c in grid["h3"])
    assert grid["h3"].is_unique and grid["h3"].is_monotonic_increasing
    assert shapely.union_all(grid.geometry.to_numpy()).buffer(1e-9).covers(boundary)
    centres = np.array([h3.cell_to_latlng(c)[::-1] for c in grid["h3"]])
    km, _ = nearest_km(centres, np.array([[15.2, 60.1]]))
    assert grid["nearest_km_hubs"].to_numpy() == pytest.approx(km)
    assert grid["nearest_km_training"].min() > 50
    assert np.isinf(grid["nearest_km_networks"]).all()


def test_h3_grid_resolution_by_area():
    boundary = box(14.0, 56.0, 16.0, 57.0)  # ~13,600 km²
    grid = gaps.h3_grid(boundary, facility_frame([]), resolution=None, layers=("hubs",))
    res = h3.get_resolution(grid["h3"].iloc[0])
    assert res == 7  # res 7 gives ~2,600 cells; res 8 would give ~18,500 (> 10,000)
    with pytest.raises(ValueError, match="coarser resolution"):
        gaps.h3_grid(box(-10, 35, 30, 70), facility_frame([]), resolution=9)
