"""UI benchmarks: cold start, a Gaps rerun after a slider change, a 100,000-feature map, deck JSON cost.

Run from the repository root: ``python bench/bench_ui.py`` (``--quick`` for fewer repeats).
Prints medians; nothing is asserted (the tests assert behaviour, this measures it).

- cold start: a fresh ``streamlit run app.py`` process, timed from launch until headless
  Chromium shows Home's map canvas and the script has finished (all figures drawn).
- Gaps rerun: AppTest in this process on a copy of the demo workspace; each rerun moves the
  hub radius slider to a value not seen before (coverage, gap areas, siting and the deck
  are recomputed) — the server time of one interaction.
- 100k map: a generated workspace of 100,000 facilities in the West of Ireland; the Map
  page's server time (first open reads the GeoPackage; rerun after a widget change) and
  the browser time from opening /map to the drawn canvas.
- JSON: bytes per point and serialisation speed of facility points, compact vs pydeck's default.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DEMO = ROOT / "geodata" / "demo_workspace"


def median(values: list[float]) -> float:
    return statistics.median(values)


def line(label: str, values: list[float], unit: str = "s") -> None:
    scale = 1000.0 if unit == "ms" else 1.0
    shown = ", ".join(f"{v * scale:.0f}" if unit == "ms" else f"{v:.2f}" for v in values)
    print(f"  {label:<58} median {median(values) * scale:8.2f} {unit}   ({shown})")


# -- cold start ------------------------------------------------------------------------------
def browser_load(path: str, *, env: dict | None = None, repeats: int = 3) -> dict[str, list[float]]:
    """Start a fresh server per repeat; time launch → health, → first canvas, → script finished."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import browser, free_port, wait_for_server

    out: dict[str, list[float]] = {"health": [], "canvas": [], "done": [], "reload_canvas": [], "reload_done": []}
    driver = browser(1400, 1000)
    try:
        for _ in range(repeats):
            port = free_port()
            url = f"http://127.0.0.1:{port}/"
            start = time.perf_counter()
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
            )
            try:
                wait_for_server(url)
                out["health"].append(time.perf_counter() - start)
                driver.get(url + path)
                WebDriverWait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
                out["canvas"].append(time.perf_counter() - start)
                WebDriverWait(driver, 120).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"], [data-testid="stCaptionContainer"]')
                    and not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
                out["done"].append(time.perf_counter() - start)
                # The same page again on the now warm server (data cached, modules imported).
                start = time.perf_counter()
                driver.refresh()
                WebDriverWait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
                out["reload_canvas"].append(time.perf_counter() - start)
                WebDriverWait(driver, 120).until(
                    lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
                out["reload_done"].append(time.perf_counter() - start)
            finally:
                server.terminate()
                server.wait(timeout=20)
    finally:
        driver.quit()
    return out


def cold_start(repeats: int) -> None:
    print("Cold start (fresh `streamlit run app.py` per repeat, headless Chromium, demo workspace)")
    times = browser_load("", repeats=repeats)
    line("server up (health endpoint answers)", times["health"])
    line("Home: first map canvas in the browser", times["canvas"])
    line("Home: script finished (all figures drawn)", times["done"])
    line("Home reloaded on the warm server: map canvas", times["reload_canvas"])
    code = ("import time;from streamlit.testing.v1 import AppTest;t=time.perf_counter();"
            "AppTest.from_file('app.py',default_timeout=120).run();print(time.perf_counter()-t)")
    runs = []
    for _ in range(repeats):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(float(result.stdout.strip().splitlines()[-1]))
    line("Home: first script run in a fresh process (AppTest, server time)", runs)


# -- Gaps rerun ------------------------------------------------------------------------------
def gaps_rerun(repeats: int, *, region: str = "west-ireland", population: str | None = None) -> None:
    from streamlit.testing.v1 import AppTest

    import ui

    print(f"Gaps page, {region}: rerun after moving a radius slider (AppTest, demo workspace"
          + (f" with population layer {population}" if population else "") + ", server time)")
    folder = Path(tempfile.mkdtemp()) / "demo"
    shutil.copytree(DEMO, folder)
    if population:
        from geography.demand_layers import import_demand
        from workspace import Workspace

        grid = OUT / "pl_grid_1km.csv"
        if not grid.exists():
            raise SystemExit("run bench/bench_grid_coverage.py first: it writes bench/out/pl_grid_1km.csv")
        start = time.perf_counter()
        layer, _ = import_demand(Workspace(folder), grid.read_bytes(), grid.name, name=population)
        print(f"  imported {layer.label()} in {time.perf_counter() - start:.1f} s")
        # The 1,000 facilities the grid bench places over Poland, so the region has real coverage.
        Workspace(folder).import_files([OUT / "pl_grid_facilities_1k.geojson"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[ui.WORKSPACE] = str(folder)
    at.session_state[ui.REGION] = region
    if population:
        at.session_state[ui.POPULATION] = population
    at.run()
    at.switch_page("pages/gaps.py")
    at.run()
    start = time.perf_counter()
    at.run()
    print(f"  first open of Gaps done; one more rerun took {(time.perf_counter() - start) * 1000:.0f} ms")
    slider = f"gaps.radius.{region}.hubs"
    fresh, again = [], []
    values = list(range(21, 21 + repeats))
    for km in values:
        at.slider(key=slider).set_value(km)
        start = time.perf_counter()
        at.run()
        fresh.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    for km in values:
        at.slider(key=slider).set_value(km)
        start = time.perf_counter()
        at.run()
        again.append(time.perf_counter() - start)
    line("new radius (coverage, gaps, siting k=3, deck recomputed)", fresh, "ms")
    line("radius seen before (cached results)", again, "ms")
    at_exit = folder.parent
    shutil.rmtree(at_exit, ignore_errors=True)


# -- 100k map --------------------------------------------------------------------------------
def make_workspace(folder: Path, n: int) -> Path:
    """Write a workspace of `n` point facilities spread over the West of Ireland (EPSG:4326)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from loaders.features import COLUMNS
    from workspace import Workspace

    if (folder / "atlas.gpkg").exists():
        return folder
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-10.0, -7.9, n), rng.uniform(52.9, 54.3, n)
    kinds = np.array(["co-working", "studio", "college", "course", "network", "festival", "makerspace"])
    frame = pd.DataFrame({c: pd.Series([None] * n, dtype="object") for c in COLUMNS})
    frame["feature_id"] = [f"bench-{i:06d}" for i in range(n)]
    frame["name"] = [f"Facility {i}" for i in range(n)]
    frame["layer"] = rng.choice(["hubs", "training", "networks"], n)
    frame["kind"] = rng.choice(kinds, n)
    frame["status"] = np.where(rng.random(n) < 0.1, "planned", "existing")
    frame["sectors"] = rng.choice(["design; games", "film", "crafts; heritage", "music"], n)
    frame["town"] = "Somewhere"
    frame["country"] = "IE"
    frame["location_source"] = "coordinates"
    frame["source_file"] = "bench.geojson"
    frame["source_ref"] = [f"feature {i}" for i in range(n)]
    frame["attributes"] = "{}"
    Workspace(folder).add_features(gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"))
    return folder


def map_100k(n: int, repeats: int) -> None:
    from streamlit.testing.v1 import AppTest

    import ui

    folder = make_workspace(OUT / f"workspace_{n // 1000}k", n)
    print(f"Map page on a workspace of {n:,} facilities (points aggregated to H3 above 50,000)")
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    first, rerun = [], []
    size = 0
    import streamlit as st

    for i in range(repeats):
        st.cache_data.clear()  # first open of the workspace: read the GeoPackage again
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state[ui.WORKSPACE] = str(folder)
        at.switch_page("pages/map.py")
        start = time.perf_counter()
        at.run()
        first.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        at.checkbox(key="map.show.networks").set_value(i % 2 == 1)
        start = time.perf_counter()
        at.run()
        rerun.append(time.perf_counter() - start)
        size = len(at.get("deck_gl_json_chart")[0].proto.json)
    line("server: Map page as the first page, caches empty (reads the GeoPackage)", first)
    line("server: Map page rerun after a layer toggle", rerun)
    print(f"  deck JSON sent to the browser: {size / 1e6:.2f} MB")
    times = browser_load("map", env={"ATLAS_WORKSPACE": str(folder)}, repeats=max(1, repeats // 2))
    line("browser: fresh server, open /map → canvas drawn", [c - h for c, h in zip(times["canvas"], times["health"])])
    line("browser: fresh server, open /map → script finished", [d - h for d, h in zip(times["done"], times["health"])])
    line("browser: warm server, reload /map → canvas drawn", times["reload_canvas"])
    print("  (headless Chromium draws WebGL in software here: a one-layer deck takes ~2 s to appear)")


# -- JSON ------------------------------------------------------------------------------------
def json_cost() -> None:
    import geopandas as gpd
    import numpy as np
    import pydeck as pdk

    from maps.deck import build_deck
    from maps.features import facility_layers
    from maps.view import fit_view

    print("Deck JSON for facility points (Streamlit sends decks as JSON text)")
    rng = np.random.default_rng(3)
    for n in (1_000, 10_000, 50_000):
        frame = gpd.GeoDataFrame(
            {"feature_id": [f"f{i:07d}" for i in range(n)], "name": [f"Creative hub {i}" for i in range(n)],
             "layer": rng.choice(["hubs", "training", "networks"], n), "status": "existing",
             "kind": "co-working", "town": "Galway", "website": ""},
            geometry=gpd.points_from_xy(rng.uniform(-10, -8, n), rng.uniform(53, 54, n)), crs="EPSG:4326",
        )
        start = time.perf_counter()
        layers = facility_layers(frame, aggregate_above=10**9)
        built = time.perf_counter() - start
        deck = build_deck(layers, fit_view(None))
        start = time.perf_counter()
        text = deck.to_json()
        compact = time.perf_counter() - start
        plain = pdk.Deck(layers=layers, initial_view_state=fit_view(None), map_provider=None)
        start = time.perf_counter()
        default = plain.to_json()
        slow = time.perf_counter() - start
        print(f"  {n:>6,} points: {len(text) / n:5.0f} B/point compact ({len(default) / n:4.0f} pydeck default); "
              f"records {n / built / 1000:5.0f}k/s; to_json {n / compact / 1000:4.0f}k points/s compact, "
              f"{n / slow / 1000:4.0f}k/s pydeck default")
    n = 100_000
    frame = gpd.GeoDataFrame(
        {"feature_id": [f"f{i:07d}" for i in range(n)], "name": "x", "layer": rng.choice(["hubs", "training"], n),
         "status": "existing", "kind": "k", "town": "", "website": ""},
        geometry=gpd.points_from_xy(rng.uniform(-10, -8, n), rng.uniform(53, 54, n)), crs="EPSG:4326",
    )
    start = time.perf_counter()
    deck = build_deck(facility_layers(frame, bounds=(-10, 53, -8, 54)), fit_view(None))
    text = deck.to_json()
    took = time.perf_counter() - start
    cells = len(json.loads(text)["layers"][0]["data"])
    print(f"  {n:,} points aggregated to {cells:,} H3 cells: {len(text) / 1e3:.0f} kB, built and serialised "
          f"in {took * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", choices=("cold", "gaps", "grid", "map", "json"), help="run one benchmark")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "json"):
        json_cost()
    if args.only in (None, "gaps"):
        gaps_rerun(8 if args.quick else 15)
    if args.only in (None, "gaps", "grid"):
        gaps_rerun(5 if args.quick else 10, region="west-pomerania", population="pl-grid")
    if args.only in (None, "cold"):
        cold_start(repeats)
    if args.only in (None, "map"):
        map_100k(100_000, repeats)


if __name__ == "__main__":
    main()
