"""Population grids and polygons as demand: GEOSTAT/census grid CSVs, GeoTIFF rasters, areal weighting.

Every reader returns a `loaders.population.DemandLoad` whose demand frame has one point per
cell (or polygon) in EPSG:4326 with ``name``, ``population`` (int64), ``country`` and
``geonameid`` (None). A cell becomes a point at its **centre**: coverage computed from these
frames counts everyone in a cell as living at the cell's centre, which each load says in its
notes. Cells are kept when their centre lies inside the ``boundary`` (a shapely geometry in
EPSG:4326); cells outside it are left out (noted, not rejected), so
``accepted + rejected == rows_read`` counts the region's cells only.

Fractional people (disaggregated grids such as GHS-POP) are made whole by cumulative
rounding: each cell gets the floor or the ceiling of its value and the total stays within
one person of the sum of the values, where rounding each cell on its own could lose or gain
thousands over a country of small values.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from errors import UsageError
from i18n import Message, Text
from i18n.formats import Figure
from loaders.errors import ImportFileError
from loaders.features import Rejected
from loaders.population import (
    _MAX_POPULATION,
    _NAME,
    _POPULATION,
    CRS,
    MAX_DEMAND_CSV_BYTES,
    DemandLoad,
    _find,
    _join,
    _listed,
    parse_population,
)

MAX_GRID_CELLS = 5_000_000
"""Most cells (or polygons) one load keeps inside the boundary: a 1 km grid of Germany has ~220,000."""
MAX_RASTER_WINDOW_CELLS = 50_000_000
"""Most raster cells one load reads (the window covering the boundary): ~7,000 x 7,000."""
MAX_INVALID_CELLS = 1_000
"""Raster cells with an impossible value (+inf, more people than any city) before the file is refused."""
_CHUNK_CELLS = 4_000_000  # raster cells read at once (32 MB as float64), whatever the window's size

# Headers folded as `loaders.population` folds them (lower case, punctuation to spaces).
_GRID_ID = ("grd id", "grd_id", "grid id", "gitter id 1km", "gitter id 100m", "gitter id", "cellcode",
            "cell code", "cell id", "cell", "id")
_GRID_POPULATION = ("tot p", "tot p 2021", "tot p 2018", "tot p 2011", "tot p 2006", "obs value t", "obs value",
                    "t") + _POPULATION
_COUNTRY = ("cntr code", "cntr id", "cntr", "country", "country code", "iso2", "land", "kraj")
_EUROSTAT_COUNTRY = {"EL": "GR", "UK": "GB"}  # Eurostat's codes -> ISO 3166-1 alpha-2

# GRD_ID forms (RE2, whole cell, matched upper-cased). INSPIRE: "CRS3035RES1000mN3000000E4000000",
# lower-left corner in metres; older GEOSTAT/EEA: "1kmN3000E4000" (also "1kmE4000N3000"), the
# corner in units of the cell size's power of ten (1km -> km, 100m -> hectometres, 10km -> 10 km).
_ID_PATTERNS = (
    r"^CRS(?P<crs>[0-9]{4,6})RES(?P<res>[0-9]{1,6})(?P<unit>M|KM)N(?P<n>[0-9]{1,9})E(?P<e>[0-9]{1,9})$",
    r"^CRS(?P<crs>[0-9]{4,6})RES(?P<res>[0-9]{1,6})(?P<unit>M|KM)E(?P<e>[0-9]{1,9})N(?P<n>[0-9]{1,9})$",
    r"^(?P<res>[0-9]{1,6})(?P<unit>M|KM)N(?P<n>[0-9]{1,9})E(?P<e>[0-9]{1,9})$",
    r"^(?P<res>[0-9]{1,6})(?P<unit>M|KM)E(?P<e>[0-9]{1,9})N(?P<n>[0-9]{1,9})$",
)
_GRID_EPSG = 3035  # the European grid's CRS, implied by the older form
_DOT_NUMBER = r"^[ \t]*[0-9]{1,12}(?:\.[0-9]+)?[ \t]*$"  # in a grid file "0.125" is an eighth of a person
_COMMA_NUMBER = r"^[ \t]*[0-9]{1,12},[0-9]+[ \t]*$"
EXAMPLE_ID = "CRS3035RES1000mN3000000E4000000"


# -- shared pieces ------------------------------------------------------------------------
def _check_boundary(boundary: BaseGeometry | None) -> BaseGeometry | None:
    if boundary is None:
        return None
    if not isinstance(boundary, BaseGeometry) or boundary.is_empty or boundary.geom_type not in (
            "Polygon", "MultiPolygon", "GeometryCollection"):
        raise UsageError(Message(
            "boundary: expected a non-empty shapely (Multi)Polygon in EPSG:4326, got {got}. Pass the "
            "region's boundary geometry.", got=f"{boundary!r:.80}"))
    west, south, east, north = boundary.bounds
    if west < -180.0001 or east > 180.0001 or south < -90.0001 or north > 90.0001:
        raise UsageError(Message(
            "boundary: bounds {bounds} are not longitude/latitude degrees. Reproject the boundary to EPSG:4326 first.",
            bounds=boundary.bounds))
    shapely.prepare(boundary)
    return boundary


def _inside(boundary: BaseGeometry | None, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which (lon, lat) lie inside `boundary` (all of them without one); a bounding-box test first."""
    if boundary is None:
        return np.isfinite(lon) & np.isfinite(lat)
    west, south, east, north = boundary.bounds
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    if inside.any():
        inside[inside] = shapely.contains_xy(boundary, lon[inside], lat[inside])
    return inside


def whole_people(values: np.ndarray) -> np.ndarray:
    """Round fractional people to whole ones, keeping the total (cumulative rounding).

    Each value becomes its floor or its ceiling and every running total stays within half a
    person of the true one, so the sum moves by at most 0.5; whole numbers are kept as they are.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    totals = np.floor(np.cumsum(values) + 0.5)
    return np.diff(totals, prepend=0.0).astype(np.int64)


def _distinct(values: np.ndarray) -> list[int]:
    """Sorted distinct values of an int array with few of them (pandas' hash table: faster than np.unique)."""
    return sorted(pd.unique(values).tolist())


def _size_text(metres: float) -> str:
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    return f"{metres:g} m"


def _centres_note(sizes: str) -> str:
    return (f"Coverage is computed at cell centres ({sizes} cells): everyone in a cell counts as living at "
            "its centre, so distances are exact to within half a cell.")


def _too_many(name: str, count: int, what: str) -> ImportFileError:
    return ImportFileError(Message(
        "{file}: {count} {what} inside the region, over the {limit} one analysis takes. Use a coarser "
        "grid (1 km instead of 100 m) or a smaller region.", file=name, count=Figure(count), what=what,
        limit=Figure(MAX_GRID_CELLS)))


def _demand(names: Any, population: np.ndarray, country: Any, lon: np.ndarray, lat: np.ndarray) -> gpd.GeoDataFrame:
    count = len(population)
    frame = pd.DataFrame({
        "name": pd.Series(np.asarray(names, dtype=object), dtype=object),
        "population": np.asarray(population, dtype=np.int64),
        "country": pd.Series(np.asarray(country, dtype=object) if country is not None else [None] * count,
                             dtype=object),
        "geonameid": pd.Series([None] * count, dtype=object),
    })
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.points(lon, lat), crs=CRS), crs=CRS)


_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def _flat(text: str) -> str:
    """`text` on one line: a value quoted from a file may hold line breaks and control characters."""
    return _BREAKS.sub(" ", text)


def _finish(name: str, demand: gpd.GeoDataFrame, rejected: list[Rejected], rows_read: int, notes: list[str],
            *, what: str) -> DemandLoad:
    if rows_read and not len(demand):
            raise ImportFileError(Message("{file}: none of the {count} {what} could be used ({listed}).",
                                      file=_flat(name), count=Figure(rows_read), what=what,
                                      listed=_listed(rejected, flat=True)))
    load = DemandLoad(name, demand, rejected, rows_read, notes)
    if load.accepted + len(load.rejected) != load.rows_read:  # pragma: no cover  (an invariant, not input)
        raise AssertionError(f"{name}: {load.accepted} accepted + {len(load.rejected)} rejected != {rows_read} read")
    return load


def _country_codes(values: pa.Array) -> np.ndarray:
    """ISO alpha-2 from Eurostat's country column ("PL", "EL" -> "GR"); None for "DE-PL", blanks."""
    encoded = values.dictionary_encode()
    codes = []
    for value in encoded.dictionary.to_pylist():
        text = str(value).strip().upper() if value is not None else ""
        ok = len(text) == 2 and text.isalpha() and text.isascii()
        codes.append(_EUROSTAT_COUNTRY.get(text, text) if ok else None)
    lookup = np.array(codes + [None], dtype=object)
    indices = encoded.indices.fill_null(len(codes)).to_numpy(zero_copy_only=False)
    return lookup[indices]


# -- grid CSV -------------------------------------------------------------------------------
def looks_like_grid_csv(data: bytes) -> bool:
    """Tell whether CSV bytes are a population grid: a GRD_ID-like column whose first value is a cell id.

    For a dispatcher choosing between `demand_from_grid_csv` and a table of places; reads
    only the first two lines.
    """
    head = data[:65536].removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace").splitlines()[:2]
    if len(head) < 2:
        return False
    delimiter = max((";", "\t", ","), key=head[0].count)
    try:
        header, first = (next(csv.reader([line], delimiter=delimiter)) for line in head)
    except csv.Error:
        return False
    column = _find([h.strip() for h in header], _GRID_ID)
    if column is None:
        return False
    index = [h.strip() for h in header].index(column)
    value = first[index].strip() if index < len(first) else ""
    return bool(_parse_ids(pa.array([value]))["epsg"][0])


def _utf8(data: bytes, name: str) -> bytes:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        raise ImportFileError(Message("{file}: not readable text. Save it as UTF-8 CSV.", file=name)) from None


def _first_line(data: bytes) -> str:
    end = len(data)
    for mark in (b"\n", b"\r"):
        found = data.find(mark, 0, end)
        if found >= 0:
            end = found
    return data[:end].decode("utf-8")


def _read_table(data: bytes, delimiter: str, width: int, wanted: list[int],
                name: str) -> tuple[pa.Table, list[tuple[int, int, str]]]:
    """Read the wanted columns as strings; also return the malformed rows (line, cells, text), left out."""
    names = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, int, str]] = []

    def invalid_row(row: Any) -> str:
        invalid.append((row.number if row.number is not None else -1, row.actual_columns, row.text))
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=False, column_names=names, skip_rows=1,
                                            block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=invalid_row),
            convert_options=pa_csv.ConvertOptions(column_types={names[i]: pa.string() for i in wanted},
                                                  include_columns=[names[i] for i in wanted],
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0][:200]
        raise ImportFileError(Message("{file}: cannot be read as CSV ({reason}). Export the grid table again.",
                                      file=name, reason=reason)) from None
    return table, invalid


def _row_numbers(count: int, invalid: list[int]) -> np.ndarray:
    """Line numbers of the table's rows, given the lines the parser skipped as malformed."""
    lines = np.arange(2, 2 + count + len(invalid))
    if invalid:
        lines = lines[~np.isin(lines, np.asarray(invalid))]
    if len(lines) < count:  # a quoted value spanning lines: numbering is by record from there on
        lines = np.concatenate([lines, np.arange(count - len(lines)) + (lines[-1] + 1 if len(lines) else 2)])
    return lines[:count]


def _parse_ids(ids: pa.Array) -> dict[str, np.ndarray]:
    """EPSG code, cell size and lower-left corner (metres) of each GRD_ID; code 0 where unreadable.

    Each form is tried only on the ids no earlier form read, so a file of one form costs
    one regular-expression pass.
    """
    count = len(ids)
    epsg = np.zeros(count, dtype=np.int64)
    res = np.zeros(count, dtype=np.int64)
    north = np.zeros(count, dtype=np.int64)
    east = np.zeros(count, dtype=np.int64)
    upper = pc.utf8_upper(ids)
    todo = np.arange(count)
    uniform = _uniform_ids(upper)
    if uniform is not None:  # the usual file: every id of one layout, read by slicing
        hit, code, size, n, e = uniform
        epsg[hit], res[hit], north[hit], east[hit] = code, size, n, e
        todo = todo[~hit]
    for pattern in _ID_PATTERNS:
        if not todo.size:
            break
        parts = pc.extract_regex(upper if todo.size == count else upper.take(pa.array(todo)), pattern)
        hit = parts.is_valid().to_numpy(zero_copy_only=False)
        if not hit.any():
            continue
        parts = parts.filter(pa.array(hit))
        rows = todo[hit]
        todo = todo[~hit]
        fields = {parts.type.field(i).name: i for i in range(parts.type.num_fields)}

        def column(key: str, parts: pa.StructArray = parts, fields: dict[str, int] = fields) -> np.ndarray:
            return pc.cast(pc.struct_field(parts, [fields[key]]), pa.int64()).to_numpy()

        km = pc.equal(pc.struct_field(parts, [fields["unit"]]), "KM").to_numpy(zero_copy_only=False)
        size = column("res") * np.where(km, 1000, 1)
        unit = np.ones(len(size), dtype=np.int64)
        if "crs" in fields:
            code = column("crs")
        else:  # the older form counts the corner in the cell size's power of ten
            code = np.full(len(size), _GRID_EPSG, dtype=np.int64)
            for value in _distinct(size):
                digits = str(int(value))
                unit[size == value] = 10 ** (len(digits) - len(digits.rstrip("0")))
        epsg[rows], res[rows] = code, size
        north[rows], east[rows] = column("n") * unit, column("e") * unit
    bad = res <= 0  # "CRS3035RES0m…" names no cell
    epsg[bad] = 0
    return {"epsg": epsg, "res": res, "north": north, "east": east}


def _uniform_ids(upper: pa.Array) -> tuple[np.ndarray, int, int, np.ndarray, np.ndarray] | None:
    """Read the ids laid out like the first one (same CRS, size and digit counts) by slicing.

    Returns which ids matched, their EPSG code and cell size, and the corner's N and E in
    metres; None when the first id is not of the INSPIRE form.
    """
    first = upper[0].as_py() if len(upper) else None
    found = re.fullmatch(r"(CRS([0-9]{4,6})RES([0-9]{1,6})(M|KM)N)([0-9]{1,9})E([0-9]{1,9})", first or "")
    if found is None:
        return None
    prefix, n_digits, e_digits = found.group(1), len(found.group(5)), len(found.group(6))
    hit = pc.match_substring_regex(upper, "^" + re.escape(prefix) + f"[0-9]{{{n_digits}}}E[0-9]{{{e_digits}}}$")
    hit = hit.to_numpy(zero_copy_only=False)
    chosen = upper.filter(pa.array(hit))
    start = len(prefix)
    n = pc.cast(pc.utf8_slice_codeunits(chosen, start, start + n_digits), pa.int64()).to_numpy()
    e = pc.cast(pc.utf8_slice_codeunits(chosen, start + n_digits + 1), pa.int64()).to_numpy()
    size = int(found.group(3)) * (1000 if found.group(4) == "KM" else 1)
    return hit, int(found.group(2)), size, n, e


def _grid_numbers(cells: pa.Array, delimiter: str) -> np.ndarray:
    """Population of cells written as plain numbers ('.' decimal; ',' too in a ';'/tab file); NaN otherwise."""
    trimmed = pc.utf8_trim(cells, characters=" \t")
    try:  # the usual file: every cell a number Arrow reads; "nan", "-3", "1e99" are caught by the caller's checks
        return pc.cast(trimmed, pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)
    except pa.ArrowInvalid:
        pass
    dot = pc.match_substring_regex(cells, _DOT_NUMBER)
    text = pc.if_else(dot, trimmed, pa.scalar(None, pa.string()))
    if delimiter != ",":
        comma = pc.match_substring_regex(cells, _COMMA_NUMBER)
        text = pc.if_else(comma, pc.replace_substring(trimmed, ",", "."), text)
    return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)


_THREAD = threading.local()  # pyproj objects are not shared between threads: one cache per thread


def _transformer(source: str | pyproj.CRS, target: str | pyproj.CRS) -> pyproj.Transformer:
    """A lon/lat-ordered transformer, kept per thread (building one takes tens of milliseconds)."""
    key = tuple(c.to_wkt() if isinstance(c, pyproj.CRS) else c for c in (source, target))
    cache = _THREAD.__dict__.setdefault("transformers", {})
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        cache[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return cache[key]


def _grid_transformer(epsg: int) -> tuple[pyproj.Transformer, tuple[float, ...]] | None:
    """Transformer to lon/lat and area of use of a projected CRS in metres; None for any other code."""
    try:
        crs = pyproj.CRS.from_epsg(epsg)
    except pyproj.exceptions.CRSError:
        return None
    units = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or units not in ("metre", "meter"):
        return None
    bounds = crs.area_of_use.bounds if crs.area_of_use else (-180.0, -90.0, 180.0, 90.0)
    return _transformer(f"EPSG:{epsg}", CRS), bounds


def demand_from_grid_csv(data: bytes, name: str, *, boundary: BaseGeometry | None = None) -> DemandLoad:
    """Read a population grid CSV (Eurostat GEOSTAT / census 1 km grid) as demand at cell centres.

    Parameters
    ----------
    data
        The file's bytes: a ``GRD_ID`` column (``CRS3035RES1000mN3000000E4000000``, lower-left
        corner in EPSG:3035 metres, or the older ``1kmN3000E4000`` / ``100mN30000E40000`` in
        units of the cell size) and a population column (``TOT_P``, ``TOT_P_2021``,
        ``OBS_VALUE``, ``T``, ``population``, ``Einwohner`` …); an optional ``CNTR_CODE``
        fills ``country``. Separators ``,`` ``;`` or tab. In a grid file a ``.`` is a decimal
        point (``0.125`` people), never a thousands separator.
    name
        The file name, used in messages and notes.
    boundary
        Keep only cells whose centre lies inside this (Multi)Polygon in EPSG:4326.

    Returns
    -------
    DemandLoad
        One point per cell at its centre (EPSG:3035 -> EPSG:4326), named by its GRD_ID.
        Rows with an unreadable id or population are rejected with the row number and the
        reason; cells of 0 people are kept (population 0); blank rows are skipped;
        readable cells outside the boundary are left out and counted in the notes.
    """
    if len(data) > MAX_DEMAND_CSV_BYTES:
        raise ImportFileError(Message(
            "{file}: the file is {size} MB, over the {limit} MB limit for a population grid. Clip it to the "
            "countries you analyse, or use a coarser grid.", file=name, size=Figure(len(data) / 2**20),
            limit=MAX_DEMAND_CSV_BYTES // 2**20))
    area = _check_boundary(boundary)
    data = _utf8(data, name)
    first = _first_line(data)
    if not data.strip() or not first.strip():
        raise ImportFileError(Message(
            "{file}: the file is empty or starts with a blank line. Export the grid table again.", file=name))
    delimiter = max((";", "\t", ","), key=first.count) if any(d in first for d in ";\t,") else ","
    try:
        header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    except csv.Error as exc:
        raise ImportFileError(Message("{file}, line 1: {reason}. Check the header row's quotes.", file=name,
                                      reason=str(exc))) from None
    id_col = _find(header, _GRID_ID)
    if id_col is None:
        raise ImportFileError(Message(
            "{file}: no GRD_ID column (found: {items}). A population grid names each cell by its id, e.g. "
            "{example}; for a table of places use columns lat, lon and population.", file=name,
            items=", ".join(header)[:300], example=EXAMPLE_ID))
    pop_col = _find([h for h in header if h != id_col], _GRID_POPULATION)
    if pop_col is None:
        raise ImportFileError(Message(
            "{file}: no population column (found: {items}). Name it TOT_P or population (inhabitants per cell).",
            file=name, items=", ".join(header)[:300]))
    country_col = _find([h for h in header if h not in (id_col, pop_col)], _COUNTRY)
    position = {h: i for i, h in reversed(list(enumerate(header)))}
    wanted = [position[id_col], position[pop_col]] + ([position[country_col]] if country_col else [])
    table, invalid = _read_table(data, delimiter, len(header), wanted, name)
    del data
    count = table.num_rows
    ids = pc.utf8_trim(table.column(f"c{position[id_col]}").combine_chunks(), characters=" \t\"")
    people_text = table.column(f"c{position[pop_col]}").combine_chunks()
    lines = _row_numbers(count, [line for line, _, _ in invalid])
    # A row with more or fewer cells than the header cannot be trusted: rejected, unless it is blank.
    malformed = [Rejected(f"row {line}" if line > 0 else "a row",
                          Text(
                              "it has {cells} cells where the header has {count}. Check the separators and quotes on "
                              "that line, or remove it.", cells=cells, count=len(header)), {"line": text[:1000]})
                 for line, cells, text in invalid if text.strip(" \t\r\n" + delimiter)]

    blank = (pc.equal(pc.utf8_length(ids), 0).to_numpy(zero_copy_only=False)
             & pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(people_text)), 0).to_numpy(zero_copy_only=False))
    cells = _parse_ids(ids)
    people = _grid_numbers(people_text, delimiter)
    epsg = cells["epsg"]
    lon = np.full(count, np.nan)
    lat = np.full(count, np.nan)
    unknown_crs: set[int] = set()
    for code in _distinct(epsg[epsg > 0]):
        chosen = epsg == code
        known = _grid_transformer(code)
        if known is None:
            unknown_crs.add(code)
            continue
        transformer, (crs_west, crs_south, crs_east, crs_north) = known
        size = cells["res"][chosen]
        x = cells["east"][chosen] + size / 2.0
        y = cells["north"][chosen] + size / 2.0
        if area is not None:  # transform only the cells near the region
            west, south, east, north = _transformer(CRS, f"EPSG:{code}").transform_bounds(
                *area.bounds, densify_pts=21)
            pad = float(size.max()) if len(size) else 0.0
            near = (x >= west - pad) & (x <= east + pad) & (y >= south - pad) & (y <= north + pad)
        else:
            near = np.ones(len(x), dtype=bool)
        cell_lon = np.full(len(x), np.inf)  # inf: located, far from the region
        cell_lat = np.full(len(x), np.inf)
        if near.any():
            cell_lon[near], cell_lat[near] = transformer.transform(x[near], y[near])
            outside_crs = ~((cell_lon >= crs_west - 1) & (cell_lon <= crs_east + 1) & (cell_lat >= crs_south - 1)
                            & (cell_lat <= crs_north + 1)) & near
            cell_lon[outside_crs] = np.nan
            cell_lat[outside_crs] = np.nan
        lon[chosen], lat[chosen] = cell_lon, cell_lat
    located = ~np.isnan(lon)  # inf: a readable cell far from the region
    inside = _inside(area, np.where(np.isfinite(lon), lon, np.nan), np.where(np.isfinite(lat), lat, np.nan))
    good_people = np.isfinite(people) & (people >= 0) & (people <= _MAX_POPULATION)
    # A located cell outside the region is left out whatever its population says.
    considered = ~blank & (inside | ~located)
    accepted = considered & located & good_people
    uncertain = np.flatnonzero(considered & located & ~good_people)
    text_people = None
    rejected: list[Rejected] = list(malformed)
    problem_rows = np.union1d(np.flatnonzero(considered & ~located), uncertain)
    if problem_rows.size:
        id_text = ids.take(pa.array(problem_rows)).to_pylist()
        text_people = people_text.take(pa.array(problem_rows)).to_pylist()
        country_text = (table.column(f"c{position[country_col]}").combine_chunks().take(pa.array(problem_rows))
                        .to_pylist() if country_col else None)
        for k, index in enumerate(problem_rows.tolist()):
            problems = []
            if not located[index]:
                problems.append(_id_problem(id_text[k], int(epsg[index]), unknown_crs))
            try:
                value = parse_population(text_people[k])
            except ValueError as exc:
                problems.append(Text("{column}: {reason}; give a number of inhabitants >= 0", column=pop_col,
                                     reason=exc.args[0]))
            else:
                people[index] = value
            if problems:
                record = {id_col: id_text[k], pop_col: text_people[k]}
                if country_col:
                    record[country_col] = country_text[k]
                rejected.append(Rejected(f"row {int(lines[index])}", Text(
                    "{problems} Fix the row or remove it.", problems=_join(problems, flat=True)), record))
            else:
                accepted[index] = True
    rejected.sort(key=lambda r: int(r.where[4:]) if r.where[4:].isdigit() else 0)
    chosen = np.flatnonzero(accepted)
    if len(chosen) > MAX_GRID_CELLS:
        raise _too_many(name, len(chosen), Text("grid cells"))
    rows_read = int(considered.sum()) + len(malformed)
    if not rows_read:
        if count - int(blank.sum()) == 0:
            raise ImportFileError(Message(
                "{file}: holds no rows of population. Check the file is the population grid.", file=name))
        raise ImportFileError(Message(
            "{file}: none of its {count} cells has its centre inside the region's boundary. Check the grid covers "
            "the region (GRD_ID in EPSG:3035), or pick the region it covers.", file=name,
            count=Figure(count - int(blank.sum()))))
    chosen_pa = pa.array(chosen)
    country = (_country_codes(table.column(f"c{position[country_col]}").combine_chunks().take(chosen_pa))
               if country_col else None)
    demand = _demand(ids.take(chosen_pa).to_numpy(zero_copy_only=False), whole_people(people[chosen]), country,
                     lon[chosen], lat[chosen])
    sizes = _distinct(cells["res"][chosen])
    notes = [_centres_note(", ".join(_size_text(s) for s in sizes) or "grid")]
    outside = int((~blank & located & ~inside).sum())
    if outside:
        notes.append(f"{outside:,} cells with their centre outside the region's boundary were left out.")
    if blank.any():
        notes.append(f"{int(blank.sum()):,} blank rows were skipped.")
    # Same corner twice (int64: N < 1e9 and E < 1e9 metres, so N * 1e9 + E cannot overflow).
    corner = np.sort(cells["north"][chosen] * 1_000_000_000 + cells["east"][chosen])
    duplicated = int((corner[1:] == corner[:-1]).sum())
    if duplicated:
        notes.append(f"{duplicated:,} cells are listed more than once (e.g. shared by two countries); "
                     "their rows add up.")
    return _finish(name, demand, rejected, rows_read, notes, what=Text("rows"))


def _id_problem(text: str | None, epsg: int, unknown_crs: set[int]) -> str:
    if not text:
        return Text("the cell id is empty; give it as {example}", example=EXAMPLE_ID)
    shown = text if len(text) <= 60 else text[:57] + "..."
    if epsg in unknown_crs:
        return Text("cell id '{id}' names EPSG:{epsg}, not a projected coordinate system in metres we know; "
                    "use EPSG:3035 ids", id=shown, epsg=epsg)
    if epsg:
        return Text("cell id '{id}' lies outside the area of EPSG:{epsg}; check the N and E values", id=shown,
                    epsg=epsg)
    return Text("cell id '{id}' is not a grid cell id like {example} or 1kmN3000E4000", id=shown, example=EXAMPLE_ID)


# -- GeoTIFF rasters ------------------------------------------------------------------------
@contextlib.contextmanager
def _open_raster(source: str | Path | bytes, name: str) -> Iterator[Any]:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rasterio.io import MemoryFile

    fix = Text("Export the population raster as GeoTIFF (GHS-POP, WorldPop or a Eurostat grid).")
    memory_source = isinstance(source, (bytes, bytearray, memoryview))
    with contextlib.ExitStack() as stack:
        try:
            if memory_source:
                if not len(source):
                    raise ImportFileError(Message("{file}: the file is empty. {fix}", file=name, fix=fix))
                memory = stack.enter_context(MemoryFile(bytes(source)))
                dataset = stack.enter_context(memory.open(driver="GTiff"))
            else:
                path = Path(source)
                if not path.is_file():  # a local file only: GDAL would otherwise fetch URLs
                    raise ImportFileError(Message("{file}: no such file ({path}). Check the path.", file=name,
                                                  path=path))
                dataset = stack.enter_context(rasterio.open(path, driver="GTiff"))
        except (RasterioIOError, NotGeoreferencedWarning) as exc:
            # GDAL names the file by its path or an in-memory name; the message names it already.
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            hidden = [r"/vsimem/[^' ]*"] + ([] if memory_source else [re.escape(str(source))])
            reason = re.sub(r"'?(?:" + "|".join(hidden) + r")'?", "", reason).strip()[:160]
            raise ImportFileError(Message("{file}: not a GeoTIFF we can read ({reason}). {fix}", file=name,
                                          reason=reason.rstrip("."), fix=fix)) from None
        yield dataset


def _raster_crs(dataset: Any, name: str) -> pyproj.CRS:
    if dataset.crs is None or dataset.transform.is_identity:
        raise ImportFileError(Message(
            "{file}: the raster has no coordinate reference system or geotransform. Export it as a GeoTIFF with its "
            "CRS (GHS-POP: ESRI:54009, WorldPop: EPSG:4326, Eurostat: EPSG:3035).", file=name))
    unknown = ImportFileError(Message(
        "{file}: its coordinate reference system is not one we can place on the map. Reproject it to EPSG:3035 or "
        "EPSG:4326.", file=name))
    try:
        crs = pyproj.CRS.from_wkt(dataset.crs.to_wkt())
        if not (crs.is_projected or crs.is_geographic):
            raise unknown
        _transformer(crs, CRS)
    except (pyproj.exceptions.CRSError, pyproj.exceptions.ProjError):
        raise unknown from None
    return crs


def _window(dataset: Any, crs: pyproj.CRS, area: BaseGeometry | None, name: str) -> tuple[int, int, int, int]:
    """Rows and columns (row0, row1, col0, col1) covering the boundary's bounds, one cell of margin."""
    height, width = dataset.height, dataset.width
    if area is None:
        return 0, height, 0, width
    if crs.equals(pyproj.CRS.from_epsg(4326)):
        west, south, east, north = area.bounds
    else:
        west, south, east, north = _transformer(CRS, crs).transform_bounds(
            *area.bounds, densify_pts=21)
    if not all(np.isfinite([west, south, east, north])):
        raise ImportFileError(Message(
            "{file}: the region cannot be placed in the raster's coordinate system. Use a raster in EPSG:3035, "
            "EPSG:4326 or ESRI:54009 covering the region.", file=name))
    if abs(dataset.transform.determinant) < 1e-300 or not all(np.isfinite(dataset.transform[:6])):
        raise ImportFileError(Message(
            "{file}: the raster's geotransform is degenerate (cells of no size). Export the raster again.", file=name))
    inverse = ~dataset.transform
    corners = [(inverse.a * x + inverse.b * y + inverse.c, inverse.d * x + inverse.e * y + inverse.f)
               for x in (west, east) for y in (south, north)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    col0 = max(0, math.floor(min(cols)) - 1)
    col1 = min(width, math.ceil(max(cols)) + 1)
    row0 = max(0, math.floor(min(rows)) - 1)
    row1 = min(height, math.ceil(max(rows)) + 1)
    if col0 >= col1 or row0 >= row1:
        raise ImportFileError(Message(
            "{file}: the raster does not reach the region's boundary. Use a raster covering the region, or pick the "
            "region it covers.", file=name))
    return row0, row1, col0, col1


def _crs_label(crs: pyproj.CRS) -> str:
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.name


def _cell_metres(dataset: Any, crs: pyproj.CRS, latitude: float) -> str:
    a, e = abs(dataset.transform.a), abs(dataset.transform.e)
    if crs.is_geographic:
        seconds = a * 3600
        km = a * math.pi / 180 * 6371.0088 * max(math.cos(math.radians(latitude)), 0.01)
        return f"{seconds:.3g} arc-second (~{_size_text(round(km * 1000, -1))} wide here)"
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    if abs(a - e) < 1e-6 * a:
        return _size_text(round(a * factor, 3))
    return f"{_size_text(round(a * factor, 3))} x {_size_text(round(e * factor, 3))}"


def _grid_ids(dataset: Any, crs: pyproj.CRS, rows: np.ndarray, cols: np.ndarray, name: str) -> np.ndarray:
    """GRD_IDs for cells of a north-up EPSG:3035 raster of whole metres, else "<file> row r col c"."""
    t = dataset.transform
    size = t.a
    if (crs.to_epsg() == _GRID_EPSG and t.b == 0 and t.d == 0 and abs(t.e + size) < 1e-9 and size == round(size)
            and t.c == round(t.c) and t.f == round(t.f) and size >= 1):
        east = (t.c + cols * size).astype(np.int64)
        north = (t.f - (rows + 1) * size).astype(np.int64)
        return pc.binary_join_element_wise(
            f"CRS3035RES{int(size)}mN", pc.cast(pa.array(north), pa.string()), "E",
            pc.cast(pa.array(east), pa.string()), "").to_numpy(zero_copy_only=False)
    return pc.binary_join_element_wise(
        f"{name} row ", pc.cast(pa.array(rows), pa.string()), " col ", pc.cast(pa.array(cols), pa.string()),
        "").to_numpy(zero_copy_only=False)


def demand_from_raster(source: str | Path | bytes, name: str, *, boundary: BaseGeometry | None = None) -> DemandLoad:
    """Read a population GeoTIFF (GHS-POP, WorldPop, Eurostat grid) as demand at cell centres.

    Only the window of the raster covering the boundary's bounds is read (the boundary is
    transformed to the raster's CRS: ESRI:54009 for GHS-POP, EPSG:4326 for WorldPop,
    EPSG:3035 for Eurostat), in strips of at most 4 M cells, so memory follows the region,
    not the file. A window over `MAX_RASTER_WINDOW_CELLS` is refused.

    Parameters
    ----------
    source
        Path of a local GeoTIFF, or its bytes. Band 1 holds people per cell.
    name
        The file name, used in messages and notes.
    boundary
        Keep only cells whose centre lies inside this (Multi)Polygon in EPSG:4326; without
        it the whole raster is read (if under the cap).

    Returns
    -------
    DemandLoad
        One point per populated cell (value > 0) at its centre, in EPSG:4326; ``rows_read``
        is the number of populated cells inside the boundary. Nodata (declared, masked or NaN),
        negative and zero cells are not people: they are counted in the notes, not as rows.
        Cells with an impossible value (+inf, over 50 million) are rejected; more than
        `MAX_INVALID_CELLS` of them refuse the file (an undeclared nodata value).
    """
    from rasterio.enums import MaskFlags
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    area = _check_boundary(boundary)
    with _open_raster(source, name) as dataset:
        if dataset.count < 1 or not np.issubdtype(np.dtype(dataset.dtypes[0]), np.number) or np.issubdtype(
                np.dtype(dataset.dtypes[0]), np.complexfloating):
            raise ImportFileError(Message(
                "{file}: band 1 does not hold numbers of people. Export the population band.", file=name))
        crs = _raster_crs(dataset, name)
        row0, row1, col0, col1 = _window(dataset, crs, area, name)
        window_cells = (row1 - row0) * (col1 - col0)
        if window_cells > MAX_RASTER_WINDOW_CELLS:
            raise ImportFileError(Message(
                "{file}: the part to read is {rows} x {columns} cells, over the {limit} read "
                "at once. Pick a region (a boundary), or use a coarser raster (1 km instead of 100 m).", file=name,
                rows=Figure(row1 - row0), columns=Figure(col1 - col0), limit=Figure(MAX_RASTER_WINDOW_CELLS)))
        to_wgs84 = None if crs.equals(pyproj.CRS.from_epsg(4326)) else _transformer(crs, CRS)
        nodata = dataset.nodata
        flags = dataset.mask_flag_enums[0]
        masked = MaskFlags.per_dataset in flags or MaskFlags.alpha in flags
        block_rows = max(1, dataset.block_shapes[0][0])
        strip = max(block_rows, (_CHUNK_CELLS // max(1, col1 - col0)) // block_rows * block_rows)
        t = dataset.transform
        counts = {"nodata": 0, "negative": 0, "empty": 0, "outside": 0}
        kept: list[tuple[np.ndarray, ...]] = []
        kept_count = 0
        rejected: list[Rejected] = []
        for top in range(row0, row1, strip):
            window = Window(col0, top, col1 - col0, min(strip, row1 - top))
            try:
                values = dataset.read(1, window=window)
                missing = dataset.read_masks(1, window=window) == 0 if masked else None
            except RasterioIOError as exc:
                raise ImportFileError(Message(
                    "{file}: rows {top}+ cannot be read ({reason}). The file is damaged; download or export it "
                    "again.", file=name, top=Figure(top), reason=str(exc).splitlines()[0][:160])) from None
            with np.errstate(invalid="ignore"):  # damaged files hold signalling NaNs: nodata all the same
                values = values.astype(np.float64, copy=False)
                gone = np.isnan(values)
                if nodata is not None and not math.isnan(nodata):
                    gone |= values == nodata
                if missing is not None:
                    gone |= missing
                counts["nodata"] += int(gone.sum())
                negative = ~gone & (values < 0)
                counts["negative"] += int(negative.sum())
                counts["empty"] += int((~gone & (values == 0)).sum())
                rows, cols = np.nonzero(~gone & (values > 0))
                people = values[rows, cols]
            del values, gone, negative, missing
            rows = rows + top
            cols = cols + col0
            x = t.a * (cols + 0.5) + t.b * (rows + 0.5) + t.c
            y = t.d * (cols + 0.5) + t.e * (rows + 0.5) + t.f
            lon, lat = to_wgs84.transform(x, y) if to_wgs84 is not None else (x, y)
            lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
            inside = _inside(area, lon, lat)
            counts["outside"] += int((~inside).sum())
            impossible = inside & ~(people <= _MAX_POPULATION)
            for r, c, v in zip(rows[impossible].tolist(), cols[impossible].tolist(), people[impossible].tolist()):
                if len(rejected) >= MAX_INVALID_CELLS:
                    raise ImportFileError(Message(
                        "{file}: more than {limit} cells hold impossible values (e.g. {value:.3g} people "
                        "in one cell); it looks like a nodata value the file does not declare. Set it (gdal_edit.py "
                        "-a_nodata VALUE) or export the raster again.", file=name, limit=Figure(MAX_INVALID_CELLS),
                        value=v))
                rejected.append(Rejected(f"cell row {r}, column {c}", Text(
                    "population {value:.6g} is not a possible number of people in one cell. Fix the cell or declare "
                    "the raster's nodata value.", value=v), {"row": r, "column": c, "value": v}))
            good = inside & ~impossible
            kept_count += int(good.sum())
            if kept_count > MAX_GRID_CELLS:
                raise _too_many(name, kept_count, Text("populated cells (at least)"))
            kept.append((rows[good], cols[good], people[good], lon[good], lat[good]))
        rows, cols, people, lon, lat = (np.concatenate(parts) for parts in zip(*kept)) if kept else (
            np.zeros(0, dtype=np.intp),) * 2 + (np.zeros(0),) * 3
        rows_read = len(people) + len(rejected)
        if not rows_read:
            raise ImportFileError(Message(
                "{file}: no populated cell (value > 0) has its centre inside the region's boundary. Check the raster "
                "covers the region and band 1 holds people per cell.", file=name))
        middle_lat = float(np.median(lat)) if len(lat) else 0.0
        notes = [_centres_note(_cell_metres(dataset, crs, middle_lat))]
        notes.append(f"Read rows {row0:,}-{row1 - 1:,}, columns {col0:,}-{col1 - 1:,} of the {dataset.height:,} x "
                     f"{dataset.width:,} raster ({window_cells:,} cells) in {_crs_label(crs)}.")
        skipped = [f"{counts[k]:,} {label}" for k, label in (("nodata", "nodata"), ("negative", "negative"),
                                                             ("empty", "zero")) if counts[k]]
        if skipped:
            notes.append(f"Cells that hold no people were skipped: {', '.join(skipped)}.")
        if counts["outside"]:
            notes.append(f"{counts['outside']:,} populated cells with their centre outside the region's boundary "
                         "were left out.")
        if dataset.count > 1:
            notes.append(f"The raster has {dataset.count} bands; band 1 was read as people per cell.")
        names = _grid_ids(dataset, crs, rows, cols, name)
    return _finish(name, _demand(names, whole_people(people), None, lon, lat), rejected, rows_read, notes,
                   what=Text("populated cells"))


# -- polygons with population (areal weighting) --------------------------------------------
def _equal_area(frame_bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """EPSG:3035 when the data lies in its area (Europe), else a Lambert equal-area centred on the data."""
    west, south, east, north = frame_bounds
    area = pyproj.CRS.from_epsg(3035).area_of_use.bounds
    if west >= area[0] and east <= area[2] and south >= area[1] and north <= area[3]:
        return pyproj.CRS.from_epsg(3035)
    return pyproj.CRS.from_proj4(f"+proj=laea +lat_0={(south + north) / 2:.6f} +lon_0={(west + east) / 2:.6f} "
                                 "+x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs")


def _label(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _flat(str(value)).strip()


def demand_from_polygons(frame: gpd.GeoDataFrame, name: str, population_column: str, *,
                         boundary: BaseGeometry | None = None) -> DemandLoad:
    """Turn polygons with a population (census tracts, municipalities) into demand by areal weighting.

    Each polygon's population is scaled by the share of its area that lies inside the
    boundary, areas measured in an equal-area CRS (EPSG:3035 in Europe, else a Lambert
    azimuthal equal-area projection centred on the data): people are assumed spread evenly
    over each polygon. The clipped part becomes one demand point at its representative
    point (inside the part; for a polygon cut in two, inside the widest piece).

    Parameters
    ----------
    frame
        Polygons (any CRS with a definition; none is taken as EPSG:4326).
    name
        The source's name, used in messages and as the point names' prefix when the frame
        has no name column.
    population_column
        The column of inhabitants per polygon (a number >= 0).
    boundary
        The region, a (Multi)Polygon in EPSG:4326; without it every polygon counts whole.

    Returns
    -------
    DemandLoad
        One point per polygon overlapping the boundary; polygons with no geometry, no area,
        a geometry other than a polygon or a bad population are rejected; polygons wholly
        outside are left out (noted).
    """
    area = _check_boundary(boundary)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UsageError(Message(
            "{file}: expected a GeoDataFrame of polygons, got {got}.", file=name, got=type(frame).__name__))
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if population_column not in frame.columns:
        raise ImportFileError(Message(
            "{file}: no column '{column}' (found: {items}). Choose the column of inhabitants per polygon.",
            file=name, column=population_column, items=", ".join(columns)[:300]))
    if frame.crs is None:
        frame = frame.set_crs(CRS)
    if len(frame) > MAX_GRID_CELLS:
        raise _too_many(name, len(frame), Text("polygons"))
    wgs84 = frame.geometry.to_crs(CRS) if not frame.crs.equals(CRS) else frame.geometry
    geoms = np.asarray(wgs84.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    kind = np.full(len(geoms), -1)
    kind[present] = shapely.get_type_id(geoms[present])
    polygonal = np.isin(kind, (3, 6))  # Polygon, MultiPolygon
    bounds = wgs84[polygonal].total_bounds if polygonal.any() else (area.bounds if area is not None else (0, 0, 0, 0))
    equal_area = _equal_area(tuple(bounds))
    forward = _transformer(CRS, equal_area)
    back = _transformer(equal_area, CRS)
    projected = np.full(len(geoms), None, dtype=object)
    projected[polygonal] = shapely.make_valid(shapely.transform(geoms[polygonal], lambda xy: np.column_stack(
        forward.transform(xy[:, 0], xy[:, 1]))))
    whole = np.zeros(len(geoms))
    whole[polygonal] = shapely.area(projected[polygonal])
    share = np.where(whole > 0, 1.0, 0.0)
    part = projected.copy()
    if area is not None and polygonal.any():
        region = shapely.make_valid(shapely.transform(area, lambda xy: np.column_stack(
            forward.transform(xy[:, 0], xy[:, 1]))))
        shapely.prepare(region)
        touching = polygonal & (whole > 0)
        touching[touching] = shapely.intersects(region, projected[touching])
        part[polygonal & ~touching] = None
        part[touching] = shapely.intersection(projected[touching], region)
        clipped = np.zeros(len(geoms))
        clipped[touching] = shapely.area(part[touching])
        share = np.where(whole > 0, clipped / np.where(whole > 0, whole, 1.0), 0.0)
    records = frame.drop(columns=frame.geometry.name)
    label_col = _find(columns, _NAME)
    raw_people = records[population_column].to_numpy(dtype=object)
    labels = records[label_col].to_numpy(dtype=object) if label_col else None
    people = np.zeros(len(geoms))
    accepted = np.zeros(len(geoms), dtype=bool)
    considered = np.zeros(len(geoms), dtype=bool)
    rejected: list[Rejected] = []
    outside = 0
    for i in range(len(geoms)):
        problems = []
        if not present[i]:
            problems.append(Text("no geometry; give the polygon the population lives in"))
        elif not polygonal[i]:
            problems.append(Text(
                "a {geom_type} is not a polygon; areal weighting needs polygons (read points as a population layer)",
                geom_type=geoms[i].geom_type))
        elif whole[i] <= 0:
            problems.append(Text("the polygon has no area"))
        elif share[i] <= 0:
            outside += 1
            continue
        considered[i] = True
        try:
            people[i] = parse_population(raw_people[i])
        except ValueError as exc:
            problems.append(Text("{column}: {reason}; give a number of inhabitants >= 0", column=population_column,
                                 reason=exc.args[0]))
        if problems:
            raw = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                   for k, v in records.iloc[i].to_dict().items()}
            rejected.append(Rejected(f"feature {i + 1}", Text(
                "{problems} Fix the feature or remove it.", problems=_join(problems, flat=True)),
                                     raw))
        else:
            accepted[i] = True
    rows_read = int(considered.sum())
    if not rows_read:
        if len(geoms) and outside == len(geoms):
            raise ImportFileError(Message(
                "{file}: none of its {count} polygons overlaps the region's boundary. Check the layer covers the "
                "region, or pick the region it covers.", file=name, count=Figure(len(geoms))))
        raise ImportFileError(Message(
            "{file}: holds no polygons with population. Check it is the population layer.", file=name))
    chosen = np.flatnonzero(accepted)
    points = shapely.point_on_surface(part[chosen]) if len(chosen) else np.zeros(0, dtype=object)
    lon, lat = back.transform(shapely.get_x(points), shapely.get_y(points)) if len(chosen) else (np.zeros(0),) * 2
    names = [_label(labels[i] if labels is not None else None) or f"{name} feature {i + 1}" for i in chosen.tolist()]
    scaled = people[chosen] * share[chosen]
    areas_in = _crs_label(equal_area) if equal_area.to_epsg() else "a local Lambert equal-area projection"
    notes = [(f"Areal weighting: each polygon's population is scaled by the share of its area inside the region "
              f"(areas in {areas_in}), assuming people spread evenly over it; each polygon counts as one point "
              "inside its clipped part.")]
    cut = int(((share[chosen] > 0) & (share[chosen] < 1 - 1e-9)).sum())
    if cut:
        notes.append(f"{cut:,} polygons cross the boundary and count in part.")
    if outside:
        notes.append(f"{outside:,} polygons wholly outside the region's boundary were left out.")
    return _finish(name, _demand(names, whole_people(scaled), None, np.asarray(lon), np.asarray(lat)), rejected,
                   rows_read, notes, what=Text("polygons"))
