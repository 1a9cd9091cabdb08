"""Exports for partners: GeoJSON, KML/KMZ, GeoPackage, XLSX report and CSV, from one dispatcher.

`export` writes a frame of canonical features (plus optional analysis results) in one
format; `export_workspace` is what the command line and the Export page call: it reads a
workspace, applies the region / layers / status choices, runs the analysis when asked and
calls `export`. `export_to_memory` does the same and returns the files' bytes.
"""
from __future__ import annotations

import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import pandas as pd

from exporters.common import ExportError, ExportResult, layer_title, parse_layers, select_features, table_name

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
FORMAT_HELP: dict[str, str] = {
    "geojson": "GeoJSON (RFC 7946) for GIS partners and web maps",
    "kml": "KML for Google My Maps / Google Earth",
    "kmz": "KMZ (zipped KML) for Google My Maps / Google Earth",
    "gpkg": "GeoPackage for QGIS: a table per layer and per analysis result",
    "xlsx": "Spreadsheet report for readers who don't use GIS",
    "csv": "CSV with latitude/longitude (WKT for lines and polygons)",
}

__all__ = [
    "ExportError", "ExportResult", "FORMATS", "FORMAT_HELP", "MIME", "SUFFIXES", "export", "export_to_memory",
    "cli_command", "export_workspace", "parse_layers", "select_features",
]


def _check_format(fmt: str) -> str:
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}.")
    return fmt


def _counts(features: gpd.GeoDataFrame) -> str:
    if features.empty:
        return "no features"
    counts = features["layer"].value_counts()
    return f"{len(features)} feature(s): " + ", ".join(f"{layer} {int(n)}" for layer, n in counts.items())


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
        Named results from `exporters.analysis_layers` (GeoDataFrames and tables).
    title, about, notes, region
        Document title, About-sheet rows, caveats and region id recorded in the output.

    Returns
    -------
    ExportResult with the files written and a message for the user.
    """
    fmt = _check_format(fmt)
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
            notes.append(f"Tables without geometry ({', '.join(tables)}) are not GeoJSON: "
                         "export XLSX, CSV or GPKG for them.")
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

        files.append(write_xlsx(features, out, analysis=analysis, about=about, notes=notes))
    if len(files) == 1:
        extra = f" and {len(analysis)} analysis result(s)" if analysis else ""
        message = f"Exported {_counts(features)}{extra} as {fmt.upper()} to {files[0].name}."
    else:
        message = (f"Exported {_counts(features)} as {fmt.upper()} to {files[0].name}, and {len(files) - 1} "
                   f"analysis result(s) to their own files ({', '.join(p.name for p in files[1:])}).")
    return ExportResult(files, message, notes)


def export_workspace(
    workspace: Any,
    fmt: str,
    out: str | Path,
    *,
    region: str | None = None,
    layers: str | Iterable[str] | None = None,
    status: str | None = None,
    include_analysis: bool = False,
    online: bool = False,
    sites: int = 3,
    radius_km: dict[str, float] | None = None,
    include_planned: bool = False,
) -> ExportResult:
    """Export a workspace's features with the command line's choices.

    Parameters
    ----------
    workspace
        A `atlas.workspace.Workspace` or its folder.
    region
        Region id: only features intersecting its boundary (imported > official >
        approximate, see `atlas.boundaries.boundary_for`); None exports every feature.
    layers
        Layer ids (list or ``"hubs,training"``); None keeps all.
    status
        ``existing`` or ``planned``; None keeps both.
    include_analysis
        Add the region's analysis results (needs `region`).
    online
        Allow downloading the official boundary (else cached or approximate, no waiting).
    sites, radius_km, include_planned
        Analysis options: suggested sites, radius per layer (km), planned-sites scenario.
    """
    from atlas.workspace import Workspace

    fmt = _check_format(fmt)
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if not workspace.exists():
        raise ExportError(
            f"workspace {workspace.path} holds no features yet. "
            f"Import files first: python -m atlas import FILE --workspace {workspace.path}"
        )
    layer_ids = parse_layers(layers)
    if include_analysis and not region:
        raise ExportError(
            "--include analysis needs --region ID: coverage, gaps and suggested sites are computed for one region."
        )
    boundary = None
    notes: list[str] = []
    about: list[tuple[str, Any]] = [("Exported at (UTC)", datetime.now(timezone.utc).isoformat(timespec="seconds")),
                                    ("Workspace", workspace.path.name)]
    title = "Creative Atlas export"
    if region:
        from atlas.boundaries import boundary_for
        from atlas.regions import load_regions

        region_obj = load_regions(workspace.path).get(region)
        boundary = boundary_for(region_obj, workspace, online=online)
        notes.extend(boundary.notes)
        notes.append(f"Region {region_obj.name}: features intersecting the {boundary.label}.")
        about += [("Region", f"{region_obj.name} ({region_obj.id})"), ("Boundary", boundary.label)]
        title = f"Creative Atlas — {region_obj.name}"
    else:
        about.append(("Region", "none: every feature in the workspace"))
    features, selection_notes = select_features(
        workspace.features(), layers=layer_ids, status=status, boundary=boundary.geometry if boundary else None
    )
    notes.extend(selection_notes)
    about += [("Layers", ", ".join(layer_ids) if layer_ids else "all"), ("Status", status or "existing and planned")]
    analysis = None
    if include_analysis:
        from exporters.analysis_layers import analysis_frames

        frames = analysis_frames(workspace, region, radius_km=radius_km, include_planned=include_planned,
                                 sites=sites, online=online)
        analysis = frames.frames
        notes.extend(n for n in frames.notes if n not in notes)
    else:
        about.append(("Analysis", "not included (export with --include analysis for coverage, gaps and sites)"))
    return export(features, fmt, out, analysis=analysis, title=title, about=about, notes=notes, region=region)


def export_to_memory(
    workspace: Any, fmt: str, name: str, **options: Any
) -> tuple[list[tuple[str, bytes]], ExportResult]:
    """Run `export_workspace` into a private temporary folder and return ``[(file name, bytes)]``.

    For download buttons: the files are read back and the folder removed. `name` is the
    file stem (the suffix comes from `fmt`); `options` are `export_workspace`'s.
    """
    fmt = _check_format(fmt)
    with tempfile.TemporaryDirectory(prefix="atlas-export-") as folder:
        stem = re.sub(r"[^0-9A-Za-z_-]+", "_", str(name)).strip("_") or "atlas"
        out = Path(folder) / f"{stem}{SUFFIXES[fmt]}"
        result = export_workspace(workspace, fmt, out, **options)
        files = [(path.name, path.read_bytes()) for path in result.files]
    return files, ExportResult([Path(n) for n, _ in files], result.message, result.notes)


def cli_command(
    workspace: str | Path,
    fmt: str,
    out: str,
    *,
    region: str | None = None,
    layers: Iterable[str] | None = None,
    status: str | None = None,
    include_analysis: bool = False,
    sites: int = 3,
) -> str:
    """Return the ``python -m atlas export`` command that makes the same export (shown on the Export page)."""
    import shlex

    parts = ["python", "-m", "atlas", "export", "--workspace", str(workspace)]
    if region:
        parts += ["--region", region]
    parts += ["--format", _check_format(fmt), "--out", out]
    if layers:
        parts += ["--layers", ",".join(layers)]
    if status:
        parts += ["--status", status]
    if include_analysis:
        parts += ["--include", "analysis"] + (["--sites", str(sites)] if sites != 3 else [])
    return shlex.join(parts)
