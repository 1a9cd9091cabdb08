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
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

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
        raise ValueError("population is empty")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
        if not text:
            raise ValueError("population is empty")
        if re.fullmatch(r"\d{1,3}([.,])\d{3}(\1\d{3})*", text):
            number = float(re.sub(r"[.,]", "", text))
        else:
            try:
                parsed = parse_number(text)
            except ValueError:
                raise ValueError(f"population '{value}' is not a number") from None
            if parsed is None:
                raise ValueError("population is empty")
            number = parsed
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"population {value!r} is negative or not finite")
    if number > _MAX_POPULATION:
        raise ValueError(f"population {value!r} is larger than any settlement")
    return number


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{name}: not readable text. Save it as UTF-8 CSV.")  # pragma: no cover


def _population_column(columns: list[str], name: str) -> str:
    column = _find(columns, _POPULATION)
    if column is None:
        raise ImportFileError(
            f"{name}: no population column (found: {', '.join(map(str, columns)) or 'none'}). "
            "Name the column 'population' (inhabitants per settlement or cell)."
        )
    return column


def _rounded(values: list[float]) -> list[int]:
    # Fractional people from disaggregated grids: round half up per row; the total moves by < 1 per row.
    return [int(np.floor(v + 0.5)) for v in values]


def demand_from_csv(data: bytes, name: str) -> DemandLoad:
    """Read a CSV of settlements: name, latitude, longitude (or one "lat, lon" column), population.

    Headers in English, Swedish, Polish, German, Irish and common abbreviations are
    recognised (``lat``/``Latitud``, ``lon``/``lng``, ``population``/``Invånare``/
    ``TOT_P_2021``); separators ``,`` ``;`` or tab; decimal commas and DMS coordinates as
    the loaders accept them. Rows with a bad coordinate or population are rejected with
    the reason, never dropped silently.
    """
    text = _decode(data, name)
    if not text.strip():
        raise ImportFileError(f"{name}: the file is empty. Export the population table again.")
    first = text.splitlines()[0]
    delimiter = max((";", "\t", ","), key=first.count) if any(d in first for d in ";\t,") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    header = [h.strip() for h in header]
    population = _population_column(header, name)
    lat_col, lon_col, pair_col = _find(header, _LAT), _find(header, _LON), None
    if lat_col is None or lon_col is None:
        pair_col = _find(header, _PAIR)
        if pair_col is None:
            raise ImportFileError(
                f"{name}: no latitude/longitude columns (found: {', '.join(header)}). "
                "Add columns 'lat' and 'lon' in degrees (WGS84)."
            )
    name_col = _find(header, _NAME)
    position = {h: i for i, h in reversed(list(enumerate(header)))}
    rows, geometries, rejected = [], [], []
    values: list[float] = []
    rows_read = 0
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        rows_read += 1
        record = {h: (cells[i] if i < len(cells) else "") for h, i in position.items()}
        where = f"row {line_no}"
        label = (record.get(name_col) or "").strip() if name_col else ""
        problems = []
        lat = lon = None
        try:
            if pair_col is not None:
                pair = parse_pair(record.get(pair_col))
                lat, lon = pair if pair else (None, None)
            else:
                lat, lon = parse_number(record.get(lat_col)), parse_number(record.get(lon_col))
            if lat is None or lon is None:
                problems.append("latitude/longitude is empty; give both in degrees")
            else:
                reason = check_point(lat, lon)
                if reason:
                    problems.append(reason)
        except ValueError as exc:
            problems.append(f"coordinate {exc}; give degrees like 53.27 or 53,27")
        try:
            people = parse_population(record.get(population))
        except ValueError as exc:
            problems.append(f"{population}: {exc}; give a whole number of inhabitants >= 0")
        if problems:
            rejected.append(Rejected(where, f"{_join(problems)} Fix the row or remove it.", record))
            continue
        rows.append({"name": label or f"{name} {where}", "population": 0, "country": None, "geonameid": None})
        values.append(people)
        geometries.append(shapely.Point(lon, lat))
    for row, value in zip(rows, _rounded(values)):
        row["population"] = value
    return _result(name, rows, geometries, rejected, rows_read)


def _join(problems: list[str]) -> str:
    return "; ".join(p.rstrip(". ") for p in problems) + "."


def _result(name: str, rows, geometries, rejected, rows_read) -> DemandLoad:
    if rows_read and not rows:
        listed = "; ".join(f"{r.where}: {r.reason}" for r in rejected[:3])
        raise ImportFileError(f"{name}: none of the {rows_read} rows could be used ({listed}).")
    if not rows_read:
        raise ImportFileError(f"{name}: holds no rows of population. Check the file is the population layer.")
    load = DemandLoad(name, _frame(rows, geometries), rejected, rows_read)
    assert load.accepted + len(load.rejected) == load.rows_read
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


def demand_from_vector(data: bytes, name: str) -> DemandLoad:
    """Read a GeoJSON or GeoPackage population layer: points, or polygons / grid cells.

    A polygon (e.g. a 1 km grid cell) becomes its representative point, carrying the
    cell's population. Any CRS with a definition is reprojected to EPSG:4326. In a
    GeoPackage with several layers the first one with a population column is used.
    """
    if not data:
        raise ImportFileError(f"{name}: the file is empty. Export the population layer again.")
    layer = None
    buffer = _readable(data, name)
    if Path(name).suffix.lower() == ".gpkg":
        try:
            layers = [str(n) for n, _ in pyogrio.list_layers(buffer)]
        except (pyogrio.errors.DataSourceError, RuntimeError) as exc:
            raise ImportFileError(f"{name}: not a readable GeoPackage ({str(exc).splitlines()[0]}). Export it again.") from None
        for candidate in layers:
            fields = list(pyogrio.read_info(buffer, layer=candidate)["fields"])
            if _find(fields, _POPULATION) is not None:
                layer = candidate
                break
        if layer is None:
            raise ImportFileError(
                f"{name}: no layer has a population column (layers: {', '.join(layers) or 'none'}). "
                "Name the column 'population'."
            )
    try:
        frame = pyogrio.read_dataframe(buffer, layer=layer, use_arrow=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError) as exc:
        raise ImportFileError(
            f"{name}: cannot be read ({str(exc).splitlines()[0]}). Save it as GeoJSON or GeoPackage."
        ) from None
    population = _population_column([str(c) for c in frame.columns if c != "geometry"], name)
    name_col = _find([str(c) for c in frame.columns if c != "geometry"], _NAME)
    if frame.crs is None:
        frame = frame.set_crs(CRS)
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
            problems.append("no geometry; give the settlement's point or the cell's polygon")
        elif geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        if geometry is not None and not geometry.is_empty and geometry.geom_type != "Point":
            problems.append(f"a {geometry.geom_type} is neither a point nor a polygon; demand needs points or cells")
        elif geometry is not None and not geometry.is_empty:
            reason = check_point(geometry.y, geometry.x)
            if reason:
                problems.append(reason)
        try:
            people = parse_population(record.get(population))
        except ValueError as exc:
            problems.append(f"{population}: {exc}; give a whole number of inhabitants >= 0")
        if problems:
            raw = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
            rejected.append(Rejected(where, f"{_join(problems)} Fix the feature or remove it.", raw))
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
    raise ImportFileError(
        f"{name}: '{suffix or 'no extension'}' is not a population layer we read. "
        "Use CSV (name, lat, lon, population), GeoJSON or GeoPackage with a population column."
    )


def demand_from_file(path: str | Path) -> DemandLoad:
    """Read a population layer from disk (see `demand_from_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be opened ({exc.strerror}). Check the path.") from None
    return demand_from_bytes(data, path.name)
