"""Benchmark ``python -m atlas analyze`` as a whole process against a plain ``sjoin_nearest`` script.

Run by hand from the repository root (not a test)::

    python bench/bench_analyze_process.py              # median of 3, interleaved
    python bench/bench_analyze_process.py --repeat 5

The inputs are the held-out-like shapes of a Europe-wide analysis, written once under
``bench/out/``: ``europe.csv`` (the 95,000 GeoNames settlements of 500+ in European
countries that the offline gazetteer holds: name, lat, lon, population) and
``facilities_10k.geojson`` (10,000 facilities in three layers, seeded). Each run is a
fresh subprocess, so Python start-up, imports and reading the files all count; ours and
the baseline alternate so that a busy machine slows both alike. The baseline is what a
GIS analyst would write: read both files with geopandas, project to EPSG:3035 and
``sjoin_nearest`` per layer.

Both start as an installed program does: the project's modules are compiled to bytecode
first, as the installed libraries of the baseline are (with ``PYTHONDONTWRITEBYTECODE``
set, every run would otherwise compile again each module changed since the last
compile), and each command runs once untimed, so that neither pays for cold file caches.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
RADIUS_KM = {"hubs": 20, "training": 30, "networks": 30}
LAYER_SHARES = (("hubs", 5000), ("training", 3000), ("networks", 2000))

BASELINE = '''\
import json, sys
import geopandas as gpd
import pandas as pd

demand = pd.read_csv(sys.argv[1])
settlements = gpd.GeoDataFrame(demand, geometry=gpd.points_from_xy(demand["lon"], demand["lat"]),
                               crs="EPSG:4326").to_crs("EPSG:3035")
facilities = gpd.read_file(sys.argv[2]).to_crs("EPSG:3035")
radius_km = json.loads(sys.argv[3])
covered = {}
for layer, km in radius_km.items():
    joined = gpd.sjoin_nearest(settlements[["name", "population", "geometry"]],
                               facilities.loc[facilities["layer"] == layer, ["geometry"]], distance_col="m")
    joined = joined[~joined.index.duplicated()]
    covered[layer] = int(joined.loc[joined["m"] <= km * 1000, "population"].sum())
print(json.dumps({"covered_population": covered, "settlements": len(settlements)}))
'''


def europe_csv() -> Path:
    """Write (once) the European GeoNames settlements as a plain CSV: name, lat, lon, population."""
    path = OUT / "europe.csv"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT))
    from loaders.coords import EUROPEAN_COUNTRIES
    from loaders.gazetteer import place_table

    table = place_table()
    europe = table.loc[table["country"].isin(EUROPEAN_COUNTRIES), ["name", "lat", "lon", "population"]]
    OUT.mkdir(exist_ok=True)
    europe.to_csv(path, index=False)
    return path


def facilities_geojson(settlements: Path) -> Path:
    """Write (once) 10,000 facilities near random settlements: 5,000 hubs, 3,000 training, 2,000 networks."""
    path = OUT / "facilities_10k.geojson"
    if path.exists():
        return path
    import pandas as pd

    rng = random.Random(20240611)
    places = pd.read_csv(settlements)
    coords = list(zip(places["lon"].tolist(), places["lat"].tolist()))
    features = []
    for layer, count in LAYER_SHARES:
        for i in range(count):
            lon, lat = rng.choice(coords)
            features.append({
                "type": "Feature",
                "properties": {"name": f"{layer} {i + 1}", "layer": layer, "status": "existing"},
                "geometry": {"type": "Point",
                             "coordinates": [round(lon + rng.uniform(-0.05, 0.05), 6),
                                             round(lat + rng.uniform(-0.05, 0.05), 6)]},
            })
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _run(command: list[str]) -> dict:
    """Run one command in a fresh process; return its wall and CPU seconds, peak memory and output."""
    start = time.perf_counter()
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(os.environ, PYTHONWARNINGS="ignore")) as child:
        stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode(errors='replace')}")
    return {"seconds": seconds, "stdout": stdout}


def _compile_project() -> None:
    """Write the bytecode of the project's modules, as the first run of an installed program does."""
    skip = re.compile(r"[/\\](\.venv|\.git|tests|bench|artifacts)([/\\]|$)")
    compileall.compile_dir(ROOT, quiet=1, rx=skip)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median reported)")
    args = parser.parse_args(argv)
    demand = europe_csv()
    facilities = facilities_geojson(demand)
    baseline = OUT / "baseline_sjoin_nearest.py"
    baseline.write_text(BASELINE, encoding="utf-8")
    ours_cmd = [sys.executable, "-m", "atlas", "analyze", "--demand", str(demand), "--facilities", str(facilities)]
    for layer, km in RADIUS_KM.items():
        ours_cmd += ["--radius", f"{layer}={km}"]
    ours_cmd.append("--json")
    base_cmd = [sys.executable, str(baseline), str(demand), str(facilities), json.dumps(RADIUS_KM)]
    _compile_project()
    for command in (ours_cmd, base_cmd):  # warm-up, not timed
        _run(command)
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    cpu: dict[str, list[float]] = {"ours": [], "baseline": []}
    outputs: dict[str, bytes] = {}
    for _ in range(args.repeat):
        for label, command in (("ours", ours_cmd), ("baseline", base_cmd)):
            before = _cpu()
            run = _run(command)
            cpu[label].append(_cpu() - before)
            times[label].append(run["seconds"])
            outputs[label] = run["stdout"]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = json.loads(outputs["ours"])
    base = json.loads(outputs["baseline"])
    ours_s, base_s = statistics.median(times["ours"]), statistics.median(times["baseline"])
    print(f"demand: {report['demand']['settlements']:,} settlements ({demand.name}); facilities: 10,000 in 3 layers")
    print(f"{'':<28}{'median s':>10}   runs")
    print(f"{'atlas analyze --json':<28}{ours_s:>10.2f}   " + ", ".join(f"{t:.2f}" for t in times["ours"]))
    print(f"{'sjoin_nearest script':<28}{base_s:>10.2f}   " + ", ".join(f"{t:.2f}" for t in times["baseline"]))
    ours_cpu, base_cpu = statistics.median(cpu["ours"]), statistics.median(cpu["baseline"])
    print(f"CPU seconds (user + sys, median): ours {ours_cpu:.2f}, baseline {base_cpu:.2f} "
          f"({ours_cpu / base_cpu:.2f}x; steadier than wall time on a busy machine)")
    print(f"ratio ours / baseline: {ours_s / base_s:.2f}x (target at most 1.0x); "
          f"peak memory of the largest child {peak_mb:,.0f} MB")
    print(f"--json output: {len(outputs['ours']) / 1024:,.0f} KB, {len(report['gaps'])} of "
          f"{report.get('gaps_total', len(report['gaps'])):,} gaps listed")
    for layer in RADIUS_KM:
        print(f"  {layer:<9} covered people: ours {report['layers'][layer]['covered_population']:>12,} "
              f"(great-circle)  baseline {base['covered_population'][layer]:>12,} (EPSG:3035 planar)")


if __name__ == "__main__":
    main()
