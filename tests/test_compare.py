"""Tests for the region comparison rows and table."""
from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import compare, coverage
from tests.analysis_frames import demand_frame, facility_frame

RADII = {"hubs": 20.0, "training": 30.0, "networks": 30.0}


NORTH = demand_frame([("Big", 150_000, 15.0, 60.0), ("Mid", 40_000, 15.0, 60.1), ("Small", 10_000, 15.0, 60.5)])
NORTH_FAC = facility_frame([
    ("h1", "hubs", "existing", (15.0, 60.0)),
    ("h2", "hubs", "planned", (15.0, 60.5)),
    ("h3", "hubs", "existing", None),
    ("t1", "training", "existing", (15.0, 60.05)),
    ("n1", "networks", "existing", (15.0, 60.1)),
    ("u1", "unclassified", "existing", (15.0, 60.0)),
])


def test_compare_row_hand_computed():
    result = coverage.compute(NORTH, NORTH_FAC, radius_km=RADII)
    row = compare.compare_row("se-north", "North", result, NORTH_FAC)
    assert row["region_id"] == "se-north" and row["region_name"] == "North"
    assert row["population"] == 200_000 and row["settlements"] == 3
    assert row["facilities_hubs"] == 1 and row["planned_hubs"] == 1
    assert row["per_100k_hubs"] == pytest.approx(0.5)
    assert row["facilities_training"] == 1 and row["per_100k_networks"] == pytest.approx(0.5)
    # Small is 0.5° (55.6 km) from h1: beyond 20 km for hubs, and 0.45° / 0.4° from t1 / n1.
    assert row["coverage_share_hubs"] == pytest.approx(190_000 / 200_000)
    assert row["coverage_share_training"] == pytest.approx(0.95)
    assert row["full_support_share"] == pytest.approx(0.95)
    # Weighted median: Big alone holds 75 % of the people, 0 km from h1.
    assert row["median_km_hubs"] == 0.0
    assert row["largest_uncovered"] == {"name": "Small", "population": 10_000}
    assert row["include_planned"] is False


def test_compare_row_with_planned_and_no_facilities():
    planned = coverage.compute(NORTH, NORTH_FAC, radius_km=RADII, include_planned=True)
    row = compare.compare_row("n", "North", planned, NORTH_FAC)
    assert row["facilities_hubs"] == 2 and row["coverage_share_hubs"] == 1.0

    empty = coverage.compute(NORTH, facility_frame([]), radius_km=RADII)
    row = compare.compare_row("e", "Empty", empty, facility_frame([]))
    assert row["facilities_hubs"] == 0 and row["per_100k_hubs"] == 0.0
    assert row["median_km_hubs"] is None
    assert row["largest_uncovered"] == {"name": "Big", "population": 150_000}


def test_compare_row_with_a_partial_analysis_and_zero_population():
    result = coverage.compute(demand_frame([("Ghost", 0, 15.0, 60.0)]), NORTH_FAC, radius_km={"training": 30})
    row = compare.compare_row("g", "Ghost", result, NORTH_FAC)
    assert row["per_100k_hubs"] is None
    assert row["coverage_share_hubs"] is None and row["coverage_share_training"] == 0.0
    assert row["median_km_hubs"] is None


def test_compare_table_flattens_and_keeps_order():
    a = compare.compare_row("a", "A", coverage.compute(NORTH, NORTH_FAC, radius_km=RADII), NORTH_FAC)
    full = facility_frame([(f"{layer}1", layer, "existing", (15.0, 60.05)) for layer in ("hubs", "training", "networks")])
    b = compare.compare_row("b", "B", coverage.compute(NORTH.iloc[:2], full, radius_km=RADII), full)
    table = compare.compare([a, b])
    assert table["region_id"].tolist() == ["a", "b"]
    assert "largest_uncovered" not in table.columns
    assert table.loc[0, "largest_uncovered_name"] == "Small"
    assert table["largest_uncovered_name"].isna().tolist() == [False, True]
    assert table["largest_uncovered_population"].tolist()[0] == 10_000
    assert table["largest_uncovered_population"].isna().tolist() == [False, True]
    assert table.loc[1, "full_support_share"] == 1.0


def test_weighted_median():
    assert compare.weighted_median(np.array([5.0, 1.0, 3.0]), np.array([1, 1, 10])) == 3.0
    assert compare.weighted_median(np.array([1.0, 2.0]), np.array([1, 1])) == 1.0
    assert compare.weighted_median(np.array([1.0, 3.0]), np.array([0, 0])) == 2.0
    assert math.isnan(compare.weighted_median(np.array([]), np.array([])))
