"""Tests for maximal-covering siting: greedy marginal gains and the exact MILP optimum."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from scipy import sparse
from shapely.geometry import Point

from analysis import siting
from analysis.distance import EARTH_RADIUS_KM

DEG_KM = EARTH_RADIUS_KM * math.pi / 180


def at_km(km):
    """A point `km` north of 50°N on the 10°E meridian (exact on the sphere)."""
    return (10.0, 50.0 + km / DEG_KM)


def demand_frame(rows):
    names, pops, kms = zip(*rows)
    lonlat = [at_km(k) for k in kms]
    return gpd.GeoDataFrame({"name": list(names), "population": list(pops)},
                            geometry=[Point(p) for p in lonlat], crs="EPSG:4326")


def facility_frame(rows):
    ids, layers, statuses, kms = zip(*rows) if rows else ((), (), (), ())
    return gpd.GeoDataFrame(
        {"feature_id": list(ids), "name": list(ids), "layer": list(layers), "kind": None,
         "status": list(statuses), "town": None},
        geometry=gpd.GeoSeries([Point(at_km(k)) for k in kms], crs="EPSG:4326"), crs="EPSG:4326",
    )


# Four towns 30 km apart on a line; candidate buildings half-way between neighbours.
LINE = demand_frame([("S0", 3000, 0), ("S30", 4000, 30), ("S60", 4000, 60), ("S90", 3000, 90)])
CANDIDATES = gpd.GeoDataFrame(
    {"name": ["C15", "C45", "C75"]}, geometry=[Point(at_km(k)) for k in (15, 45, 75)], crs="EPSG:4326",
)
NONE = facility_frame([])


def test_greedy_is_suboptimal_and_the_gap_is_reported():
    # C45 covers S30 + S60 (8,000) and is picked first; then C15 or C75 adds only 3,000: 11,000.
    # The optimum is C15 + C75: 7,000 + 7,000 = 14,000, so the greedy is 3/14 = 21.4 % short.
    result = siting.site(LINE, NONE, layer="hubs", radius_km=16.0, k=2, candidates=CANDIDATES)
    assert [s["name"] for s in result.sites] == ["C45", "C15"]
    assert [s["added_population"] for s in result.sites] == [8000, 3000]
    assert [s["added_settlements"] for s in result.sites] == [2, 1]
    assert result.sites[0]["source"] == "candidates" and result.sites[0]["candidate"] == 1
    assert result.sites[0]["lat"] == pytest.approx(50.0 + 45 / DEG_KM)
    assert result.covered_before == 0
    assert result.covered_after == 11000
    assert result.optimum == 14000
    assert result.gap_to_optimum == pytest.approx(3 / 14)
    assert sorted(s["name"] for s in result.optimal_sites) == ["C15", "C75"]
    assert [s["added_population"] for s in result.optimal_sites] == [7000, 7000]
    assert "MILP" in result.method
    assert result.candidates == 3


def test_existing_facilities_are_not_counted_again():
    facilities = facility_frame([("h90", "hubs", "existing", 90), ("t0", "training", "existing", 0)])
    result = siting.site(LINE, facilities, layer="hubs", radius_km=16.0, k=2, candidates=CANDIDATES)
    assert result.covered_before == 3000
    assert [s["name"] for s in result.sites] == ["C45", "C15"]
    assert [s["added_population"] for s in result.sites] == [8000, 3000]
    assert result.covered_after == 14000
    assert result.optimum == 11000 and result.gap_to_optimum == 0.0


def test_planned_facilities_count_only_when_asked():
    facilities = facility_frame([("p", "hubs", "planned", 45)])
    base = siting.site(LINE, facilities, layer="hubs", radius_km=16.0, k=1, candidates=CANDIDATES)
    plan = siting.site(LINE, facilities, layer="hubs", radius_km=16.0, k=1, candidates=CANDIDATES,
                       include_planned=True)
    assert base.covered_before == 0 and base.sites[0]["name"] == "C45"
    assert plan.covered_before == 8000 and plan.sites[0]["added_population"] == 3000


def test_settlements_as_candidates_with_the_radius_inclusive():
    # With r = 30 km, S30 reaches S0 and S60 exactly on the radius: 3,000 + 4,000 + 4,000.
    result = siting.site(LINE, NONE, layer="hubs", radius_km=30.0, k=3)
    assert [s["name"] for s in result.sites] == ["S30", "S60"]
    assert [s["added_population"] for s in result.sites] == [11000, 3000]
    assert result.sites[0]["source"] == "settlements" and result.sites[0]["candidate"] == 1
    assert result.covered_after == 14000 == result.population
    assert result.optimum == 14000 and result.gap_to_optimum == 0.0
    assert any("Only 2 of 3 sites" in note for note in result.notes)


def test_nothing_to_gain_when_everyone_is_covered():
    facilities = facility_frame([("h", "hubs", "existing", 45)])
    result = siting.site(LINE, facilities, layer="hubs", radius_km=50.0, k=2)
    assert result.sites == []
    assert result.covered_before == result.covered_after == 14000
    assert result.optimum == 0 and result.gap_to_optimum == 0.0


def test_exact_skipped_above_the_limit_and_k_zero():
    result = siting.site(LINE, NONE, layer="hubs", radius_km=16.0, k=2, candidates=CANDIDATES, exact_limit=2)
    assert result.optimum is None and result.gap_to_optimum is None and result.optimal_sites is None
    assert any("exact_limit" in note for note in result.notes)
    assert result.covered_after == 11000
    zero = siting.site(LINE, NONE, layer="hubs", radius_km=16.0, k=0)
    assert zero.sites == [] and zero.optimum == 0


def test_duplicate_and_unlocated_candidates():
    candidates = gpd.GeoDataFrame(
        {"name": ["A", "A again", "Nowhere"]},
        geometry=[Point(at_km(15)), Point(at_km(15)), None], crs="EPSG:4326",
    )
    result = siting.site(LINE, NONE, layer="hubs", radius_km=16.0, k=2, candidates=candidates)
    assert [s["name"] for s in result.sites] == ["A"]  # its twin adds nobody
    assert result.candidates == 2
    assert any("Nowhere" in note for note in result.notes)


def test_to_dict_is_json_ready():
    import json

    result = siting.site(LINE, NONE, layer="hubs", radius_km=16.0, k=1, candidates=CANDIDATES)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["layer"] == "hubs"
    assert data["sites"][0]["name"] == "C45" and data["sites"][0]["added_population"] == 8000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer": "hub", "radius_km": 10, "k": 1}, "layer must be"),
        ({"layer": "hubs", "radius_km": -1, "k": 1}, "radius_km"),
        ({"layer": "hubs", "radius_km": 10, "k": -1}, "k must be"),
        ({"layer": "hubs", "radius_km": 10, "k": 1.5}, "k must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        siting.site(LINE, NONE, **kwargs)


def test_candidates_need_a_name():
    with pytest.raises(ValueError, match="'name' column"):
        siting.site(LINE, NONE, layer="hubs", radius_km=10, k=1,
                    candidates=gpd.GeoDataFrame({"id": [1]}, geometry=[Point(10, 50)], crs="EPSG:4326"))


def test_greedy_and_exact_on_plain_arrays():
    # Rows cover columns: {0,1}, {2,3}, {1,2}; weights 3, 4, 4, 3 (the classic greedy trap).
    matrix = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [0, 1, 1, 0]], dtype=bool))
    weights = np.array([3, 4, 4, 3])
    picks, gains, counts = siting.greedy(matrix, weights, 2)
    assert picks == [2, 0] and gains == [8, 3] and counts == [2, 1]
    rows, value, bound, proven = siting.exact(matrix, weights, 2)
    assert sorted(rows) == [0, 1] and value == 14 and proven
    assert siting.exact(matrix, weights, 5)[1] == 14


def test_exact_matches_brute_force_on_random_instances():
    from itertools import combinations

    rng = np.random.default_rng(11)
    for _ in range(5):
        dense = rng.random((9, 14)) < 0.25
        weights = rng.integers(1, 100, 14)
        matrix = sparse.csr_matrix(dense)
        best = max(weights[dense[list(c)].any(axis=0)].sum() for c in combinations(range(9), 3))
        assert siting.exact(matrix, weights, 3)[1] == best
        greedy_value = sum(siting.greedy(matrix, weights, 3)[1])
        assert greedy_value <= best
        assert greedy_value >= (1 - 1 / math.e) * best


def _reference_optimum(dense, weights, k):
    """Textbook MCLP as a MILP, no reductions: the value to match."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_c, n_d = dense.shape
    cover = np.hstack([-dense.T.astype(float), np.eye(n_d)])
    budget = np.concatenate([np.ones(n_c), np.zeros(n_d)])[None, :]
    result = milp(np.concatenate([np.zeros(n_c), -weights.astype(float)]),
                  constraints=[LinearConstraint(cover, -np.inf, 0), LinearConstraint(budget, 0, k)],
                  integrality=np.concatenate([np.ones(n_c), np.zeros(n_d)]), bounds=Bounds(0, 1))
    return round(-result.fun)


@pytest.mark.parametrize("seed", range(6))
def test_exact_with_reductions_matches_the_textbook_model(seed):
    # Clustered towns: many dominated and interchangeable candidates, like real settlements.
    rng = np.random.default_rng(seed)
    centres = rng.uniform([10, 50], [12, 51], (6, 2))
    points = np.vstack([c + rng.normal(0, 0.08, (30, 2)) for c in centres])
    weights = rng.integers(0, 5000, len(points))
    from analysis.distance import within_km

    matrix = within_km(points, points, 12.0)
    for k in (1, 3, 7):
        rows, value, bound, proven = siting.exact(matrix, weights, k)
        assert proven and bound == value
        assert value == _reference_optimum(matrix.toarray(), weights, k)
        assert len(rows) <= k
        assert weights[np.unique(matrix[rows].indices)].sum() == value
        picks = siting.greedy(matrix, weights, k)[0]
        better = siting.improve(matrix, weights, picks)
        assert (weights[np.unique(matrix[better].indices)].sum()
                >= weights[np.unique(matrix[picks].indices)].sum())


def test_a_time_limit_reports_a_bound_instead_of_an_optimum(monkeypatch):
    # Pretend the LP and MILP ran out of time: the result keeps the greedy, states a bound.
    monkeypatch.setattr(siting, "_lp_bound", lambda c, constraints, time_limit_s: None)

    class Stopped:
        x = None
        status = 1
        mip_dual_bound = float("nan")

    monkeypatch.setattr(siting, "milp", lambda *args, **kwargs: Stopped())
    demand = demand_frame([("S0", 3000, 0), ("S30", 4000, 30), ("S60", 4000, 60), ("S90", 3000, 90),
                           ("S200", 1000, 200)])
    candidates = gpd.GeoDataFrame(
        {"name": ["C15", "C45", "C75", "C200"]}, geometry=[Point(at_km(k)) for k in (15, 45, 75, 200)],
        crs="EPSG:4326",
    )
    result = siting.site(demand, NONE, layer="hubs", radius_km=16.0, k=2, candidates=candidates)
    assert result.optimum is None and result.gap_to_optimum is None
    # Without the LP, the bound is the two best single sites: 8,000 + 7,000.
    assert result.upper_bound == 15000
    assert result.covered_after == 11000
    assert sum(s["added_population"] for s in result.optimal_sites) == 14000  # the swap search's C15 + C75
    assert any("stopped at its 10 s limit" in note and "at most 15,000" in note for note in result.notes)
    assert "time limit hit" in result.method
