"""The ``analyze`` and ``compare`` sub-commands of ``python -m atlas``."""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

from atlas.cli._common import LOCATION_HELP, print_json
from errors import UsageError
from loaders.layers import LAYERS

MAX_GAPS = 100
"""Gaps ``analyze --json`` lists unless ``--all-gaps`` is given (the JSON says how many there are)."""
CIRCUITY_RANGE = (1.0, 3.0)


# Values are checked here rather than by argparse so that a mistake gives the same
# one-line "error: ..." (exit 2) as every other user error, not a usage dump.
def _sites(text: str | None) -> int:
    if text is None:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--sites '{text}' is not a whole number; give how many new sites to find (1-10).") from None
    if not 1 <= value <= 10:
        raise UsageError(f"--sites {value}: give between 1 and 10 new sites.")
    return value


def _circuity(text: str | None) -> float:
    if text is None:
        return 1.0
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise UsageError(f"--circuity '{text}' is not a number; give a factor of about 1.3 for roads.") from None
    low, high = CIRCUITY_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"--circuity {text}: give a factor between {low:g} and {high:g} (at least 1; "
                         "about 1.3 for roads).")
    return value


def _layer(text: str | None) -> str:
    if text is None:
        return "hubs"
    if text not in LAYERS:
        raise UsageError(f"--sites-layer '{text}' is not a layer; use one of {', '.join(LAYERS)}.")
    return text


def _minutes(values: list[str] | None) -> dict[str, float] | None:
    """Parse ``["hubs=30", "training=45"]`` (``--minutes``) into minutes per layer; None when not given."""
    if not values:
        return None
    minutes: dict[str, float] = {}
    for text in values:
        layer, sep, number = text.partition("=")
        layer = layer.strip()
        if not sep or layer not in LAYERS:
            raise UsageError(f"--minutes {text!r}: expected LAYER=MIN with LAYER one of {', '.join(LAYERS)}, "
                             "e.g. hubs=30.")
        try:
            value = float(number.replace(",", "."))
        except ValueError:
            raise UsageError(f"--minutes {text!r}: '{number}' is not a number of minutes, e.g. hubs=30.") from None
        if not 0 < value <= 600:
            raise UsageError(f"--minutes {text!r}: the travel time must be between 0 and 600 minutes.")
        minutes[layer] = value
    return minutes


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--timeout '{text}' is not a number of seconds.") from None
    if not 0 < value <= 120:
        raise UsageError(f"--timeout {value}: give between 0 and 120 seconds.")
    return value


def _print_areas(report: dict[str, Any]) -> None:
    """One line per area: population, covered share per layer, full support."""
    rows = report["by_area"]
    width = max(len("area"), *(len(r["name"]) for r in rows))
    layers = list(report["layers"])
    print()
    print(f"  by area ({report.get('areas_source', '')}):")
    print(f"  {'area':<{width}} {'population':>11} " + " ".join(f"{layer:>9}" for layer in layers) + f" {'full':>6}")
    for row in rows:
        shares = " ".join(f"{_pct(row['layers'][layer]['coverage_share']):>9}" for layer in layers)
        print(f"  {row['name']:<{width}} {row['population']:>11,} {shares} {_pct(row['full_support_share']):>6}")


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


def _lacking(gap: dict[str, Any]) -> str:
    """Name each missing layer with its nearest distance ("hubs (nearest 33.4 km)")."""
    parts = []
    for layer in gap["missing"]:
        if "nearest_minutes" in gap:
            found = gap["nearest_minutes"].get(layer)
            parts.append(f"{layer} (off the network, {gap['snap_m']:,.0f} m from a road)" if not gap["on_network"]
                         else f"{layer} (none reachable)" if found is None else f"{layer} (nearest {found:.1f} min)")
            continue
        km = gap["nearest_km"].get(layer)
        parts.append(f"{layer} (none in the data)" if km is None else f"{layer} (nearest {km:.1f} km)")
    return ", ".join(parts)


def _online(args: argparse.Namespace) -> bool:
    if args.online and args.offline:
        raise UsageError("--online and --offline contradict each other; give one (offline is the default).")
    return bool(args.online)


def _print_report(report: dict[str, Any], *, max_gaps: int = 15) -> None:
    title = report.get("region_name") or report.get("region") or "custom analysis"
    print(f"{title}")
    print(f"  boundary: {report['boundary']} - {report['boundary_label']}")
    demand = report["demand"]
    print(f"  demand: {demand['settlements']:,} {demand.get('kind', 'settlements')}, {demand['population']:,} people "
          f"({demand['source']})")
    if demand.get("captured_share") is not None:
        official = demand["official_population"]
        print(f"  official population: {official['value']:,} ({official['year']}, {official['source']}); "
              f"the demand holds {_pct(demand['captured_share'])} of it")
    if demand.get("warning"):
        print(f"  warning: {demand['warning']}")
    scenario = []
    if report.get("include_planned"):
        scenario.append("planned facilities included")
    if report.get("circuity", 1.0) != 1.0:
        scenario.append(f"road circuity x{report['circuity']}")
    travel = report.get("measure") == "minutes"
    if travel:
        network = report["network"]
        scenario.append(f"travel time by {report['mode']} on {network.get('file')} ({network['nodes']:,} nodes, "
                        f"{network['edges']:,} edges, {network.get('cache', 'built')})")
    if scenario:
        print(f"  scenario: {', '.join(scenario)}")
    print()
    reach_title = "minutes" if travel else "radius"
    print(f"  {'layer':<10} {reach_title:>8} {'facilities':>10} {'covered people':>15} {'share':>8} {'uncovered towns':>16}")
    for layer, figures in report["layers"].items():
        reach = f"{report['minutes'][layer]:>5g} min" if travel else f"{report['radius_km'][layer]:>6g} km"
        print(f"  {layer:<10} {reach} {figures['facilities']:>10} "
              f"{figures['covered_population']:>15,} {_pct(figures['coverage_share']):>8} "
              f"{figures['uncovered_settlements']:>16}")
    print(f"  full support (all layers within reach): {_pct(report['full_support_share'])} of the population")
    if travel and report["off_network"]["points"]:
        off = report["off_network"]
        print(f"  off the {report['mode']} network (over {off['snap_limit_m']:g} m from a road): {off['points']:,} "
              f"points, {off['population']:,} people, counted as not covered")
    if report.get("by_area"):
        _print_areas(report)
    gaps = report["gaps"]
    total = report.get("gaps_total", len(gaps))
    print()
    if gaps:
        print(f"  settlements lacking a layer within reach ({total:,}; largest first):")
        for gap in gaps[:max_gaps]:
            print(f"    {gap['name']} ({gap['population']:,}): lacks {_lacking(gap)}")
        if total > max_gaps:
            print(f"    ... and {total - max_gaps:,} more (use --json --all-gaps for the full list)")
    else:
        print("  every settlement has every layer within reach")
    siting = report.get("siting") or {}
    if siting.get("sites"):
        print()
        print(f"  best new {siting['layer']} sites:")
        for i, s in enumerate(siting["sites"], start=1):
            print(f"    {i}. {s['name']} ({s['lat']:.4f}, {s['lon']:.4f}): +{s['added_population']:,} people")
        if siting.get("gap_to_optimum") is not None:
            print(f"    greedy is {_pct(siting['gap_to_optimum'])} below the optimum "
                  f"(best possible: +{siting['optimum']:,} people)")
    asked = siting.get("k") or 0
    if asked and len(siting.get("sites") or []) < asked:
        print()
        found = len(siting.get("sites") or [])
        print(f"  only {found} of the {asked} new {siting['layer']} sites asked for add anyone: every uncovered "
              "settlement within reach of a candidate site is covered by then. Widen the radius or give "
              "other --candidates to look further." if found else
              f"  no new {siting['layer']} site adds anyone: every settlement within reach of a candidate site "
              "is already covered. Widen the radius or give other --candidates to look further.")
    if report.get("notes"):
        print()
        for note in report["notes"]:
            if note != demand.get("warning"):  # printed with the demand above
                print(f"  note: {note}")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from atlas.analyze import analyze
    from geography.regions import parse_radius_args

    if args.region and not args.workspace and not args.facilities:
        raise UsageError("--region needs --workspace LOC (its imported facilities) or --facilities FILE.")
    sites, layer = _sites(args.sites), _layer(args.sites_layer)
    if args.sites_layer and not sites:
        raise UsageError("--sites-layer needs --sites K (how many new sites to look for).")
    if args.candidates and not sites:
        raise UsageError("--candidates needs --sites K (how many new sites to look for).")
    if args.mode and not args.network:
        raise UsageError("--mode needs --network FILE.osm.pbf (the street network to travel on).")
    report = analyze(
        workspace=args.workspace, region=args.region, facilities=args.facilities, demand=args.demand,
        boundary=args.boundary, radius_km=parse_radius_args(args.radius), sites=sites, areas=args.areas,
        sites_layer=layer, candidates=args.candidates,
        include_planned=args.include_planned, circuity=_circuity(args.circuity), online=_online(args),
        timeout_s=_timeout(args.timeout), max_gaps=None if args.all_gaps else MAX_GAPS,
        network=args.network, mode=args.mode or "drive", minutes=_minutes(args.minutes), sector=args.sector,
    )
    if args.json:
        print_json(report)
    else:
        _print_report(report, max_gaps=len(report["gaps"]) if args.all_gaps else 15)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from atlas.analyze import compare_regions

    table, details = compare_regions(
        args.workspace, region_ids=args.region or None, include_planned=args.include_planned,
        circuity=_circuity(args.circuity), online=_online(args), timeout_s=_timeout(args.timeout),
    )
    if args.json:
        records = json.loads(table.to_json(orient="records", force_ascii=False))
        for record in records:
            rid = record.get("region_id") or record.get("region")
            if rid in details:
                record.setdefault("boundary", details[rid]["boundary"])
        print_json({"regions": records, "details": details})
        return 0
    _print_compare(table, details)
    return 0


_NOT_CACHED = re.compile(
    r"offline: the official boundary of (?P<codes>.+?) is not cached in the workspace yet; "
    r"using the approximate outline instead\..*"
)


def _shared_notes(details: dict[str, dict[str, Any]], names: dict[str, str]) -> list[str]:
    """Each note once; the per-region "official boundary not cached" notes merged into one."""
    notes: list[str] = []
    uncached: list[str] = []
    for rid, detail in details.items():
        for note in detail.get("notes", []):
            found = _NOT_CACHED.fullmatch(note)
            if found:
                uncached.append(f"{names.get(rid, rid)} ({found['codes']})")
            elif note not in notes:
                notes.append(note)
    if uncached:
        regions = "this region" if len(uncached) == 1 else f"these {len(uncached)} regions"
        notes.append(f"the official boundaries of {regions} are not cached in the workspace yet, so the approximate "
                     f"outline is used: {'; '.join(uncached)}. Run once with --online to download and cache them, "
                     "or import a boundary file per region (import-boundary).")
    return notes


def _print_compare(table, details: dict[str, dict[str, Any]]) -> None:
    """Print one line per region: population, coverage per layer, full support, gaps."""
    def cell(row, key, fmt):
        value = row.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return fmt(value)

    rows = table.to_dict("records")
    names = {row.get("region_id"): str(row.get("region_name") or row.get("region_id")) for row in rows}
    width = max([len("region"), *map(len, names.values())])
    layer_width = {layer: max(len(f"{layer} n/%"), 13) for layer in LAYERS}
    header = (f"{'region':<{width}} {'boundary':<11} {'population':>10} "
              + " ".join(f"{layer + ' n/%':>{layer_width[layer]}}" for layer in LAYERS)
              + f" {'full':>6} {'hub km':>7}  largest uncovered")
    print(header)
    for row in rows:
        rid = row.get("region_id")
        layers = " ".join(
            f"{cell(row, f'facilities_{layer}', lambda v: f'{int(v)}'):>{layer_width[layer] - 8}} "
            f"{cell(row, f'coverage_share_{layer}', _pct):>7}" for layer in LAYERS
        )
        largest = row.get("largest_uncovered_name")
        largest_text = "-" if not isinstance(largest, str) else (
            f"{largest} ({int(row.get('largest_uncovered_population') or 0):,})")
        print(f"{names[rid]:<{width}} {details.get(rid, {}).get('boundary', ''):<11} "
              f"{int(row.get('population') or 0):>10,} {layers} "
              f"{cell(row, 'full_support_share', _pct):>6} {cell(row, 'median_km_hubs', lambda v: f'{v:.1f}'):>7}  "
              f"{largest_text}")
    print("n/% = facilities inside the boundary / share of the population within reach; "
          "hub km = population-weighted median distance to the nearest hub.")
    for note in _shared_notes(details, names):
        print(f"note: {note}")


def _cmd_import_boundary(args: argparse.Namespace) -> int:
    from geography.boundaries import import_boundary
    from geography.regions import load_regions
    from workspace import Workspace

    workspace = Workspace(args.workspace)
    if workspace.path is not None and not workspace.path.is_dir():
        raise UsageError(f"workspace {args.workspace} does not exist. Create it with: "
                         f"python -m atlas import FILE --workspace {args.workspace}")
    region = load_regions(workspace).get(args.region)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"{args.file.name}: cannot be opened ({exc.strerror}). Check the path.") from None
    boundary = import_boundary(workspace, region.id, data, args.file.name, nuts=region.nuts)
    summary = {"region": region.id, "boundary": boundary.source, "boundary_label": boundary.label,
               "area_km2": round(boundary.area_km2(), 1)}
    if args.json:
        print_json(summary)
    else:
        print(f"{region.name}: {boundary.label}, {summary['area_km2']:,} km²; analyses of this region now use it")
    return 0


def _existing_workspace(location: str):
    from workspace import Workspace

    workspace = Workspace(location)
    if workspace.path is not None and not workspace.path.is_dir():
        raise UsageError(f"workspace {location} does not exist. Create it with: "
                         f"python -m atlas import FILE --workspace {location}")
    return workspace


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path.name}: cannot be opened ({exc.strerror}). Check the path.") from None


def _cmd_import_demand(args: argparse.Namespace) -> int:
    from geography.demand_layers import import_demand

    workspace = _existing_workspace(args.workspace)
    layer, load = import_demand(workspace, _read(args.file), args.file.name, name=args.name)
    summary = {"layer": layer.name, "file": layer.file, "kind": layer.kind, "rows": layer.points,
               "population": layer.population, "rows_read": load.rows_read,
               "rejected": [r.to_dict() for r in load.rejected], "notes": layer.notes}
    if args.json:
        print_json(summary)
        return 0
    print(f"population layer '{layer.name}': {layer.points:,} {layer.kind} rows, {layer.population:,} people "
          f"from {layer.file}; use it with: analyze --demand {layer.name}")
    for rejected in load.rejected[:10]:
        print(f"  rejected {rejected.where}: {rejected.reason}")
    if len(load.rejected) > 10:
        print(f"  ... and {len(load.rejected) - 10:,} more rejected rows (see --json)")
    for note in layer.notes:
        print(f"  note: {note}")
    return 0


def _cmd_import_areas(args: argparse.Namespace) -> int:
    from geography.areas import import_areas

    workspace = _existing_workspace(args.workspace)
    result = import_areas(workspace, _read(args.file), args.file.name, country=args.country,
                          name_column=args.name_column, code_column=args.code_column)
    if args.json:
        print_json({"file": result.file, "areas": result.areas, "skipped": result.skipped,
                    "name_column": result.name_column, "code_column": result.code_column, "note": result.note})
    else:
        print(result.summary())
    return 0


def _add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """Options ``analyze`` and ``compare`` share: planned sites, circuity, network use."""
    parser.add_argument("--include-planned", action="store_true", help="count planned facilities too (scenario)")
    parser.add_argument("--circuity", metavar="F", help="road-circuity factor (about 1.3)")
    parser.add_argument("--online", action="store_true",
                        help="allow downloading official boundaries that are not cached "
                             "(default: cached or approximate, offline)")
    parser.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)  # the default; kept for old scripts
    parser.add_argument("--timeout", default="5", metavar="S", help="seconds to wait for the GISCO server (--online)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``analyze``, ``compare``, ``import-boundary``, ``import-demand`` and ``import-areas`` to the command line."""
    p = subparsers.add_parser(
        "analyze", help="coverage, gaps and siting for a region or for explicit files",
        description="Coverage, gaps and siting. Explicit files override the workspace and region.",
    )
    p.add_argument("--workspace", metavar="LOC",
                   help="workspace folder or postgresql:// URL (facilities, boundaries)")
    p.add_argument("--region", metavar="ID", help="region id from geodata/regions.json or the workspace's regions.json")
    p.add_argument("--facilities", type=Path, metavar="FILE", help="facilities: any importable file (layer and status per feature)")
    p.add_argument("--demand", metavar="FILE|LAYER",
                   help="population layer: a file (CSV of settlements with name, lat, lon, population; a 1 km grid "
                        "CSV with GRD_ID; a GeoTIFF raster; GeoJSON/GPKG points or polygons with a population) or "
                        "the name of a layer imported into the workspace with import-demand (default: GeoNames "
                        "settlements of 500+)")
    p.add_argument("--boundary", type=Path, metavar="FILE",
                   help="boundary: GeoJSON, TopoJSON, GPKG, KML/KMZ or zipped shapefile")
    p.add_argument("--areas", type=Path, metavar="FILE",
                   help="areas to break the figures down by (municipalities, counties): a boundary file of "
                        "polygons with names; by default the areas imported with import-areas, else NUTS 3")
    p.add_argument("--radius", action="append", metavar="LAYER=KM",
                   help=f"radius per layer, repeatable, e.g. --radius hubs=20 ({', '.join(LAYERS)})")
    p.add_argument("--sites", metavar="K", help="find K (1-10) best new sites")
    p.add_argument("--sites-layer", metavar="LAYER", help=f"layer for --sites: {', '.join(LAYERS)} (default hubs)")
    p.add_argument("--sector", metavar="SECTOR",
                   help="count only facilities serving this creative sector (or all sectors), e.g. games or gry")
    p.add_argument("--candidates", type=Path, metavar="FILE",
                   help="candidate sites for --sites (default: the settlements)")
    p.add_argument("--network", type=Path, metavar="FILE.osm.pbf",
                   help="measure travel time on this OpenStreetMap extract (Geofabrik/BBBike .osm.pbf) instead of "
                        "km; built once and cached in the workspace folder")
    p.add_argument("--mode", metavar="MODE", help="travel mode with --network: drive (default), walk or bike")
    p.add_argument("--minutes", action="append", metavar="LAYER=MIN",
                   help="travel time per layer with --network, repeatable, e.g. --minutes hubs=30 (default 30)")
    _add_scenario_options(p)
    p.add_argument("--json", action="store_true",
                   help=f"print one JSON object on stdout (the {MAX_GAPS} largest gaps; gaps_total counts all)")
    p.add_argument("--all-gaps", action="store_true", help="list every gap, not only the largest")
    p.set_defaults(run=_cmd_analyze)

    c = subparsers.add_parser("compare", help="compare the regions of a workspace side by side")
    c.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    c.add_argument("--region", action="append", metavar="ID", help="limit to these regions (repeatable)")
    _add_scenario_options(c)
    c.add_argument("--json", action="store_true", help="print JSON on stdout")
    c.set_defaults(run=_cmd_compare)

    b = subparsers.add_parser("import-boundary", help="store a region's own boundary file in a workspace")
    b.add_argument("file", type=Path, metavar="FILE", help="GeoJSON, GPKG, KML/KMZ or zipped shapefile")
    b.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    b.add_argument("--region", required=True, metavar="ID")
    b.add_argument("--json", action="store_true", help="print JSON on stdout")
    b.set_defaults(run=_cmd_import_boundary)

    d = subparsers.add_parser("import-demand", help="store a population layer (grid, raster, census table) in a workspace")
    d.add_argument("file", type=Path, metavar="FILE",
                   help="1 km grid CSV (GRD_ID), GeoTIFF raster, CSV of settlements, GeoJSON/GPKG points or polygons")
    d.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    d.add_argument("--name", metavar="NAME", help="the layer's name (default: the file name without extension)")
    d.add_argument("--json", action="store_true", help="print JSON on stdout")
    d.set_defaults(run=_cmd_import_demand)

    a = subparsers.add_parser("import-areas", help="store area polygons (municipalities, counties) in a workspace")
    a.add_argument("file", type=Path, metavar="FILE", help="GeoJSON, TopoJSON, GPKG, KML/KMZ or zipped shapefile")
    a.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    a.add_argument("--country", metavar="CC", help="ISO country code of every area, when the file has none (e.g. SE)")
    a.add_argument("--name-column", metavar="COLUMN", help="column of the area names (found by default)")
    a.add_argument("--code-column", metavar="COLUMN", help="column of the area codes (found by default)")
    a.add_argument("--json", action="store_true", help="print JSON on stdout")
    a.set_defaults(run=_cmd_import_areas)
