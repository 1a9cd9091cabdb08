"""The ``python -m atlas export`` sub-command: write a workspace as GeoJSON, KML/KMZ, GPKG, XLSX or CSV."""
from __future__ import annotations

import argparse
from pathlib import Path

from atlas.cli._common import LOCATION_HELP
from errors import UsageError
from exporters import FORMATS, SUFFIXES
from i18n import LANGUAGES, check_language
from loaders.layers import ALL_LAYERS, STATUSES

INCLUDES = ("analysis", "boundary")
SITES_RANGE = range(1, 11)  # as `analyze --sites`


def _sites(text: str) -> int:
    # Checked here rather than by argparse so that a mistake gives the same one-line
    # "error: ..." (exit 2) as every other user error, not a usage dump.
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--sites '{text}' is not a whole number; give how many new sites to suggest (1-10).") from None
    if value not in SITES_RANGE:
        raise UsageError(f"--sites {value}: give between 1 and 10 new sites.")
    return value


def _run(args: argparse.Namespace) -> int:
    from atlas.export import export_workspace  # heavy (geography, analysis): only when exporting

    out = args.out
    if out.suffix.lower() != SUFFIXES[args.format]:
        raise UsageError(
            f"--out {out.name} does not end in {SUFFIXES[args.format]} for --format {args.format}; "
            f"use e.g. --out {out.with_suffix(SUFFIXES[args.format]).name}."
        )
    include = {part.strip() for value in args.include or [] for part in value.split(",") if part.strip()}
    unknown = include - set(INCLUDES)
    if unknown:
        raise UsageError(f"--include {', '.join(sorted(unknown))}: only {', '.join(INCLUDES)} can be included.")
    sites = _sites(args.sites)
    lang = check_language(args.lang)  # before any work: an unknown language is one line, exit 2
    result = export_workspace(
        args.workspace, args.format, out, region=args.region, layers=args.layers, status=args.status,
        include_analysis="analysis" in include, include_boundary="boundary" in include, online=args.online,
        sites=sites, lang=lang,
    )
    print(result.message)
    for note in result.notes:
        print(f"note: {note}")
    for path in result.files:
        print(path)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` sub-command to the command line."""
    p = subparsers.add_parser(
        "export",
        help="export a workspace as GeoJSON, KML/KMZ, GeoPackage, XLSX or CSV",
        description=(
            "Export the workspace's features (all of them, or those in --region) for partners. "
            "KML/KMZ is split into several files when a layer has more than 2,000 rows, "
            "there are more than 10 layers or a file would exceed 5 MB (Google My Maps' limits)."
        ),
    )
    p.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    p.add_argument("--region", metavar="ID", help="only features in this region's boundary (e.g. west-ireland)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.add_argument("--layers", metavar="LIST", help=f"comma-separated layers to export ({','.join(ALL_LAYERS)})")
    p.add_argument("--status", choices=STATUSES, help="only existing or only planned facilities")
    p.add_argument("--include", action="append", metavar="WHAT",
                   help="'boundary': add the region's boundary (source, label, attribution); 'analysis': add "
                        "the boundary, coverage discs, gaps, uncovered towns, suggested sites, catchments, "
                        "H3 grid and the summary tables (both need --region; comma-separated or repeated)")
    p.add_argument("--sites", default="3", metavar="K",
                   help="suggested new hub sites (1-10, default 3) with --include analysis")
    p.add_argument("--online", action="store_true",
                   help="allow downloading the official boundary (default: cached or approximate, offline)")
    p.add_argument("--lang", default="en", metavar="LANG",
                   help=f"language of the XLSX report's sheets and headers, the KML folder names and the "
                        f"messages ({', '.join(LANGUAGES)}; default en). Layer ids and your data stay as they are")
    p.set_defaults(run=_run)
