"""Area polygons the user imports (municipalities, counties) and the lookup of a region's municipalities in them.

A region can add municipalities to its NUTS codes (Blekinge plus Kristianstad municipality);
no official file covers a municipality, so its shape comes from a file of areas the user
imports into the workspace (e.g. a national municipality file as GeoJSON or TopoJSON). Each
area keeps its name, national code and country; `find_municipality` matches a region's
`Municipality` against them.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import CRS, METRIC_CRS, concat_frames, now_utc, read_cached
from geography.boundary_files import read_area_bytes
from geography.regions import Municipality, Region
from i18n import Message, Text
from loaders.errors import ImportFileError

AREAS = "boundary_areas"               # workspace table: country, code, name, file, imported_at, geometry
AREA_COLUMNS = ("country", "code", "name", "file", "imported_at")

# Columns holding an area's name or national code, most specific first (compared in lower case).
_NAME_COLUMNS = ("kom_namn", "kommunnamn", "lau_name", "name_latn", "nuts_name", "nazwa", "name", "navn", "na")
_CODE_COLUMNS = ("kommunkod", "kom_kod", "lau_id", "lau_code", "teryt", "code", "nuts_id", "id")
_COUNTRY_COLUMNS = ("cntr_code", "country", "iso_a2", "iso")
_ALPHA3 = {"IRL": "IE", "GBR": "GB", "SWE": "SE", "POL": "PL", "DEU": "DE", "LTU": "LT", "DNK": "DK",
           "FIN": "FI", "NOR": "NO", "EST": "EE", "LVA": "LV"}
_NUTS_COUNTRY = {"UK": "GB", "EL": "GR"}  # NUTS country codes that are not ISO 3166
_SUFFIXES = re.compile(r"\s+(kommun|kommune|municipality|gmina|miasto|powiat|county|council|district)$")


@dataclass
class AreasImport:
    """What `import_areas` kept.

    Attributes
    ----------
    file
        The file's name.
    areas
        Areas stored.
    skipped
        Features without a polygon, left out.
    name_column, code_column
        The columns the names and codes were taken from ("" when none).
    note
        How the file was read (its layer, an assumed CRS), or "".
    """

    file: str
    areas: int
    skipped: int
    name_column: str
    code_column: str
    note: str = ""

    def summary(self) -> str:
        """One line for the command line and the history."""
        code = f", codes from '{self.code_column}'" if self.code_column else ""
        skipped = f"; {self.skipped} feature(s) without a polygon left out" if self.skipped else ""
        how = f" ({self.note})" if self.note else ""
        return (f"imported {self.areas} area(s) from {self.file}{how}: names from '{self.name_column}'{code}"
                f"{skipped}")


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, name: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    if wanted:
        if wanted.lower() not in lower:
            raise ImportFileError(Message(
                "{file}: has no column '{wanted}' for the {what}; its columns are {items}.", file=name, wanted=wanted,
                what=what, items=", ".join(columns)))
        return lower[wanted.lower()]
    for candidate in candidates:
        if candidate in lower:
            return lower[candidate]
    return None


def _gadm_name(columns: list[str]) -> str | None:
    """The finest ``NAME_<n>`` column of a GADM-style file (NAME_2 = municipality beside NAME_1 = county)."""
    levels = [(int(m.group(1)), c) for c in columns if (m := re.fullmatch(r"(?i)name_(\d)", c))]
    levels = [pair for pair in levels if pair[0] >= 1]
    return max(levels)[1] if levels else None


def _country(value) -> str:
    text = str(value or "").strip().upper()
    if len(text) == 3:
        return _ALPHA3.get(text, "")
    if len(text) == 2 and text.isalpha():
        return _NUTS_COUNTRY.get(text, text)
    return ""


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def import_areas(
    workspace, data: bytes, name: str, *, country: str | None = None, name_column: str | None = None,
    code_column: str | None = None,
) -> AreasImport:
    """Store a file of area polygons (e.g. a country's municipalities) in the workspace.

    The areas of an earlier import of a file with the same name are replaced. The import
    is recorded in the workspace history. Regions whose ``municipalities`` are found among
    the areas get those shapes in their boundary (`geography.boundaries.boundary_for`).

    Parameters
    ----------
    workspace
        A `workspace.Workspace`.
    data, name
        File content and name: GeoJSON, TopoJSON, GeoPackage, KML/KMZ or zipped shapefile
        (several layers: the one with the most polygons).
    country
        ISO alpha-2 code of every area, when the file has no country column.
    name_column, code_column
        Columns of the area names and national codes; by default found among common
        names (``kom_namn``, ``name``, ``NAME_2`` of GADM files …; ``kommunkod``,
        ``LAU_ID``, ``id`` …).

    Raises ImportFileError when the file cannot be read, holds no polygon, or has no name column.
    """
    frame, note, skipped = read_area_bytes(data, name)
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    names_from = _pick(columns, name_column, _NAME_COLUMNS, Text("area names"), name) or _gadm_name(columns)
    if names_from is None:
        raise ImportFileError(Message(
            "{file}: no column of area names found (looked for {names} and GADM NAME_1/NAME_2); its columns are "
            "{columns}. Name the column to use.", file=name, names=", ".join(_NAME_COLUMNS),
            columns=", ".join(columns) or Text("none")))
    codes_from = _pick(columns, code_column, _CODE_COLUMNS, Text("area codes"), name)
    countries_from = _pick(columns, None, _COUNTRY_COLUMNS, Text("countries"), name)
    fixed = _country(country) if country else ""
    if country and not fixed:
        raise ImportFileError(Message(
            "{file}: country '{country}' is not an ISO alpha-2 code such as SE.", file=name, country=country))
    rows = gpd.GeoDataFrame({
        "country": [fixed or (_country(v) if countries_from else "") for v in
                    (frame[countries_from] if countries_from else [None] * len(frame))],
        "code": [_text(v) for v in (frame[codes_from] if codes_from else [None] * len(frame))],
        "name": [_text(v) for v in frame[names_from]],
        "file": name,
        "imported_at": now_utc(),
    }, geometry=frame.geometry.to_numpy(), crs=CRS)
    table = read_cached(workspace, AREAS, AREA_COLUMNS)
    table = table[table["file"] != name]
    workspace.write_tables({AREAS: concat_frames(table, rows)},
                           summary=f"imported {len(rows)} area(s) from {name}")
    return AreasImport(name, len(rows), skipped, names_from, codes_from or "", note)


def areas(workspace) -> gpd.GeoDataFrame:
    """Return the areas imported into the workspace: country, code, name, file, imported_at, geometry (EPSG:4326)."""
    return read_cached(workspace, AREAS, AREA_COLUMNS)


def remove_areas(workspace, name: str) -> int:
    """Forget the areas imported from file `name`; return how many there were."""
    table = read_cached(workspace, AREAS, AREA_COLUMNS)
    keep = table["file"] != name
    removed = int((~keep).sum())
    if removed:
        workspace.write_tables({AREAS: gpd.GeoDataFrame(table[keep], geometry="geometry", crs=CRS)},
                               summary=f"removed the {removed} area(s) imported from {name}")
    return removed


def _keys(name: str) -> set[str]:
    text = unicodedata.normalize("NFC", str(name)).casefold().strip()
    text = _SUFFIXES.sub("", text).strip()
    # "Kristianstads kommun" is the genitive of Kristianstad.
    return {text, text[:-1]} if text.endswith("s") and len(text) > 3 else {text}


def find_municipality(table: gpd.GeoDataFrame | None, municipality: Municipality) -> tuple[BaseGeometry, str, str] | None:
    """Return the shape of `municipality` among imported areas, the area's name and its file; None when absent.

    An area matches when its country is the municipality's (or unknown) and its code and
    name match; else its name alone (case, a ``kommun``/``gmina`` suffix and a genitive
    ``s`` ignored); else its code alone. Among several matches the latest import wins.
    """
    if table is None or table.empty:
        return None
    rows = table[table["country"].isin([municipality.country, ""])]
    if rows.empty:
        return None
    wanted = _keys(municipality.name)
    by_name = rows["name"].map(lambda n: bool(_keys(n) & wanted)).to_numpy(dtype=bool)
    by_code = (rows["code"].astype(str) == municipality.code).to_numpy(dtype=bool) & bool(municipality.code)
    for mask in (by_name & by_code, by_name, by_code):
        if mask.any():
            row = rows[mask].iloc[-1]
            return row.geometry, str(row["name"]), str(row["file"])
    return None


# -- areas of a region, for the breakdown of its figures ---------------------------------------
MIN_SHARE_INSIDE = 0.5
"""An imported area belongs to a region when at least this share of its surface lies inside."""


def _inside_share(geoms: np.ndarray, boundary: BaseGeometry) -> np.ndarray:
    metric = gpd.GeoSeries(geoms, crs=CRS).to_crs(METRIC_CRS)
    whole = metric.area.to_numpy()
    inner = gpd.GeoSeries(shapely.intersection(geoms, boundary), crs=CRS).to_crs(METRIC_CRS).area.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, inner / whole, 0.0)


def region_areas(region: Region | None, boundary: BaseGeometry | None, workspace=None, *,
                 frame: gpd.GeoDataFrame | None = None, source: str = "") -> tuple[gpd.GeoDataFrame | None, str]:
    """The areas to break a region's figures down by, clipped to its boundary, and where they come from.

    In order: the areas in `frame` (a file given by the caller, named `source`); the areas
    imported into the workspace that lie mostly inside the boundary (and in the region's
    countries); the shipped NUTS 3 regions inside the region's NUTS codes, when there are
    at least two. Returns ``(None, "")`` when none apply.

    The result has ``name``, ``code`` and the area clipped to the boundary (EPSG:4326).
    """
    if boundary is None:
        return None, ""
    boundary = shapely.make_valid(boundary)
    countries = set(region.countries) if region is not None else set()
    if frame is not None:
        names = _pick([str(c) for c in frame.columns if c != frame.geometry.name], None, _NAME_COLUMNS,
                      Text("area names"), source) or _gadm_name(list(map(str, frame.columns)))
        codes = _pick([str(c) for c in frame.columns if c != frame.geometry.name], None, _CODE_COLUMNS,
                      Text("area codes"), source)
        candidates = gpd.GeoDataFrame({
            "name": [_text(v) for v in frame[names]] if names else [f"area {i + 1}" for i in range(len(frame))],
            "code": [_text(v) for v in frame[codes]] if codes else [""] * len(frame),
            "country": [""] * len(frame)}, geometry=frame.geometry.to_numpy(), crs=frame.crs or CRS).to_crs(CRS)
        described = f"areas from {source}"
    else:
        stored = areas(workspace) if workspace is not None else None
        candidates, described = None, ""
        if stored is not None and not stored.empty:
            stored = stored[stored["country"].isin(countries | {""})] if countries else stored
            candidates = stored[["name", "code", "country", "geometry"]]
            files = sorted(set(stored["file"]))
            described = f"areas imported from {', '.join(files)}"
    if candidates is not None and len(candidates):
        geoms = candidates.geometry.to_numpy()
        keep = _inside_share(geoms, boundary) >= MIN_SHARE_INSIDE
        if keep.any():
            chosen = candidates[keep].reset_index(drop=True)
            clipped = shapely.intersection(chosen.geometry.to_numpy(), boundary)
            return gpd.GeoDataFrame(chosen[["name", "code"]], geometry=clipped, crs=CRS), described
    if region is not None and region.nuts:
        from geography.nuts_files import shipped_nuts

        table = shipped_nuts()
        level3 = table[(table["LEVL_CODE"] == 3)
                       & table["NUTS_ID"].map(lambda code: any(code.startswith(n) for n in region.nuts))]
        if len(level3) >= 2:
            clipped = shapely.intersection(level3.geometry.to_numpy(), boundary)
            return (gpd.GeoDataFrame({"name": level3["NAME_LATN"].to_numpy(), "code": level3["NUTS_ID"].to_numpy()},
                                     geometry=clipped, crs=CRS),
                    "NUTS 3 regions (Eurostat GISCO, 1:20 million)")
    return None, ""
