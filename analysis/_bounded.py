"""Bounded Dijkstra searches compiled with numba, in parallel over sources (coverage matrices of `analysis.travel`).

Each search runs on a CSR graph (the Router's reversed, contracted graph: journeys *to* the
source) with a 4-ary heap (decrease-key, so each row is pushed and settled once), stops at
the time limit, and records only the demand columns hung on the rows it settles (plus those
on the source's own walk), each at its fastest time.
Compiled once per machine (``cache=True``: the first call compiles, later processes load it).
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _sift_up(key, node, where, i, k, v):
    """Place node `v` with key `k` at heap slot `i` or above (a 4-ary heap; `where`: slot of each node)."""
    while i > 0:
        parent = (i - 1) >> 2
        if key[parent] <= k:
            break
        key[i] = key[parent]
        node[i] = node[parent]
        where[node[i]] = i
        i = parent
    key[i] = k
    node[i] = v
    where[v] = i


@numba.njit(cache=True, inline="always")
def _pop(key, node, where, size):
    """Remove the smallest item of the 4-ary heap of `size` items; return its key and node (marked settled, -2)."""
    top_key, top_node = key[0], node[0]
    where[top_node] = -2
    size -= 1
    if size > 0:
        k, v = key[size], node[size]
        i = 0
        while True:
            child = 4 * i + 1
            if child >= size:
                break
            best, best_key = child, key[child]
            for c in range(child + 1, min(child + 4, size)):
                if key[c] < best_key:
                    best, best_key = c, key[c]
            if best_key >= k:
                break
            key[i] = best_key
            node[i] = node[best]
            where[node[i]] = i
            i = best
        key[i] = k
        node[i] = v
        where[v] = i
    return top_key, top_node


@numba.njit(cache=True, inline="always")
def _keep(c, t, best, found, n_found):
    """Record demand column `c` reached in `t` s (its fastest time kept); return the count of columns found."""
    if best[c] == np.inf:
        found[n_found] = c
        n_found += 1
    if t < best[c]:
        best[c] = t
    return n_found


@numba.njit(cache=True, parallel=True)
def bounded_searches(indptr, indices, weights, starts, hang_ptr, hang_col, hang_extra,
                     own_visits, visit_walk, visit_cum, visit_start, visit_col, limit, columns, blocks,
                     out_cols, out_seconds, counts, settled):
    """Run one bounded search per entry of `starts`, in parallel; write the demand columns each reaches.

    Parameters
    ----------
    indptr, indices, weights
        The graph (CSR, int32 / int32 / float64 seconds); an edge v -> w means a journey w -> v.
    starts
        Row of each search's source (int64).
    hang_ptr, hang_col, hang_extra
        Per row, its slice ``hang_ptr[v]:hang_ptr[v + 1]`` of demand entries: column (int64)
        and seconds beyond the row (float64).
    own_visits
        (len(starts), 2) visits of each source on a walk (-1: none); demand on the same walk,
        no later along it, reaches the source straight along the walk (`visit_*`: walk, seconds
        from the walk's start, and per visit its slice of demand columns).
    limit
        Seconds (inclusive).
    columns
        Number of demand columns (the largest column + 1).
    blocks
        Searches are dealt to this many blocks (each with its own scratch arrays), run in parallel.
    out_cols, out_seconds, counts, settled
        Output: per search, its ``counts[i]`` columns (ascending) and their seconds in row i,
        and how many rows it settled.
    """
    searches = starts.size
    rows = indptr.size - 1
    blocks = min(searches, blocks)
    for b in numba.prange(blocks):
        dist = np.full(rows, np.inf)
        touched = np.empty(rows, dtype=np.int32)
        key = np.empty(rows)
        node = np.empty(rows, dtype=np.int32)
        where = np.full(rows, -1, dtype=np.int32)  # heap slot; -1 not reached, -2 settled
        best = np.full(columns, np.inf)
        found = np.empty(columns, dtype=np.int64)
        for i in range(b, searches, blocks):
            n_found = 0
            s = starts[i]
            dist[s] = 0.0
            touched[0] = s
            n_touched = 1
            _sift_up(key, node, where, 0, 0.0, s)
            size = 1
            n_settled = 0
            while size > 0:
                d, v = _pop(key, node, where, size)
                size -= 1
                n_settled += 1
                for h in range(hang_ptr[v], hang_ptr[v + 1]):
                    t = d + hang_extra[h]
                    if t <= limit:
                        n_found = _keep(hang_col[h], t, best, found, n_found)
                for e in range(indptr[v], indptr[v + 1]):
                    w = indices[e]
                    nd = d + weights[e]
                    if nd <= limit and nd < dist[w]:
                        slot = where[w]
                        if slot == -1:
                            touched[n_touched] = w
                            n_touched += 1
                            slot = size
                            size += 1
                        dist[w] = nd
                        _sift_up(key, node, where, slot, nd, w)
            for k in range(2):
                v = own_visits[i, k]
                if v < 0:
                    continue
                walk, cum = visit_walk[v], visit_cum[v]
                # visits are ordered by walk, then seconds along it: scan back to the limit, and
                # forward over visits at the same second
                j = v
                while j >= 0 and visit_walk[j] == walk:
                    gap = cum - visit_cum[j]
                    if gap > limit:
                        break
                    for h in range(visit_start[j], visit_start[j + 1]):
                        n_found = _keep(visit_col[h], gap, best, found, n_found)
                    j -= 1
                j = v + 1
                while j < visit_walk.size and visit_walk[j] == walk and cum - visit_cum[j] >= 0:
                    gap = cum - visit_cum[j]
                    for h in range(visit_start[j], visit_start[j + 1]):
                        n_found = _keep(visit_col[h], gap, best, found, n_found)
                    j += 1
            if n_found * 16 > columns:  # many: read them off in column order
                m = 0
                for c in range(columns):
                    if best[c] < np.inf:
                        out_cols[i, m] = c
                        out_seconds[i, m] = best[c]
                        best[c] = np.inf
                        m += 1
            else:
                mine = np.sort(found[:n_found])
                for m in range(n_found):
                    c = mine[m]
                    out_cols[i, m] = c
                    out_seconds[i, m] = best[c]
                    best[c] = np.inf
            counts[i] = n_found
            settled[i] = n_settled
            for m in range(n_touched):
                dist[touched[m]] = np.inf
                where[touched[m]] = -1


def run(indptr, indices, weights, starts, hang_ptr, hang_col, hang_extra, own_visits,
        visit_walk, visit_cum, visit_start, visit_col, limit: float, columns: int, *, with_seconds: bool = True,
        buffer_bytes: int = 64_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Run `bounded_searches` over `starts` in chunks; return CSR rows (indptr, columns, seconds) and rows settled.

    Arguments as for `bounded_searches` (converted to its dtypes here); seconds are None
    without `with_seconds`. A chunk of searches writes into a (chunk, distinct columns)
    buffer of about `buffer_bytes`.
    """
    i32, i64, f64 = np.int32, np.int64, np.float64
    args = (np.ascontiguousarray(indptr, dtype=i32), np.ascontiguousarray(indices, dtype=i32),
            np.ascontiguousarray(weights, dtype=f64))
    starts = np.ascontiguousarray(starts, dtype=i64)
    hang = (np.ascontiguousarray(hang_ptr, dtype=i64), np.ascontiguousarray(hang_col, dtype=i64),
            np.ascontiguousarray(hang_extra, dtype=f64))
    own_visits = np.ascontiguousarray(own_visits, dtype=i64).reshape(-1, 2)
    walks = (np.ascontiguousarray(visit_walk, dtype=i64), np.ascontiguousarray(visit_cum, dtype=f64),
             np.ascontiguousarray(visit_start, dtype=i64), np.ascontiguousarray(visit_col, dtype=i64))
    width = max(1, int(np.unique(np.concatenate([hang[1], walks[3]])).size))
    chunk = max(4 * numba.get_num_threads(), buffer_bytes // (12 * width))
    out_cols = np.empty((min(chunk, starts.size), width), dtype=i64 if columns > 2**31 - 1 else i32)
    out_seconds = np.empty((min(chunk, starts.size), width))
    counts = np.zeros(starts.size, dtype=i64)
    settled = np.zeros(starts.size, dtype=i64)
    cols, seconds = [], []
    for begin in range(0, starts.size, chunk):
        end = min(begin + chunk, starts.size)
        bounded_searches(*args, starts[begin:end], *hang, own_visits[begin:end], *walks, float(limit), int(columns),
                         4 * numba.get_num_threads(), out_cols, out_seconds, counts[begin:end], settled[begin:end])
        lengths = counts[begin:end].tolist()  # copied out: the buffers serve the next chunk
        cols.append(np.concatenate([out_cols[i, :n] for i, n in enumerate(lengths)]))
        if with_seconds:
            seconds.append(np.concatenate([out_seconds[i, :n] for i, n in enumerate(lengths)]))
    indptr_out = np.concatenate([[0], np.cumsum(counts)])
    return (indptr_out, np.concatenate(cols) if cols else np.zeros(0, dtype=i32),
            (np.concatenate(seconds) if seconds else np.zeros(0)) if with_seconds else None, settled)
