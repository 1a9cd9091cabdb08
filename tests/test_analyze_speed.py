"""The fast paths behind a quick ``python -m atlas analyze`` give exactly what the general paths give.

`loaders.population` reads a CSV with Arrow and falls back to the pandas / csv-module
reader; `loaders.geojson` counts nesting without a regex when the text has no backslash;
`analysis.distance` finds nearest targets on a grid instead of a SciPy k-d tree. Random
inputs are read or measured both ways and must agree cell for cell and bit for bit; and
an analysis of files must not import SciPy or the password hashing of shared mode.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal

from loaders import population
from loaders.geojson import _plain_nesting_depth, _scanned_nesting_depth, nesting_depth
from loaders.population import _arrow_columns, _csv_columns, _labels, demand_from_bytes

CSV_PIECES = ["a", "Ö", "1", "53.2", "-8", " ", "\t", ",", ";", '"', '""', "\n", "\r", "\r\n", "x y", "\u00a0",
              "\u2028", "\x1c", "\x00", "1.234", "12,5"]


def _random_csv(rng: random.Random) -> str:
    delimiter = rng.choice([",", ";", "\t"])
    width = rng.randint(1, 4)
    end = rng.choice(["\n", "\r\n", "\r"])
    lines = [delimiter.join(f"h{i}" for i in range(width))]
    for _ in range(rng.randint(0, 8)):
        cells = width + (rng.choice([-1, 1]) if rng.random() < 0.05 else 0)
        lines.append(delimiter.join("".join(rng.choice(CSV_PIECES) for _ in range(rng.randint(0, 3)))
                                    for _ in range(max(cells, 0))))
    return end.join(lines) + rng.choice(["", end, end + end])


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return max((";", "\t", ","), key=first.count) if any(d in first for d in ";\t,") else ","


def test_arrow_csv_cells_equal_the_pandas_and_csv_module_cells():
    rng = random.Random(11)
    read = 0
    for _ in range(6000):
        text = _random_csv(rng)
        delimiter = _delimiter(text)
        width = text.splitlines()[0].count(delimiter) + 1
        arrow = _arrow_columns(text.encode("utf-8"), delimiter, width)
        if arrow is None:
            continue
        read += 1
        columns, overflow = _csv_columns(text, delimiter, "x.csv")
        assert [column.to_pylist() for column in arrow] == columns, repr(text)
        assert overflow is None or not any(overflow), repr(text)
    assert read > 1500  # many random files take the fast path


def test_labels_from_arrow_equal_the_python_labels():
    import pyarrow as pa

    names = ["", " ", "Aville", " Bton ", "C\u00a0", "\u2028D", "E\x1c", "F\x00", "G\u200b", "\tH\n", "I J",
             "\u3000", "K\x85", "L\u180e", "M\ufeff"]
    chosen = np.arange(len(names))
    assert list(_labels(pa.chunked_array([names]), chosen, "f.csv")) == _labels(names, chosen, "f.csv")


def _random_rows(rng: random.Random, count: int) -> str:
    cells = ["Town", " Spaced ", "", "53.27", " -8.1 ", "53,27", "53° 18' N", "95", "abc", "1200", "1.234", "2 000",
             "12,5", "-1", '"Quoted, name"', '"Two\nlines"', "0", "180", "-180.0", "1e3", "+7"]
    rows = []
    for _ in range(count):
        rows.append(",".join(rng.choice(cells) for _ in range(4)))
    return "\n".join(rows)


@pytest.mark.parametrize("seed", range(40))
def test_a_demand_csv_reads_the_same_with_and_without_arrow(monkeypatch, seed):
    rng = random.Random(seed)
    text = "name,lat,lon,population\n" + _random_rows(rng, rng.randint(1, 60)) + rng.choice(["", "\n", "\n\n"])
    data = text.encode("utf-8")

    def outcome():
        try:
            load = demand_from_bytes(data, "r.csv")
        except population.ImportFileError as exc:
            return str(exc)
        return load

    fast = outcome()
    monkeypatch.setattr(population, "_arrow_columns", lambda *args: None)
    slow = outcome()
    if isinstance(slow, str):
        assert fast == slow
        return
    assert (fast.rows_read, fast.accepted) == (slow.rows_read, slow.accepted)
    assert [(r.where, r.reason, r.raw) for r in fast.rejected] == [(r.where, r.reason, r.raw) for r in slow.rejected]
    assert_geodataframe_equal(fast.demand, slow.demand)
    assert list(fast.demand["name"]) == list(slow.demand["name"])


def test_nesting_depth_without_backslashes_equals_the_scan():
    rng = random.Random(5)
    for _ in range(3000):
        data = bytes(rng.choice(b'[]{}"a,:') for _ in range(rng.randint(0, 60)))
        assert _plain_nesting_depth(data) == _scanned_nesting_depth(data), data
    nested = b'{"a": [[[{"b": "[[[["}]]], "c": "]]"}'
    assert nesting_depth(nested) == _scanned_nesting_depth(nested) == 5
    assert nesting_depth(b'["\\"[[", [1]]') == 2  # an escaped quote: the general scan


# -- the nearest target on a grid -----------------------------------------------------------
def _xyz(rng: np.random.Generator, n: int, lon: tuple[float, float], lat: tuple[float, float]) -> np.ndarray:
    from analysis.distance import to_xyz

    return to_xyz(np.column_stack([rng.uniform(*lon, n), rng.uniform(*lat, n)]))


def _layouts(rng: np.random.Generator):
    europe = ((-25, 40), (35, 71))
    yield "europe", _xyz(rng, 20_000, *europe), _xyz(rng, 800, *europe)
    yield "towns round a few cities", np.concatenate(
        [_xyz(rng, 3000, (lon - 0.5, lon + 0.5), (lat - 0.3, lat + 0.3)) for lon, lat in ((-6, 53), (2, 48), (13, 52))]
        + [_xyz(rng, 5000, *europe)]), _xyz(rng, 600, (-6.3, -6.1), (53.2, 53.4))  # all in one city: crowded
    yield "the whole globe", _xyz(rng, 20_000, (-180, 180), (-90, 90)), _xyz(rng, 2000, (-180, 180), (-90, 90))
    yield "targets on a meridian", _xyz(rng, 10_000, (-10, 10), (40, 60)), _xyz(rng, 300, (5, 5), (30, 70))
    yield "one target", _xyz(rng, 70_000, *europe), _xyz(rng, 1, *europe)
    yield "few points", _xyz(rng, 3, *europe), _xyz(rng, 50, *europe)
    yield "poles", _xyz(rng, 5000, (-180, 180), (80, 90)), _xyz(rng, 500, (-180, 180), (-90, -80))
    grid = np.array([[lon, lat] for lon in np.arange(0, 10, 0.5) for lat in np.arange(50, 55, 0.5)])
    from analysis.distance import to_xyz

    yield "points on a grid among targets on a grid (ties)", to_xyz(grid + 0.25), to_xyz(grid)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_grid_finds_the_k_d_trees_nearest_target(seed):
    from scipy.spatial import cKDTree

    from analysis.distance import distinct_points, nearest_chord

    rng = np.random.default_rng(seed)
    for label, points, targets in _layouts(rng):
        targets, _ = distinct_points(targets)
        chord, found = nearest_chord(points, targets)
        tree_chord, tree_found = cKDTree(targets).query(points, k=1)
        assert np.array_equal(chord, tree_chord), label  # bit for bit
        differ = found != tree_found
        # Where the tree picked another target, it is exactly as near, and the grid's is listed first.
        assert np.array_equal(chord[differ], np.sqrt(((points[differ] - targets[tree_found[differ]]) ** 2).sum(1))), label
        assert (found[differ] < tree_found[differ]).all(), label


def test_the_grid_breaks_ties_for_the_first_target_like_brute_force():
    from analysis.distance import nearest_chord

    rng = np.random.default_rng(3)
    for label, points, targets in _layouts(rng):
        if len(points) * len(targets) > 3_000_000:
            points = points[:3_000_000 // len(targets)]
        d2 = np.stack([(points[:, 0] - t[0]) * (points[:, 0] - t[0]) + (points[:, 1] - t[1]) * (points[:, 1] - t[1])
                       + (points[:, 2] - t[2]) * (points[:, 2] - t[2]) for t in targets], axis=1)
        chord, found = nearest_chord(points, targets)
        assert np.array_equal(found, d2.argmin(axis=1)), label
        assert np.array_equal(chord, np.sqrt(d2.min(axis=1))), label


# -- what `python -m atlas analyze` imports -------------------------------------------------
def test_the_config_command_lists_the_roles_access_knows():
    import access
    from atlas.cli import config

    assert config._ROLES == access.ROLES


def test_an_analysis_of_files_imports_neither_scipy_nor_the_password_hashing(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    demand = tmp_path / "d.csv"
    demand.write_text("name,lat,lon,population\nA,53.1,-8.1,100\nB,53.4,-8.6,50\n", encoding="utf-8")
    facilities = tmp_path / "f.geojson"
    facilities.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                          '{"name": "H", "layer": "hubs"}, "geometry": {"type": "Point", "coordinates": [-8.0, 53.0]}}]}',
                          encoding="utf-8")
    code = ("import sys, runpy; sys.argv = ['atlas', 'analyze', '--demand', sys.argv[1], '--facilities', sys.argv[2], "
            "'--radius', 'hubs=20', '--json']\n"
            "try:\n    runpy.run_module('atlas', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'argon2')))")
    done = subprocess.run([sys.executable, "-c", code, str(demand), str(facilities)], cwd=root, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_one_pass_population_pattern_is_a_count_that_is_not_thousands():
    import re

    from loaders.population import _FAST_COUNT, _FAST_PEOPLE, _THOUSANDS

    rng = random.Random(9)
    for _ in range(20000):
        text = "".join(rng.choice("0123456789.. \t,x") for _ in range(rng.randint(0, 18)))
        expected = bool(re.search(_FAST_COUNT, text)) and not re.search(_THOUSANDS, text)
        assert bool(re.search(_FAST_PEOPLE, text)) == expected, repr(text)
    for text in ("1.234", "12.345", "123.456", "1234.567", "1.23", "1.2345", "1", " 7 ", "999999999999", "1.234.567"):
        expected = bool(re.search(_FAST_COUNT, text)) and not re.search(_THOUSANDS, text)
        assert bool(re.search(_FAST_PEOPLE, text)) == expected, text


def test_points_far_from_packed_targets_go_to_the_k_d_tree_and_keep_the_first_of_equal_targets(monkeypatch):
    from analysis import distance

    rng = np.random.default_rng(4)
    cluster = distance.to_xyz(np.column_stack([rng.uniform(0.3, 0.6, 3000), rng.uniform(60.0, 60.2, 3000)]))
    twins = distance.to_xyz(np.array([[-0.001, 60.0], [0.001, 60.0]]))  # mirror images across longitude 0
    targets = np.concatenate([cluster[:1000], twins, cluster[1000:]])
    points = distance.to_xyz(np.column_stack([np.zeros(20_000), rng.uniform(38, 42, 20_000)]))
    tree, used = distance._nearest_by_tree, []
    monkeypatch.setattr(distance, "_nearest_by_tree", lambda *args: used.append(len(args[2])) or tree(*args))
    chord, found = distance.nearest_chord(points, targets)
    assert sum(used) == len(points)  # 3,000 targets within reach of every point: the tree's work
    assert (found == 1000).all()  # both twins are exactly as near; the first listed wins
    d2 = ((points - targets[1000]) ** 2).sum(axis=1)
    assert np.allclose(chord, np.sqrt(d2), rtol=1e-15, atol=0)


def test_cells_are_ordered_as_a_stable_sort_orders_them():
    from analysis.distance import _stable_order

    rng = np.random.default_rng(8)
    for top in (70, 60_000, 4_100_000):
        keys = rng.integers(0, top, 30_000)
        assert np.array_equal(_stable_order(keys), np.argsort(keys, kind="stable"))
