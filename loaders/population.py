"""Population layers the user supplies (CSV, GeoJSON, GeoPackage) -> demand frames with an import report.

A demand frame has ``name``, ``population``, ``country``, ``geonameid`` and a geometry in
EPSG:4326 (points, or polygons / grid cells). The default demand, GeoNames settlements,
comes from `geography.settlements`.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from i18n import Message, Text, tr
from i18n.formats import Figure
from loaders.coords import check_point, parse_number, parse_pair
from loaders.errors import ImportFileError
from loaders.features import Rejected
from loaders.layers import fold

CRS = "EPSG:4326"
DEMAND_COLUMNS = ("name", "population", "country", "geonameid")
# Headers folded (lower case, no diacritics, punctuation to spaces).
_NAME = ("name", "names", "town", "place", "settlement", "locality", "city", "village", "namn", "ort",
         "tatort", "nazwa", "miejscowosc", "miasto", "ortsname", "gemeinde", "ainm", "baile", "grd id",
         "grd_id", "cell", "cell id", "id")
_LAT = ("lat", "latitude", "y", "szerokosc", "szerokosc geograficzna", "latitud", "breite", "breitengrad")
_LON = ("lon", "lng", "long", "longitude", "x", "dlugosc", "dlugosc geograficzna", "longitud", "lange",
        "laengengrad", "langengrad")
_PAIR = ("coordinates", "coords", "latlon", "lat lon", "lat long", "location", "wspolrzedne", "koordinater")
_POPULATION = ("population", "pop", "pop total", "total population", "inhabitants", "residents", "people",
               "tot p", "tot p 2021", "tot p 2018", "tot p 2011", "ludnosc", "liczba ludnosci", "mieszkancy",
               "befolkning", "invanare", "folkmangd", "einwohner", "bevolkerung", "daonra", "value", "count")
_MAX_POPULATION = 50_000_000
MAX_DEMAND_CSV_BYTES = 512 * 1024 * 1024
"""Largest population CSV we read (bytes): room for a 1 km grid of several countries."""


@dataclass
class DemandLoad:
    """What a population layer gave: the demand frame, rejected rows and the rows read.

    ``accepted + rejected == rows_read`` always holds.
    """

    file: str
    demand: gpd.GeoDataFrame
    rejected: list[Rejected]
    rows_read: int
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.demand)

    def summary(self) -> dict[str, Any]:
        """Return a JSON-able report: file, counts, population and each rejected row."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "population": int(self.demand["population"].sum()) if len(self.demand) else 0,
            "rejected": [r.to_dict() for r in self.rejected],
        }


def _frame(rows: list[dict[str, Any]], geometries: list[BaseGeometry]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=list(DEMAND_COLUMNS))
    frame["population"] = frame["population"].astype("int64")
    frame = frame.astype({"name": "object", "country": "object", "geonameid": "object"})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=CRS), crs=CRS)


def empty_demand() -> gpd.GeoDataFrame:
    """Return an empty demand frame (name, population, country, geonameid, Point EPSG:4326)."""
    return _frame([], [])


# -- user population layers ---------------------------------------------------------------
def _header(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(str(text))).strip()


def _find(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    folded = {_header(c): c for c in reversed(columns)}
    for alias in aliases:
        if alias in folded:
            return folded[alias]
    return None


def parse_population(value: Any) -> float:
    """Read a population: ``1234``, ``"1 234"``, ``"1.234"``/``"1,234"`` (thousands), ``"12,5"``.

    Grid cells may hold fractional people (``12,5``); a group of three digits after a
    single separator is read as thousands, as people write head-counts. Raises
    ValueError naming the problem.
    """
    if value is None or (isinstance(value, float) and value != value):
        raise ValueError(Text("population is empty"))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
        if not text:
            raise ValueError(Text("population is empty"))
        if re.fullmatch(r"\d{1,3}([.,])\d{3}(\1\d{3})*", text):
            number = float(re.sub(r"[.,]", "", text))
        else:
            try:
                parsed = parse_number(text)
            except ValueError:
                raise ValueError(Text("population '{value}' is not a number", value=value)) from None
            if parsed is None:
                raise ValueError(Text("population is empty"))
            number = parsed
    if not np.isfinite(number) or number < 0:
        raise ValueError(Text("population {value} is negative or not finite", value=repr(value)))
    if number > _MAX_POPULATION:
        raise ValueError(Text("population {value} is larger than any settlement", value=repr(value)))
    return number


def _decode(data: bytes, name: str) -> tuple[str, bytes]:
    """Return the text of `data` and the same text as UTF-8 bytes (`data` itself when it was UTF-8)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # pragma: no cover  (cp1252 maps nearly every byte)
        raise ImportFileError(Message("{file}: not readable text. Save it as UTF-8 CSV.", file=name)) from None
    return text, text.encode("utf-8")


def _population_column(columns: list[str], name: str) -> str:
    column = _find(columns, _POPULATION)
    if column is None:
        raise ImportFileError(Message(
            "{file}: no population column (found: {columns}). Name the column 'population' (inhabitants per settlement "
            "or cell).", file=name, columns=", ".join(map(str, columns)) or Text("none")))
    return column


def _rounded(values: list[float]) -> list[int]:
    # Fractional people from disaggregated grids: round half up per row; the total moves by < 1 per row.
    return [int(np.floor(v + 0.5)) for v in values]


def _csv_columns(text: str, delimiter: str, name: str) -> tuple[list[list[str]], list[bool] | None]:
    """Parse CSV text into columns of strings (a missing cell is ``""``), header row included.

    The pandas C parser reads the columns in one pass; a file with ragged rows (more cells
    than the first row) is read with the csv module instead. The second value says, per
    row, whether cells beyond the header's width hold anything (None when there are none).
    """
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=object, na_filter=False,
                            keep_default_na=False, skip_blank_lines=False, engine="c", quotechar='"',
                            doublequote=True)
        return [frame[column].tolist() for column in frame.columns], None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        pass
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportFileError(Message(
                "{file}, line {line}: a cell reaching this line holds more than {limit} characters, the most "
                "one CSV cell may hold. Look for a quote (\") that is never closed, or export the population table "
                "again.", file=name, line=reader.line_num, limit=Figure(csv.field_size_limit()))) from None
        raise ImportFileError(Message(
            "{file}, line {line}: {reason}. Check the quotes on that line, or export the population table again.",
            file=name, line=reader.line_num, reason=str(exc))) from None
    if not rows:
        return [], None
    width = len(rows[0])
    overflow = [any(c.strip() for c in row[width:]) for row in rows]
    return [[row[i] if i < len(row) else "" for row in rows] for i in range(width)], overflow


def _arrow_columns(utf8: bytes, delimiter: str, width: int) -> list[Any] | None:
    """Parse UTF-8 CSV bytes into Arrow string columns (header row included), or None to use `_csv_columns`.

    Arrow's reader splits cells as the pandas C parser does (quotes, doubled quotes, quoted
    line breaks, ``\\r\\n``/``\\r`` line ends, a blank line is a row of empty cells) and keeps
    every cell as text, without Python strings. Any file it does not read exactly so (rows
    with fewer or more cells than the first, an unclosed quote, a column it would not keep
    as text) is left to `_csv_columns`, so both give the same cells. `width` bounds the
    number of columns (the first line's delimiters plus one).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                              escape_char=False, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)}, null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False, auto_dict_encode=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_columns == 0 or any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    return list(table.columns)


def _is_arrow(column: Any) -> bool:
    return not isinstance(column, list)


def _as_list(column: Any) -> list[str]:
    return column.to_pylist() if _is_arrow(column) else column


# Names that `str.strip` changes or that are empty: they start or end with one of the
# characters Python counts as white space (str.isspace), in RE2 syntax.
_SPACE = r"[\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_UNTRIMMED = rf"^(?:{_SPACE}|$)|{_SPACE}$"


def _labels(names: Any, chosen: np.ndarray, name: str) -> list[str] | np.ndarray:
    """Each chosen row's name, trimmed; ``"<file> row N"`` for a row without one."""
    rows = chosen.tolist()
    if names is None:
        return [f"{name} row {i + 2}" for i in rows]
    if not _is_arrow(names):
        labels = [(names[i] or "").strip() for i in rows]
        return [label or f"{name} row {i + 2}" for label, i in zip(labels, rows)]
    import pyarrow as pa
    import pyarrow.compute as pc

    picked = names if len(chosen) == len(names) else names.take(pa.array(chosen, type=pa.int64()))
    labels = picked.to_numpy(zero_copy_only=False).astype(object, copy=False)
    untrimmed = pc.match_substring_regex(picked, _UNTRIMMED).to_numpy(zero_copy_only=False)
    for k in np.flatnonzero(untrimmed).tolist():
        labels[k] = labels[k].strip() or f"{name} row {rows[k] + 2}"
    return labels


# Cells `parse_number` / `parse_population` read as a plain number (RE2 syntax, whole cell).
_FAST_NUMBER = r"^[ \t]*[+-]?[0-9]+(?:\.[0-9]+)?[ \t]*$"
_FAST_COUNT = r"^[ \t]*[0-9]{1,12}(?:\.[0-9]+)?[ \t]*$"
_THOUSANDS = r"^[ \t]*[0-9]{1,3}(?:\.[0-9]{3})+[ \t]*$"  # "1.234" is 1234 people, left to the careful path
# `_FAST_COUNT` but not `_THOUSANDS`, in one pass: no decimals, or not exactly three after 1-3 digits.
_FAST_PEOPLE = r"^[ \t]*(?:[0-9]{1,12}|[0-9]{1,12}\.(?:[0-9]{1,2}|[0-9]{4,})|[0-9]{4,12}\.[0-9]{3})[ \t]*$"
_FAST_PAIR = r"^[ \t]*(?P<lat>[+-]?[0-9]+(?:\.[0-9]+)?)[ \t]*,[ \t]*(?P<lon>[+-]?[0-9]+(?:\.[0-9]+)?)[ \t]*$"
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _fast_numbers(values: Any, pattern: str) -> np.ndarray:
    """Floats of the cells written as plain numbers (``53.27``, `` -8 ``); NaN for every other cell.

    Vectorised (Arrow): only cells `parse_number` would read the same way take this path;
    decimal commas, degrees-minutes-seconds and mistakes are left (NaN) for the careful
    per-row reading. Both parsers round correctly, so a value is the same either way.
    `values` is a list of strings or an Arrow string column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = values if _is_arrow(values) else pa.array(values, type=pa.large_string())
    plain = pc.match_substring_regex(cells, pattern)
    chosen = pc.if_else(plain, pc.utf8_trim(cells, characters=" \t"), pa.scalar(None, cells.type))
    return _floats(pc.cast(chosen, pa.float64()))


def _floats(column: Any) -> np.ndarray:
    """A float64 Arrow column as a writable NumPy array, NaN where it is null."""
    import pyarrow.compute as pc

    return np.array(pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False), dtype=float, copy=True)


def _fast_pairs(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of cells written as ``53.1, -8.2``; NaN for every other cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = values if _is_arrow(values) else pa.array(values, type=pa.large_string())
    parts = pc.extract_regex(cells, _FAST_PAIR)  # null where the cell is not such a pair
    lat = _floats(pc.cast(pc.struct_field(parts, [0]), pa.float64()))
    lon = _floats(pc.cast(pc.struct_field(parts, [1]), pa.float64()))
    return lat, lon


def demand_from_csv(data: bytes, name: str) -> DemandLoad:
    """Read a CSV of settlements: name, latitude, longitude (or one "lat, lon" column), population.

    Headers in English, Swedish, Polish, German, Irish and common abbreviations are
    recognised (``lat``/``Latitud``, ``lon``/``lng``, ``population``/``Invånare``/
    ``TOT_P_2021``); separators ``,`` ``;`` or tab; decimal commas and DMS coordinates as
    the loaders accept them. Rows with a bad coordinate or population are rejected with
    the reason, never dropped silently. The file is parsed column-wise: cells written as
    plain numbers are converted together, and only the other rows are read one by one.
    Files over `MAX_DEMAND_CSV_BYTES` are refused.
    """
    if len(data) > MAX_DEMAND_CSV_BYTES:
        raise ImportFileError(Message(
            "{file}: the file is {size} MB, over the {limit} MB limit for a population table. Clip it to the "
            "regions you analyse, or use a coarser grid.", file=name, size=Figure(len(data) / 2**20),
            limit=MAX_DEMAND_CSV_BYTES // 2**20))
    text, utf8 = _decode(data, name)
    if not text.strip():
        raise ImportFileError(Message("{file}: the file is empty. Export the population table again.", file=name))
    found = _LINE_BREAK.search(text)
    first = text[:found.start()] if found else text
    delimiter = max((";", "\t", ","), key=first.count) if any(d in first for d in ";\t,") else ","
    columns, overflow = _arrow_columns(utf8, delimiter, first.count(delimiter) + 1), None
    if columns is None:
        columns, overflow = _csv_columns(text, delimiter, name)
    del text, utf8
    header = [(column[0].as_py() if _is_arrow(column) else column[0]).strip() for column in columns]
    population = _population_column(header, name)
    lat_col, lon_col, pair_col = _find(header, _LAT), _find(header, _LON), None
    if lat_col is None or lon_col is None:
        pair_col = _find(header, _PAIR)
        if pair_col is None:
            raise ImportFileError(Message(
                "{file}: no latitude/longitude columns (found: {items}). Add columns 'lat' and 'lon' in degrees "
                "(WGS84).", file=name, items=", ".join(header)))
    name_col = _find(header, _NAME)
    position = {h: i for i, h in reversed(list(enumerate(header)))}
    cells = [column.slice(1) if _is_arrow(column) else column[1:] for column in columns]
    count = len(cells[0]) if cells else 0
    people = _fast_numbers(cells[position[population]], _FAST_PEOPLE)
    if pair_col is None:
        lat = _fast_numbers(cells[position[lat_col]], _FAST_NUMBER)
        lon = _fast_numbers(cells[position[lon_col]], _FAST_NUMBER)
    else:
        lat, lon = _fast_pairs(cells[position[pair_col]])
    fast = (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180) & (people >= 0) & (people <= _MAX_POPULATION)
    if not fast.all():  # the other rows are read one by one, from Python strings
        cells = [_as_list(column) for column in cells]
    # A row of blank cells is not a row read (it is skipped, not rejected); a fast row is not blank.
    blank = np.zeros(count, dtype=bool)
    for index in np.flatnonzero(~fast).tolist():
        blank[index] = all(not column[index] or column[index].isspace() for column in cells) and not (
            overflow is not None and overflow[index + 1])
    names = cells[position[name_col]] if name_col else None
    accepted = np.zeros(count, dtype=bool)
    accepted[fast] = True
    rejected: list[Rejected] = []
    for index in np.flatnonzero(~blank & ~fast):
        where = f"row {index + 2}"
        record = {h: cells[i][index] for h, i in position.items()}
        problems = []
        try:
            if pair_col is not None:
                pair = parse_pair(record.get(pair_col))
                row_lat, row_lon = pair if pair else (None, None)
            else:
                row_lat, row_lon = parse_number(record.get(lat_col)), parse_number(record.get(lon_col))
            if row_lat is None or row_lon is None:
                problems.append(Text("latitude/longitude is empty; give both in degrees"))
            else:
                reason = check_point(row_lat, row_lon)
                if reason:
                    problems.append(reason)
        except ValueError as exc:
            problems.append(Text("coordinate {reason}; give degrees like 53.27 or 53,27", reason=exc.args[0]))
        try:
            row_people = parse_population(record.get(population))
        except ValueError as exc:
            problems.append(Text("{column}: {reason}; give a whole number of inhabitants >= 0", column=population,
                                 reason=exc.args[0]))
        if problems:
            rejected.append(Rejected(where, Text("{problems} Fix the row or remove it.", problems=_join(problems)),
                                     record))
            continue
        lat[index], lon[index], people[index] = row_lat, row_lon, row_people
        accepted[index] = True
    chosen = np.flatnonzero(accepted)
    rows_read = int((~blank).sum())
    if rows_read and not len(chosen):
        return _result(name, [], [], rejected, rows_read)
    frame = pd.DataFrame({
        "name": pd.Series(_labels(names, chosen, name), dtype=object),
        # Fractional people from disaggregated grids: round half up per row (the total moves by < 1 per row).
        "population": np.floor(people[chosen] + 0.5).astype("int64"),
        "country": pd.Series([None] * len(chosen), dtype=object),
        "geonameid": pd.Series([None] * len(chosen), dtype=object),
    })
    demand = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.points(lon[chosen], lat[chosen]), crs=CRS),
                              crs=CRS)
    return _load(name, demand, rejected, rows_read)


_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# Joins of translatable parts (no words of their own, so not in the catalogues).
_SEMI, _END, _WHERE = "{a}; {b}", "{a}.", "{where}: {reason}"


class _Part:
    """A text shown in the reader's language, without its final full stop (`bare`) or line breaks (`flat`)."""

    def __init__(self, text: str, *, bare: bool = False, flat: bool = False) -> None:
        self.text, self.bare, self.flat = text, bare, flat

    def __format__(self, spec: str) -> str:
        shown = str(tr(self.text))
        shown = _BREAKS.sub(" ", shown) if self.flat else shown
        return shown.rstrip(". ") if self.bare else shown


def _join(problems: list[str], *, flat: bool = False) -> Text:
    """A row's problems as one sentence ("a; b."), each part still translatable (`i18n.Text`)."""
    out: Any = _Part(problems[0], bare=True, flat=flat)
    for problem in problems[1:]:
        out = Text(_SEMI, a=out, b=_Part(problem, bare=True, flat=flat))
    return Text(_END, a=out)


def _listed(rejected: list[Rejected], *, flat: bool = False) -> Text:
    """The first three rejected rows, "where: reason; …", still translatable."""
    out: Any = None
    for r in rejected[:3]:
        item = Text(_WHERE, where=r.where, reason=_Part(r.reason, flat=flat))
        out = item if out is None else Text(_SEMI, a=out, b=item)
    return out if out is not None else ""


def _result(name: str, rows, geometries, rejected, rows_read) -> DemandLoad:
    if rows_read and not rows:
        raise ImportFileError(Message(
            "{file}: none of the {count} rows could be used ({listed}).", file=name, count=rows_read,
            listed=_listed(rejected)))
    return _load(name, _frame(rows, geometries), rejected, rows_read)


def _load(name: str, demand: gpd.GeoDataFrame, rejected: list[Rejected], rows_read: int) -> DemandLoad:
    if not rows_read:
        raise ImportFileError(Message(
            "{file}: holds no rows of population. Check the file is the population layer.", file=name))
    load = DemandLoad(name, demand, rejected, rows_read)
    if load.accepted + len(load.rejected) != load.rows_read:  # pragma: no cover  (an invariant, not input)
        raise AssertionError(f"{name}: {load.accepted} accepted + {len(load.rejected)} rejected != {rows_read} read")
    return load


def _readable(data: bytes, name: str) -> bytes:
    """Return bytes pyogrio reads quietly: a GeoPackage goes inside an uncompressed zip.

    GDAL warns about a GeoPackage read from memory because the in-memory file has no
    ``.gpkg`` extension; inside a zip it is named ``layer.gpkg`` and opens without a warning.
    """
    if Path(name).suffix.lower() != ".gpkg":
        return data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("layer.gpkg", data)
    return buffer.getvalue()


def _read_vector(data: bytes, name: str) -> tuple[gpd.GeoDataFrame, str | None, str]:
    """Read a GeoJSON/GeoPackage population layer: the frame (CRS set), its layer name and population column."""
    import pyogrio  # only for these formats: a CSV of settlements is read without it

    if not data:
        raise ImportFileError(Message("{file}: the file is empty. Export the population layer again.", file=name))
    layer = None
    buffer = _readable(data, name)
    if Path(name).suffix.lower() == ".gpkg":
        try:
            layers = [str(n) for n, _ in pyogrio.list_layers(buffer)]
        except (pyogrio.errors.DataSourceError, RuntimeError) as exc:
            raise ImportFileError(Message(
                "{file}: not a readable GeoPackage ({reason}). Export it again.", file=name,
                reason=str(exc).splitlines()[0])) from None
        for candidate in layers:
            fields = list(pyogrio.read_info(buffer, layer=candidate)["fields"])
            if _find(fields, _POPULATION) is not None:
                layer = candidate
                break
        if layer is None:
            raise ImportFileError(Message(
                "{file}: no layer has a population column (layers: {layers}). Name the column 'population'.",
                file=name, layers=", ".join(layers) or Text("none")))
    try:
        frame = pyogrio.read_dataframe(buffer, layer=layer, use_arrow=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError) as exc:
        raise ImportFileError(Message(
            "{file}: cannot be read ({reason}). Save it as GeoJSON or GeoPackage.", file=name,
            reason=str(exc).splitlines()[0])) from None
    population = _population_column([str(c) for c in frame.columns if c != "geometry"], name)
    if frame.crs is None:
        frame = frame.set_crs(CRS)
    return frame, layer, population


def polygon_frame(data: bytes, name: str) -> tuple[gpd.GeoDataFrame, str] | None:
    """The polygons and population column of a GeoJSON/GeoPackage layer of areas; None when it holds points.

    Polygon layers (census tracts, municipalities) are weighted by area for each region
    (`loaders.grids.demand_from_polygons`) rather than read as one point per polygon.
    """
    frame, _, population = _read_vector(data, name)
    geoms = frame.geometry
    located = ~(geoms.isna() | geoms.is_empty)
    if not located.any() or not geoms[located].geom_type.isin(["Polygon", "MultiPolygon"]).all():
        return None
    return frame, population


def demand_from_vector(data: bytes, name: str) -> DemandLoad:
    """Read a GeoJSON or GeoPackage population layer: points, or polygons / grid cells.

    A polygon (e.g. a 1 km grid cell) becomes its representative point, carrying the
    cell's population. Any CRS with a definition is reprojected to EPSG:4326. In a
    GeoPackage with several layers the first one with a population column is used.
    """
    frame, layer, population = _read_vector(data, name)
    name_col = _find([str(c) for c in frame.columns if c != "geometry"], _NAME)
    points = frame.geometry.copy()
    has = ~(points.isna() | points.is_empty)
    polygonal = has & points.geom_type.isin(["Polygon", "MultiPolygon"])
    points[polygonal] = points[polygonal].representative_point()
    if not frame.crs.equals(CRS):
        points = points.to_crs(CRS)
    rows, geometries, rejected, values = [], [], [], []
    where_word = f"layer '{layer}', feature" if layer else "feature"
    for i, (geometry, record) in enumerate(zip(points, frame.drop(columns="geometry").to_dict("records")), start=1):
        where = f"{where_word} {i}"
        label = str(record.get(name_col) or "").strip() if name_col else ""
        problems = []
        if geometry is None or geometry.is_empty:
            problems.append(Text("no geometry; give the settlement's point or the cell's polygon"))
        elif geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        if geometry is not None and not geometry.is_empty and geometry.geom_type != "Point":
            problems.append(Text(
                "a {geom_type} is neither a point nor a polygon; demand needs points or cells",
                geom_type=geometry.geom_type))
        elif geometry is not None and not geometry.is_empty:
            reason = check_point(geometry.y, geometry.x)
            if reason:
                problems.append(reason)
        try:
            people = parse_population(record.get(population))
        except ValueError as exc:
            problems.append(Text("{column}: {reason}; give a whole number of inhabitants >= 0", column=population,
                                 reason=exc.args[0]))
        if problems:
            raw = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
            rejected.append(Rejected(where, Text("{problems} Fix the feature or remove it.", problems=_join(problems)),
                                     raw))
            continue
        rows.append({"name": label or f"{name} {where}", "population": 0, "country": None, "geonameid": None})
        values.append(people)
        geometries.append(geometry)
    for row, value in zip(rows, _rounded(values)):
        row["population"] = value
    return _result(name, rows, geometries, rejected, len(frame))


def demand_from_bytes(data: bytes, name: str) -> DemandLoad:
    """Read a population layer given as bytes; the extension picks CSV, GeoJSON or GeoPackage."""
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return demand_from_csv(data, name)
    if suffix in (".geojson", ".json", ".gpkg"):
        return demand_from_vector(data, name)
    raise ImportFileError(Message(
        "{file}: '{suffix}' is not a population layer we read. Use CSV (name, lat, lon, population), GeoJSON or "
        "GeoPackage with a population column.", file=name, suffix=suffix or Text("no extension")))


def demand_from_file(path: str | Path) -> DemandLoad:
    """Read a population layer from disk (see `demand_from_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(Message(
            "{file}: cannot be opened ({reason}). Check the path.", file=path.name, reason=exc.strerror)) from None
    return demand_from_bytes(data, path.name)
