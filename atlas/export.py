"""Export a workspace for partners: pick features by region, layer and status, add the analysis, write.

What the command line's ``export`` and the Export page call; the writing itself is
`exporters.export`.
"""
from __future__ import annotations

import re
import shlex
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from atlas.analysis_frames import analysis_frames, area_report_table
from exporters import (
    SUFFIXES,
    ExportError,
    ExportResult,
    check_format,
    export,
    parse_layers,
    select_features,
)
from geography.boundaries import boundary_for, boundary_frame
from geography.regions import load_regions
from i18n import check_language, use
from i18n import gettext as _
from workspace import Workspace

__all__ = ["cli_command", "export_to_memory", "export_workspace"]


def export_workspace(
    workspace: Any,
    fmt: str,
    out: str | Path,
    *,
    region: str | None = None,
    layers: str | Iterable[str] | None = None,
    status: str | None = None,
    include_analysis: bool = False,
    include_boundary: bool = False,
    online: bool = False,
    sites: int = 3,
    radius_km: dict[str, float] | None = None,
    include_planned: bool = False,
    lang: str | None = None,
) -> ExportResult:
    """Export a workspace's features with the command line's choices.

    Parameters
    ----------
    workspace
        A `workspace.Workspace`, its folder or its ``postgresql://`` URL.
    region
        Region id: only features intersecting its boundary (imported > official >
        approximate, see `geography.boundaries.boundary_for`); None exports every feature.
    layers
        Layer ids (list or ``"hubs,training"``); None keeps all.
    status
        ``existing`` or ``planned``; None keeps both.
    include_analysis
        Add the region's analysis results (needs `region`); they include the boundary and,
        when the region has areas (imported municipalities/counties, else its NUTS 3
        regions), ``area_coverage``: coverage per area as polygons (GeoJSON, GeoPackage,
        KML, CSV) and as the table of the Gaps page in the XLSX report (the By area sheet).
    include_boundary
        Add the boundary the region's results use (``region_boundary``: region_id,
        name, source, label, attribution, area_km2; needs `region`). GeoJSON and
        CSV write it beside `out` (``<stem>-region_boundary.geojson``), GeoPackage as a
        table, KML/KMZ as a folder, XLSX as the Boundary sheet.
    online
        Allow downloading the official boundary (else cached or approximate, no waiting).
    sites, radius_km, include_planned
        Analysis options: suggested sites, radius per layer (km), planned-sites scenario.
    lang
        Language of what readers see (XLSX sheet names and headers, KML folder names, the
        message): a key of `i18n.LANGUAGES`; None keeps the current one. Layer ids, field
        names of GeoJSON/GPKG/CSV and the user's data are never translated.
    """
    if lang is not None:
        with use(check_language(lang)):
            return export_workspace(workspace, fmt, out, region=region, layers=layers, status=status,
                                    include_analysis=include_analysis, include_boundary=include_boundary,
                                    online=online, sites=sites, radius_km=radius_km, include_planned=include_planned)
    fmt = check_format(fmt)
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if not workspace.exists():
        where = str(workspace.path) if workspace.path is not None else f"database {workspace.name}"
        raise ExportError(
            f"workspace {where} holds no features yet. "
            f"Import files first: python -m atlas import FILE --workspace {workspace.path or 'URL'}"
        )
    layer_ids = parse_layers(layers)
    if include_analysis and not region:
        raise ExportError(
            "--include analysis needs --region ID: coverage, gaps and suggested sites are computed for one region."
        )
    if include_boundary and not region:
        raise ExportError("--include boundary needs --region ID: give the region whose boundary to export.")
    boundary = None
    notes: list[str] = []
    about: list[tuple[str, Any]] = [(_("Exported at (UTC)"), datetime.now(timezone.utc).isoformat(timespec="seconds")),
                                    (_("Workspace"), workspace.name)]
    title = _("Creative Atlas export")
    if region:
        region_obj = load_regions(workspace).get(region)  # a URL workspace has no regions.json: shipped ones
        boundary = boundary_for(region_obj, workspace, online=online)
        notes.extend(boundary.notes)
        notes.append(_("Region {region}: features intersecting the {boundary}.").format(
            region=region_obj.name, boundary=boundary.label))
        about += [(_("Region"), f"{region_obj.name} ({region_obj.id})"), (_("Boundary"), boundary.label)]
        if boundary.attribution:
            about.append((_("Boundary attribution"), boundary.attribution))
        title = _("Creative Atlas — {region}").format(region=region_obj.name)
    else:
        about.append((_("Region"), _("none: every feature in the workspace")))
    features, selection_notes = select_features(
        workspace.features(), layers=layer_ids, status=status, boundary=boundary.geometry if boundary else None
    )
    notes.extend(selection_notes)
    about += [(_("Layers"), ", ".join(layer_ids) if layer_ids else _("all")),
              (_("Status"), status or _("existing and planned"))]
    analysis = None
    captions: dict[str, list[str]] = {}
    if include_analysis:
        frames = analysis_frames(workspace, region, radius_km=radius_km, include_planned=include_planned,
                                 sites=sites, online=online)
        analysis = frames.frames
        notes.extend(n for n in frames.notes if n not in notes)
        if "area_coverage" in analysis:
            areas = analysis["area_coverage"]
            shaped = int(areas.geometry.notna().sum())  # the rest-of-region row has no shape
            about.append((_("Areas (coverage by area)"), _("{count} areas: {source}").format(
                count=shaped, source=frames.areas_source)))
            if fmt == "xlsx":
                # Readers of the report get the table as the Gaps page shows it; GIS formats keep the
                # polygons with shares as 0..1 numbers.
                analysis = {**analysis, "area_coverage": area_report_table(areas)}
                captions["area_coverage"] = [
                    _("Coverage by area in {region}. Areas: {source}.").format(
                        region=region_obj.name, source=frames.areas_source),
                    _("Each settlement (or grid cell) counts in the area that holds it; shares are of the people "
                      "counted there."),
                ]
    else:
        about.append((_("Analysis"), _("not included (export with --include analysis for coverage, gaps and "
                                       "sites)")))
    if include_boundary and boundary is not None and not (analysis and "region_boundary" in analysis):
        analysis = {"region_boundary": boundary_frame(boundary, region_obj.id, region_obj.name), **(analysis or {})}
    if analysis and "region_boundary" in analysis and boundary is not None and boundary.attribution:
        # GISCO's terms: the notice goes wherever the boundary is drawn or exported (first: the
        # GeoPackage keeps only the first 2,000 characters of the notes).
        notes.insert(0, _("Boundary: {attribution}.").format(attribution=boundary.attribution))
    return export(features, fmt, out, analysis=analysis, title=title, about=about, notes=notes, region=region,
                  captions=captions)


def export_to_memory(
    workspace: Any, fmt: str, name: str, **options: Any
) -> tuple[list[tuple[str, bytes]], ExportResult]:
    """Run `export_workspace` into a private temporary folder and return ``[(file name, bytes)]``.

    For download buttons: the files are read back and the folder removed. `name` is the
    file stem (the suffix comes from `fmt`); `options` are `export_workspace`'s.
    """
    fmt = check_format(fmt)
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
    include_boundary: bool = False,
    sites: int = 3,
    lang: str | None = None,
) -> str:
    """Return the ``python -m atlas export`` command that makes the same export (shown on the Export page)."""
    parts = ["python", "-m", "atlas", "export", "--workspace", str(workspace)]
    if region:
        parts += ["--region", region]
    parts += ["--format", check_format(fmt), "--out", out]
    if layers:
        parts += ["--layers", ",".join(layers)]
    if status:
        parts += ["--status", status]
    if include_boundary and not include_analysis:  # the analysis holds the boundary
        parts += ["--include", "boundary"]
    if include_analysis:
        parts += ["--include", "analysis"] + (["--sites", str(sites)] if sites != 3 else [])
    if lang and lang != "en":
        parts += ["--lang", lang]
    return shlex.join(parts)
