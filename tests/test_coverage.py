"""Tests for coverage per layer against hand-computed answers."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from analysis import coverage
from analysis.distance import EARTH_RADIUS_KM
from tests.analysis_frames import DEG_KM, demand_frame, facility_frame

DEG_KM = EARTH_RADIUS_KM * math.pi / 180  # 111.19508 km per degree of latitude
RADII = {"hubs": 0.2 * DEG_KM, "training": 0.2 * DEG_KM, "networks": 0.2 * DEG_KM}


# A meridian at 15°E: settlements 0.1°, 0.2° (exactly on the radius), 0.3° north of a hub at 60°N.
MERIDIAN = demand_frame([
    ("A", 100, 15.0, 60.1),
    ("B", 200, 15.0, 60.2),
    ("C", 300, 15.0, 60.3),
])


def test_hand_computed_meridian_case_with_a_settlement_on_the_radius():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (15.0, 60.0)),
        ("t1", "training", "existing", (15.0, 60.3)),
        ("n1", "networks", "existing", (15.0, 60.15)),
    ])
    result = coverage.compute(MERIDIAN, facilities, radius_km=RADII)
    s = result.settlements
    assert s["nearest_km_hubs"].tolist() == pytest.approx([0.1 * DEG_KM, 0.2 * DEG_KM, 0.3 * DEG_KM])
    assert s["covered_hubs"].tolist() == [True, True, False]  # B sits exactly on 22.239 km
    assert s["covered_training"].tolist() == [True, True, True]
    assert s["covered_networks"].tolist() == [True, True, True]
    assert s["nearest_id_hubs"].tolist() == ["h1", "h1", "h1"]
    assert s["full_support"].tolist() == [True, True, False]
    assert result.population == 600
    assert result.layers["hubs"] == {
        "facilities": 1, "covered_population": 300, "coverage_share": 0.5, "uncovered_settlements": 1,
    }
    assert result.layers["training"]["coverage_share"] == 1.0
    assert result.full_support_share == 0.5
    assert list(result.radius_km) == ["hubs", "training", "networks"]


def test_region_with_no_facilities():
    result = coverage.compute(MERIDIAN, facility_frame([]), radius_km=RADII)
    for layer in ("hubs", "training", "networks"):
        assert result.layers[layer] == {
            "facilities": 0, "covered_population": 0, "coverage_share": 0.0, "uncovered_settlements": 3,
        }
        assert np.isinf(result.settlements[f"nearest_km_{layer}"]).all()
        assert result.settlements[f"nearest_id_{layer}"].isna().all()
    assert result.full_support_share == 0.0
    assert not result.settlements["full_support"].any()


def test_an_empty_layer_covers_nothing_and_blocks_full_support():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (15.0, 60.2)),
        ("t1", "training", "existing", (15.0, 60.2)),
    ])
    result = coverage.compute(MERIDIAN, facilities, radius_km=RADII)
    assert result.layers["hubs"]["coverage_share"] == 1.0
    assert result.layers["networks"]["facilities"] == 0
    assert result.layers["networks"]["covered_population"] == 0
    assert result.full_support_share == 0.0


def test_facility_outside_the_region_still_serves_settlements_within_reach():
    # The hub lies south of the region (which starts at 60.05°N) but within 0.2° of A and B.
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.0))])
    boundary = box(14.0, 60.05, 16.0, 61.0)
    inside = MERIDIAN[MERIDIAN.within(boundary)]
    result = coverage.compute(inside, facilities, radius_km={"hubs": RADII["hubs"]})
    assert result.layers["hubs"]["covered_population"] == 300


def test_duplicate_facilities_count_twice_but_cover_once():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (15.0, 60.0)),
        ("h2", "hubs", "existing", (15.0, 60.0)),
    ])
    result = coverage.compute(MERIDIAN, facilities, radius_km={"hubs": RADII["hubs"]})
    assert result.layers["hubs"]["facilities"] == 2
    assert result.layers["hubs"]["covered_population"] == 300
    assert result.settlements["nearest_id_hubs"].tolist() == ["h1", "h1", "h1"]


def test_planned_facilities_count_only_in_the_scenario():
    facilities = facility_frame([
        ("h1", "hubs", "existing", (15.0, 60.0)),
        ("h2", "hubs", "planned", (15.0, 60.3)),
    ])
    base = coverage.compute(MERIDIAN, facilities, radius_km={"hubs": RADII["hubs"]})
    plan = coverage.compute(MERIDIAN, facilities, radius_km={"hubs": RADII["hubs"]}, include_planned=True)
    assert base.layers["hubs"]["covered_population"] == 300
    assert base.layers["hubs"]["facilities"] == 1
    assert plan.layers["hubs"]["covered_population"] == 600
    assert plan.layers["hubs"]["facilities"] == 2
    assert plan.settlements["nearest_id_hubs"].tolist() == ["h1", "h2", "h2"]
    assert plan.include_planned and not base.include_planned


def test_circuity_stretches_distances():
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.0))])
    result = coverage.compute(MERIDIAN, facilities, radius_km={"hubs": RADII["hubs"]}, circuity=1.3)
    assert result.settlements["nearest_km_hubs"].iloc[0] == pytest.approx(1.3 * 0.1 * DEG_KM)
    assert result.settlements["covered_hubs"].tolist() == [True, False, False]
    assert result.circuity == 1.3


def test_unclassified_unlocated_and_non_point_facilities():
    facilities = facility_frame([
        ("u1", "unclassified", "existing", (15.0, 60.3)),
        ("h0", "hubs", "existing", None),
        # A road-like line from 15°E to 15.2°E at 60.3°N: its representative point lies on it.
        ("h1", "hubs", "existing", LineString([(15.0, 60.3), (15.0, 60.3001)])),
        ("t1", "training", "existing", box(14.99, 60.09, 15.01, 60.11)),
    ])
    result = coverage.compute(MERIDIAN, facilities, radius_km={"hubs": 1.0, "training": 1.5})
    assert result.settlements["covered_hubs"].tolist() == [False, False, True]
    assert result.settlements["covered_training"].tolist() == [True, False, False]
    assert result.layers["hubs"]["facilities"] == 1
    assert result.unlocated == {"hubs": 1, "training": 0}
    assert result.analysed_layers == ["hubs", "training"]


def test_far_north_distances_match_the_ellipsoid():
    # Hammerfest and Honningsvåg against a hub in Tromsø: 300+ km north of 68°N.
    demand = demand_frame([("Hammerfest", 10000, 23.6821, 70.6634), ("Honningsvåg", 2400, 25.7823, 71.0308)])
    facilities = facility_frame([("h1", "hubs", "existing", (18.9553, 69.6492))])
    result = coverage.compute(demand, facilities, radius_km={"hubs": 250.0})
    geod = pyproj.Geod(ellps="WGS84")
    for (lon, lat), km in zip([(23.6821, 70.6634), (25.7823, 71.0308)], result.settlements["nearest_km_hubs"]):
        expected = geod.inv(18.9553, 69.6492, lon, lat)[2] / 1000
        assert km == pytest.approx(expected, rel=0.005)
    assert result.settlements["covered_hubs"].tolist() == [True, False]  # 211.8 km vs 299.0 km


def test_canaries_are_not_distorted_like_in_epsg_3035():
    # Las Palmas - Santa Cruz de Tenerife: 91.85 km on the ellipsoid, but 95.10 km measured
    # in EPSG:3035 coordinates (+3.5 %), which would leave Las Palmas outside a 93 km radius.
    demand = demand_frame([("Las Palmas", 380000, -15.4134, 28.0997)])
    facilities = facility_frame([("h1", "hubs", "existing", (-16.2546, 28.4636))])
    result = coverage.compute(demand, facilities, radius_km={"hubs": 93.0})
    assert result.settlements["nearest_km_hubs"].iloc[0] == pytest.approx(91.85, rel=0.005)
    assert result.layers["hubs"]["covered_population"] == 380000


def test_zero_population_gives_zero_shares():
    demand = demand_frame([("Empty", 0, 15.0, 60.0)])
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.0))])
    result = coverage.compute(demand, facilities, radius_km={"hubs": 10})
    assert result.layers["hubs"]["coverage_share"] == 0.0
    assert result.full_support_share == 0.0


def test_demand_in_another_crs_is_converted():
    projected = MERIDIAN.to_crs("EPSG:3035")
    facilities = facility_frame([("h1", "hubs", "existing", (15.0, 60.0))])
    result = coverage.compute(projected, facilities, radius_km={"hubs": RADII["hubs"]})
    assert result.layers["hubs"]["covered_population"] == 300
    assert result.settlements.crs == "EPSG:4326"


def test_settlement_without_location_counts_in_population_only():
    demand = MERIDIAN.copy()
    demand.loc[2, "geometry"] = None
    result = coverage.compute(demand, facility_frame([("h1", "hubs", "existing", (15.0, 60.3))]),
                              radius_km={"hubs": 50})
    assert result.population == 600
    assert result.settlements["covered_hubs"].tolist() == [True, True, False]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"radius_km": {"hub": 20}}, "unknown layer"),
        ({"radius_km": {}}, "at least one"),
        ({"radius_km": {"hubs": -1}}, r"radius_km\['hubs'\]"),
        ({"radius_km": {"hubs": 20}, "circuity": 0.8}, "circuity"),
    ],
)
def test_bad_arguments_say_what_to_do(kwargs, message):
    with pytest.raises(ValueError, match=message):
        coverage.compute(MERIDIAN, facility_frame([]), **kwargs)


def test_bad_status_and_population_are_reported():
    facilities = facility_frame([("h1", "hubs", "closed", (15.0, 60.0))])
    with pytest.raises(ValueError, match=r"h1 \('closed'\)"):
        coverage.compute(MERIDIAN, facilities, radius_km={"hubs": 20})
    demand = MERIDIAN.copy()
    demand["population"] = demand["population"].astype(float)
    demand.loc[1, "population"] = -5.0
    with pytest.raises(ValueError, match="'B'"):
        coverage.compute(demand, facility_frame([]), radius_km={"hubs": 20})


def test_lonlat_of_mixed_geometries():
    geoms = gpd.GeoSeries([Point(1, 2), None, Point(), box(0, 0, 2, 2), shapely.MultiPoint([(5, 5), (6, 6)])])
    out = coverage.lonlat(geoms)
    assert out[0].tolist() == [1, 2]
    assert np.isnan(out[1]).all() and np.isnan(out[2]).all()
    assert shapely.box(0, 0, 2, 2).contains(Point(out[3]))
    assert tuple(out[4]) in {(5.0, 5.0), (6.0, 6.0)}


def test_canonical_features_from_the_loaders():
    from loaders.features import build_features, empty_features

    features, _ = build_features([
        {"name": "Kreativa navet", "layer": "Kreativa nav", "status": "planerad", "geometry": Point(15.0, 60.0)},
        {"name": "Folkhögskola", "layer": "Utbildning & stöd", "geometry": Point(15.0, 60.1)},
        {"name": "Okänd", "layer": "Övrigt", "geometry": Point(15.0, 60.1)},
        {"name": "Ingen plats", "layer": "hubs", "geometry": None},
    ], "blekinge.csv")
    radii = {"hubs": 15, "training": 15, "networks": 15}
    base = coverage.compute(MERIDIAN, features, radius_km=radii)
    assert base.layers["hubs"]["facilities"] == 0 and base.unlocated["hubs"] == 1
    assert base.layers["training"]["covered_population"] == 300  # A and B; C is 22 km away
    plan = coverage.compute(MERIDIAN, features, radius_km=radii, include_planned=True)
    assert plan.settlements["covered_hubs"].tolist() == [True, False, False]
    empty = coverage.compute(MERIDIAN, empty_features(), radius_km=radii)
    assert empty.full_support_share == 0.0
