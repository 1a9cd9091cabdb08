"""Benchmark coverage on a 1 km population grid of all of Poland (~300,000 populated cells) x 1,000 facilities.

Run by hand (not a test):

    python bench/bench_grid_coverage.py            # builds bench/out/pl_grid_1km.* once
    python bench/bench_grid_coverage.py --runs 7 --rebuild

1. Builds (once, under ``bench/out/``) a synthetic Poland-shaped 1 km grid in EPSG:3035: the
   cells whose centre lies inside the official NUTS 2021 outline of PL (shared realdata,
   read-only), people per cell drawn heavy-tailed (a log-normal countryside plus ~40 city
   kernels, ~38 M people), written as a GEOSTAT CSV (``GRD_ID,TOT_P,CNTR_CODE``) and as a
   tiled GeoTIFF of the same grid; plus 1,000 facilities in three layers placed where people
   are.
2. Times loading the CSV (`loaders.grids.demand_from_grid_csv`) and the GeoTIFF
   (`loaders.grids.demand_from_raster`, clipped to the outline).
3. Times `analysis.coverage.compute` (three layers) at three radius settings in-process,
   median of ``--runs``, interleaved with two baselines in the same run: a projected
   ``scipy.spatial.cKDTree`` on EPSG:3035 and ``geopandas.sjoin_nearest`` on EPSG:3035.
   The target is < 0.5 s per compute; when slower, a profile names where the time goes.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import coverage  # noqa: E402
from loaders.grids import demand_from_grid_csv, demand_from_raster  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
CSV_PATH = OUT / "pl_grid_1km.csv"
TIF_PATH = OUT / "pl_grid_1km.tif"
FACILITIES_PATH = OUT / "pl_grid_facilities_1k.geojson"
OUTLINE = Path("/work/shared/realdata/boundaries/nuts2021_20m_4326_PL.geojson")
SEED = 20240611
LAYERS = {"hubs": 400, "training": 400, "networks": 200}
RADII = ({"hubs": 10, "training": 10, "networks": 10},
         {"hubs": 20, "training": 30, "networks": 30},
         {"hubs": 50, "training": 50, "networks": 50})
TARGET_S = 0.5


def outline() -> shapely.Geometry:
    """Poland's outline (NUTS level 0) in EPSG:4326."""
    frame = gpd.read_file(OUTLINE)
    return shapely.union_all(frame.loc[frame["LEVL_CODE"] == 0].geometry.to_numpy())


def build(boundary: shapely.Geometry) -> None:
    """Write the synthetic grid (CSV and GeoTIFF) and the facilities under bench/out/."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(SEED)
    to_3035 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    to_wgs84 = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    west, south, east, north = to_3035.transform_bounds(*boundary.bounds, densify_pts=21)
    west, south = int(west // 1000 * 1000), int(south // 1000 * 1000)
    east, north = int(-(-east // 1000) * 1000), int(-(-north // 1000) * 1000)
    cols, rows = (east - west) // 1000, (north - south) // 1000
    col, row = np.meshgrid(np.arange(cols), np.arange(rows))
    cx = west + col * 1000 + 500.0
    cy = north - row * 1000 - 500.0
    lon, lat = to_wgs84.transform(cx.ravel(), cy.ravel())
    shapely.prepare(boundary)
    inside = shapely.contains_xy(boundary, lon, lat).reshape(rows, cols)
    people = np.exp(rng.normal(2.6, 1.3, (rows, cols)))  # countryside: median ~13 per km2, heavy tail
    centres = np.flatnonzero(inside.ravel())
    for city in rng.choice(centres, 40, replace=False):  # cities: kernels of a few km to tens of km
        r, c = divmod(int(city), cols)
        size = rng.pareto(1.1) * 2.5 + 2.0
        peak = min(rng.pareto(1.0) * 800 + 500, 12_000)
        d2 = ((row - r) ** 2 + (col - c) ** 2) / (size ** 2)
        near = d2 < 25
        people[near] += peak * np.exp(-d2[near])
    people[rng.random((rows, cols)) < 0.05] = 0  # forests, lakes: empty cells
    people[~inside] = 0
    people *= 38_000_000 / people.sum()
    people = np.floor(people + 0.5)
    print(f"grid: {rows} x {cols} cells, {int(inside.sum()):,} inside PL, {int((people > 0).sum()):,} populated, "
          f"{int(people.sum()):,} people")
    OUT.mkdir(exist_ok=True)
    rr, cc = np.nonzero(people > 0)
    ids = [f"CRS3035RES1000mN{north - (r + 1) * 1000}E{west + c * 1000}" for r, c in zip(rr.tolist(), cc.tolist())]
    pd.DataFrame({"GRD_ID": ids, "TOT_P": people[rr, cc].astype(np.int64), "CNTR_CODE": "PL"}).to_csv(
        CSV_PATH, index=False)
    grid = np.where(inside, people, -200).astype("float32")
    with rasterio.open(TIF_PATH, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32",
                       crs="EPSG:3035", transform=from_origin(west, north, 1000, 1000), nodata=-200, tiled=True,
                       blockxsize=256, blockysize=256, compress="deflate") as out:
        out.write(grid, 1)
    # Facilities where people are: cells drawn by population, jittered within a few km.
    weights = people[rr, cc] / people[rr, cc].sum()
    rows_out = []
    for layer, count in LAYERS.items():
        picks = rng.choice(len(rr), count, replace=False, p=weights)
        fx = west + cc[picks] * 1000 + 500.0 + rng.normal(0, 2000, count)
        fy = north - rr[picks] * 1000 - 500.0 + rng.normal(0, 2000, count)
        flon, flat = to_wgs84.transform(fx, fy)
        rows_out += [{"feature_id": f"{layer}-{i}", "name": f"{layer} {i}", "layer": layer, "status": "existing",
                      "geometry": shapely.Point(x, y)} for i, (x, y) in enumerate(zip(flon, flat))]
    gpd.GeoDataFrame(rows_out, crs="EPSG:4326").to_file(FACILITIES_PATH, driver="GeoJSON")


CPU: dict[str, float] = {}
"""Median CPU seconds (all threads) of the last `timed_interleaved` call, per function: a figure a busy machine
inflates less than wall time."""


def timed_interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Median wall seconds of each function over `runs` rounds (taken in turn), and the last results."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    CPU.clear()
    CPU.update({name: statistics.median(t) for name, t in cpu.items()})
    return {name: statistics.median(t) for name, t in times.items()}, results


def kdtree_3035(demand_xy: np.ndarray, population: np.ndarray, facilities_xy: dict[str, np.ndarray],
                radius_km: dict[str, float]) -> dict[str, float]:
    """Baseline: projected nearest neighbour (EPSG:3035 metres) with a cKDTree per layer."""
    from scipy.spatial import cKDTree

    shares = {}
    for layer, km in radius_km.items():
        metres, _ = cKDTree(facilities_xy[layer]).query(demand_xy, k=1, workers=-1)
        shares[layer] = float(population[metres <= km * 1000].sum() / population.sum())
    return shares


def sjoin_3035(demand_3035: gpd.GeoDataFrame, facilities_3035: gpd.GeoDataFrame,
               radius_km: dict[str, float]) -> dict[str, float]:
    """Baseline: geopandas.sjoin_nearest on EPSG:3035, one join per layer."""
    shares = {}
    total = demand_3035["population"].sum()
    for layer, km in radius_km.items():
        joined = gpd.sjoin_nearest(demand_3035[["population", "geometry"]],
                                   facilities_3035.loc[facilities_3035["layer"] == layer, ["geometry"]],
                                   distance_col="m")
        joined = joined[~joined.index.duplicated()]
        shares[layer] = float(joined.loc[joined["m"] <= km * 1000, "population"].sum() / total)
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    boundary = outline()
    if args.rebuild or not (CSV_PATH.exists() and TIF_PATH.exists() and FACILITIES_PATH.exists()):
        build(boundary)
    csv_bytes = CSV_PATH.read_bytes()
    print(f"files: {CSV_PATH.name} {len(csv_bytes) / 2**20:.1f} MB, {TIF_PATH.name} "
          f"{TIF_PATH.stat().st_size / 2**20:.1f} MB")

    load_s, loads = timed_interleaved({
        "grid CSV": lambda: demand_from_grid_csv(csv_bytes, CSV_PATH.name),
        "grid CSV clipped to PL outline": lambda: demand_from_grid_csv(csv_bytes, CSV_PATH.name, boundary=boundary),
        "GeoTIFF clipped to PL outline": lambda: demand_from_raster(TIF_PATH, TIF_PATH.name, boundary=boundary),
        "GeoTIFF whole": lambda: demand_from_raster(TIF_PATH, TIF_PATH.name),
    }, args.runs)
    print(f"\nloading (median of {args.runs}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for label, seconds in load_s.items():
        load = loads[label]
        print(f"  {label:<32} {seconds:6.3f} s  {load.accepted:>8,} cells  "
              f"{int(load.demand['population'].sum()):>12,} people")

    demand = loads["grid CSV"].demand
    facilities = gpd.read_file(FACILITIES_PATH)
    population = demand["population"].to_numpy()
    to_3035 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    demand_xy = np.column_stack(to_3035.transform(demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()))
    facilities_3035 = facilities.to_crs("EPSG:3035")
    by_layer = {layer: np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
                for layer, g in facilities_3035.groupby("layer").geometry}
    demand_3035 = gpd.GeoDataFrame({"population": population}, geometry=gpd.points_from_xy(*demand_xy.T),
                                   crs="EPSG:3035")
    print(f"\ncoverage: {len(demand):,} cells x {len(facilities):,} facilities "
          f"({', '.join(f'{k} {v}' for k, v in LAYERS.items())}), median of {args.runs}, target < {TARGET_S} s")
    header = (f"  {'radii km (hubs/training/networks)':<34} | {'coverage.compute':>16} | {'compute CPU':>11} | "
              f"{'cKDTree 3035':>12} | "
              f"{'sjoin_nearest 3035':>18} | {'max share diff vs 3035':>22}")
    print(header)
    print("  " + "-" * (len(header) - 2))
    slow = None
    for radius in RADII:
        seconds, results = timed_interleaved({
            "compute": lambda radius=radius: coverage.compute(demand, facilities, radius_km=radius),
            "kdtree": lambda radius=radius: kdtree_3035(demand_xy, population, by_layer, radius),
            "sjoin": lambda radius=radius: sjoin_3035(demand_3035, facilities_3035, radius),
        }, args.runs)
        shares = {layer: results["compute"].layers[layer]["coverage_share"] for layer in radius}
        diff = max(abs(shares[k] - results["kdtree"][k]) for k in radius)
        label = "/".join(str(v) for v in radius.values())
        print(f"  {label:<34} | {seconds['compute']:14.3f} s | {CPU['compute']:9.3f} s | {seconds['kdtree']:10.3f} s | "
              f"{seconds['sjoin']:16.3f} s | {diff:22.5f}")
        if seconds["compute"] >= TARGET_S:
            slow = radius
    print("  (share differences: great circle on the sphere vs EPSG:3035 plane distances, within ~0.1 %)")
    if slow is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        coverage.compute(demand, facilities, radius_km=slow)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
        print(f"\ncoverage.compute is over {TARGET_S} s; profile of one call:\n{out.getvalue()}")


if __name__ == "__main__":
    main()
