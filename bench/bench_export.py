"""Benchmark the GeoJSON and GeoPackage exports of 100,000 features against GeoPandas' own writers.

Run by hand from the repository root (not a test)::

    python bench/bench_export.py                  # 100,000 features, 5 runs each
    python bench/bench_export.py --rows 20000 --runs 3

The frame is the canonical schema as ``Workspace.features()`` returns it (text columns as
Python objects, ``attributes`` as JSON text), 99 % points and 1 % polygons, names with
diacritics, spread over the alliances' towns. Each method runs `--runs` times in this
process, alternating with its baseline so both see the same machine state; the figure is
the median wall time of writing the file (the frame is built once, outside the timing).

Baselines: ``GeoDataFrame.to_file(driver="GeoJSON")`` (GDAL's writer; RFC 7946 only with
its option, no nested attributes) and ``GeoDataFrame.to_file(driver="GPKG")`` (one table,
mixed geometry type). Target: under 5 s each for ours.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from bench.synthetic import KINDS, TOWNS  # noqa: E402
from exporters.geojson import write_geojson  # noqa: E402
from exporters.gpkg import write_gpkg  # noqa: E402
from loaders.features import COLUMNS  # noqa: E402

TARGET_S = 5.0
LAYERS = ("hubs", "training", "networks", "unclassified")


def features(rows: int) -> gpd.GeoDataFrame:
    """Return `rows` canonical features (EPSG:4326) shaped like a real workspace's."""
    rng = random.Random(rows)
    records, geometries = [], []
    for i in range(rows):
        town, country, lat, lon = TOWNS[i % len(TOWNS)]
        lat, lon = lat + rng.uniform(-0.2, 0.2), lon + rng.uniform(-0.3, 0.3)
        records.append({
            "feature_id": f"bench.kmz#{i}", "name": f"{town} creative place {i} — Zoë's", "layer": LAYERS[i % 4],
            "kind": KINDS[i % len(KINDS)], "status": "planned" if i % 7 == 0 else "existing",
            "sectors": "design; games", "helix": "community", "address": f"ul. Piotrkowska {i % 300}",
            "town": town, "country": country, "website": f"https://example.org/{i}", "contact": None,
            "description": f"<b>{town}</b><br>row {i}", "location_source": "coordinates",
            "source_file": "bench.kmz", "source_ref": f"folder 'Hubs' › placemark {i + 1}",
            "attributes": json.dumps({"County": town, "Rooms": i % 40, "Notes": "ledig lokal"}, ensure_ascii=False),
        })
        if i % 100 == 99:
            geometries.append(shapely.box(lon, lat, lon + 0.01, lat + 0.005))
        else:
            geometries.append(shapely.Point(lon, lat))
    frame = pd.DataFrame(records, columns=list(COLUMNS)).astype(object)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs="EPSG:4326"), crs="EPSG:4326")


def _time(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    frame = features(args.rows)
    cases = {
        "GeoJSON (exporters.geojson, RFC 7946)": lambda d: write_geojson(frame, d / "ours.geojson"),
        "GeoJSON baseline: to_file(driver='GeoJSON')": lambda d: frame.to_file(d / "base.geojson", driver="GeoJSON"),
        "GPKG (exporters.gpkg, table per layer+type)": lambda d: write_gpkg(frame, d / "ours.gpkg"),
        "GPKG baseline: to_file(driver='GPKG')": lambda d: frame.to_file(d / "base.gpkg", driver="GPKG"),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as folder:
        for run in range(args.runs):
            for name, action in cases.items():
                directory = Path(folder) / f"{run}-{len(times[name])}-{abs(hash(name))}"
                directory.mkdir()
                times[name].append(_time(lambda: action(directory)))
                sizes[name] = sum(p.stat().st_size for p in directory.iterdir())
    print(f"Export of {args.rows:,} features (1 % polygons), median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'method':48} {'median s':>9} {'min s':>7} {'max s':>7} {'MB':>7}")
    for name, values in times.items():
        print(f"{name:48} {statistics.median(values):9.2f} {min(values):7.2f} {max(values):7.2f} "
              f"{sizes[name] / 1e6:7.1f}")
    ok = True
    for ours, base in (("GeoJSON (exporters.geojson, RFC 7946)", "GeoJSON baseline: to_file(driver='GeoJSON')"),
                       ("GPKG (exporters.gpkg, table per layer+type)", "GPKG baseline: to_file(driver='GPKG')")):
        median = statistics.median(times[ours])
        ratio = median / statistics.median(times[base])
        verdict = "under" if median < TARGET_S else "OVER"
        ok &= median < TARGET_S
        print(f"{ours.split(' ')[0]}: {median:.2f} s, {ratio:.2f}x the baseline, {verdict} the {TARGET_S:g} s target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
