"""Tests for nearest-facility catchments, catchment polygons and overlapping discs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import Point, box

from analysis import catchments
from tests.analysis_frames import DEG_KM, demand_frame, facility_frame

GEOD = pyproj.Geod(ellps="WGS84")


DEMAND = demand_frame([
    ("S1", 100, 15.0, 60.05),
    ("S2", 200, 15.0, 60.15),
    ("S3", 300, 15.0, 60.25),  # 0.25° from f1, 0.15° from f2
    ("S4", 400, 15.0, 60.45),
    ("Far", 50, 15.0, 61.5),
])
FACILITIES = facility_frame([
    ("f1", "hubs", "existing", (15.0, 60.0)),
    ("f2", "hubs", "existing", (15.0, 60.4)),
    ("f3", "hubs", "existing", (15.0, 60.4)),  # duplicate of f2
    ("p1", "hubs", "planned", (15.0, 61.5)),
    ("x1", "hubs", "existing", None),
    ("t1", "training", "existing", (15.0, 60.25)),
])


def test_assign_sums_population_per_nearest_facility():
    table = catchments.assign(DEMAND, FACILITIES, layer="hubs")
    assert table["feature_id"].tolist() == ["f2", "f1", "f3"]
    assert table["population"].tolist() == [750, 300, 0]
    assert table["settlements"].tolist() == [3, 2, 0]
    assert table["share"].tolist() == pytest.approx([750 / 1050, 300 / 1050, 0.0])
    assert table.loc[0, "max_km"] == pytest.approx(1.1 * DEG_KM)
    assert table.loc[1, "max_km"] == pytest.approx(0.15 * DEG_KM)
    assert np.isnan(table.loc[2, "max_km"])
    # median of (750, 300, 0) is 300; 3 x 300 = 900 > 750: nobody flagged
    assert table.attrs == {"median_population": 300.0, "large_threshold": 900.0}
    assert not table["flag_large"].any()
    flagged = catchments.assign(DEMAND, FACILITIES, layer="hubs", large_factor=2.0)
    assert flagged["flag_large"].tolist() == [True, False, False]


def test_assign_with_planned_radius_and_circuity():
    planned = catchments.assign(DEMAND, FACILITIES, layer="hubs", include_planned=True)
    assert dict(zip(planned["feature_id"], planned["population"])) == {"f2": 700, "f1": 300, "p1": 50, "f3": 0}
    within = catchments.assign(DEMAND, FACILITIES, layer="hubs", radius_km=0.1 * DEG_KM * 1.3, circuity=1.3)
    # Road radius 1.3 x 0.1° is 0.1° on the ground: only S1 (0.05° from f1) and S4 (0.05° from f2).
    assert dict(zip(within["feature_id"], within["population"])) == {"f2": 400, "f1": 100, "f3": 0}


def test_assign_flags_a_facility_serving_far_more_than_the_median():
    demand = demand_frame([("A", 100, 10.0, 50.0), ("B", 100, 11.0, 50.0), ("C", 100, 12.0, 50.0),
                           ("D", 1000, 13.0, 50.0)])
    facilities = facility_frame([(f"h{i}", "hubs", "existing", (10.0 + i, 50.0)) for i in range(4)])
    table = catchments.assign(demand, facilities, layer="hubs")
    assert table["feature_id"].tolist()[0] == "h3"
    assert table["flag_large"].tolist() == [True, False, False, False]  # 1000 > 3 x median 100


def test_assign_with_an_empty_layer():
    table = catchments.assign(DEMAND, FACILITIES, layer="networks")
    assert len(table) == 0
    assert list(table.columns) == ["feature_id", "name", "status", "population", "settlements", "share",
                                   "max_km", "flag_large"]


def test_catchment_polygons_split_the_region_between_facilities():
    boundary = box(14.5, 59.9, 15.5, 61.6)
    cells = catchments.catchment_polygons(FACILITIES, boundary, layer="hubs", demand=DEMAND)
    assert cells.crs == "EPSG:4326"
    assert cells["feature_id"].tolist() == ["f1", "f2", "f3"]
    f1, f2, f3 = cells.geometry
    assert f1.contains(Point(15.0, 60.15)) and not f1.contains(Point(15.0, 60.25))
    assert f2.contains(Point(15.0, 60.25)) and f2.contains(Point(15.0, 61.5))
    assert f3.is_empty  # the duplicate of f2 gets nothing
    assert cells["population"].tolist() == [300, 750, 0]
    assert cells["settlements"].tolist() == [2, 3, 0]
    total = abs(GEOD.geometry_area_perimeter(boundary)[0]) / 1e6
    assert cells["area_km2"].sum() == pytest.approx(total, rel=0.002)
    assert shapely.union_all(cells.geometry.to_numpy()).symmetric_difference(boundary).area < 1e-6


def test_catchment_polygons_facility_outside_boundary_and_single_facility():
    boundary = box(14.5, 60.1, 15.5, 60.3)
    # f1 at 60.0 lies outside, but its cell reaches in up to the bisector at ~60.2°N.
    cells = catchments.catchment_polygons(FACILITIES, boundary, layer="hubs")
    f1 = cells.set_index("feature_id").geometry["f1"]
    assert f1.contains(Point(15.0, 60.15))
    assert f1.bounds[3] == pytest.approx(60.2, abs=0.01)
    assert cells["population"].isna().all()
    one = catchments.catchment_polygons(FACILITIES, boundary, layer="training")
    assert len(one) == 1
    assert one.geometry.iloc[0].symmetric_difference(boundary).area < 1e-7
    none = catchments.catchment_polygons(FACILITIES, boundary, layer="networks")
    assert len(none) == 0


def test_catchment_polygons_without_a_boundary():
    cells = catchments.catchment_polygons(FACILITIES, None, layer="hubs", demand=DEMAND)
    assert cells.geometry.iloc[0].contains(Point(15.0, 60.05))
    assert shapely.union_all(cells.geometry.to_numpy()).contains(Point(15.0, 61.5))


def test_overlaps_hand_computed_lens():
    km = 1 / DEG_KM  # degrees of latitude per km
    facilities = facility_frame([
        ("a", "hubs", "existing", (15.0, 60.0)),
        ("b", "hubs", "existing", (15.0, 60.0 + 5 * km)),  # 5 km from a
        ("c", "hubs", "existing", (15.0, 60.0 + 20 * km)),  # 15 km from b, 20 km from a
        ("d", "hubs", "existing", (15.0, 60.0)),  # duplicate of a
        ("t", "training", "existing", (15.0, 60.0)),
    ])
    pairs = catchments.overlaps(facilities, layer="hubs", radius_km=10.0)
    # Lens of two r = 10 km discs 5 km apart: (200 acos(0.25) - 2.5 sqrt(375)) / (100 pi) = 0.68504
    assert list(zip(pairs["a"], pairs["b"])) == [("a", "d"), ("a", "b"), ("b", "d")]
    assert pairs["overlap_share"].tolist() == pytest.approx([1.0, 0.68504, 0.68504], abs=1e-5)
    assert pairs["distance_km"].tolist() == pytest.approx([0.0, 5.0, 5.0], abs=1e-9)
    everything = catchments.overlaps(facilities, layer="hubs", radius_km={"hubs": 10.0}, min_share=0.0)
    # b-c are 15 km apart: lens share 0.1443; a-c 20 km apart: touching, share 0 (kept at min_share 0).
    shares = {(a, b): s for a, b, s in zip(everything["a"], everything["b"], everything["overlap_share"])}
    assert shares[("b", "c")] == pytest.approx(0.14429, abs=1e-5)
    assert shares[("a", "c")] == pytest.approx(0.0, abs=1e-6)
    assert catchments.overlaps(facilities, layer="training", radius_km=10.0).empty


def test_lens_share_limits():
    assert catchments.lens_share(np.array([0.0, 20.0, 30.0]), 10.0).tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert isinstance(catchments.overlaps(facility_frame([]), layer="hubs", radius_km=5), pd.DataFrame)
