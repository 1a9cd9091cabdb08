"""Turn a region's analysis results into the frames the exporters write (EPSG:4326).

Map layers (GeoDataFrames): ``region_boundary``, ``coverage_discs``, ``gap_areas``,
``uncovered_settlements``, ``suggested_sites``, ``catchments``, ``h3_grid``. Tables
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
    frames["coverage_summary"] = coverage_summary_frame(
        result, demand_source=inp.demand_source, boundary_label=boundary.label if boundary else ""
    )
    if comparison:
        table, _details = compare_regions(workspace, online=False,
                                          include_planned=include_planned)
        frames["comparison"] = _flat_comparison(table)
    return AnalysisFrames(frames, notes, boundary.label if boundary else "", boundary.source if boundary else "")
