"""Coverage broken down by area: the areas partition the region and every figure adds up."""
import geopandas as gpd
import numpy as np
import pytest

from shapely.geometry import Point, box

from analysis.by_area import REST, assign_areas, by_area
from analysis.coverage import compute

RADIUS = {"hubs": 10, "training": 10, "networks": 10}


def _areas():
    # Two neighbouring squares of about 34 x 55 km in the west of Ireland.
    return gpd.GeoDataFrame({"name": ["West", "East"]},
                            geometry=[box(-9.5, 53.0, -9.0, 53.5), box(-9.0, 53.0, -8.5, 53.5)], crs="EPSG:4326")


def _demand(points):
    names, xy, people = zip(*points)
    return gpd.GeoDataFrame({"name": list(names), "population": list(people)},
                            geometry=[Point(x, y) for x, y in xy], crs="EPSG:4326")


def _facilities(rows):
    return gpd.GeoDataFrame({
        "feature_id": [f"f{i}" for i in range(len(rows))],
        "name": [f"f{i}" for i in range(len(rows))],
        "layer": [layer for layer, _, _ in rows],
        "status": [status for _, status, _ in rows],
    }, geometry=[Point(*xy) for _, _, xy in rows], crs="EPSG:4326")


def test_populations_partition_the_region_and_shares_add_up():
    demand = _demand([
        ("a", (-9.4, 53.2), 1000), ("b", (-9.1, 53.3), 500),    # West
        ("c", (-8.7, 53.2), 2000), ("d", (-8.6, 53.45), 300),   # East
        ("e", (-9.53, 53.2), 50),                                # 2 km off the west coast: snapped to West
    ])
    facilities = _facilities([
        ("hubs", "existing", (-9.4, 53.21)),     # covers a and e
        ("hubs", "existing", (-8.7, 53.21)),     # covers c
        ("training", "existing", (-9.1, 53.31)),  # covers b
        ("networks", "planned", (-8.6, 53.44)),  # planned: not counted in the existing scenario
    ])
    result = compute(demand, facilities, radius_km=RADIUS)
    breakdown = by_area(result, _areas(), facilities)
    table = breakdown.table.set_index("name")
    assert list(breakdown.table["name"]) == ["West", "East"]
    assert table["population"].sum() == result.population == 3850
    assert table.loc["West", "population"] == 1550 and table.loc["East", "population"] == 2300
    assert breakdown.moved == 1
    covered = result.settlements.set_index("name")
    for layer in RADIUS:
        west = sum(int(covered.loc[n, "population"]) for n in "abe" if covered.loc[n, f"covered_{layer}"])
        east = sum(int(covered.loc[n, "population"]) for n in "cd" if covered.loc[n, f"covered_{layer}"])
        assert table.loc["West", f"covered_population_{layer}"] == west
        assert table.loc["East", f"covered_population_{layer}"] == east
        assert table[f"covered_population_{layer}"].sum() == result.layers[layer]["covered_population"]
    assert table.loc["West", "coverage_share_hubs"] == pytest.approx((1000 + 50) / 1550)  # e is 8.7 km from the hub
    assert table.loc["East", "coverage_share_hubs"] == pytest.approx(2000 / 2300)
    assert table.loc["West", "facilities_hubs"] == 1 and table.loc["East", "facilities_hubs"] == 1
    assert table.loc["East", "facilities_networks"] == 0  # planned, scenario without planned
    assert table.loc["West", "per_100k_hubs"] == pytest.approx(100_000 / 1550)
    # Full support: nobody has all three layers (no existing network anywhere).
    assert (table["full_support_share"] == 0).all()


def test_planned_scenario_counts_planned_facilities_per_area():
    demand = _demand([("c", (-8.7, 53.2), 2000), ("d", (-8.6, 53.45), 300)])
    facilities = _facilities([("networks", "planned", (-8.6, 53.44))])
    result = compute(demand, facilities, radius_km={"networks": 10}, include_planned=True)
    table = by_area(result, _areas(), facilities).table.set_index("name")
    assert table.loc["East", "facilities_networks"] == 1
    assert table.loc["East", "covered_population_networks"] == 300


def test_an_area_without_people_reports_no_share_rather_than_zero():
    demand = _demand([("a", (-9.4, 53.2), 1000)])
    result = compute(demand, _facilities([]), radius_km={"hubs": 10})
    breakdown = by_area(result, _areas(), _facilities([]))
    east = breakdown.table.set_index("name").loc["East"]
    assert east["population"] == 0 and np.isnan(east["coverage_share_hubs"])
    assert breakdown.records()[1]["layers"]["hubs"]["coverage_share"] is None


def test_records_follow_the_cli_schema():
    demand = _demand([("a", (-9.4, 53.2), 1000), ("c", (-8.7, 53.2), 3000)])
    facilities = _facilities([("hubs", "existing", (-9.4, 53.21))])
    result = compute(demand, facilities, radius_km={"hubs": 10})
    records = by_area(result, _areas(), facilities).records()
    assert records[0] == {"name": "West", "population": 1000,
                          "layers": {"hubs": {"covered_population": 1000, "coverage_share": 1.0,
                                              "facilities": 1, "per_100k": 100.0}},
                          "full_support_share": 1.0}
    assert records[1]["layers"]["hubs"]["covered_population"] == 0


def test_a_point_on_a_shared_border_counts_once():
    index, moved = assign_areas(np.array([[-9.0, 53.2], [np.nan, np.nan]]), _areas().geometry.to_numpy())
    assert index.tolist() == [0, -1] and moved == 0


def test_people_far_from_every_area_make_a_rest_row_so_the_rows_still_add_up():
    demand = _demand([("a", (-9.4, 53.2), 1000), ("far", (-7.5, 53.2), 400)])
    result = compute(demand, _facilities([]), radius_km={"hubs": 10})
    breakdown = by_area(result, _areas(), _facilities([]))
    assert breakdown.table["name"].tolist() == ["West", "East", REST]
    assert breakdown.table["population"].tolist() == [1000, 0, 400] and breakdown.moved == 0
    assert breakdown.frame().geometry.iloc[2] is None


def test_facilities_outside_every_area_are_in_none():
    index, _ = assign_areas(np.array([[-7.0, 53.2]]), _areas().geometry.to_numpy(), snap_m=None)
    assert index.tolist() == [-1]


def test_areas_in_another_crs_are_reprojected():
    areas = _areas().to_crs("EPSG:3035")
    demand = _demand([("a", (-9.4, 53.2), 1000), ("c", (-8.7, 53.2), 3000)])
    result = compute(demand, _facilities([]), radius_km={"hubs": 10})
    table = by_area(result, areas, _facilities([])).table
    assert table["population"].tolist() == [1000, 3000]


def test_many_points_match_a_point_in_polygon_oracle():
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(-9.5, -8.5, 5000), rng.uniform(53.0, 53.5, 5000)])
    index, moved = assign_areas(xy, _areas().geometry.to_numpy())
    expected = np.where(xy[:, 0] <= -9.0, 0, 1)
    assert moved == 0 and (index == expected).all()
