"""Street networks read from .osm.pbf extracts: modes, one-way streets, speeds, bad files, the cache.

Expected lengths and times are computed by hand in `tests/osm_fixtures.py`.
"""
from __future__ import annotations

import numpy as np
import pytest
from osm_fixtures import NODES, SEGMENT_M, WAYS, helsinki, write_town

from errors import ImportFileError
from geography.network import MODES, assumptions, build_networks, load_network


@pytest.fixture
def helsinki_networks():
    return helsinki()


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return write_town(tmp_path_factory.mktemp("osm") / "town.osm.pbf")


def _edge(net, a: int, b: int) -> tuple[float, float] | None:
    index = {int(n): i for i, n in enumerate(net.node_id)}
    hit = np.flatnonzero((net.tail == index[a]) & (net.head == index[b]))
    return (float(net.seconds[hit[0]]), float(net.metres[hit[0]])) if hit.size else None


def test_drive_obeys_one_way_and_speeds(town):
    drive = build_networks(town)["drive"]
    assert _edge(drive, 3, 4) == pytest.approx((SEGMENT_M / 10.0, SEGMENT_M))  # maxspeed 36 km/h
    assert _edge(drive, 4, 3) is None  # one-way street B
    assert _edge(drive, 4, 5) == pytest.approx((SEGMENT_M / (30 / 3.6), SEGMENT_M))  # residential default
    assert _edge(drive, 5, 4) is not None
    assert _edge(drive, 2, 6) is None  # a footway is not for cars
    assert drive.nodes == 23 and drive.edges == 43


def test_walk_is_two_way_at_walking_speed(town):
    walk = build_networks(town)["walk"]
    assert _edge(walk, 4, 3) == pytest.approx((SEGMENT_M / (5 / 3.6), SEGMENT_M))
    assert _edge(walk, 3, 4) == pytest.approx((SEGMENT_M / (5 / 3.6), SEGMENT_M))
    assert _edge(walk, 2, 6) is not None
    assert walk.edges == 46


def test_small_pieces_are_dropped_islands_kept(tmp_path):
    stub = {**NODES, 900: (10.5, 0.0), 901: (10.501, 0.0)}
    path = write_town(tmp_path / "stub.osm.pbf", nodes=stub,
                      ways=[*WAYS, (1100, [900, 901], {"highway": "service"})])
    drive = build_networks(path)["drive"]
    assert 900 not in set(drive.node_id.tolist()) and drive.source["dropped_nodes"] == 2
    assert {201, 212} <= set(drive.node_id.tolist())  # the island's 12 nodes stay


def test_closed_and_private_ways(tmp_path):
    ways = [(1, [101, 102, 103, 104, 105, 1, 2, 3, 4, 5, 6], {"highway": "residential", "access": "private"}),
            (2, list(range(201, 213)), {"highway": "motorway"})]
    nets = build_networks(write_town(tmp_path / "closed.osm.pbf", ways=ways))
    assert nets["drive"].nodes == 12  # only the motorway
    assert nets["walk"].nodes == 0 and nets["bike"].nodes == 0


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"<?xml version='1.0'?><osm></osm>", "not an OpenStreetMap PBF"),
    (b"\x00\x00\x00\x0d\n\tOSMHeader" + b"\x00" * 40, "cannot be read"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "region.osm.pbf"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        load_network(path, "drive")


def test_no_roads(tmp_path):
    path = write_town(tmp_path / "empty.osm.pbf", ways=[(5, [1, 2, 3], {"building": "yes"})])
    with pytest.raises(ImportFileError, match="holds no roads"):
        load_network(path, "walk")


def test_missing_file_and_unknown_mode(tmp_path, town):
    with pytest.raises(ImportFileError, match="cannot be opened"):
        load_network(tmp_path / "nowhere.osm.pbf", "drive")
    with pytest.raises(ImportFileError, match="travel mode 'car'"):
        load_network(town, "car")


def test_cache_is_reused_and_rebuilt_when_the_file_changes(tmp_path):
    path = write_town(tmp_path / "town.osm.pbf")
    cache = tmp_path / "networks"
    first = load_network(path, "drive", cache_dir=cache)
    again = load_network(path, "walk", cache_dir=cache)
    assert first.source["cache"] == "built" and again.source["cache"] == "cached"
    assert again.edges == 46 and len(list(cache.glob("*.npz"))) == 1
    reference = build_networks(path)["walk"]
    for name in ("node_id", "lon", "lat", "tail", "head", "seconds", "metres"):
        np.testing.assert_array_equal(getattr(again, name), getattr(reference, name))
    write_town(path, ways=WAYS[:4])  # the extract changes (no island): rebuilt, the old cache removed
    changed = load_network(path, "drive", cache_dir=cache)
    assert changed.source["cache"] == "built" and changed.nodes == 11
    assert len(list(cache.glob("*.npz"))) == 1


def test_helsinki_counts_per_mode(helsinki_networks):
    counts = {mode: (net.nodes, net.edges) for mode, net in helsinki_networks.items()}
    assert set(counts) == set(MODES)
    # walk reaches footways too; drive is the smallest network
    assert counts["walk"][0] > counts["bike"][0] > counts["drive"][0] > 1000
    drive = helsinki_networks["drive"]
    assert (drive.seconds > 0).all() and np.isfinite(drive.seconds).all()
    speeds = drive.metres / drive.seconds * 3.6
    assert speeds.max() <= 200 and speeds.min() >= 5


def test_assumptions_are_data():
    stated = assumptions("drive")
    assert stated["speeds_kmh"]["residential"] == 30 and stated["maxspeed_used"] and stated["oneway_obeyed"]
    assert assumptions("walk")["speeds_kmh"]["default"] == 5.0 and not assumptions("walk")["oneway_obeyed"]
