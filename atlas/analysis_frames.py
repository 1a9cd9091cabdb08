"""Turn a region's analysis results into the frames the exporters write (EPSG:4326).

Map layers (GeoDataFrames): ``region_boundary``, ``coverage_discs``, ``gap_areas``,
``uncovered_settlements``, ``suggested_sites``, ``catchments``, ``h3_grid`` and, when the
region has areas (municipalities, counties or NUTS 3), ``area_coverage``. Tables
(DataFrames): ``coverage_summary``, ``facility_catchments`` (population per facility)
and ``comparison`` (one row per region). `analysis_frames` runs the analysis from a
workspace and region; the ``*_frame`` functions convert results the caller already has.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.by_area import REST
from loaders.features import CRS
from loaders.layers import HUBS, LAYERS

SETTLEMENT_NOTE = (
    "Population figures count GeoNames settlement points of 500+ people: dispersed rural "
    "population that no settlement point represents is not in them."
)


@dataclass
class AnalysisFrames:
    """Analysis results ready for export, with what the reader must know about them."""

    frames: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    boundary_label: str = ""
    boundary_source: str = ""
    areas_source: str = ""
    """Where the areas of ``area_coverage`` come from ("" when the region has none)."""


def coverage_summary_frame(result: Any, *, demand_source: str = "", boundary_label: str = "") -> pd.DataFrame:
    """Return one row per analysed layer plus a "full support" row from a CoverageResult."""
    rows = []
    for layer, figures in result.layers.items():
        rows.append({
            "layer": layer,
            "radius_km": float(result.radius_km[layer]),
            "facilities": int(figures.get("facilities", 0)),
            "covered_population": int(figures["covered_population"]),
            "population": int(result.population),
            "coverage_share": round(float(figures["coverage_share"]), 4),
            "uncovered_settlements": int(figures["uncovered_settlements"]),
        })
    rows.append({
        "layer": "full support (all layers at once)",
        "radius_km": None, "facilities": None,
        "covered_population": int(round(result.full_support_share * result.population)),
        "population": int(result.population),
        "coverage_share": round(float(result.full_support_share), 4),
        "uncovered_settlements": None,
    })
    frame = pd.DataFrame(rows)
    frame["include_planned"] = bool(result.include_planned)
    frame["circuity"] = float(result.circuity)
    frame["demand_source"] = demand_source
    frame["boundary"] = boundary_label
    return frame


def uncovered_frame(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return `analysis.gaps.uncovered` output as points with flat columns.

    Columns: ``name``, ``population``, ``missing`` (layers out of reach, ``; ``-joined) and
    ``nearest_km_<layer>`` (km, empty when the layer has no facility).
    """
    out = pd.DataFrame({
        "name": table["name"].astype(object).to_numpy(),
        "population": table["population"].astype("int64").to_numpy(),
        "missing": ["; ".join(m) for m in table["missing"]],
    })
    layers = [l for l in LAYERS if any(l in d for d in table["nearest_km"])]
    for layer in layers:
        out[f"nearest_km_{layer}"] = [
            None if d.get(layer) is None else round(float(d[layer]), 3) for d in table["nearest_km"]
        ]
    lon = table["lon"].to_numpy(dtype=float)
    lat = table["lat"].to_numpy(dtype=float)
    geometry = [shapely.Point(x, y) if math.isfinite(x) and math.isfinite(y) else None for x, y in zip(lon, lat)]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)


def sites_frame(siting: Any) -> gpd.GeoDataFrame:
    """Return a SitingResult's suggested sites as points: rank, name, added population, layer."""
    rows = [
        {"rank": int(s.get("rank", i + 1)), "name": str(s["name"]), "layer": siting.layer,
         "radius_km": float(siting.radius_km), "added_population": int(s["added_population"]),
         "added_settlements": int(s.get("added_settlements", 0)), "method": siting.method,
         "lon": float(s["lon"]), "lat": float(s["lat"])}
        for i, s in enumerate(siting.sites)
    ]
    frame = pd.DataFrame(rows, columns=["rank", "name", "layer", "radius_km", "added_population",
                                        "added_settlements", "method", "lon", "lat"])
    geometry = gpd.GeoSeries(shapely.points(frame[["lon", "lat"]].to_numpy(dtype=float)) if len(frame) else [], crs=CRS)
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geometry, crs=CRS)


def _polygonal(geometry: Any) -> Any:
    """Return the polygons of a clipped area (a clip can leave slivers of line or points beside them)."""
    if geometry is None or geometry.is_empty or geometry.geom_type in ("Polygon", "MultiPolygon"):
        return None if geometry is None or geometry.is_empty else geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def area_coverage_frame(breakdown: Any, areas: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return an `analysis.by_area.AreaBreakdown` as the ``area_coverage`` layer (polygons, EPSG:4326).

    Columns: ``name``, ``code`` (the area's national or NUTS code, "" when unknown),
    ``population``, then per analysed layer ``covered_population_<layer>``,
    ``coverage_share_<layer>`` (0..1), ``facilities_<layer>`` and ``per_100k_<layer>``
    (facilities per 100,000 inhabitants), then ``full_support_share`` (0..1). Shares are
    empty for an area without people. The "rest of the region" row (demand in no area)
    is kept without geometry, so the rows add up to the region's population.

    Parameters
    ----------
    breakdown
        The `AreaBreakdown` from `analysis.by_area.by_area`.
    areas
        The areas it was computed from, same order (their ``code`` column is used).
    """
    table = breakdown.table
    codes = [str(c) for c in areas["code"]] if "code" in areas.columns else [""] * len(areas)
    codes += [""] * (len(table) - len(codes))  # the rest-of-region row
    out = pd.DataFrame({"name": table["name"].astype(object).to_numpy(), "code": codes,
                        "population": table["population"].astype("int64").to_numpy()})
    for layer in breakdown.layers:
        out[f"covered_population_{layer}"] = table[f"covered_population_{layer}"].astype("int64").to_numpy()
        out[f"coverage_share_{layer}"] = table[f"coverage_share_{layer}"].astype(float).round(6).to_numpy()
        out[f"facilities_{layer}"] = table[f"facilities_{layer}"].astype("int64").to_numpy()
        out[f"per_100k_{layer}"] = table[f"per_100k_{layer}"].astype(float).round(2).to_numpy()
    out["full_support_share"] = table["full_support_share"].astype(float).round(6).to_numpy()
    geometry = [_polygonal(g) for g in breakdown.geometry.to_numpy()]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)


def area_report_table(frame: pd.DataFrame, *, layers: list[str] = LAYERS) -> pd.DataFrame:
    """Return the ``area_coverage`` layer as the Gaps page shows it, with each area's code beside its name.

    Columns: Area, Code, People, "<layer> within reach (%)", "Full support (%)",
    "<layer> per 100,000" (`atlas.dashboard.area_table`); percentages are 0..100, rounded.
    """
    from atlas.dashboard import area_table

    table = area_table(frame, list(layers))
    if "code" in frame.columns and frame["code"].astype(str).str.len().gt(0).any():
        table.insert(1, "Code", frame["code"].to_numpy())
    return pd.DataFrame(table).reset_index(drop=True)


def _areas_note(breakdown: Any, source: str, demand_kind: str) -> str:
    rest = bool((breakdown.table["name"] == REST).any())
    areas = len(breakdown.table) - rest
    note = f"Coverage by area: {areas} areas, {source}; {demand_kind} count in the area holding them"
    if breakdown.moved:
        note += (f"; {breakdown.moved} demand point(s) just outside every area (e.g. on a generalised "
                 "coastline) were counted in the nearest one")
    if rest:
        note += f"; demand in no area is the row '{REST}', which has no shape"
    return note + "."


def _flat_comparison(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(table).copy()
    if "largest_uncovered" in out.columns:
        largest = out.pop("largest_uncovered")
        out["largest_uncovered"] = [d.get("name") if isinstance(d, dict) else None for d in largest]
        out["largest_uncovered_population"] = [d.get("population") if isinstance(d, dict) else None for d in largest]
    return out


def analysis_frames(
    workspace: Any,
    region: str,
    *,
    radius_km: dict[str, float] | None = None,
    include_planned: bool = False,
    sites: int = 3,
    sites_layer: str = HUBS,
    online: bool = False,
    h3_resolution: int | None = None,
    comparison: bool = True,
) -> AnalysisFrames:
    """Run coverage, gaps, catchments and siting for `region` and return exportable frames.

    Parameters
    ----------
    workspace
        A `workspace.Workspace` (or its folder).
    region
        Region id.
    radius_km
        Radius per layer (km) overriding the region's defaults.
    include_planned
        Count planned facilities as covering (a scenario).
    sites
        Number of new sites to suggest for `sites_layer` (0: none).
    online
        Whether the official boundary may be downloaded (else cached or approximate).
    h3_resolution
        H3 resolution; None picks one that keeps the grid under 10,000 cells.
    comparison
        Also compute the comparison table of every region.
    """
    from analysis.by_area import by_area
    from analysis.catchments import assign, catchment_polygons
    from analysis.coverage import compute
    from analysis.gaps import coverage_discs, gap_areas, h3_grid, uncovered
    from atlas.analyze import compare_regions, inputs

    inp = inputs(workspace=workspace, region=region, radius_km=radius_km, online=online)
    result = compute(inp.demand, inp.facilities, radius_km=inp.radius_km, include_planned=include_planned)
    boundary = inp.boundary
    notes = list(dict.fromkeys(inp.notes))
    if inp.demand_source == "geonames" and not any("dispersed rural" in n for n in notes):
        notes.append(SETTLEMENT_NOTE)
    frames: dict[str, pd.DataFrame] = {}
    if boundary is not None:
        from geography.boundaries import boundary_frame

        frames["region_boundary"] = boundary_frame(boundary, region, inp.region.name if inp.region else "")
    frames["coverage_discs"] = coverage_discs(inp.facilities, radius_km=inp.radius_km, include_planned=include_planned)
    if boundary is not None:
        frames["gap_areas"] = gap_areas(result, inp.facilities, boundary.geometry)
    frames["uncovered_settlements"] = uncovered_frame(uncovered(result))
    if sites:
        from analysis.siting import site

        siting = site(inp.demand, inp.facilities, layer=sites_layer, radius_km=inp.radius_km[sites_layer],
                      k=sites, include_planned=include_planned)
        frames["suggested_sites"] = sites_frame(siting)
        notes.extend(n for n in siting.notes if n not in notes and "dispersed rural" not in n)
    cells, tables = [], []
    for layer in inp.radius_km:
        polygons = catchment_polygons(inp.facilities, boundary.geometry if boundary else None, layer=layer,
                                      include_planned=include_planned, demand=inp.demand)
        polygons.insert(0, "layer", layer)
        cells.append(polygons)
        table = assign(inp.demand, inp.facilities, layer=layer, include_planned=include_planned)
        table.insert(0, "layer", layer)
        tables.append(pd.DataFrame(table))
    if cells:
        frames["catchments"] = gpd.GeoDataFrame(pd.concat(cells, ignore_index=True), geometry="geometry", crs=CRS)
        frames["facility_catchments"] = pd.concat(tables, ignore_index=True)
    if boundary is not None:
        grid = h3_grid(boundary.geometry, inp.facilities, resolution=h3_resolution, include_planned=include_planned)
        for column in [c for c in grid.columns if c.startswith("nearest_km_")]:
            grid[column] = grid[column].replace([np.inf, -np.inf], np.nan)  # no facility: empty, not inf
        frames["h3_grid"] = grid
    areas_source = ""
    if inp.areas is not None and len(inp.areas):
        breakdown = by_area(result, inp.areas, inp.facilities)
        frames["area_coverage"] = area_coverage_frame(breakdown, inp.areas)
        areas_source = inp.areas_source
        notes.append(_areas_note(breakdown, areas_source, inp.demand_kind))
    frames["coverage_summary"] = coverage_summary_frame(
        result, demand_source=inp.demand_source, boundary_label=boundary.label if boundary else ""
    )
    if comparison:
        table, _details = compare_regions(workspace, online=False,
                                          include_planned=include_planned)
        frames["comparison"] = _flat_comparison(table)
    return AnalysisFrames(frames, notes, boundary.label if boundary else "", boundary.source if boundary else "",
                          areas_source)
