"""The command line: ``python -m atlas import|analyze|compare|export|edit|history|revert|config …``."""
from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from atlas.cli import analyze as cli_analyze
from atlas.cli import config as cli_config
from atlas.cli import data as cli_data
from atlas.cli import export as cli_export
from atlas.cli._common import LOCATION_HELP, print_json, shown
from errors import AtlasError


def _cmd_import(args: argparse.Namespace) -> int:
    from workspace import Workspace

    with Workspace(args.workspace, user=args.user) as workspace:
        results = workspace.import_files(args.files, country=args.country)
        report = {
            "workspace": str(workspace.path) if workspace.path is not None else shown(workspace.location),
            "workspace_features": workspace.count(),
            "files": [r.summary() for r in results],
        }
    if args.json:
        print_json(report)
        return 0
    for entry in report["files"]:
        layers = ", ".join(f"{k} {v}" for k, v in entry["by_layer"].items() if v)
        print(f"{entry['file']}: {entry['rows_read']} read, {entry['accepted']} imported "
              f"({layers or 'none'}), {len(entry['rejected'])} rejected")
        for rejected in entry["rejected"]:
            print(f"  - {rejected['where']}: {rejected['reason']}")
        for note in entry.get("notes", []):
            print(f"  note: {note}")
    print(f"{report['workspace']}: {report['workspace_features']} features in the workspace")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="python -m atlas", description="Creative Atlas command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("import", help="import KMZ/KML/XLSX/CSV/GeoJSON files into a workspace")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP + " (created by the first import)")
    p.add_argument("--country", help="ISO country code preferred when geocoding town names (e.g. IE)")
    p.add_argument("--user", metavar="NAME", help="who imports, recorded in the history (default: your login)")
    p.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    p.set_defaults(run=_cmd_import)

    cli_analyze.register(commands)
    cli_export.register(commands)
    cli_data.register(commands)
    cli_config.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    if argv is None:
        # Run as the program (``python -m atlas``): the modules and objects loaded so far live
        # until it exits, so the garbage collector stops scanning them at every collection
        # (a large analysis spends a sixth of its time there otherwise). A caller that passes
        # `argv` (a test, a script) keeps its collector as it was.
        gc.freeze()
    try:
        return args.run(args)
    except AtlasError as exc:
        # One line, but all of it: a message listing several problems keeps them all.
        message = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001  (anything else is a bug: one line, not a traceback)
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(this is a bug, please report it with the command you ran)", file=sys.stderr)
        return 1
