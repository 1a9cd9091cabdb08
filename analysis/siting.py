"""Siting: where k new facilities of a layer would cover the most people not yet covered.

The maximal covering location problem (Church & ReVelle 1974) on the population that the
layer's facilities leave uncovered. The model is built from plain arrays, spopt-style: a
sparse candidate x settlement coverage matrix from exact great-circle distances
(:func:`analysis.distance.within_km`), then

* greedy with marginal gains (each pick covers the most still-uncovered people; the
  gains are updated only for the candidates that reach the newly covered settlements),
  which is within 1 - 1/e of the optimum in theory and usually within a few per cent;
* the exact optimum when the problem is small enough, so the greedy's gap to the
  optimum can be reported with the result: the problem is shrunk (dominated
  candidates dropped, identical settlements merged), bounded by its LP relaxation and
  by a swap-improved greedy, candidates that provably cannot be in an optimal solution
  are dropped by reduced-cost fixing, and the rest is solved as a mixed-integer
  programme with HiGHS (``scipy.optimize.milp``) under a time limit. Every step is
  exact; in practice the LP bound often proves the greedy optimal at once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from analysis.base import (
    check_circuity,
    covered_mask,
    demand_population,
    lonlat,
    select_facilities,
)
from analysis.distance import nearest_km, within_km
from i18n import Text
from i18n.formats import Figure
from loaders.layers import LAYERS

WGS84 = "EPSG:4326"
GREEDY = "greedy with marginal gains on a sparse coverage matrix"


@dataclass
class SitingResult:
    """The best k new sites for a layer and how good they are.

    Attributes
    ----------
    layer, radius_km, k
        What was asked: layer, coverage radius in km (road km when circuity > 1), sites.
    sites
        The greedy picks in order, each ``{"name", "lat", "lon", "added_population",
        "added_settlements", "candidate" (index label in the candidates frame, or in the
        demand frame when candidates are the settlements), "source" ("settlements" or
        "candidates"), "rank"}``; ``added_population`` is the marginal gain of the pick.
        Fewer than k when no further site adds anyone.
    covered_before, covered_after
        Population covered by the layer's facilities, before and after the greedy sites.
    population
        Total population of the demand.
    optimum
        The largest population k new sites can add (exact MILP), or None when not solved
        (too many candidates, or the time limit hit before a feasible proof).
    gap_to_optimum
        ``(optimum - greedy added) / optimum`` (0 when the optimum is 0), or None.
    upper_bound
        A proven upper bound on what k sites can add when the solver stopped at its time
        limit (None otherwise): the gap is then at most ``(upper_bound - greedy)/upper_bound``.
    optimal_sites
        The exact solution's sites (same keys as ``sites``, ordered by marginal gain); when
        the time limit stopped the solver, the best sites it found (see ``notes``); None
        when the exact solution was not attempted.
    method, notes
        How the sites were found, and anything the reader should know (skipped
        candidates, early stop, time limit, settlement-point caveat).
    candidates
        Number of candidate sites considered (located ones).
    seconds
        Wall time of the parts: ``matrix``, ``greedy``, ``exact``.
    """

    layer: str
    radius_km: float
    sites: list[dict[str, Any]]
    covered_before: int
    covered_after: int
    optimum: int | None
    gap_to_optimum: float | None
    method: str
    notes: list[str] = field(default_factory=list)
    k: int = 0
    population: int = 0
    candidates: int = 0
    upper_bound: int | None = None
    optimal_sites: list[dict[str, Any]] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def added_population(self) -> int:
        """Population the greedy sites add."""
        return self.covered_after - self.covered_before

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (the ``siting`` object of ``atlas analyze --json`` and more)."""
        def clean(site: dict[str, Any]) -> dict[str, Any]:
            return {key: (value.item() if isinstance(value, np.generic) else value) for key, value in site.items()}

        return {
            "layer": self.layer,
            "radius_km": self.radius_km,
            "k": self.k,
            "sites": [clean(s) for s in self.sites],
            "covered_before": self.covered_before,
            "covered_after": self.covered_after,
            "optimum": self.optimum,
            "gap_to_optimum": self.gap_to_optimum,
            "method": self.method,
            "notes": list(self.notes),
        }


def _candidate_frame(
    demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Return candidate lon/lat, names, index labels and source, dropping unlocated ones."""
    if candidates is None:
        frame, source = demand, Text("settlements")
    else:
        if "name" not in candidates.columns:
            raise ValueError(
                f"candidates: expected a 'name' column and point geometries; got {list(candidates.columns)}. "
                "Name each candidate site (e.g. the building's address)."
            )
        frame, source = candidates, Text("candidates")
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(WGS84)
    points = lonlat(frame.geometry)
    located = np.isfinite(points).all(axis=1)
    if not located.all():
        names = frame["name"].to_numpy(dtype=object)[~located][:5]
        notes.append(Text(
            "{count} {source} without a location were not considered as sites ({names}).", count=int((~located).sum()),
            source=source, names=", ".join(map(str, names)) + ("…" if (~located).sum() > 5 else "")))
    labels = frame.index.to_numpy(dtype=object)
    return points[located], frame["name"].to_numpy(dtype=object)[located], labels[located], source


def greedy(matrix: sparse.csr_matrix, weights: np.ndarray, k: int) -> tuple[list[int], list[int], list[int]]:
    """Pick up to `k` rows of a boolean candidate x demand matrix maximising covered weight.

    Parameters
    ----------
    matrix
        Boolean ``csr_matrix``: row i covers column j.
    weights
        Non-negative integer weight (population) per column.
    k
        Number of picks.

    Returns
    -------
    picks, gains, counts
        Row of each pick, its marginal gain in weight and in covered columns. Stops
        early when no row adds any weight; ties go to the lowest row.
    """
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    n_rows, n_cols = matrix.shape
    weights = np.asarray(weights, dtype=np.int64)
    gains = matrix.astype(np.int64) @ weights
    by_column = matrix.T.tocsr()
    open_ = np.ones(n_cols, dtype=bool)
    picks: list[int] = []
    gain_list: list[int] = []
    counts: list[int] = []
    for _ in range(k):
        if n_rows == 0:
            break
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        row = matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]
        newly = row[open_[row]]
        picks.append(best)
        gain_list.append(int(gains[best]))
        counts.append(int(len(newly)))
        open_[newly] = False
        # Only candidates that reach a newly covered settlement lose gain.
        sub = by_column[newly]
        gains -= np.bincount(
            sub.indices, weights=np.repeat(weights[newly], np.diff(sub.indptr)), minlength=n_rows
        ).astype(np.int64)
    return picks, gain_list, counts


def _merge_columns(matrix: sparse.csr_matrix, weights: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Merge settlements reached by exactly the same candidates into one, summing weights."""
    by_column = matrix.T.tocsr()
    by_column.sort_indices()
    groups: dict[bytes, int] = {}
    group_of = np.empty(by_column.shape[0], dtype=np.intp)
    for j in range(by_column.shape[0]):
        key = by_column.indices[by_column.indptr[j]:by_column.indptr[j + 1]].tobytes()
        group_of[j] = groups.setdefault(key, len(groups))
    merge = sparse.csr_matrix(
        (np.ones(len(group_of), dtype=np.int64), (np.arange(len(group_of)), group_of)),
        shape=(len(group_of), len(groups)),
    )
    merged = sparse.csr_matrix((matrix.astype(np.int64) @ merge) > 0)
    merged.sort_indices()
    return merged, np.bincount(group_of, weights=weights, minlength=len(groups)).astype(np.int64)


def _undominated(matrix: sparse.csr_matrix) -> np.ndarray:
    """Return the rows not dominated by another row.

    Row i is dominated when another row covers every column i covers and more, or the
    same columns and comes first. Swapping a dominated pick for its dominator never
    lowers the covered weight, so the optimum survives among the undominated rows.
    """
    counts = matrix.astype(np.int32)
    size = np.asarray(counts.sum(axis=1)).ravel()
    shared = (counts @ counts.T).tocoo()
    i, j, c = shared.row, shared.col, shared.data
    beaten = (i != j) & (c == size[i]) & ((size[j] > size[i]) | ((size[j] == size[i]) & (j < i)))
    dominated = np.zeros(matrix.shape[0], dtype=bool)
    dominated[i[beaten]] = True
    return np.flatnonzero(~dominated & (size > 0))


def _reduce(matrix: sparse.csr_matrix, weights: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Shrink a covering problem without changing its optimum; return matrix, weights, kept rows.

    Drops settlements no candidate reaches (and weightless ones), candidates dominated by
    another candidate, and merges settlements reached by the same candidates.
    """
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    weights = np.asarray(weights, dtype=np.int64)
    useful_cols = np.flatnonzero((matrix.getnnz(axis=0) > 0) & (weights > 0))
    matrix, weights = _merge_columns(matrix[:, useful_cols].tocsr(), weights[useful_cols])
    keep_rows = _undominated(matrix)
    matrix = matrix[keep_rows].tocsr()
    # Dropping rows can make more settlements identical; merging again shrinks the model.
    matrix, weights = _merge_columns(matrix, weights)
    return matrix, weights, keep_rows


def _covered_value(matrix: sparse.csr_matrix, weights: np.ndarray, rows: list[int] | np.ndarray) -> int:
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) == 0:
        return 0
    return int(weights[np.unique(matrix[rows].indices)].sum())


def improve(matrix: sparse.csr_matrix, weights: np.ndarray, picks: list[int], *, rounds: int = 20) -> list[int]:
    """Improve a set of picks by single swaps (drop one, add the best other) while any helps.

    A quick local search: it often closes most of the greedy's gap and gives the exact
    solver a strong lower bound.
    """
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    weights = np.asarray(weights, dtype=np.int64)
    as_int = matrix.astype(np.int64)
    picks = list(picks)
    count = np.zeros(matrix.shape[1], dtype=np.int64)
    for p in picks:
        count[matrix.indices[matrix.indptr[p]:matrix.indptr[p + 1]]] += 1
    for _ in range(rounds):
        changed = False
        for slot, p in enumerate(picks):
            cols = matrix.indices[matrix.indptr[p]:matrix.indptr[p + 1]]
            count[cols] -= 1
            loss = int(weights[cols][count[cols] == 0].sum())
            gains = as_int @ np.where(count == 0, weights, 0)
            best = int(np.argmax(gains))
            if gains[best] > loss:
                picks[slot] = best
                cols = matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]
                changed = True
            count[cols] += 1
        if not changed:
            break
    return picks


def _model(reduced: sparse.csr_matrix, w: np.ndarray, k: int) -> tuple[np.ndarray, list[LinearConstraint], int]:
    """Return objective, constraints and the number of x variables of the covering MILP.

    Variables: x (one binary per candidate), then y (settlement group covered, 0..1);
    max w.y  s.t.  y_j <= sum_{i covers j} x_i,  sum x <= k. A group only one candidate
    reaches is covered exactly when that candidate is open: its weight moves onto x_i and
    its y and row disappear.
    """
    n_c = reduced.shape[0]
    reach = reduced.getnnz(axis=0)
    single = np.flatnonzero(reach == 1)
    shared = np.flatnonzero(reach > 1)
    by_column = reduced.T.tocsr()
    x_gain = np.bincount(by_column[single].indices, weights=w[single], minlength=n_c)
    n_y = len(shared)
    budget = sparse.csr_matrix(np.concatenate([np.ones(n_c), np.zeros(n_y)])[None, :])
    constraints = [LinearConstraint(budget, 0.0, float(k))]
    if n_y:
        cover = sparse.hstack([-by_column[shared].astype(float), sparse.identity(n_y, format="csr")], format="csr")
        constraints.insert(0, LinearConstraint(cover, -np.inf, 0.0))
    return -np.concatenate([x_gain, w[shared].astype(float)]), constraints, n_c


def _lp_bound(
    c: np.ndarray, constraints: list[LinearConstraint], time_limit_s: float
) -> tuple[float, np.ndarray] | None:
    """Solve the LP relaxation; return its optimum (max form) and the reduced costs, or None."""
    a_ub = sparse.vstack([con.A for con in constraints], format="csr")
    b_ub = np.concatenate([np.atleast_1d(con.ub) for con in constraints])
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0.0, 1.0), method="highs",
                     options={"time_limit": float(time_limit_s)})
    if result.status != 0:
        return None
    return -float(result.fun), np.asarray(result.lower.marginals, dtype=float)


def exact(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    k: int,
    *,
    time_limit_s: float = 10.0,
    incumbent: list[int] | None = None,
) -> tuple[list[int] | None, int | None, int | None, bool]:
    """Solve the maximal covering problem exactly with HiGHS.

    Steps, each exact: shrink the problem (:func:`_reduce`); bound it from above by the
    LP relaxation and from below by the best of `incumbent` (e.g. the greedy picks) and
    a swap-improved greedy; stop if they meet; otherwise drop every candidate whose LP
    reduced cost shows it cannot be in a solution as good as the lower bound
    (reduced-cost fixing), and solve the rest as a MILP.

    Returns
    -------
    rows, value, bound, proven
        The best rows of `matrix` found and the weight they cover, an upper bound on the
        optimum, and whether the value is proven optimal (False when the time limit
        stopped the solver first). The time limit covers the LP and MILP; shrinking the
        problem beforehand adds a fraction of a second.
    """
    weights = np.asarray(weights, dtype=np.int64)
    reduced, w, rows = _reduce(matrix, weights)
    n_c = reduced.shape[0]
    if n_c == 0 or k == 0:
        return [], 0, 0, True
    if k >= n_c:
        return rows.tolist(), int(w.sum()), int(w.sum()), True
    started = time.perf_counter()

    # Lower bound: greedy on the reduced problem, improved by swaps; or the caller's picks.
    best = improve(reduced, w, greedy(reduced, w, k)[0])
    best_rows, best_value = rows[best].tolist(), _covered_value(reduced, w, best)
    if incumbent is not None and _covered_value(matrix, weights, incumbent) > best_value:
        best_rows, best_value = list(incumbent), _covered_value(matrix, weights, incumbent)

    # A first upper bound: no k sites cover more than the k largest ones do on their own.
    upper = min(int(np.sort(reduced.astype(np.int64) @ w)[-k:].sum()), int(w.sum()))
    c, constraints, _ = _model(reduced, w, k)
    relaxed = _lp_bound(c, constraints, max(0.1, float(time_limit_s) - (time.perf_counter() - started)))
    keep = np.arange(n_c)
    if relaxed is not None:
        lp_value, reduced_costs = relaxed
        # Objective values are whole people; allow for the LP solver's tolerances.
        margin = max(1.0, 1e-6 * lp_value)
        upper = min(upper, int(np.floor(lp_value + margin)))
        if best_value >= int(np.floor(lp_value + 1e-6 * max(lp_value, 1.0))):
            return best_rows, best_value, best_value, True
        # Opening candidate i costs at least its reduced cost: if the LP optimum minus that
        # falls below a solution we already have, no optimal solution opens i.
        keep = np.flatnonzero(lp_value - reduced_costs[:n_c] >= best_value - margin)
    sub, sub_w, sub_rows = _reduce(reduced[keep], w)
    if sub.shape[0] <= k:
        chosen = keep[sub_rows]
        value = _covered_value(reduced, w, chosen)
        if value >= best_value:
            return rows[chosen].tolist(), value, value, True
        return best_rows, best_value, best_value, True
    c, constraints, n_x = _model(sub, sub_w, k)
    # Objective cutoff: only solutions at least as good as the one in hand, which prunes
    # the branch-and-bound tree hard when that solution is close to the optimum.
    constraints.append(LinearConstraint(sparse.csr_matrix(-c[None, :]), best_value - 0.5, np.inf))
    remaining = float(time_limit_s) - (time.perf_counter() - started)
    if remaining < 0.05:
        return best_rows, best_value, upper, upper <= best_value
    result = milp(
        c,
        constraints=constraints,
        integrality=np.concatenate([np.ones(n_x), np.zeros(len(c) - n_x)]),
        bounds=Bounds(0.0, 1.0),
        # HiGHS's presolve spends seconds on this model and gains little: off.
        options={"time_limit": remaining, "mip_rel_gap": 0.0, "presolve": False, "disp": False},
    )
    if result.x is not None:
        chosen = keep[sub_rows[np.flatnonzero(result.x[:n_x] > 0.5)[:k]]]
        value = _covered_value(reduced, w, chosen)
        if value > best_value:
            best_rows, best_value = rows[chosen].tolist(), value
    dual = getattr(result, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        upper = min(upper, int(np.floor(-dual + 1e-6 * max(abs(dual), 1.0))))
    proven = result.status == 0 or upper <= best_value
    if proven:
        upper = best_value
    return best_rows, best_value, upper, proven


def site(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    layer: str,
    radius_km: float,
    k: int,
    candidates: gpd.GeoDataFrame | None = None,
    include_planned: bool = False,
    exact_limit: int = 5000,
    circuity: float = 1.0,
    time_limit_s: float = 10.0,
) -> SitingResult:
    """Find where `k` new facilities of `layer` would cover the most people not yet covered.

    Parameters
    ----------
    demand
        Settlements (EPSG:4326 points with ``name`` and ``population``).
    facilities
        Canonical features: the layer's existing facilities (plus planned with
        `include_planned`) define who is already covered.
    layer
        ``hubs``, ``training`` or ``networks``.
    radius_km
        Coverage radius in km (compared with great-circle km x circuity, inclusive).
    k
        Number of new sites (>= 0).
    candidates
        Candidate sites: a GeoDataFrame with ``name`` and point geometry (e.g. empty
        buildings on offer); default the demand settlements themselves.
    exact_limit
        Solve exactly when at most this many candidates reach at least one uncovered
        settlement (0 turns the exact solution off).
    time_limit_s
        Time limit for the exact solver, seconds.

    Returns
    -------
    SitingResult
    """
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {list(LAYERS)}, got {layer!r}.")
    radius = float(radius_km)
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"radius_km must be a number of km >= 0, got {radius_km!r}.")
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a whole number of sites >= 0, got {k!r}.")
    k = int(k)
    circuity = check_circuity(circuity)
    if demand.crs is not None and demand.crs.to_epsg() != 4326:
        demand = demand.to_crs(WGS84)
    notes: list[str] = []
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    population = demand_population(demand)
    points = lonlat(demand.geometry)
    chosen = select_facilities(facilities, layer, include_planned=include_planned)
    km, _ = nearest_km(points, lonlat(chosen.geometry))
    covered = covered_mask(km * circuity, radius)
    covered_before = int(population[covered].sum())
    open_rows = np.flatnonzero(~covered & (population > 0) & np.isfinite(points).all(axis=1))
    weights = population[open_rows]
    cand_points, cand_names, cand_labels, source = _candidate_frame(demand, candidates, notes)
    matrix = within_km(cand_points, points[open_rows], radius / circuity)
    seconds["matrix"] = time.perf_counter() - started

    started = time.perf_counter()
    picks, gains, counts = greedy(matrix, weights, k)
    seconds["greedy"] = time.perf_counter() - started

    def describe(rows: list[int], gain: list[int], count: list[int]) -> list[dict[str, Any]]:
        return [
            {
                "name": cand_names[i], "lat": float(cand_points[i, 1]), "lon": float(cand_points[i, 0]),
                "added_population": int(g), "added_settlements": int(c),
                "candidate": cand_labels[i].item() if isinstance(cand_labels[i], np.generic) else cand_labels[i],
                "source": source, "rank": rank,
            }
            for rank, (i, g, c) in enumerate(zip(rows, gain, count), start=1)
        ]

    sites = describe(picks, gains, counts)
    added = int(sum(gains))
    if len(picks) < k:
        notes.append(
            Text("No site adds anyone: every uncovered settlement within reach of a candidate is covered by then.")
            if not picks else
            Text("Only {picked} of {k} sites add anyone: every uncovered settlement within reach of a candidate is "
                 "covered by then.", picked=len(picks), k=k))

    optimum: int | None = None
    gap: float | None = None
    upper: int | None = None
    optimal_sites = None
    reducible = int((matrix.getnnz(axis=1) > 0).sum())
    if k == 0:
        optimum, gap = 0, 0.0
    elif reducible > exact_limit:
        notes.append(Text(
            "Exact optimum not computed: {count} candidates reach uncovered settlements "
            "(limit {limit}); raise exact_limit to try.", count=Figure(reducible), limit=Figure(exact_limit)))
    else:
        started = time.perf_counter()
        rows, value, bound, proven = exact(matrix, weights, k, time_limit_s=time_limit_s, incumbent=picks)
        seconds["exact"] = time.perf_counter() - started
        if proven:
            optimum = max(value, added)
            gap = (optimum - added) / optimum if optimum else 0.0
        else:
            upper = bound
            short = (bound - added) / bound if bound else 0.0
            if value > added:
                notes.append(Text(
                    "The exact solver stopped at its {seconds:g} s limit before proving the optimum: {k} sites can "
                    "add at most {bound} people, so the greedy is at most {short} short; the best sites found add "
                    "{value} (optimal_sites).", seconds=time_limit_s, k=k, bound=Figure(bound),
                    short=Figure(short, "percent", 1), value=Figure(value)))
            else:
                notes.append(Text(
                    "The exact solver stopped at its {seconds:g} s limit before proving the optimum: {k} sites can "
                    "add at most {bound} people, so the greedy is at most {short} short.", seconds=time_limit_s, k=k,
                    bound=Figure(bound), short=Figure(short, "percent", 1)))
        ordered, order_gains, order_counts = greedy(matrix[rows], weights, len(rows))
        optimal_sites = describe([rows[i] for i in ordered], order_gains, order_counts)
    notes.append(Text("Population counts settlement points only; dispersed rural population is not included."))
    return SitingResult(
        layer=layer,
        radius_km=radius,
        sites=sites,
        covered_before=covered_before,
        covered_after=covered_before + added,
        optimum=optimum,
        gap_to_optimum=gap,
        method=GREEDY + (
            "; exact optimum by LP bound and MILP (HiGHS)" if optimum is not None and k
            else "; bounded by LP and MILP (HiGHS), time limit hit" if upper is not None else ""
        ),
        notes=notes,
        k=k,
        population=int(population.sum()),
        candidates=len(cand_points),
        upper_bound=upper,
        optimal_sites=optimal_sites,
        seconds=seconds,
    )
