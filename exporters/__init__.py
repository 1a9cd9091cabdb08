"""Exports for partners: GeoJSON, KML/KMZ, GeoPackage, XLSX report and CSV, from one dispatcher.

`export` writes a frame of canonical features (plus optional analysis results) in one
format. Writers only: choosing what to export from a workspace and region is
`atlas.export`'s job.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import pandas as pd

from exporters.common import (
    ExportError,
    ExportResult,
    layer_title,
    parse_layers,
    select_features,
    table_name,
)
from i18n import N_
from i18n import gettext as _

FORMATS: tuple[str, ...] = ("geojson", "kml", "kmz", "gpkg", "xlsx", "csv")
SUFFIXES: dict[str, str] = {
    "geojson": ".geojson", "kml": ".kml", "kmz": ".kmz", "gpkg": ".gpkg", "xlsx": ".xlsx", "csv": ".csv",
}
MIME: dict[str, str] = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "kmz": "application/vnd.google-earth.kmz",
    "gpkg": "application/geopackage+sqlite3",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
# English; shown with `i18n.gettext` (the Export page).
FORMAT_HELP: dict[str, str] = {
    "geojson": N_("GeoJSON (RFC 7946) for GIS partners and web maps"),
    "kml": N_("KML for Google My Maps / Google Earth"),
    "kmz": N_("KMZ (zipped KML) for Google My Maps / Google Earth"),
    "gpkg": N_("GeoPackage for QGIS: a table per layer and per analysis result"),
    "xlsx": N_("Spreadsheet report for readers who don't use GIS"),
    "csv": N_("CSV with latitude/longitude (WKT for lines and polygons)"),
}

__all__ = [
    "ExportError", "ExportResult", "FORMATS", "FORMAT_HELP", "MIME", "SUFFIXES", "check_format", "export",
    "parse_layers", "select_features",
]


def check_format(fmt: str) -> str:
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}.")
    return fmt


def _counts(features: gpd.GeoDataFrame) -> str:
    if features.empty:
        return _("no features")
    counts = features["layer"].value_counts()
    return _("{count} feature(s): {layers}").format(
        count=len(features), layers=", ".join(f"{layer} {int(n)}" for layer, n in counts.items()))


def _sidecar(out: Path, name: str, suffix: str) -> Path:
    return out.with_name(f"{out.stem}-{table_name(name)}{suffix}")


def export(
    features: gpd.GeoDataFrame,
    fmt: str,
    out: str | Path,
    *,
    analysis: dict[str, pd.DataFrame] | None = None,
    title: str = "Creative Atlas export",
    about: Iterable[tuple[str, Any]] = (),
    notes: Iterable[str] = (),
    region: str | None = None,
    captions: dict[str, Iterable[str]] | None = None,
) -> ExportResult:
    """Write `features` (and `analysis` results) in format `fmt` to `out`.

    Parameters
    ----------
    features
        Canonical features (EPSG:4326), already selected.
    fmt
        One of `FORMATS`.
    out
        The file to write. GeoJSON and CSV write each analysis result to its own file
        beside it (``<stem>-coverage_discs.geojson`` …); KML/KMZ may be split into
        several files (see `exporters.kml`); GeoPackage and XLSX hold everything in one.
    analysis
        Named results from `atlas.analysis_frames` (GeoDataFrames and tables).
    title, about, notes, region
        Document title, About-sheet rows, caveats and region id recorded in the output.
    captions
        Lines shown above a result's sheet in the XLSX report, by result name.

    Returns
    -------
    ExportResult with the files written and a message for the user.
    """
    fmt = check_format(fmt)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    analysis = {k: v for k, v in (analysis or {}).items() if v is not None}
    notes = list(notes)
    files: list[Path] = []
    if fmt == "geojson":
        from exporters.geojson import write_geojson

        files.append(write_geojson(features, out, name=title))
        tables = []
        for name, result in analysis.items():
            if isinstance(result, gpd.GeoDataFrame):
                files.append(write_geojson(result, _sidecar(out, name, ".geojson"), name=layer_title(name)))
            else:
                tables.append(name)
        if tables:
            notes.append(_("Tables without geometry ({tables}) are not GeoJSON: export XLSX, CSV or GPKG for "
                           "them.").format(tables=", ".join(tables)))
    elif fmt == "csv":
        from exporters.csv import write_csv

        files.append(write_csv(features, out))
        for name, result in analysis.items():
            files.append(write_csv(result, _sidecar(out, name, ".csv")))
    elif fmt in ("kml", "kmz"):
        from exporters.kml import write_kml

        result = write_kml(features, out, kmz=fmt == "kmz", analysis=analysis, title=title)
        return ExportResult(result.files, result.message, notes + result.notes)
    elif fmt == "gpkg":
        from exporters.gpkg import write_gpkg

        files.append(write_gpkg(features, out, analysis=analysis, region=region, note=" ".join(notes)[:2000]))
    else:
        from exporters.xlsx import write_xlsx

        files.append(write_xlsx(features, out, analysis=analysis, about=about, notes=notes, captions=captions))
    if len(files) == 1:
        if analysis:
            message = _("Exported {features} and {results} analysis result(s) as {format} to {file}.").format(
                features=_counts(features), results=len(analysis), format=fmt.upper(), file=files[0].name)
        else:
            message = _("Exported {features} as {format} to {file}.").format(
                features=_counts(features), format=fmt.upper(), file=files[0].name)
    else:
        message = _("Exported {features} as {format} to {file}, and {results} analysis result(s) to their own "
                    "files ({files}).").format(features=_counts(features), format=fmt.upper(), file=files[0].name,
                                               results=len(files) - 1, files=", ".join(p.name for p in files[1:]))
    return ExportResult(files, message, notes)
