"""Population grids as demand: GEOSTAT CSVs and GeoTIFFs of the same grid, a haversine oracle, areal weighting.

The fixture is a synthetic 1 km grid around Warsaw in EPSG:3035, written by the test as a
GEOSTAT CSV and as a GeoTIFF. Expected cell centres come from the grid's definition through
pyproj, and expected coverage from a brute-force haversine over every cell-facility pair,
never from the code under test.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import box

from analysis import coverage
from analysis.distance import EARTH_RADIUS_KM
from errors import UsageError
from loaders.errors import ImportFileError
from loaders.grids import (
    MAX_RASTER_WINDOW_CELLS,
    demand_from_grid_csv,
    demand_from_polygons,
    demand_from_raster,
    looks_like_grid_csv,
    whole_people,
)
from loaders.population import DemandLoad
from tests.analysis_frames import facility_frame

ROOT = Path(__file__).resolve().parents[1]
WEST, TOP = 4_950_000, 3_350_000  # the fixture grid's upper-left corner, EPSG:3035 metres
ROWS, COLS = 120, 120
CELL = 1000
TO_WGS84 = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
FROM_WGS84 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)


def _invariant(load: DemandLoad) -> None:
    assert load.accepted + len(load.rejected) == load.rows_read


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message and message
    return message


@pytest.fixture(scope="module")
def grid() -> dict:
    """People per cell (rows north to south): heavy-tailed, a third of the cells empty."""
    rng = np.random.default_rng(20240611)
    people = np.floor(rng.pareto(1.3, (ROWS, COLS)) * 20).astype(np.int64)
    people[rng.random((ROWS, COLS)) < 0.33] = 0
    rows, cols = np.nonzero(people > 0)
    east = WEST + cols * CELL
    north = TOP - (rows + 1) * CELL
    lon, lat = TO_WGS84.transform(east + CELL / 2, north + CELL / 2)
    return {"people": people, "rows": rows, "cols": cols, "east": east, "north": north,
            "lon": np.asarray(lon), "lat": np.asarray(lat), "pop": people[rows, cols],
            "ids": [f"CRS3035RES1000mN{n}E{e}" for n, e in zip(north, east)]}


def _csv(grid: dict, *, form: str = "new", sep: str = ",", column: str = "TOT_P") -> bytes:
    lines = [sep.join(["GRD_ID", column, "CNTR_CODE"])]
    for n, e, p in zip(grid["north"], grid["east"], grid["pop"]):
        cell = f"CRS3035RES1000mN{n}E{e}" if form == "new" else f"1kmN{n // 1000}E{e // 1000}"
        lines.append(sep.join([cell, str(p), "PL"]))
    return ("\n".join(lines) + "\n").encode()


def _tif(path: Path, values: np.ndarray, *, west: float = WEST, top: float = TOP, cell: float = CELL,
         crs: str = "EPSG:3035", nodata: float | None = -200, dtype: str = "float32") -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
                       dtype=dtype, crs=crs, transform=from_origin(west, top, cell, cell), nodata=nodata,
                       tiled=True, blockxsize=64, blockysize=64, compress="deflate") as out:
        out.write(values.astype(dtype), 1)
    return path


def _facilities(grid: dict, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for layer, count in (("hubs", 6), ("training", 10), ("networks", 3)):
        picks = rng.choice(len(grid["lon"]), count, replace=False)
        for k, i in enumerate(picks):
            rows.append((f"{layer}-{k}", layer, "existing",
                         (grid["lon"][i] + rng.normal(0, 0.05), grid["lat"][i] + rng.normal(0, 0.03))))
    return facility_frame(rows)


def _haversine_share(lon, lat, pop, facilities, layer, radius_km) -> float:
    """Brute force: every cell centre against every facility of the layer, haversine on the sphere."""
    chosen = facilities[facilities["layer"] == layer]
    f_lon = np.radians(chosen.geometry.x.to_numpy())[None, :]
    f_lat = np.radians(chosen.geometry.y.to_numpy())[None, :]
    c_lon, c_lat = np.radians(np.asarray(lon))[:, None], np.radians(np.asarray(lat))[:, None]
    h = np.sin((f_lat - c_lat) / 2) ** 2 + np.cos(c_lat) * np.cos(f_lat) * np.sin((f_lon - c_lon) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
    covered = km.min(axis=1) <= radius_km
    return float(np.asarray(pop)[covered].sum() / np.asarray(pop).sum())


# -- GRD_ID and CSV -------------------------------------------------------------------------
@pytest.mark.parametrize("cell, size", [
    ("CRS3035RES1000mN3000000E4000000", 1000),
    ("1kmN3000E4000", 1000),
    ("1kmE4000N3000", 1000),
    ("crs3035res1000mN3000000E4000000", 1000),
    ("100mN30000E40000", 100),
    ("CRS3035RES100mN3000000E4000000", 100),
    ("10kmN300E400", 10_000),
])
def test_both_id_forms_name_the_same_corner(cell, size):
    load = demand_from_grid_csv(f"GRD_ID,TOT_P\n{cell},7\n".encode(), "cell.csv")
    lon, lat = TO_WGS84.transform(4_000_000 + size / 2, 3_000_000 + size / 2)
    point = load.demand.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-9)
    assert load.demand["population"].tolist() == [7]
    assert load.demand["name"].tolist() == [cell]
    _invariant(load)


@pytest.mark.parametrize("sep, column", [(",", "TOT_P"), (";", "TOT_P_2021"), ("\t", "OBS_VALUE"),
                                         (",", "population"), (";", "Einwohner")])
def test_csv_reads_geostat_layouts(grid, sep, column):
    load = demand_from_grid_csv(_csv(grid, sep=sep, column=column), "pl.csv")
    assert load.rows_read == len(grid["ids"]) and not load.rejected
    assert load.demand["name"].tolist() == grid["ids"]
    assert load.demand["population"].tolist() == grid["pop"].tolist()
    assert load.demand["population"].dtype == np.int64
    assert set(load.demand["country"]) == {"PL"}
    assert load.demand.crs == "EPSG:4326"
    np.testing.assert_allclose(load.demand.geometry.x, grid["lon"], atol=1e-9)
    np.testing.assert_allclose(load.demand.geometry.y, grid["lat"], atol=1e-9)
    assert any("cell centres (1 km cells)" in note for note in load.notes)
    _invariant(load)


def test_older_ids_give_the_same_cells(grid):
    new = demand_from_grid_csv(_csv(grid), "new.csv").demand
    old = demand_from_grid_csv(_csv(grid, form="old"), "old.csv").demand
    np.testing.assert_allclose(np.column_stack([old.geometry.x, old.geometry.y]),
                               np.column_stack([new.geometry.x, new.geometry.y]), atol=1e-9)
    assert old["population"].tolist() == new["population"].tolist()


def test_bad_rows_are_rejected_with_their_row_and_reason():
    data = ("GRD_ID;TOT_P;CNTR_CODE\n"
            "CRS3035RES1000mN3000000E4000000;12;EL\n"       # row 2: fine, Greece's Eurostat code
            "nonsense;5;PL\n"                                 # row 3: not an id
            ";4;PL\n"                                         # row 4: empty id
            "CRS3035RES1000mN3001000E4000000;-3;PL\n"         # row 5: negative
            "CRS3035RES1000mN3002000E4000000;many;PL\n"       # row 6: not a number
            ";;\n"                                            # row 7: blank, skipped
            "CRS9999RES1000mN3000000E4000000;3;PL\n"          # row 8: unknown CRS
            "CRS3035RES1000mN0E0;3;PL\n"                      # row 9: outside EPSG:3035's area
            "CRS3035RES1000mN3003000E4000000;12,5;DE-PL\n"    # row 10: decimal comma, a cross-border cell
            "CRS3035RES1000mN3004000E4000000;0;PL\n").encode()  # row 11: an empty cell is kept
    load = demand_from_grid_csv(data, "mixed.csv")
    reasons = {r.where: r.reason for r in load.rejected}
    assert set(reasons) == {"row 3", "row 4", "row 5", "row 6", "row 8", "row 9"}
    assert "'nonsense' is not a grid cell id" in reasons["row 3"]
    assert "cell id is empty" in reasons["row 4"]
    assert "negative" in reasons["row 5"] and "TOT_P" in reasons["row 5"]
    assert "'many' is not a number" in reasons["row 6"]
    assert "EPSG:9999" in reasons["row 8"]
    assert "outside the area of EPSG:3035" in reasons["row 9"]
    assert all(reason.endswith("Fix the row or remove it.") for reason in reasons.values())
    assert load.demand["population"].tolist() == [12, 13, 0]  # 12.5 rounds up, the total kept
    assert load.demand["country"].tolist() == ["GR", None, "PL"]
    assert load.rows_read == 9 and any("1 blank rows" in n for n in load.notes)
    _invariant(load)


def test_ids_in_a_crs_without_metres_are_rejected():
    data = b"GRD_ID,TOT_P\nCRS4326RES1000mN50000E10000,5\nCRS3035RES1000mN3000000E4000000,12\n"
    load = demand_from_grid_csv(data, "degrees.csv")
    assert [r.where for r in load.rejected] == ["row 2"]
    assert "not a projected coordinate system in metres" in load.rejected[0].reason
    _invariant(load)


def test_a_value_with_a_line_break_is_quoted_on_one_line():
    data = b'GRD_ID,TOT_P\n"CRS3035RES1000m\nN3000000E4000000",5\n'
    with pytest.raises(ImportFileError, match="none of the 1 rows") as error:
        demand_from_grid_csv(data, "broken.csv")
    _one_line(error)


@pytest.mark.parametrize("boundary", [box(4_000_000, 3_000_000, 4_100_000, 3_100_000), shapely.Point(20, 52),
                                      shapely.Polygon()])
def test_a_boundary_must_be_an_area_in_degrees(grid, boundary):
    with pytest.raises(UsageError, match="boundary"):
        demand_from_grid_csv(_csv(grid), "pl.csv", boundary=boundary)


def test_a_malformed_row_is_rejected_not_fatal():
    data = b"GRD_ID,TOT_P\nCRS3035RES1000mN3000000E4000000,12\nCRS3035RES1000mN3001000E4000000,3,extra\n"
    load = demand_from_grid_csv(data, "ragged.csv")
    assert [r.where for r in load.rejected] == ["row 3"] and load.accepted == 1
    _invariant(load)


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"name,lat,lon,population\nA,52,21,10\n", "no GRD_ID column"),
    (b"GRD_ID,CNTR_CODE\nCRS3035RES1000mN3000000E4000000,PL\n", "no population column"),
    (b"GRD_ID,TOT_P\n", "no rows of population"),
    (b"GRD_ID,TOT_P\nx,1\ny,2\n", "none of the 2 rows could be used"),
    (b"GRD_ID,TOT_P\nCRS3035RES1000mN3000000E4000000,\x00\"\n", "population|could be used|CSV"),
])
def test_unusable_csv_files_give_one_line(data, match):
    with pytest.raises(ImportFileError, match=match) as error:
        demand_from_grid_csv(data, "bad.csv")
    assert _one_line(error).startswith("bad.csv")


def test_oversized_csv_is_refused(monkeypatch):
    monkeypatch.setattr("loaders.grids.MAX_DEMAND_CSV_BYTES", 10)
    with pytest.raises(ImportFileError, match="over the 0 MB limit") as error:
        demand_from_grid_csv(b"GRD_ID,TOT_P\nCRS3035RES1000mN3000000E4000000,12\n", "big.csv")
    _one_line(error)


def test_too_many_cells_are_refused(monkeypatch, grid):
    monkeypatch.setattr("loaders.grids.MAX_GRID_CELLS", 100)
    with pytest.raises(ImportFileError, match="over the 100 one analysis takes") as error:
        demand_from_grid_csv(_csv(grid), "pl.csv")
    _one_line(error)


def test_boundary_keeps_cells_whose_centre_is_inside(grid):
    region = shapely.Polygon([(19.6, 51.6), (20.9, 51.7), (20.2, 52.7)])
    load = demand_from_grid_csv(_csv(grid), "pl.csv", boundary=region)
    expected = shapely.contains_xy(region, grid["lon"], grid["lat"])
    assert 0 < expected.sum() < len(expected)
    assert load.demand["name"].tolist() == list(np.asarray(grid["ids"], dtype=object)[expected])
    assert load.rows_read == expected.sum()
    assert any(f"{(~expected).sum():,} cells with their centre outside" in n for n in load.notes)
    _invariant(load)


def test_a_grid_away_from_the_region_is_refused(grid):
    with pytest.raises(ImportFileError, match="none of its .* cells has its centre inside") as error:
        demand_from_grid_csv(_csv(grid), "pl.csv", boundary=box(-10, 52, -9, 53))  # Ireland
    _one_line(error)


def test_looks_like_grid_csv(grid):
    assert looks_like_grid_csv(_csv(grid))
    assert looks_like_grid_csv(_csv(grid, form="old", sep=";"))
    assert not looks_like_grid_csv(b"id,name,lat,lon,population\n1,A,52,21,10\n")
    assert not looks_like_grid_csv(b"GRD_ID,TOT_P\n")


# -- CSV and GeoTIFF of the same grid -------------------------------------------------------
def test_csv_and_geotiff_give_the_same_cells_and_coverage(grid, tmp_path):
    tif = _tif(tmp_path / "pl.tif", grid["people"])
    region = box(19.5, 51.5, 20.8, 52.6)
    from_csv = demand_from_grid_csv(_csv(grid), "pl.csv", boundary=region)
    from_tif = demand_from_raster(tif, "pl.tif", boundary=region)
    a = from_csv.demand.sort_values("name").reset_index(drop=True)
    b = from_tif.demand.sort_values("name").reset_index(drop=True)
    assert a["name"].tolist() == b["name"].tolist()  # the raster names its cells by GRD_ID too
    assert a["population"].tolist() == b["population"].tolist()
    np.testing.assert_allclose(np.column_stack([a.geometry.x, a.geometry.y]),
                               np.column_stack([b.geometry.x, b.geometry.y]), atol=1e-9)
    facilities = _facilities(grid)
    radius = {"hubs": 10, "training": 15, "networks": 25}
    csv_result = coverage.compute(from_csv.demand, facilities, radius_km=radius)
    tif_result = coverage.compute(from_tif.demand, facilities, radius_km=radius)
    for layer in radius:
        assert csv_result.layers[layer]["coverage_share"] == tif_result.layers[layer]["coverage_share"]
    _invariant(from_csv)
    _invariant(from_tif)


@pytest.mark.parametrize("source", ["csv", "tif"])
@pytest.mark.parametrize("radius_km", [5.0, 12.0, 30.0])
def test_coverage_matches_a_haversine_oracle(grid, tmp_path, source, radius_km):
    if source == "csv":
        load = demand_from_grid_csv(_csv(grid), "pl.csv")
    else:
        load = demand_from_raster(_tif(tmp_path / "pl.tif", grid["people"]), "pl.tif")
    facilities = _facilities(grid, seed=int(radius_km))
    radius = {"hubs": radius_km, "training": radius_km, "networks": radius_km}
    result = coverage.compute(load.demand, facilities, radius_km=radius)
    assert result.population == grid["pop"].sum()
    for layer in radius:
        expected = _haversine_share(grid["lon"], grid["lat"], grid["pop"], facilities, layer, radius_km)
        assert 0 < expected < 1
        assert result.layers[layer]["coverage_share"] == pytest.approx(expected, rel=0.005)


# -- GeoTIFF ------------------------------------------------------------------------------
def test_raster_cells_without_people_are_skipped_and_impossible_ones_rejected(tmp_path):
    values = np.full((20, 30), 4.0)
    values[0, 0] = -200      # declared nodata
    values[1, 1] = np.nan    # NaN is nodata too
    values[2, 2] = -3        # negative: not people
    values[3, 3] = 0         # empty
    values[4, 4] = np.inf    # impossible: rejected
    values[5, 5] = 0.4       # fractional people are kept (cumulative rounding)
    load = demand_from_raster(_tif(tmp_path / "r.tif", values), "r.tif")
    assert load.rows_read == 600 - 4 and load.accepted == 600 - 5
    assert [r.where for r in load.rejected] == ["cell row 4, column 4"]
    assert "not a possible number of people" in load.rejected[0].reason
    assert load.demand["population"].sum() == round(4 * 595 + 0.4 - 4)
    assert any("2 nodata, 1 negative, 1 zero" in n for n in load.notes)
    _invariant(load)


def test_an_undeclared_nodata_value_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("loaders.grids.MAX_INVALID_CELLS", 10)
    values = np.full((20, 20), 3.0e38)  # float32's largest number used as nodata, not declared
    with pytest.raises(ImportFileError, match="undeclared|does not declare") as error:
        demand_from_raster(_tif(tmp_path / "r.tif", values, nodata=None), "r.tif")
    _one_line(error)


@pytest.mark.parametrize("crs, west, top, cell", [
    ("EPSG:4326", 19.5, 52.5, 0.0083333333),     # WorldPop-style 30 arc-second grid
    ("ESRI:54009", 1_450_000, 6_150_000, 1000),  # GHS-POP Mollweide
])
def test_rasters_in_other_crs_are_placed_at_cell_centres(tmp_path, crs, west, top, cell):
    values = np.arange(1, 10 * 12 + 1, dtype=float).reshape(10, 12)
    load = demand_from_raster(_tif(tmp_path / "r.tif", values, west=west, top=top, cell=cell, crs=crs), "r.tif")
    assert load.demand["population"].sum() == values.sum() and load.rows_read == values.size
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(west + cell * 0.5, top - cell * 0.5)  # row 0, col 0
    first = load.demand.geometry.iloc[0]
    assert (first.x, first.y) == pytest.approx((lon, lat), abs=1e-9)
    assert load.demand["name"].iloc[0] == "r.tif row 0 col 0"
    _invariant(load)


def test_a_region_is_read_as_a_window(grid, tmp_path):
    tif = _tif(tmp_path / "pl.tif", grid["people"])
    region = box(20.0, 52.0, 20.3, 52.2)
    load = demand_from_raster(tif, "pl.tif", boundary=region)
    window_note = next(n for n in load.notes if n.startswith("Read rows"))
    cells = int(window_note.split("(")[1].split(" cells")[0].replace(",", ""))
    assert cells < ROWS * COLS / 10
    expected = shapely.contains_xy(region, grid["lon"], grid["lat"])
    assert load.rows_read == expected.sum() and load.demand["population"].sum() == grid["pop"][expected].sum()


def test_a_huge_raster_is_refused_whole_and_read_for_a_region(tmp_path):
    path = tmp_path / "europe_100m.tif"
    side = 40_000  # 1.6 billion cells of 100 m; sparse, so the file is tiny until written
    with rasterio.open(path, "w", driver="GTiff", height=side, width=side, count=1, dtype="float32",
                       crs="EPSG:3035", transform=from_origin(3_000_000, 5_000_000, 100, 100), nodata=-200,
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate", sparse_ok=True) as out:
        window = rasterio.windows.Window(20_000, 17_000, 512, 512)
        out.write(np.full((1, 512, 512), 2.0, dtype="float32"), window=window)
    assert side * side > MAX_RASTER_WINDOW_CELLS
    with pytest.raises(ImportFileError, match="40,000 x 40,000 cells, over the 50,000,000") as error:
        demand_from_raster(path, "europe_100m.tif")
    _one_line(error)
    corner = (3_000_000 + 20_000 * 100, 5_000_000 - 17_000 * 100)  # the written block's upper-left corner
    lon0, lat0 = TO_WGS84.transform(corner[0] + 5_000, corner[1] - 5_000)
    region = box(lon0 - 0.02, lat0 - 0.02, lon0 + 0.02, lat0 + 0.02)
    load = demand_from_raster(path, "europe_100m.tif", boundary=region)
    assert 0 < load.rows_read < 10_000 and set(load.demand["population"]) == {2}
    assert load.demand["name"].iloc[0].startswith("CRS3035RES100mN")


def test_a_region_of_a_country_raster_reads_fast_and_small(tmp_path):
    """1,000 x 1,000 cells of 1 km (a country), one region read in a fresh process: < 2 s, < 500 MB."""
    rng = np.random.default_rng(3)
    values = np.floor(rng.pareto(1.3, (1000, 1000)) * 20).astype("float32")
    tif = _tif(tmp_path / "country.tif", values, west=4_500_000, top=3_900_000, dtype="float32")
    script = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from shapely.geometry import box
        from loaders.grids import demand_from_raster
        started = time.perf_counter()
        load = demand_from_raster({str(tif)!r}, "country.tif", boundary=box(19.0, 51.5, 21.5, 53.0))
        seconds = time.perf_counter() - started
        # VmHWM is this process image's own peak; ru_maxrss would keep the forking pytest's size.
        peak_mb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
        print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb, "cells": load.rows_read,
                          "notes": load.notes}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert 10_000 < report["cells"] < 1_000_000
    assert report["seconds"] < 2.0, report
    assert report["peak_mb"] < 500, report


@pytest.mark.parametrize("make, match", [
    (lambda tmp: b"", "empty"),
    (lambda tmp: b"GRD_ID,TOT_P\n", "not a GeoTIFF we can read"),
    (lambda tmp: tmp / "missing.tif", "no such file"),
    (lambda tmp: _tif(tmp / "ok.tif", np.ones((8, 8))).read_bytes()[:200], "GeoTIFF|coordinate reference system"),
    (lambda tmp: _tif(tmp / "zero.tif", np.zeros((8, 8))), "no populated cell"),
])
def test_unusable_rasters_give_one_line(tmp_path, make, match):
    with pytest.raises(ImportFileError, match=match) as error:
        demand_from_raster(make(tmp_path), "bad.tif")
    assert _one_line(error).startswith("bad.tif")
    assert "/vsimem/" not in str(error.value)


def test_a_raster_away_from_the_region_is_refused(grid, tmp_path):
    with pytest.raises(ImportFileError, match="does not reach the region") as error:
        demand_from_raster(_tif(tmp_path / "pl.tif", grid["people"]), "pl.tif", boundary=box(-10, 52, -9, 53))
    _one_line(error)


def test_raster_bytes_are_read_like_a_file(grid, tmp_path):
    tif = _tif(tmp_path / "pl.tif", grid["people"])
    from_bytes = demand_from_raster(tif.read_bytes(), "pl.tif").demand
    from_path = demand_from_raster(tif, "pl.tif").demand
    assert from_bytes["name"].tolist() == from_path["name"].tolist()


# -- polygons with population ---------------------------------------------------------------
def _squares() -> gpd.GeoDataFrame:
    """Three 10 km squares in EPSG:3035 side by side, and one row without a usable population."""
    x0, y0 = 5_000_000, 3_200_000
    shapes = [box(x0 + i * 10_000, y0, x0 + (i + 1) * 10_000, y0 + 10_000) for i in range(4)]
    return gpd.GeoDataFrame({"name": ["A", "B", "C", "D"], "inhabitants": [1000, 600, 300, "many"]},
                            geometry=shapes, crs="EPSG:3035")


def _region_3035(x0: float, x1: float) -> shapely.Polygon:
    """A rectangle in EPSG:3035, densified, given to the loader in EPSG:4326."""
    shape = shapely.segmentize(box(x0, 3_190_000, x1, 3_220_000), 100)
    return shapely.transform(shape, lambda xy: np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def test_polygons_are_weighted_by_the_share_of_their_area_inside():
    # The region covers A wholly, B's western half and none of C or D.
    load = demand_from_polygons(_squares(), "tracts.gpkg", "inhabitants", boundary=_region_3035(4_990_000, 5_015_000))
    assert load.demand["name"].tolist() == ["A", "B"]
    assert load.demand["population"].tolist() == [1000, 300]
    assert load.rows_read == 2 and not load.rejected  # D's bad population does not matter: it is outside
    inside = [FROM_WGS84.transform(p.x, p.y) for p in load.demand.geometry]
    assert 5_000_000 < inside[0][0] < 5_010_000 and 5_010_000 < inside[1][0] < 5_015_000  # inside the clipped part
    assert any("Areal weighting" in n and "EPSG:3035" in n for n in load.notes)
    assert any("2 polygons wholly outside" in n for n in load.notes)
    _invariant(load)


def test_polygons_without_a_boundary_count_whole_and_bad_rows_are_rejected():
    frame = _squares()
    frame.loc[4] = ["E", 50, shapely.Point(5_000_000, 3_200_000)]
    frame.loc[5] = ["F", 50, None]
    load = demand_from_polygons(frame, "tracts.gpkg", "inhabitants")
    assert load.demand["population"].tolist() == [1000, 600, 300]
    reasons = {r.where: r.reason for r in load.rejected}
    assert set(reasons) == {"feature 4", "feature 5", "feature 6"}
    assert "'many' is not a number" in reasons["feature 4"]
    assert "Point is not a polygon" in reasons["feature 5"]
    assert "no geometry" in reasons["feature 6"]
    _invariant(load)


def test_polygons_need_their_population_column():
    with pytest.raises(ImportFileError, match="no column 'pop'") as error:
        demand_from_polygons(_squares(), "tracts.gpkg", "pop")
    _one_line(error)


def test_whole_people_keeps_the_total():
    values = np.random.default_rng(1).random(10_000) * 3
    people = whole_people(values)
    assert abs(people.sum() - values.sum()) <= 0.5
    assert ((people == np.floor(values)) | (people == np.ceil(values))).all()
    assert whole_people(np.array([3.0, 0.0, 7.0])).tolist() == [3, 0, 7]


# -- fuzz -----------------------------------------------------------------------------------
def _mutants(seed: int, count: int) -> list[bytes]:
    base = (b"GRD_ID;TOT_P_2021;CNTR_CODE\n"
            b"CRS3035RES1000mN3000000E4000000;12;PL\n"
            b"1kmN3001E4000;5,5;EL\n"
            b"100mN30020E40000;7;\n"
            b"\"CRS3035RES1000mN3003000E4000000\";0;PL\n")
    pieces = [b";", b",", b"\t", b"\"", b"\n", b"\r", b"\x00", b"-", b"N", b"E", b"km", b"9" * 30, b"\xff\xfe",
              b"CRS", b"RES", b"1e308", b"nan", "Łódź".encode()]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            action = rng.random()
            if action < 0.4:
                data[at:at] = rng.choice(pieces)
            elif action < 0.7 and data:
                del data[at:at + rng.randint(1, 8)]
            elif data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("index, data", list(enumerate(_mutants(20240611, 48))))
def test_mutated_grid_csvs_fail_only_with_one_line(index, data):
    try:
        load = demand_from_grid_csv(data, "mutant.csv")
    except ImportFileError as error:
        assert "\n" not in str(error) and str(error).startswith("mutant.csv")
    else:
        _invariant(load)
        assert load.demand["population"].dtype == np.int64 and (load.demand["population"] >= 0).all()


def _raster_mutants(tmp_path: Path, seed: int, count: int) -> list[bytes]:
    values = np.random.default_rng(seed).random((64, 64)) * 50
    base = _tif(tmp_path / "base.tif", values, west=5_000_000, top=3_300_000).read_bytes()
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[:rng.randrange(len(data))]
        out.append(bytes(data))
    return out


def test_mutated_geotiffs_fail_only_with_one_line(tmp_path):
    region = box(19.9, 52.0, 20.6, 52.5)
    for index, data in enumerate(_raster_mutants(tmp_path, 20240611, 60)):
        try:
            load = demand_from_raster(data, "mutant.tif", boundary=region if index % 2 else None)
        except ImportFileError as error:
            assert "\n" not in str(error) and str(error).startswith("mutant.tif"), index
        else:
            _invariant(load)
