"""Travel time on a street network: snapping, nearest facility in minutes, coverage, gaps, catchments, siting, isochrones.

The core works on a network given as plain arrays (any object with the attributes of
:class:`Network`; ``geography.network.RoadNetwork`` is one) wrapped once in a
:class:`Router`. Pages and the command line call, in order::

    router = travel.Router(network)                          # CSR matrices + node tree, once
    result = travel.coverage(router, demand, facilities, minutes={"hubs": 30})
    gaps = travel.uncovered(result)                          # nearest_minutes per layer
    table = travel.catchments(router, demand, facilities, layer="hubs")
    sites = travel.site(router, demand, facilities, layer="hubs", minutes=30, k=3)
    shapes = travel.isochrones(router, facilities, minutes=15, layer="hubs")

**Direction.** Every time is the journey *from* the demand point *to* the facility (a
one-way street counts in the direction a resident drives to the hub). Searches therefore
run on the reversed graph from the facilities.

**Snapping.** Demand points, candidates and facilities join their nearest network node
(great-circle distance); the distance is reported (``snap_m``) and is not added to the
time. Points farther than :data:`SNAP_LIMIT_M` from every node of the mode (2 km drive,
1 km walk and bike) are *off network*: listed, counted in the population, never covered;
facilities off network serve nobody. A point on a piece of network that cannot reach
any facility (an island) gets ``inf`` minutes (None in reports).

**Speed.** The router contracts *chain nodes* once (a node with two neighbours and a
road through it, one-way or two-way: the shape nodes of OSM ways) into edges between
junctions and dead ends, whose times are the sums of the chains' edges, so results are
exact (`_contract`). Nearest-facility times for every node come from one multi-source
Dijkstra on that graph (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True``; a
facility on a chain joins it as an extra row), then every chain node's time from the
ends of its chain and any facility along it, vectorised. Coverage matrices for siting
come from one bounded search per candidate on that graph, compiled with numba and run in
parallel over candidates (`analysis._bounded`: a 4-ary-heap Dijkstra that stops at the
limit and records only the demand pairs it reaches; a sparse result, never a dense node x
node matrix). Without numba they fall back to scipy's Dijkstra (``limit=``) in chunks of
candidates, which holds the GIL, so threads would not help.

**Isochrones.** The nodes from which a facility is reached within T minutes, drawn as
their concave hull (shapely, ``ratio`` 0.3) in an equidistant projection centred on the
facility, widened by :data:`ISOCHRONE_BUFFER_M` so a hull of a single street still has an
area. It is a picture of reach; coverage figures always come from the times themselves.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from analysis.base import demand_population, lonlat, select_facilities, to_wgs84
from analysis.distance import km_from_chord, to_xyz
from analysis.siting import GREEDY, SitingResult, _candidate_frame, exact, greedy
from i18n import Text
from i18n.formats import Figure
from loaders.layers import LAYERS

MEASURE = "minutes"
SNAP_LIMIT_M = {"drive": 2000.0, "walk": 1000.0, "bike": 1000.0}
"""A point farther than this from every node of the mode's network is off network (metres)."""
ISOCHRONE_BUFFER_M = {"drive": 200.0, "walk": 50.0, "bike": 100.0}
TOLERANCE_S = 1e-6
_CHUNK_CELLS = 20_000_000
"""Bounded searches run this many (source x node) distances at a time (160 MB of float64)."""


class Network(Protocol):
    """What the router needs of a network: nodes (lon/lat degrees) and directed edges (seconds)."""

    mode: str
    lon: np.ndarray
    lat: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    source: dict


@dataclass(frozen=True)
class Snap:
    """Where points join the network.

    Attributes
    ----------
    node
        Row of the nearest node per point, ``-1`` when off network or without a location.
    metres
        Great-circle metres to the nearest node (NaN without a location); reported even
        when over the limit.
    """

    node: np.ndarray
    metres: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        """True where the point joined the network."""
        return self.node >= 0


@dataclass(frozen=True)
class _Chains:
    """The network with its chain nodes contracted away (exact; see `_contract`).

    A *chain node* has exactly two neighbours and either a two-way road through it or a
    one-way road through it; every other node is *kept*. A *walk* starts on an edge out of
    a kept node and follows chain nodes until the next kept node: one contracted edge, whose
    time is the sum of the walk's edges. Every chain node lies on one walk per direction of
    travel through it (one or two), at ``cum`` seconds from the walk's start and ``total - cum``
    seconds before its end.
    """

    row: np.ndarray          # node -> row of the contracted graph, -1 for a chain node
    kept: np.ndarray         # contracted row -> node
    reverse: sparse.csr_matrix  # contracted graph, reversed (journeys to a facility), K x K
    walk_tail: np.ndarray    # per walk: contracted row it starts from
    walk_head: np.ndarray    # per walk: contracted row it ends at
    visit_node: np.ndarray   # per visit of a chain node (ordered by walk, then along it): the node
    visit_walk: np.ndarray   # the walk
    visit_cum: np.ndarray    # seconds from the walk's start to the node
    visit_rem: np.ndarray    # seconds from the node to the walk's end
    first: np.ndarray        # per node: its first visit (-1 for kept nodes)
    second: np.ndarray       # per node: its second visit (-1 when it has one or none)
    chain_nodes: np.ndarray  # the chain nodes

    @property
    def size(self) -> int:
        """Rows of the contracted graph."""
        return len(self.kept)

    def augmented(self, nodes: np.ndarray) -> sparse.csr_matrix:
        """The reversed contracted graph plus one row per chain node of `nodes` (in order).

        Row ``size + i`` stands for ``nodes[i]``: it leads to the start of each walk through
        the node, at that walk's ``cum`` (the journey from the walk's start to the node, reversed).
        """
        if len(nodes) == 0:
            return self.reverse
        visits = np.concatenate([self.first[nodes], self.second[nodes]])
        owner = np.concatenate([np.arange(len(nodes)), np.arange(len(nodes))])
        have = visits >= 0
        visits, owner = visits[have], owner[have]
        order = np.argsort(owner, kind="stable")
        visits, owner = visits[order], owner[order]
        counts = np.bincount(owner, minlength=len(nodes))
        base = self.reverse
        n = self.size + len(nodes)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)]).astype(np.int32)
        indices = np.concatenate([base.indices, self.walk_tail[self.visit_walk[visits]]]).astype(np.int32)
        data = np.concatenate([base.data, self.visit_cum[visits]])
        return sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def _contract(forward: sparse.csr_matrix) -> _Chains:
    """Contract the chain nodes of a directed graph (`forward`, seconds) into walks; see `_Chains`."""
    n = forward.shape[0]
    indptr, head, seconds = forward.indptr, forward.indices.astype(np.int64), forward.data
    tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    loop = np.zeros(n, dtype=bool)
    loop[tail[tail == head]] = True
    out_deg = np.diff(indptr)
    in_deg = np.bincount(head, minlength=n)
    both = sparse.csr_matrix((np.ones(len(tail), dtype=np.int8), (tail, head)), shape=(n, n))
    both = ((both + both.T) > 0).tocsr()
    neighbours = np.diff(both.indptr)
    chain = (neighbours == 2) & ~loop & (((in_deg == 2) & (out_deg == 2)) | ((in_deg == 1) & (out_deg == 1)))
    # The edge a walk takes after reaching chain node v by edge (p -> v): v's other way out.
    start = indptr[:-1].astype(np.int64)
    other = np.where(out_deg == 2, start + 1, start)  # second out-edge of a two-way chain node
    ahead = head[np.minimum(start[head], max(len(head) - 1, 0))] if len(head) else head  # only read on chain nodes
    succ = np.where(ahead != tail, start[head], other[head])
    while True:
        begin = np.flatnonzero(~chain[tail] & chain[head])
        walk_of_edge = np.arange(len(begin))
        edge, cum = begin, seconds[begin].astype(float)
        nodes, walks, cums = [], [], []
        end_node = np.empty(len(begin), dtype=np.int64)
        total = np.empty(len(begin))
        alive = walk_of_edge
        for _ in range(n + 1):
            v = head[edge]
            done = ~chain[v]
            end_node[alive[done]] = v[done]
            total[alive[done]] = cum[done]
            go = ~done
            if not go.any():
                break
            edge, cum, alive, v = edge[go], cum[go], alive[go], v[go]
            nodes.append(v)
            walks.append(alive)
            cums.append(cum.copy())
            edge = succ[edge]
            cum = cum + seconds[edge]
        visit_node = np.concatenate(nodes) if nodes else np.empty(0, dtype=np.int64)
        visit_walk = np.concatenate(walks) if walks else np.empty(0, dtype=np.int64)
        visit_cum = np.concatenate(cums) if cums else np.empty(0)
        seen = np.zeros(n, dtype=bool)
        seen[visit_node] = True
        lonely = chain & ~seen  # rings of chain nodes with no kept node: keep them all
        if not lonely.any():
            break
        chain &= ~lonely
    kept = np.flatnonzero(~chain)
    row = np.full(n, -1, dtype=np.int64)
    row[kept] = np.arange(len(kept))
    order = np.lexsort((visit_cum, visit_walk))
    visit_node, visit_walk, visit_cum = visit_node[order], visit_walk[order], visit_cum[order]
    walk_tail, walk_head = row[tail[begin]], row[end_node]
    # Contracted edges: kept -> kept directly, and one per walk; parallel ones keep the fastest.
    direct = ~chain[tail] & ~chain[head]
    c_tail = np.concatenate([row[tail[direct]], walk_tail])
    c_head = np.concatenate([row[head[direct]], walk_head])
    c_sec = np.concatenate([seconds[direct], total])
    useful = c_tail != c_head
    c_tail, c_head, c_sec = c_tail[useful], c_head[useful], c_sec[useful]
    order = np.lexsort((c_sec, c_tail, c_head))
    c_tail, c_head, c_sec = c_tail[order], c_head[order], c_sec[order]
    unique = np.ones(len(c_tail), dtype=bool)
    unique[1:] = (c_tail[1:] != c_tail[:-1]) | (c_head[1:] != c_head[:-1])
    k = len(kept)
    reverse = sparse.csr_matrix((c_sec[unique], (c_head[unique], c_tail[unique])), shape=(k, k))
    reverse.sort_indices()
    reverse.indices = reverse.indices.astype(np.int32)
    reverse.indptr = reverse.indptr.astype(np.int32)
    first = np.full(n, -1, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    positions = np.arange(len(visit_node))
    by_node = np.argsort(visit_node, kind="stable")
    sorted_nodes = visit_node[by_node]
    lead = np.ones(len(by_node), dtype=bool)
    lead[1:] = sorted_nodes[1:] != sorted_nodes[:-1]
    first[sorted_nodes[lead]] = positions[by_node[lead]]
    second[sorted_nodes[~lead]] = positions[by_node[~lead]]
    return _Chains(row, kept, reverse, walk_tail, walk_head, visit_node, visit_walk, visit_cum,
                   total[visit_walk] - visit_cum, first, second, np.flatnonzero(first >= 0))


def _compiled():
    """`analysis._bounded` (numba, imported on first use: ~0.2 s), or None where numba is not installed."""
    try:
        from analysis import _bounded
    except ImportError:  # pragma: no cover - numba is a requirement; scipy's Dijkstra is the fallback
        return None
    return _bounded


class Router:
    """A network prepared for queries: forward and reversed CSR matrices and a k-d tree of its nodes.

    Parameters
    ----------
    network
        A :class:`Network` (``geography.network.RoadNetwork``).
    snap_limit_m
        Off-network threshold in metres (default :data:`SNAP_LIMIT_M` of the mode).
    """

    def __init__(self, network: Network, *, snap_limit_m: float | None = None):
        from scipy.spatial import cKDTree

        self.network = network
        self.mode = network.mode
        self.snap_limit_m = float(SNAP_LIMIT_M.get(network.mode, 1000.0) if snap_limit_m is None else snap_limit_m)
        n = len(network.lon)
        self.nodes = n
        self.forward = sparse.csr_matrix((np.asarray(network.seconds, dtype=float),
                                          (network.tail, network.head)), shape=(n, n))
        self.forward.sum_duplicates()
        self.forward.sort_indices()
        self.reverse = self.forward.T.tocsr()
        self.reverse.sort_indices()
        self._chains = _contract(self.forward)
        self._xyz = to_xyz(np.column_stack([network.lon, network.lat]))
        self._tree = cKDTree(self._xyz) if n else None

    # -- snapping ---------------------------------------------------------------------------------
    def snap(self, points_lonlat: np.ndarray) -> Snap:
        """Join lon/lat points (n, 2) to their nearest node (see :class:`Snap`)."""
        points = np.asarray(points_lonlat, dtype=float).reshape(-1, 2)
        node = np.full(len(points), -1, dtype=np.int64)
        metres = np.full(len(points), np.nan)
        ok = np.isfinite(points).all(axis=1)
        if self._tree is None or not ok.any():
            return Snap(node, metres)
        chord, found = self._tree.query(to_xyz(points[ok]), k=1, workers=-1)
        metres[ok] = km_from_chord(chord) * 1000.0
        near = metres[ok] <= self.snap_limit_m
        node[np.flatnonzero(ok)[near]] = found[near]
        return Snap(node, metres)

    # -- searches ---------------------------------------------------------------------------------
    def minutes_to_nearest(self, sources: np.ndarray, *, limit_minutes: float | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Minutes from every node to its nearest source node, in one multi-source search.

        Parameters
        ----------
        sources
            Node rows (``-1`` entries, off-network sources, are ignored).
        limit_minutes
            Stop searching beyond this many minutes (nodes farther get ``inf``).

        Returns
        -------
        minutes, which
            Per node: minutes to the nearest source (``inf`` when none is reachable) and
            the position in `sources` of that source (``-1``); a node shared by several
            sources goes to the first listed.
        """
        sources = np.asarray(sources, dtype=np.int64)
        minutes = np.full(self.nodes, np.inf)
        which = np.full(self.nodes, -1, dtype=np.int64)
        valid = np.flatnonzero(sources >= 0)
        if valid.size == 0 or self.nodes == 0:
            return minutes, which
        nodes, first = np.unique(sources[valid], return_index=True)
        limit = np.inf if limit_minutes is None else float(limit_minutes) * 60.0 + TOLERANCE_S
        seconds, origin = self._nearest_seconds(nodes, limit)
        reached = origin >= 0
        position = np.full(self.nodes, -1, dtype=np.int64)
        position[nodes] = valid[first]
        minutes[reached] = seconds[reached] / 60.0
        which[reached] = position[origin[reached]]
        return minutes, which

    def _nearest_seconds(self, nodes: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from every node to the nearest of the distinct `nodes`, and that node (-1: none within `limit`).

        One multi-source search on the contracted graph (each source on a chain enters it
        as an extra row), then every chain node from the ends of its walks (and from a
        source further along its own walk), vectorised.
        """
        ch = self._chains
        on_chain = ch.row[nodes] < 0
        inner = nodes[on_chain]
        graph = ch.augmented(inner)
        starts = np.concatenate([ch.row[nodes[~on_chain]], ch.size + np.arange(inner.size)])
        found, _, origin = csgraph.dijkstra(graph, directed=True, indices=starts, min_only=True, limit=limit,
                                            return_predecessors=True)
        node_of = np.concatenate([ch.kept, inner])  # augmented row -> node
        seconds = np.full(self.nodes, np.inf)
        source = np.full(self.nodes, -1, dtype=np.int64)
        kept_found, kept_origin = found[:ch.size], origin[:ch.size]
        hit = kept_origin >= 0
        seconds[ch.kept[hit]] = kept_found[hit]
        source[ch.kept[hit]] = node_of[kept_origin[hit]]
        if ch.visit_node.size:
            # via the end of the walk
            end = ch.walk_head[ch.visit_walk]
            best = ch.visit_rem + kept_found[end]
            best_source = np.where(kept_origin[end] >= 0, node_of[np.maximum(kept_origin[end], 0)], -1)
            # or straight to the next source along the same walk
            is_source = np.zeros(self.nodes, dtype=bool)
            is_source[inner] = True
            mark = np.where(is_source[ch.visit_node], np.arange(ch.visit_node.size), ch.visit_node.size)
            after = np.minimum.accumulate(mark[::-1])[::-1]
            ok = after < ch.visit_node.size
            ok[ok] = ch.visit_walk[after[ok]] == ch.visit_walk[ok]
            direct = np.full(ch.visit_node.size, np.inf)
            direct[ok] = ch.visit_cum[after[ok]] - ch.visit_cum[ok]
            closer = direct < best
            best = np.where(closer, direct, best)
            best_source = np.where(closer, ch.visit_node[np.minimum(after, ch.visit_node.size - 1)], best_source)
            best[best > limit] = np.inf
            best_source[~np.isfinite(best)] = -1
            # a chain node has one or two visits: keep the faster
            a, b = ch.first[ch.chain_nodes], ch.second[ch.chain_nodes]
            pick = np.where((b >= 0) & (best[np.maximum(b, 0)] < best[a]), b, a)
            seconds[ch.chain_nodes] = best[pick]
            source[ch.chain_nodes] = best_source[pick]
        return seconds, source

    def minutes_between(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Minutes from each origin node to each destination node, (len(origins), len(destinations)).

        For a few pairs (tests, a detail panel); ``inf`` where unreachable or a node is ``-1``.
        """
        origins = np.asarray(origins, dtype=np.int64)
        destinations = np.asarray(destinations, dtype=np.int64)
        out = np.full((len(origins), len(destinations)), np.inf)
        rows, cols = np.flatnonzero(origins >= 0), np.flatnonzero(destinations >= 0)
        if rows.size == 0 or cols.size == 0:
            return out
        step = max(1, _CHUNK_CELLS // max(self.nodes, 1))
        for start in range(0, rows.size, step):
            part = rows[start:start + step]
            seconds = csgraph.dijkstra(self.forward, directed=True, indices=origins[part])
            out[np.ix_(part, cols)] = seconds[:, destinations[cols]] / 60.0
        return out

    def coverage_matrix(self, candidates: np.ndarray, demand: np.ndarray, minutes: float) -> sparse.csr_matrix:
        """Which demand nodes reach each candidate node within `minutes` (bounded searches, sparse).

        Returns a boolean ``csr_matrix`` (len(candidates), len(demand)): entry (i, j) is True
        when the journey from demand node j to candidate node i takes at most `minutes`.
        ``-1`` entries (off network) have no entries.
        """
        return self._coverage(candidates, demand, minutes, with_seconds=False)[0]

    def coverage_seconds(self, candidates: np.ndarray, demand: np.ndarray, minutes: float) -> sparse.csr_matrix:
        """Seconds of each journey from demand node j to candidate node i that takes at most `minutes`.

        A float ``csr_matrix`` (len(candidates), len(demand)) holding exactly the pairs of
        `coverage_matrix` (a journey of 0 s, a candidate on a demand node, is stored).
        """
        return self._coverage(candidates, demand, minutes)[0]

    def _coverage(self, candidates: np.ndarray, demand: np.ndarray, minutes: float, *, with_seconds: bool = True,
                  engine: str | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
        """`coverage_seconds` (`coverage_matrix` without seconds), and the contracted rows each candidate settled.

        `engine` ``"numba"`` (the default when numba imports) runs compiled searches in
        parallel (`analysis._bounded`); ``"scipy"`` runs ``csgraph.dijkstra(limit=)`` in
        chunks (the fallback without numba, and the benchmark's "before").
        """
        compiled = _compiled() if engine in (None, "numba") else None
        engine = engine or ("numba" if compiled is not None else "scipy")
        candidates = np.asarray(candidates, dtype=np.int64)
        demand = np.asarray(demand, dtype=np.int64)
        shape = (len(candidates), len(demand))
        valid = np.flatnonzero(candidates >= 0)
        cols = np.flatnonzero(demand >= 0)
        if valid.size == 0 or cols.size == 0:
            return sparse.csr_matrix(shape, dtype=float if with_seconds else bool), np.zeros(0, dtype=np.int64)
        unique, inverse = np.unique(candidates[valid], return_inverse=True)
        limit = float(minutes) * 60.0 + TOLERANCE_S
        ch = self._chains
        # Candidates on a chain enter the contracted graph as extra rows.
        on_chain = ch.row[unique] < 0
        graph = ch.augmented(unique[on_chain])
        starts = ch.row[unique]
        starts[on_chain] = ch.size + np.arange(int(on_chain.sum()))
        # Demand nodes hang on contracted rows: a kept one on its own row (0 s further), a chain
        # node on the end of each walk through it (the rest of the walk further).
        targets = demand[cols]
        kept_col = np.flatnonzero(ch.row[targets] >= 0)
        visits = np.concatenate([ch.first[targets], ch.second[targets]])
        visit_col = np.concatenate([np.arange(targets.size), np.arange(targets.size)])
        has = visits >= 0
        visits, visit_col = visits[has], visit_col[has]
        hang_row = np.concatenate([ch.row[targets[kept_col]], ch.walk_head[ch.visit_walk[visits]]])
        order = np.argsort(hang_row, kind="stable")
        hang_col = np.concatenate([kept_col, visit_col])[order]
        hang_extra = np.concatenate([np.zeros(kept_col.size), ch.visit_rem[visits]])[order]
        hang_count = np.bincount(hang_row, minlength=graph.shape[0])
        hang_start = np.cumsum(hang_count) - hang_count
        if engine == "numba":
            # A demand node on the same walk as a candidate, no later along it: straight along the walk.
            by_visit = np.argsort(visits, kind="stable")
            visit_start = np.concatenate([[0], np.cumsum(np.bincount(visits, minlength=ch.visit_node.size))])
            own = np.column_stack([ch.first[unique], ch.second[unique]])
            hang_ptr = np.concatenate([[0], np.cumsum(hang_count)])
            indptr, found, seconds, settled = compiled.run(
                graph.indptr, graph.indices, graph.data, starts, hang_ptr, cols[hang_col], hang_extra, own,
                ch.visit_walk, ch.visit_cum, visit_start, cols[visit_col[by_visit]], limit, len(demand),
                with_seconds=with_seconds)
        else:
            indptr, found, seconds, settled = self._coverage_scipy(graph, starts, unique, hang_start, hang_count,
                                                                   hang_col, hang_extra, visits, visit_col, limit,
                                                                   targets.size, with_seconds)
            found = cols[found]
        if not with_seconds:
            seconds = np.ones(found.size, dtype=bool)
        index = np.int32 if max(found.size, len(demand)) < 2**31 else np.int64
        found, indptr = found.astype(index, copy=False), indptr.astype(index, copy=False)
        take = np.full(len(candidates), unique.size, dtype=np.int64)
        take[valid] = inverse
        if np.array_equal(take, np.arange(unique.size)):
            matrix = sparse.csr_matrix((seconds, found, indptr), shape=shape)
        else:  # one more, empty, row for candidates off the network; a duplicate repeats its row
            by_unique = sparse.csr_matrix((seconds, found, np.append(indptr, indptr[-1])),
                                          shape=(unique.size + 1, len(demand)))
            matrix = by_unique[take]
        matrix.has_sorted_indices = True
        return matrix, settled

    def _coverage_scipy(self, graph, starts, unique, hang_start, hang_count, hang_col, hang_extra, visits,
                        visit_col, limit, columns, with_seconds):
        """The bounded searches of `_coverage` with scipy's Dijkstra: CSR rows per distinct candidate.

        Columns are positions among the `columns` valid demand entries; the fastest time of
        each pair (None without `with_seconds`).
        """
        ch = self._chains
        step = max(1, _CHUNK_CELLS // max(graph.shape[0], 1))
        rows_found, cols_found, secs_found, settled = [], [], [], []
        for begin in range(0, unique.size, step):
            seconds = csgraph.dijkstra(graph, directed=True, indices=starts[begin:begin + step], limit=limit)
            settled.append(np.isfinite(seconds).sum(axis=1))
            r, k = np.nonzero((seconds <= limit) & (hang_count > 0))
            count = hang_count[k]
            at = np.repeat(hang_start[k] - np.cumsum(count) + count, count) + np.arange(count.sum())
            r, reach = np.repeat(r, count), np.repeat(seconds[r, k], count) + hang_extra[at]
            near = reach <= limit
            rows_found.append(r[near] + begin)
            cols_found.append(hang_col[at[near]])
            secs_found.append(reach[near])
        # A demand node on the same walk as a candidate, before it: straight along the walk.
        cand_visits = np.concatenate([ch.first[unique], ch.second[unique]])
        cand_row = np.concatenate([np.arange(unique.size), np.arange(unique.size)])
        cand_row, cand_visits = cand_row[cand_visits >= 0], cand_visits[cand_visits >= 0]
        if cand_visits.size and visits.size:
            by_walk = np.argsort(ch.visit_walk[cand_visits], kind="stable")
            cand_walk = ch.visit_walk[cand_visits][by_walk]
            walk = ch.visit_walk[visits]
            lo, hi = np.searchsorted(cand_walk, walk, "left"), np.searchsorted(cand_walk, walk, "right")
            count = hi - lo
            d = np.repeat(np.arange(visits.size), count)
            c = by_walk[np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(lo, count)]
            gap = ch.visit_cum[cand_visits[c]] - ch.visit_cum[visits[d]]
            near = (gap >= 0) & (gap <= limit)
            rows_found.append(cand_row[c[near]])
            cols_found.append(visit_col[d[near]])
            secs_found.append(gap[near])
        r, c = np.concatenate(rows_found), np.concatenate(cols_found)
        if not with_seconds:
            pairs = sparse.csr_matrix((np.ones(r.size, dtype=np.int32), (r, c)), shape=(unique.size, columns))
            pairs.sum_duplicates()
            return pairs.indptr, pairs.indices, None, np.concatenate(settled)
        pair = r * columns + c
        order = np.argsort(pair, kind="stable")
        pair, s = pair[order], np.concatenate(secs_found)[order]
        lead = np.flatnonzero(np.diff(pair, prepend=-1) != 0)  # the first entry of each pair
        s = np.minimum.reduceat(s, lead) if lead.size else s
        r, c = np.divmod(pair[lead], columns)
        return np.concatenate([[0], np.cumsum(np.bincount(r, minlength=unique.size))]), c, s, np.concatenate(settled)

    def reaching(self, node: int, minutes: float) -> np.ndarray:
        """Rows of the nodes from which `node` is reached within `minutes`."""
        if node < 0:
            return np.empty(0, dtype=np.int64)
        seconds = csgraph.dijkstra(self.reverse, directed=True, indices=int(node), limit=float(minutes) * 60.0 + TOLERANCE_S)
        return np.flatnonzero(np.isfinite(seconds))

    def describe(self) -> dict[str, Any]:
        """What the figures were measured on: mode, nodes, edges, off-network threshold, source."""
        src = dict(getattr(self.network, "source", {}) or {})
        return {"mode": self.mode, "nodes": int(self.nodes), "edges": int(self.forward.nnz),
                "snap_limit_m": self.snap_limit_m, **{k: src[k] for k in ("file", "cache", "build_seconds",
                                                                           "dropped_nodes") if k in src}}


# -- frames --------------------------------------------------------------------------------------
def check_minutes(minutes: dict[str, float]) -> dict[str, float]:
    """Return `minutes` in canonical layer order, checking layers and values (minutes > 0)."""
    unknown = [k for k in minutes if k not in LAYERS]
    if unknown:
        raise ValueError(f"minutes: unknown layer(s) {unknown}; use {list(LAYERS)}, e.g. minutes={{'hubs': 30}}.")
    if not minutes:
        raise ValueError(f"minutes: give a travel time for at least one of {list(LAYERS)}.")
    out = {}
    for layer in LAYERS:
        if layer in minutes:
            value = float(minutes[layer])
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"minutes[{layer!r}] must be a number of minutes > 0, got {minutes[layer]!r}.")
            out[layer] = value
    return out


@dataclass(frozen=True)
class TravelNearest:
    """The nearest facility of each layer by travel time, for every demand point.

    ``layers[L]`` is (minutes, nearest feature_id or None, located facilities, facilities
    without a location, facilities off network); ``snap`` is the demand's snapping.
    """

    layers: dict[str, tuple[np.ndarray, np.ndarray, int, int, int]]
    snap: Snap
    include_planned: bool
    points: int


def _facility_nodes(router: Router, facilities: gpd.GeoDataFrame, layer: str, include_planned: bool
                    ) -> tuple[gpd.GeoDataFrame, Snap, int, int]:
    chosen = select_facilities(facilities, layer, include_planned=include_planned)
    points = lonlat(chosen.geometry)
    located = np.isfinite(points).all(axis=1)
    snap = router.snap(points)
    off = int((located & ~snap.on_network).sum())
    return chosen, snap, int(located.sum()) - off, int((~located).sum())


def nearest_facilities(router: Router, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, layers,
                       *, include_planned: bool = False) -> TravelNearest:
    """Find, for every demand point, the minutes to the nearest facility of each of `layers`."""
    demand = to_wgs84(demand)
    snap = router.snap(lonlat(demand.geometry))
    found = {}
    for layer in layers:
        chosen, fsnap, on_network, unlocated = _facility_nodes(router, facilities, layer, include_planned)
        node_minutes, which = router.minutes_to_nearest(fsnap.node)
        minutes = np.full(len(demand), np.inf)
        nearest_id = np.full(len(demand), None, dtype=object)
        on = snap.on_network
        minutes[on] = node_minutes[snap.node[on]]
        position = np.full(len(demand), -1, dtype=np.int64)
        position[on] = which[snap.node[on]]
        hit = position >= 0
        nearest_id[hit] = chosen["feature_id"].to_numpy(dtype=object)[position[hit]]
        off = int((np.isfinite(lonlat(chosen.geometry)).all(axis=1) & ~fsnap.on_network).sum())
        found[layer] = (minutes, nearest_id, on_network, unlocated, off)
    return TravelNearest(found, snap, include_planned, len(demand))


@dataclass
class TravelCoverage:
    """Coverage in minutes of travel: the same figures as `analysis.coverage.CoverageResult`.

    Attributes
    ----------
    minutes, mode
        Travel time per analysed layer (minutes, canonical order) and the travel mode.
    settlements
        The demand (EPSG:4326) plus ``snap_m`` (metres to the network), ``on_network``,
        and per layer ``nearest_minutes_<layer>`` (``inf`` when unreachable or off network),
        ``nearest_id_<layer>``, ``covered_<layer>``; and ``full_support``.
    layers
        Per layer: ``facilities`` (on the network), ``covered_population``,
        ``coverage_share``, ``uncovered_settlements``, ``facilities_off_network``.
    population, full_support_share, unlocated, include_planned
        As in ``CoverageResult``.
    network
        `Router.describe` of the network used.
    """

    minutes: dict[str, float]
    mode: str
    include_planned: bool
    settlements: gpd.GeoDataFrame
    layers: dict[str, dict[str, Any]]
    population: int
    full_support_share: float
    unlocated: dict[str, int] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    measure: str = MEASURE
    circuity: float = 1.0

    @property
    def analysed_layers(self) -> list[str]:
        """The layers analysed, canonical order."""
        return list(self.minutes)

    @property
    def off_network(self) -> pd.DataFrame:
        """Demand points farther than the snapping limit from the network: name, population, snap_m."""
        s = self.settlements.loc[~self.settlements["on_network"].to_numpy(dtype=bool)]
        out = pd.DataFrame({"name": s["name"].to_numpy(dtype=object),
                            "population": s["population"].to_numpy(dtype=np.int64),
                            "snap_m": s["snap_m"].to_numpy(dtype=float)})
        return out.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)


def coverage(router: Router, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
             minutes: dict[str, float], include_planned: bool = False,
             nearest: TravelNearest | None = None) -> TravelCoverage:
    """Compute which demand points reach a facility of each layer within its travel time.

    Parameters
    ----------
    router
        The network (`Router`).
    demand, facilities
        As for `analysis.coverage.compute` (EPSG:4326; population per point).
    minutes
        Travel time per layer, e.g. ``{"hubs": 30, "training": 45}`` (inclusive).
    nearest
        Times found earlier for this demand (`nearest_facilities`): a slider on minutes
        needs no new search.
    """
    minutes = check_minutes(minutes)
    demand = to_wgs84(demand)
    population = demand_population(demand)
    total = int(population.sum())
    usable = nearest is not None and nearest.include_planned == include_planned and nearest.points == len(demand)
    if not usable or any(layer not in nearest.layers for layer in minutes):
        nearest = nearest_facilities(router, demand, facilities, list(minutes), include_planned=include_planned)
    settlements = demand.copy()
    settlements["snap_m"] = nearest.snap.metres
    settlements["on_network"] = nearest.snap.on_network
    full = np.ones(len(demand), dtype=bool)
    layers, unlocated = {}, {}
    for layer, limit in minutes.items():
        found, nearest_id, on_network, missing, off = nearest.layers[layer]
        covered = found <= limit + TOLERANCE_S / 60.0
        settlements[f"nearest_minutes_{layer}"] = found
        settlements[f"nearest_id_{layer}"] = pd.Series(nearest_id, index=demand.index, dtype=object)
        settlements[f"covered_{layer}"] = covered
        full &= covered
        covered_population = int(population[covered].sum())
        layers[layer] = {"facilities": on_network, "covered_population": covered_population,
                         "coverage_share": covered_population / total if total else 0.0,
                         "uncovered_settlements": int((~covered).sum()), "facilities_off_network": off}
        unlocated[layer] = missing
    settlements["full_support"] = full
    return TravelCoverage(minutes, router.mode, include_planned, settlements, layers, total,
                          int(population[full].sum()) / total if total else 0.0, unlocated, router.describe())


def _minutes_or_none(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


def uncovered(result: TravelCoverage) -> pd.DataFrame:
    """List every demand point lacking a layer within its travel time, largest first.

    Columns ``name``, ``population``, ``lat``, ``lon``, ``missing`` (layers out of reach),
    ``nearest_minutes`` (dict layer -> minutes, None when unreachable), ``snap_m`` and
    ``on_network``.
    """
    s = result.settlements
    layers = result.analysed_layers
    rows = s.loc[~s["full_support"].to_numpy(dtype=bool)]
    coords = lonlat(rows.geometry)
    covered = {layer: rows[f"covered_{layer}"].to_numpy(dtype=bool) for layer in layers}
    found = {layer: rows[f"nearest_minutes_{layer}"].to_numpy(dtype=float) for layer in layers}
    out = pd.DataFrame({
        "name": rows["name"].to_numpy(dtype=object),
        "population": rows["population"].to_numpy(dtype=np.int64),
        "lat": coords[:, 1], "lon": coords[:, 0],
        "missing": pd.Series([[l for l in layers if not covered[l][i]] for i in range(len(rows))], dtype=object),
        "nearest_minutes": pd.Series([{l: _minutes_or_none(found[l][i]) for l in layers} for i in range(len(rows))],
                                     dtype=object),
        "snap_m": rows["snap_m"].to_numpy(dtype=float),
        "on_network": rows["on_network"].to_numpy(dtype=bool),
    })
    order = np.lexsort((out["name"].astype(str).to_numpy(), -out["population"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def catchments(router: Router, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, layer: str,
               include_planned: bool = False, minutes: float | None = None, large_factor: float = 3.0
               ) -> pd.DataFrame:
    """Assign each demand point to its nearest facility of `layer` by travel time; population per facility.

    Like `analysis.catchments.assign`, in minutes: one row per facility on the network,
    largest population first, with ``population``, ``settlements``, ``share``,
    ``max_minutes`` (slowest journey served, NaN when none) and ``flag_large``. With
    `minutes`, only journeys within it count as served; unreachable points serve nobody.
    """
    demand = to_wgs84(demand)
    population = demand_population(demand)
    chosen, fsnap, _, _ = _facility_nodes(router, facilities, layer, include_planned)
    snap = router.snap(lonlat(demand.geometry))
    node_minutes, which = router.minutes_to_nearest(fsnap.node, limit_minutes=minutes)
    index = np.full(len(demand), -1, dtype=np.int64)
    found = np.full(len(demand), np.inf)
    on = snap.on_network
    index[on], found[on] = which[snap.node[on]], node_minutes[snap.node[on]]
    keep = fsnap.on_network
    n = len(chosen)
    served = index >= 0
    served_population = np.bincount(index[served], weights=population[served], minlength=n).astype(np.int64)
    count = np.bincount(index[served], minlength=n).astype(np.int64)
    slowest = np.full(n, np.nan)
    if served.any():
        np.fmax.at(slowest, index[served], found[served])
    total = int(population.sum())
    median = float(np.median(served_population[keep])) if keep.any() else 0.0
    out = pd.DataFrame({
        "feature_id": chosen["feature_id"].to_numpy(dtype=object), "name": chosen["name"].to_numpy(dtype=object),
        "status": chosen["status"].to_numpy(dtype=object), "population": served_population, "settlements": count,
        "share": served_population / total if total else np.zeros(n), "max_minutes": slowest,
        "flag_large": served_population > large_factor * median,
    }).loc[keep]
    out = out.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"median_population": median, "large_threshold": large_factor * median,
                      "measure": MEASURE, "mode": router.mode})
    return out


@dataclass
class TravelSitingResult(SitingResult):
    """A `SitingResult` whose reach is a travel time: ``minutes`` and ``mode`` instead of a radius."""

    minutes: float = 0.0
    mode: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary, with ``minutes``, ``mode`` and ``measure`` in place of ``radius_km``."""
        out = super().to_dict()
        out.pop("radius_km", None)
        out.update({"measure": MEASURE, "minutes": self.minutes, "mode": self.mode})
        return out


def site(router: Router, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, layer: str,
         minutes: float, k: int, candidates: gpd.GeoDataFrame | None = None, include_planned: bool = False,
         exact_limit: int = 5000, time_limit_s: float = 10.0) -> TravelSitingResult:
    """Find where `k` new facilities of `layer` would bring the most uncovered people within `minutes`.

    The solvers of `analysis.siting` (greedy with marginal gains, then the exact optimum
    by LP bound and MILP) on a travel-time coverage matrix from `Router.coverage_matrix`.
    Candidates default to the demand points; candidates off the network are skipped (noted).
    """
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {list(LAYERS)}, got {layer!r}.")
    limit = check_minutes({layer: minutes})[layer]
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a whole number of sites >= 0, got {k!r}.")
    k = int(k)
    demand = to_wgs84(demand)
    notes: list[str] = []
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    population = demand_population(demand)
    nearest = nearest_facilities(router, demand, facilities, [layer], include_planned=include_planned)
    found = nearest.layers[layer][0]
    covered = found <= limit + TOLERANCE_S / 60.0
    covered_before = int(population[covered].sum())
    snap = nearest.snap
    open_rows = np.flatnonzero(~covered & (population > 0) & snap.on_network)
    weights = population[open_rows]
    cand_points, cand_names, cand_labels, source = _candidate_frame(demand, candidates, notes)
    cand_snap = router.snap(cand_points)
    if (~cand_snap.on_network).any():
        notes.append(Text("{count} {source} lie more than {metres:g} m from the {mode} network and were not "
                          "considered as sites.", count=int((~cand_snap.on_network).sum()), source=source,
                          metres=router.snap_limit_m, mode=router.mode))
    matrix = router.coverage_matrix(cand_snap.node, snap.node[open_rows], limit)
    seconds["matrix"] = time.perf_counter() - started
    started = time.perf_counter()
    picks, gains, counts = greedy(matrix, weights, k)
    seconds["greedy"] = time.perf_counter() - started

    def describe(rows, gain, count) -> list[dict[str, Any]]:
        return [{"name": cand_names[i], "lat": float(cand_points[i, 1]), "lon": float(cand_points[i, 0]),
                 "added_population": int(g), "added_settlements": int(c),
                 "candidate": cand_labels[i].item() if isinstance(cand_labels[i], np.generic) else cand_labels[i],
                 "source": source, "rank": rank, "snap_m": round(float(cand_snap.metres[i]), 1)}
                for rank, (i, g, c) in enumerate(zip(rows, gain, count), start=1)]

    sites = describe(picks, gains, counts)
    added = int(sum(gains))
    if len(picks) < k:
        notes.append(
            Text("No site adds anyone: every uncovered point within {minutes:g} minutes of a candidate is covered by "
                 "then.", minutes=limit) if not picks else
            Text("Only {picked} of {k} sites add anyone: every uncovered point within {minutes:g} minutes of a "
                 "candidate is covered by then.", picked=len(picks), k=k, minutes=limit))
    optimum = gap = upper = optimal_sites = None
    reducible = int((matrix.getnnz(axis=1) > 0).sum())
    if k == 0:
        optimum, gap = 0, 0.0
    elif reducible > exact_limit:
        notes.append(Text("Exact optimum not computed: {count} candidates reach uncovered points (limit {limit}).",
                          count=Figure(reducible), limit=Figure(exact_limit)))
    else:
        started = time.perf_counter()
        rows, value, bound, proven = exact(matrix, weights, k, time_limit_s=time_limit_s, incumbent=picks)
        seconds["exact"] = time.perf_counter() - started
        if proven:
            optimum = max(value, added)
            gap = (optimum - added) / optimum if optimum else 0.0
        else:
            upper = bound
            notes.append(Text("The exact solver stopped at its {seconds:g} s limit: {k} sites can add at most "
                              "{bound} people.", seconds=time_limit_s, k=k, bound=Figure(bound)))
        ordered, order_gains, order_counts = greedy(matrix[rows], weights, len(rows))
        optimal_sites = describe([rows[i] for i in ordered], order_gains, order_counts)
    return TravelSitingResult(
        layer=layer, radius_km=float("nan"), sites=sites, covered_before=covered_before,
        covered_after=covered_before + added, optimum=optimum, gap_to_optimum=gap,
        method=GREEDY + f" (travel time, {router.mode})" + (
            "; exact optimum by LP bound and MILP (HiGHS)" if optimum is not None and k else ""),
        notes=notes, k=k, population=int(population.sum()), candidates=len(cand_points), upper_bound=upper,
        optimal_sites=optimal_sites, seconds=seconds, minutes=limit, mode=router.mode)


def outline(points: shapely.MultiPoint, ratio: float) -> shapely.Geometry:
    """The concave hull of `points` (metres, a local projection); their convex hull where GEOS cannot build one.

    GEOS' concave hull fails on some point sets laid out on a regular lattice
    ("LocateFailureException: Could not locate vertex"): a street grid can be one.
    """
    try:
        return shapely.concave_hull(points, ratio=ratio)
    except shapely.errors.GEOSException:
        return shapely.convex_hull(points)


def isochrones(router: Router, facilities: gpd.GeoDataFrame, *, minutes: float, layer: str | None = None,
               include_planned: bool = False, ratio: float = 0.3) -> gpd.GeoDataFrame:
    """Draw, per facility, the area from which it is reached within `minutes` (see the module docstring).

    Returns a GeoDataFrame (EPSG:4326) with ``feature_id``, ``name``, ``layer``, ``minutes``,
    ``mode``, ``nodes`` (network nodes reached; 0 for a facility off the network, whose
    geometry is then empty) and polygon geometry.
    """
    from analysis.crs import local_crs, project, unproject

    limit = float(minutes)
    if not np.isfinite(limit) or limit <= 0:
        raise ValueError(f"minutes must be a number of minutes > 0, got {minutes!r}.")
    facilities = to_wgs84(facilities)
    layers = [layer] if layer else [name for name in LAYERS if (facilities["layer"] == name).any()]
    frames = []
    for name in layers:
        chosen = select_facilities(facilities, name, include_planned=include_planned)
        snap = router.snap(lonlat(chosen.geometry))
        shapes, reached = [], []
        for i, node in enumerate(snap.node.tolist()):
            nodes = router.reaching(node, limit)
            reached.append(len(nodes))
            if len(nodes) == 0:
                shapes.append(shapely.Polygon())
                continue
            lon, lat = router.network.lon[nodes], router.network.lat[nodes]
            crs = local_crs(float(router.network.lon[node]), float(router.network.lat[node]), kind="aeqd")
            points = project(shapely.multipoints(np.column_stack([lon, lat])), crs)
            hull = outline(points, ratio).buffer(ISOCHRONE_BUFFER_M.get(router.mode, 100.0))
            shapes.append(unproject(hull, crs))
        frames.append(gpd.GeoDataFrame({
            "feature_id": chosen["feature_id"].to_numpy(dtype=object), "name": chosen["name"].to_numpy(dtype=object),
            "layer": name, "minutes": limit, "mode": router.mode, "nodes": np.asarray(reached, dtype=np.int64),
        }, geometry=gpd.GeoSeries(shapes, crs="EPSG:4326"), crs="EPSG:4326"))
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in ("feature_id", "name", "layer", "minutes", "mode", "nodes")},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")
