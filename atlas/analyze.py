"""The adapter from a workspace and region (or explicit files) to analysis inputs, and the JSON report."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from analysis.base import lonlat, select_facilities
from analysis.coverage import CoverageResult, compute
from errors import UsageError
from i18n import Text
from geography import settlements as settlements_module
from geography.regions import Region, Registry, load_regions
from loaders import read_file
from loaders.features import CRS, empty_features
from loaders.layers import HUBS, LAYERS, UNCLASSIFIED

if TYPE_CHECKING:
    from analysis.travel import Router, TravelCoverage
    from geography.boundaries import Boundary
    from workspace import Workspace

GEONAMES = "geonames"
DEFAULT_MINUTES = 30.0
"""Travel time per layer when a network is given without --minutes."""
MAX_OFF_NETWORK_LISTED = 100
NO_BOUNDARY = "none"
"""``geography.boundaries.NONE``: the report's boundary source when there is none. The boundary
sources and the workspace are imported only when an analysis uses them, so that one of
explicit files starts faster."""


@dataclass
class AnalysisInputs:
    """Everything one analysis needs, resolved from a workspace, a region and/or files.

    Attributes
    ----------
    region
        The region, or None for explicit files only.
    boundary
        The boundary used to choose demand, or None ("all demand given counts").
    facilities
        Canonical features (EPSG:4326); every layer and status (the core selects).
    demand
        Settlements or cells inside the boundary: ``name``, ``population``, Point EPSG:4326.
    demand_source
        ``geonames`` or the population file's name.
    radius_km
        Radius per layer in km.
    notes
        Caveats for the report (boundary fallbacks, rejected rows, left-out features).
    details
        Extra report fields (demand rows read/rejected, facilities file report).
    areas, areas_source
        Areas to break the figures down by (``name``, ``code``, polygons clipped to the
        boundary), or None; and where they come from.
    demand_kind
        What the demand points are, plural ("settlements", "grid cells" ...).
    """

    region: Region | None
    boundary: Boundary | None
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    demand_source: str
    radius_km: dict[str, float]
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    areas: gpd.GeoDataFrame | None = None
    areas_source: str = ""
    demand_kind: str = "settlements"


def _workspace(workspace: Workspace | str | Path | None) -> Workspace | None:
    if workspace is None:
        return None
    from workspace import Workspace

    if isinstance(workspace, Workspace):
        return workspace
    opened = Workspace(workspace)  # a folder or a postgresql:// URL; connects only when read
    if opened.path is not None and not opened.path.is_dir():
        path = opened.path
        raise UsageError(f"workspace {path} does not exist. Create it with: python -m atlas import FILE --workspace {path}")
    return opened


def _shown(workspace: Workspace) -> str:
    """The workspace's folder, or its database name (a URL may hold a password), for messages."""
    return str(workspace.path) if workspace.path is not None else f"database {workspace.name}"


def _facilities(source, workspace: Workspace | None, notes: list[str], details: dict[str, Any]) -> gpd.GeoDataFrame:
    if isinstance(source, gpd.GeoDataFrame):
        frame = source
    elif source is not None:
        result = read_file(source)
        details["facilities_file"] = result.summary()
        if result.rejected:
            notes.append(Text("{file}: {n} of {total} entries rejected (first: {where}: {reason})", file=result.file,
                              n=len(result.rejected), total=result.rows_read, where=result.rejected[0].where,
                              reason=result.rejected[0].reason))
        frame = result.features
    elif workspace is not None:
        if not workspace.exists():
            raise UsageError(
                f"workspace {_shown(workspace)} holds no imported features yet. "
                f"Import them first: python -m atlas import FILE --workspace {workspace.path or 'URL'}"
            )
        frame = workspace.features()
    else:
        raise UsageError("no facilities: give --facilities FILE or --workspace DIR.")
    if frame.crs is None:
        frame = frame.set_crs(CRS)
    elif not frame.crs.equals(CRS):
        frame = frame.to_crs(CRS)
    unclassified = int((frame["layer"] == UNCLASSIFIED).sum()) if "layer" in frame else 0
    if unclassified:
        notes.append(Text("{n} facility(ies) have no layer (unclassified) and are left out; "
                          "assign them a layer on the Data page.", n=unclassified))
    unlocated = int((frame.geometry.isna() | frame.geometry.is_empty).sum())
    if unlocated:
        notes.append(Text("{n} facility(ies) have no location and cover nothing; add coordinates or a town.",
                          n=unlocated))
    return frame if not frame.empty else empty_features()


def _boundary(
    boundary, region: Region | None, workspace: Workspace | None, *, online: bool, timeout_s: float,
    url_template: str | None,
) -> Boundary | None:
    if boundary is None and region is None:
        return None
    from geography.boundaries import (
        IMPORTED,
        Boundary,
        boundary_for,
        read_boundary_file,
    )

    if isinstance(boundary, Boundary):
        return boundary
    if isinstance(boundary, BaseGeometry):
        return Boundary(boundary, IMPORTED, "boundary given by the caller")
    if boundary is not None:
        geometry, described = read_boundary_file(boundary, nuts=region.nuts if region else ())
        return Boundary(geometry, IMPORTED, f"imported boundary: {described}")
    if region is not None:
        return boundary_for(region, workspace, online=online, timeout_s=timeout_s, url_template=url_template)
    return None


def _stored_layer(source, workspace: Workspace | None) -> str | None:
    """The name of a stored population layer `source` refers to (not an existing file), or None."""
    if workspace is None or not isinstance(source, (str, Path)) or Path(source).exists():
        return None
    source = str(source)
    from geography.demand_layers import GEONAMES, demand_layers

    if source == GEONAMES:
        return GEONAMES
    return source if any(layer.name == source for layer in demand_layers(workspace)) else None


def _demand(source, boundary: Boundary | None, region: Region | None, notes: list[str],
            details: dict[str, Any], workspace: Workspace | None = None,
            inside: bool = False) -> tuple[gpd.GeoDataFrame, str, str]:
    countries = region.countries if region else None
    stored = _stored_layer(source, workspace)
    if stored == GEONAMES:
        source = None
    if source is None:
        if boundary is None:
            raise UsageError(
                "no demand: give --demand FILE (name, lat, lon, population), or --region / --boundary "
                "so the GeoNames settlements inside it can be used."
            )
        frame = settlements_module.settlements(boundary.geometry, countries=countries)
        notes.append(settlements_module.SETTLEMENT_CAVEAT)
        return frame, GEONAMES, "settlements"
    if stored is not None:
        from geography.demand_layers import KIND_POINTS, demand_for

        frame, layer, outside = demand_for(workspace, stored, boundary.geometry if boundary else None, countries)
        details["demand_layer"] = {"name": layer.name, "file": layer.file, "kind": layer.kind,
                                   "notes": layer.notes}
        notes.extend(note for note in layer.notes if "cell centres" in note)
        return frame, layer.name, KIND_POINTS.get(layer.kind, "points")
    kind = "settlements"
    if isinstance(source, gpd.GeoDataFrame):
        frame, name = source, "demand given by the caller"
    else:
        from geography.demand_layers import KIND_POINTS, read_demand_file

        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{path.name}: cannot be opened ({exc.strerror}). Check the path, or name a "
                             "population layer stored in the workspace.") from None
        load, kind = read_demand_file(data, path.name, boundary=boundary.geometry if boundary else None)
        kind = KIND_POINTS.get(kind, "points")
        details["demand_file"] = load.summary()
        notes.extend(note for note in load.notes if "cell centres" in note)
        if load.rejected:
            notes.append(Text("{file}: {n} of {total} rows rejected (first: {where}: {reason})", file=load.file,
                              n=len(load.rejected), total=load.rows_read, where=load.rejected[0].where,
                              reason=load.rejected[0].reason))
        frame, name = load.demand, load.file
    if boundary is not None and not inside:
        kept = settlements_module.clip(frame, boundary.geometry, countries=countries)
        outside = len(frame) - len(kept)
        if outside:
            notes.append(Text("{n} demand rows lie outside the boundary (or the region's countries) and are "
                              "not counted.", n=outside))
        details["demand_outside_boundary"] = outside
        frame = kept
    return frame, name, kind


def _areas(areas, region: Region | None, boundary: Boundary | None,
           workspace: Workspace | None) -> tuple[gpd.GeoDataFrame | None, str]:
    if boundary is None or areas is False:
        return None, ""
    from geography.areas import region_areas

    if areas is None:
        return region_areas(region, boundary.geometry, workspace)
    if isinstance(areas, gpd.GeoDataFrame):
        return region_areas(region, boundary.geometry, frame=areas, source="the areas given")
    from geography.boundary_files import read_area_bytes

    path = Path(areas)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--areas {path.name}: cannot be opened ({exc.strerror}). Check the path.") from None
    frame, _, _ = read_area_bytes(data, path.name)
    found, source = region_areas(region, boundary.geometry, frame=frame, source=path.name)
    if found is None:
        raise UsageError(f"--areas {path.name}: none of its {len(frame)} areas lies mostly inside the region's "
                         "boundary. Check the file covers the region.")
    return found, source


def inputs(
    *,
    workspace: Workspace | str | Path | None = None,
    region: Region | str | None = None,
    facilities: str | Path | gpd.GeoDataFrame | None = None,
    demand: str | Path | gpd.GeoDataFrame | None = None,
    boundary: str | Path | BaseGeometry | Boundary | None = None,
    radius_km: dict[str, float] | None = None,
    online: bool = False,
    timeout_s: float = 5.0,
    url_template: str | None = None,
    registry: Registry | None = None,
    areas: str | Path | gpd.GeoDataFrame | bool | None = None,
    demand_inside: bool = False,
) -> AnalysisInputs:
    """Resolve what to analyse: explicit arguments override the workspace and region.

    Parameters
    ----------
    workspace
        Workspace (or its folder): facilities, imported boundaries, cached official
        boundaries, and its ``regions.json``.
    region
        Region id or Region: boundary (imported > official > approximate) and radii.
    facilities, demand, boundary
        Files (any importable facilities file; a population layer: settlements CSV,
        grid CSV, GeoTIFF, GeoJSON/GPKG points or polygons; GeoJSON/TopoJSON/GPKG/KML/
        zipped-shapefile boundary) or frames/geometries in EPSG:4326. `demand` may also
        name a population layer stored in the workspace (`geography.demand_layers`).
        With a boundary, only demand inside it (and the region's countries) counts.
    areas
        Areas to break the figures down by (a boundary file of municipalities/counties,
        or a frame); by default the areas imported into the workspace, else the shipped
        NUTS 3 regions inside the region's codes; False for no breakdown.
    demand_inside
        The demand frame given is already inside the boundary and the region's countries
        (the dashboard's cached demand): it is not clipped again.
    radius_km
        Radius per layer (km) overriding the region's defaults.
    online, timeout_s, url_template
        Official boundary download (see `geography.boundaries.boundary_for`); offline by
        default (a cached official boundary is still used).
    """
    workspace = _workspace(workspace)
    notes: list[str] = []
    details: dict[str, Any] = {}
    registry = registry or load_regions(workspace)
    if isinstance(region, str):
        region = registry.get(region)
    chosen_boundary = _boundary(boundary, region, workspace, online=online, timeout_s=timeout_s,
                                url_template=url_template)
    if chosen_boundary is not None:
        notes.extend(chosen_boundary.notes)
    frame = _facilities(facilities, workspace, notes, details)
    demand_frame, source, kind = _demand(demand, chosen_boundary, region, notes, details, workspace,
                                         inside=demand_inside)
    found_areas, areas_source = _areas(areas, region, chosen_boundary, workspace)
    return AnalysisInputs(region, chosen_boundary, frame, demand_frame, source,
                          registry.radius_km(region, radius_km), notes, details, found_areas, areas_source, kind)


def in_sector(inp: AnalysisInputs, sector: str | None) -> AnalysisInputs:
    """Return `inp` with only the facilities serving `sector` (listing it or ``all``); `inp` itself for None.

    `sector` may be an alias (``"gry"``, ``"Spel"`` → games). The report says which
    sector (``details["sector"]``) and how many facilities were kept.

    Raises
    ------
    UsageError
        When `sector` names no creative sector, listing the choices.
    """
    if sector is None or not str(sector).strip():
        return inp
    from analysis.coverage import SECTOR_CHOICES, facilities_in_sector
    from loaders.vocabulary import sector_choice

    canonical = sector_choice(str(sector))
    if canonical is None:
        raise UsageError(f"--sector '{sector}' is not a creative sector; use one of {', '.join(SECTOR_CHOICES)} "
                         "(or its name in Swedish, Polish or German, e.g. gry).")
    kept = facilities_in_sector(inp.facilities, canonical)
    note = Text("Sector {sector}: only the {n} of {total} facilities that list {sector} (or all sectors) count.",
                sector=canonical, n=len(kept), total=len(inp.facilities))
    return dataclasses.replace(inp, facilities=kept, notes=[*inp.notes, note],
                               details={**inp.details, "sector": canonical})


# -- report -------------------------------------------------------------------------------
def _km(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, 3) if math.isfinite(value) else None


def _share(value: float) -> float:
    return round(float(value), 6)


def _facility_counts(inp: AnalysisInputs, result: CoverageResult, include_planned: bool) -> dict[str, dict[str, int]]:
    """Facilities of each layer inside the boundary, and outside ones that serve settlements inside."""
    counts: dict[str, dict[str, int]] = {}
    for layer in result.analysed_layers:
        chosen = select_facilities(inp.facilities, layer, include_planned=include_planned)
        points = lonlat(chosen.geometry)
        located = np.isfinite(points).all(axis=1)
        if inp.boundary is None:
            counts[layer] = {"inside": int(located.sum()), "serving_from_outside": 0}
            continue
        inside = np.zeros(len(chosen), dtype=bool)
        inside[located] = shapely.intersects_xy(inp.boundary.geometry, points[located, 0], points[located, 1])
        settlements = result.settlements
        serving = set(settlements.loc[settlements[f"covered_{layer}"].to_numpy(dtype=bool), f"nearest_id_{layer}"].dropna())
        outside_ids = set(chosen["feature_id"].to_numpy(dtype=object)[located & ~inside])
        counts[layer] = {"inside": int(inside.sum()), "serving_from_outside": len(serving & outside_ids)}
    return counts


def report(
    inp: AnalysisInputs,
    result: CoverageResult | TravelCoverage,
    *,
    siting: Any = None,
    sites_layer: str = HUBS,
    include_planned: bool = False,
    max_gaps: int | None = None,
    count_facilities: bool = True,
) -> dict[str, Any]:
    """Build the ``atlas analyze --json`` object from resolved inputs and core results.

    Keys of the issue's schema come first (region, boundary, demand, radius_km, layers,
    full_support_share, gaps, siting); extras follow (names, labels, notes, scenario).
    ``layers[L].facilities`` counts facilities inside the boundary (all given ones when
    there is none); ``facilities_serving_from_outside`` counts those outside it that are
    the nearest covering facility of a settlement inside. ``gaps`` lists the settlements
    lacking a layer, largest first: all of them, or the first ``max_gaps``;
    ``gaps_total`` counts them all. Without ``count_facilities`` (the dashboard counts them
    once per region, not per radius) ``facilities`` counts every located facility and
    ``facilities_serving_from_outside`` is None.

    A travel-time result (`analysis.travel.TravelCoverage`) gives ``"measure": "minutes"``,
    ``mode``, ``minutes`` per layer instead of ``radius_km``, ``nearest_minutes`` (and
    ``snap_m``, ``on_network``) in each gap, ``off_network`` (demand points too far from
    the network) and ``network`` (what it was measured on, with the speeds assumed).
    """
    travel = getattr(result, "measure", "km") == "minutes"
    if travel:
        from analysis.travel import uncovered
    else:
        from analysis.gaps import uncovered

    counts = _facility_counts(inp, result, include_planned) if count_facilities else {
        layer: {"inside": figures["facilities"], "serving_from_outside": None}
        for layer, figures in result.layers.items()}
    layers = {}
    for layer, figures in result.layers.items():
        layers[layer] = {
            "facilities": counts[layer]["inside"],
            "covered_population": int(figures["covered_population"]),
            "coverage_share": _share(figures["coverage_share"]),
            "uncovered_settlements": int(figures["uncovered_settlements"]),
            "facilities_serving_from_outside": counts[layer]["serving_from_outside"],
            "facilities_without_location": int(result.unlocated.get(layer, 0)),
        }
        if travel:
            layers[layer]["facilities_off_network"] = int(figures["facilities_off_network"])
    gaps = []
    total, source = _gap_rows(result, max_gaps)
    listed = uncovered(source)
    if max_gaps is not None:
        listed = listed.head(max(max_gaps, 0))
    for row in listed.itertuples(index=False):
        gap = {
            "name": str(row.name),
            "population": int(row.population),
            "lat": None if not math.isfinite(row.lat) else round(float(row.lat), 6),
            "lon": None if not math.isfinite(row.lon) else round(float(row.lon), 6),
            "missing": list(row.missing),
        }
        if travel:
            gap["nearest_minutes"] = dict(row.nearest_minutes)
            gap["snap_m"] = None if not math.isfinite(row.snap_m) else round(float(row.snap_m), 1)
            gap["on_network"] = bool(row.on_network)
        else:
            gap["nearest_km"] = {layer: _km(km) for layer, km in row.nearest_km.items()}
        gaps.append(gap)
    site_report: dict[str, Any] = {"layer": sites_layer, "sites": []}
    if siting is not None:
        summary = _jsonable(siting.to_dict()) if hasattr(siting, "to_dict") else {}
        site_report = {
            "layer": siting.layer,
            "sites": [
                {"name": str(s["name"]), "lat": round(float(s["lat"]), 6), "lon": round(float(s["lon"]), 6),
                 "added_population": int(s["added_population"])}
                for s in siting.sites
            ],
        }
        for key in ("k", "radius_km", "measure", "minutes", "mode", "covered_before", "covered_after", "optimum",
                    "gap_to_optimum", "method", "notes"):
            if key in summary:
                site_report[key] = summary[key]
    boundary = inp.boundary
    demand_report = {
        "source": inp.demand_source,
        "settlements": int(len(inp.demand)),
        "population": int(result.population),
    }
    denominator = _denominator(inp, result)
    demand_report.update(denominator.to_dict())
    if denominator.warning():
        demand_report["warning"] = denominator.warning()
    demand_report["kind"] = inp.demand_kind
    if inp.demand_source == GEONAMES:
        demand_report["note"] = settlements_module.SETTLEMENT_CAVEAT
    if "demand_layer" in inp.details:
        demand_report["layer"] = inp.details["demand_layer"]
    if "demand_file" in inp.details:
        demand_report["file"] = inp.details["demand_file"]
    if "demand_outside_boundary" in inp.details:
        demand_report["outside_boundary"] = inp.details["demand_outside_boundary"]
    out: dict[str, Any] = {
        "region": inp.region.id if inp.region else None,
        "boundary": boundary.source if boundary else NO_BOUNDARY,
        "demand": demand_report,
        **({"measure": "minutes", "mode": result.mode,
            "minutes": {layer: float(value) for layer, value in result.minutes.items()}} if travel else
           {"radius_km": {layer: float(km) for layer, km in result.radius_km.items()}}),
        "layers": layers,
        "full_support_share": _share(result.full_support_share),
        "gaps": gaps,
        "gaps_total": total,
        "siting": site_report,
        "region_name": inp.region.name if inp.region else None,
        "boundary_label": boundary.label if boundary else Text("no boundary: all demand given counts"),
        "boundary_attribution": boundary.attribution if boundary else "",
        "boundary_area_km2": round(boundary.area_km2(), 1) if boundary else None,
        "include_planned": bool(include_planned),
        "circuity": float(result.circuity),
        "notes": list(dict.fromkeys(([denominator.warning()] if denominator.warning() else []) + inp.notes)),
    }
    if denominator.too_few:
        # One or two points are 0 % or 100 % covered: no share is shown rather than a misleading one.
        for figures in layers.values():
            figures["coverage_share"] = None
        out["full_support_share"] = None
    if inp.areas is not None:
        from analysis.by_area import by_area

        breakdown = by_area(result, inp.areas, inp.facilities)
        out["by_area"] = breakdown.records()
        out["areas_source"] = inp.areas_source
    if "facilities_file" in inp.details:
        out["facilities_file"] = inp.details["facilities_file"]
    if "sector" in inp.details:
        out["sector"] = inp.details["sector"]
    if travel:
        off = result.off_network
        out["off_network"] = {
            "points": len(off), "population": int(off["population"].sum()),
            "snap_limit_m": result.network.get("snap_limit_m"),
            "listed": [{"name": str(r.name), "population": int(r.population), "snap_m": _km(r.snap_m)}
                       for r in off.head(MAX_OFF_NETWORK_LISTED).itertuples(index=False)],
        }
        from geography.network import assumptions

        out["network"] = {**result.network, "assumptions": assumptions(result.mode)}
    return out


def _denominator(inp: AnalysisInputs, result: CoverageResult):
    """The demand measured against the region's official population (see `atlas.denominator`)."""
    from atlas.denominator import Denominator

    official = inp.region.population if inp.region is not None else None
    return Denominator(points=int(len(inp.demand)), population=int(result.population),
                       official=official.value if official else None,
                       official_year=official.year if official else None,
                       official_source=official.source if official else None, what=inp.demand_kind)


def _gap_rows(result: CoverageResult, max_gaps: int | None) -> tuple[int, CoverageResult]:
    """Count the gaps; return a result holding only the settlements the first `max_gaps` come from.

    Describing every gap of a continent (tens of thousands of dicts) costs more than the
    analysis; the largest ``max_gaps`` are among the settlements at least as populous as
    the ``max_gaps``-th largest gap, ties included, so listing those is exact.
    """
    settlements = result.settlements
    lacking = ~settlements["full_support"].to_numpy(dtype=bool)
    total = int(lacking.sum())
    if max_gaps is None or total <= max(max_gaps, 0):
        return total, result
    population = settlements["population"].to_numpy()
    if max_gaps <= 0:
        keep = np.zeros(len(settlements), dtype=bool)
    else:
        gap_population = population[lacking]
        threshold = np.partition(gap_population, total - max_gaps)[total - max_gaps]
        keep = lacking & (population >= threshold)
    return total, dataclasses.replace(result, settlements=settlements.loc[keep])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "__dict__"):
        return _jsonable({k: v for k, v in vars(value).items() if not k.startswith("_")})
    return str(value)


def _candidates(path: str | Path | None) -> gpd.GeoDataFrame | None:
    if path is None:
        return None
    features = read_file(path).features
    features = features[~(features.geometry.isna() | features.geometry.is_empty)]
    if features.empty:
        raise UsageError(f"{Path(path).name}: no candidate site has a location. Add coordinates or towns.")
    return features


def analyze(
    *,
    workspace: Workspace | str | Path | None = None,
    region: Region | str | None = None,
    facilities: str | Path | gpd.GeoDataFrame | None = None,
    demand: str | Path | gpd.GeoDataFrame | None = None,
    boundary: str | Path | BaseGeometry | Boundary | None = None,
    radius_km: dict[str, float] | None = None,
    sites: int = 0,
    sites_layer: str = HUBS,
    candidates: str | Path | gpd.GeoDataFrame | None = None,
    include_planned: bool = False,
    circuity: float = 1.0,
    online: bool = False,
    timeout_s: float = 5.0,
    url_template: str | None = None,
    max_gaps: int | None = None,
    areas: str | Path | gpd.GeoDataFrame | None = None,
    network: str | Path | None = None,
    mode: str = "drive",
    minutes: dict[str, float] | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    """Run coverage, gaps and (with ``sites > 0``) siting, and return the JSON-able report.

    With `sector` (a creative sector or an alias of one, e.g. ``"gry"``) only the
    facilities serving it count (see `in_sector`); the report then has ``sector``.

    See `inputs` for how the workspace, region and files combine and `report` for the
    result. Siting looks for `sites` new facilities of `sites_layer` among the demand
    points (or the `candidates` file's points), with the same radius and circuity.
    ``max_gaps`` lists only the largest gaps (``gaps_total`` still counts them all).

    With `network` (an ``.osm.pbf`` extract) everything is measured in minutes of travel
    by `mode` (``drive``, ``walk``, ``bike``) within `minutes` per layer (`DEFAULT_MINUTES`
    for each analysed layer not given); the built network is cached in
    the workspace folder's ``networks/``. Without it, great-circle km as before.
    """
    if minutes is not None and network is None:
        raise UsageError("--minutes needs --network FILE.osm.pbf (a street network to measure travel time on); "
                         "without one, give --radius LAYER=KM.")
    if network is not None and radius_km:
        raise UsageError("--radius is a distance in km; with --network give travel times instead, e.g. "
                         "--minutes hubs=30.")
    if network is not None and circuity != 1.0:
        raise UsageError("--circuity approximates roads from straight lines; with --network the roads themselves "
                         "are used, so leave it out.")
    if sites_layer not in LAYERS:
        raise UsageError(f"--sites-layer '{sites_layer}' is not a layer; use one of {', '.join(LAYERS)}.")
    if sites < 0 or sites > 10:
        raise UsageError(f"--sites {sites}: give a number of new sites between 1 and 10.")
    workspace = _workspace(workspace)
    inp = inputs(workspace=workspace, region=region, facilities=facilities, demand=demand, boundary=boundary,
                 radius_km=radius_km, online=online, timeout_s=timeout_s, url_template=url_template, areas=areas)
    inp = in_sector(inp, sector)
    if network is not None:
        return _analyze_travel(inp, workspace, network, mode, minutes, sites=sites, sites_layer=sites_layer,
                               candidates=candidates, include_planned=include_planned, max_gaps=max_gaps)
    result = compute(inp.demand, inp.facilities, radius_km=inp.radius_km, include_planned=include_planned,
                     circuity=circuity)
    siting = None
    if sites:
        from analysis.siting import site

        chosen = candidates if isinstance(candidates, gpd.GeoDataFrame) or candidates is None else _candidates(candidates)
        siting = site(inp.demand, inp.facilities, layer=sites_layer, radius_km=inp.radius_km[sites_layer],
                      k=sites, candidates=chosen, include_planned=include_planned, circuity=circuity)
    return report(inp, result, siting=siting, sites_layer=sites_layer, include_planned=include_planned,
                  max_gaps=max_gaps)


def network_cache(workspace: Workspace | None) -> Path | None:
    """The folder a workspace keeps built street networks in (``networks/``), or None (PostGIS, no workspace)."""
    if workspace is None or workspace.path is None:
        return None
    return workspace.path / "networks"


def travel_router(network: str | Path, mode: str, workspace: Workspace | str | Path | None = None) -> Router:
    """Return a `analysis.travel.Router` on the `mode` network of an extract, built once per workspace.

    Raises `errors.ImportFileError` for a file that is not a usable ``.osm.pbf`` extract.
    """
    from analysis.travel import Router
    from geography.network import MODES, load_network

    if mode not in MODES:
        raise UsageError(f"--mode '{mode}' is not a travel mode; use one of {', '.join(MODES)}.")
    return Router(load_network(network, mode, cache_dir=network_cache(_workspace(workspace))))


def _analyze_travel(inp: AnalysisInputs, workspace: Workspace | None, network: str | Path, mode: str,
                    minutes: dict[str, float] | None, *, sites: int, sites_layer: str,
                    candidates, include_planned: bool, max_gaps: int | None) -> dict[str, Any]:
    """`analyze` in minutes of travel on a street network."""
    from analysis import travel

    router = travel_router(network, mode, workspace)
    # As with radii: the layers the region analyses, each at the default unless given.
    minutes = {**{layer: DEFAULT_MINUTES for layer in inp.radius_km}, **(minutes or {})}
    try:
        minutes = travel.check_minutes(minutes)
    except ValueError as exc:
        raise UsageError(f"--minutes: {exc}") from None
    result = travel.coverage(router, inp.demand, inp.facilities, minutes=minutes, include_planned=include_planned)
    siting = None
    if sites:
        if sites_layer not in minutes:
            raise UsageError(f"--sites-layer {sites_layer} has no travel time; add --minutes {sites_layer}=MIN.")
        chosen = candidates if isinstance(candidates, gpd.GeoDataFrame) or candidates is None else _candidates(candidates)
        siting = travel.site(router, inp.demand, inp.facilities, layer=sites_layer, minutes=minutes[sites_layer],
                             k=sites, candidates=chosen, include_planned=include_planned)
    out = report(inp, result, siting=siting, sites_layer=sites_layer, include_planned=include_planned,
                 max_gaps=max_gaps)
    if result.off_network is not None and len(result.off_network):
        out["notes"].append(f"{len(result.off_network)} demand point(s) lie more than {router.snap_limit_m:g} m "
                            f"from the {mode} network and are counted as not covered (off_network).")
    return out


# -- comparison ---------------------------------------------------------------------------
def compare_regions(
    workspace: Workspace | str | Path,
    *,
    region_ids: list[str] | None = None,
    include_planned: bool = False,
    circuity: float = 1.0,
    online: bool = False,
    timeout_s: float = 5.0,
    url_template: str | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Compare regions side by side: one row per region (see `analysis.compare`).

    Each region uses its own boundary (imported > official > approximate), its own radii
    and the workspace's facilities. After the first failed download (no connection) the
    remaining regions are done offline, so a meeting without Wi-Fi does not wait for
    every timeout.

    Returns
    -------
    The comparison table, and per region id its boundary source and label and notes.
    """
    from analysis.compare import compare, compare_row

    workspace = _workspace(workspace)
    registry = load_regions(workspace)
    ids = region_ids or list(registry.regions)
    facilities = None
    rows, details = [], {}
    for region_id in ids:
        region = registry.get(region_id)
        inp = inputs(workspace=workspace, region=region, facilities=facilities, online=online,
                     timeout_s=timeout_s, url_template=url_template, registry=registry)
        facilities = inp.facilities  # read the workspace once
        if inp.boundary is not None and inp.boundary.network_failed:
            online = False
        result = compute(inp.demand, inp.facilities, radius_km=inp.radius_km, include_planned=include_planned,
                         circuity=circuity)
        inside = _inside(inp)
        rows.append(compare_row(region.id, region.name, result, inside))
        details[region.id] = {
            "boundary": inp.boundary.source if inp.boundary else NO_BOUNDARY,
            "boundary_label": inp.boundary.label if inp.boundary else "",
            "notes": list(dict.fromkeys(inp.notes)),
        }
    return compare(rows), details


def _inside(inp: AnalysisInputs) -> gpd.GeoDataFrame:
    """Return the facilities located inside the boundary (all of them when there is none)."""
    frame = inp.facilities
    if inp.boundary is None or frame.empty:
        return frame
    points = lonlat(frame.geometry)
    located = np.isfinite(points).all(axis=1)
    inside = np.zeros(len(frame), dtype=bool)
    inside[located] = shapely.intersects_xy(inp.boundary.geometry, points[located, 0], points[located, 1])
    return frame.loc[inside]
