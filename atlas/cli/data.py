"""The ``edit``, ``assign``, ``history`` and ``revert`` sub-commands of ``python -m atlas``: changes to a workspace."""
from __future__ import annotations

import argparse
import math
from typing import Any

from atlas.cli._common import LOCATION_HELP, open_workspace, print_json, whole
from errors import UsageError
from loaders.layers import ALL_LAYERS, STATUSES
from loaders.vocabulary import normalise_fields

# Fields whose values come from a fixed list; any other editable field takes free text.
_CHOICES = {"layer": ALL_LAYERS, "status": STATUSES}
_SHOWN_ROWS = 10  # field changes printed under one change in the history table


def _plain(value: Any) -> Any:
    """A value from a history frame as JSON: NaN/None -> None, whole floats -> int."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _values(pairs: list[str]) -> dict[str, str | None]:
    """Parse ``--set FIELD=VALUE`` options; an empty VALUE clears the field."""
    values: dict[str, str | None] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        field = field.strip()
        if not sep or not field:
            raise UsageError(f"--set '{pair}' is not FIELD=VALUE; write e.g. --set town=Galway "
                             "(or --set town= to clear it).")
        if field in values:
            raise UsageError(f"--set {field}=... is given twice; give each field once.")
        if field in _CHOICES and value not in _CHOICES[field]:
            raise UsageError(f"--set {field}='{value}': {field} must be one of {', '.join(_CHOICES[field])}.")
        values[field] = value if value != "" else None
    return values


def _rows(workspace, change_id: int) -> list[dict[str, Any]]:
    frame = workspace.change_rows(change_id)
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _changes(workspace, history) -> list[dict[str, Any]]:
    """Each change of a history frame as a JSON object, with its field changes under ``rows``."""
    out = []
    for record in history.to_dict("records"):
        change = {key: _plain(value) for key, value in record.items()}
        change["rows"] = _rows(workspace, change["change_id"])
        out.append(change)
    return out


def _value(value: Any) -> str:
    return "(empty)" if value is None else repr(value)


def _print_rows(rows: list[dict[str, Any]], *, limit: int | None = None, feature: bool = True) -> None:
    for row in rows[:limit]:
        where = f"{row['feature_id']} " if feature else ""
        print(f"  {where}{row['field']}: {_value(row['old'])} → {_value(row['new'])}")
    if limit is not None and len(rows) > limit:
        print(f"  ... and {len(rows) - limit} more (use --json for all)")


def _cmd_edit(args: argparse.Namespace) -> int:
    values = normalise_fields(_values(args.set))  # kind/sectors: the shared vocabulary, as on import
    version = whole(args.if_version, "--if-version", "the feature's version the change is based on")
    with open_workspace(args.workspace, user=args.user) as workspace:
        change_id = workspace.edit_features({args.feature: values},
                                            versions=None if version is None else {args.feature: version})
        rows = [] if change_id is None else _rows(workspace, change_id)
        new_version = workspace.versions([args.feature]).get(args.feature)
    if args.json:
        print_json({"change_id": change_id, "feature_id": args.feature,
                    "changes": {r["field"]: {"old": r["old"], "new": r["new"]} for r in rows},
                    "version": new_version})
    elif change_id is None:
        print(f"{args.feature}: nothing changed (version {new_version})")
    else:
        print(f"{args.feature}: change {change_id}, now version {new_version}")
        _print_rows(rows, feature=False)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from atlas.data_ops import assign_layer, folders, in_folder

    if args.layer not in ALL_LAYERS:
        raise UsageError(f"--layer '{args.layer}' is not one of {', '.join(ALL_LAYERS)}.")
    with open_workspace(args.workspace, user=args.user) as workspace:
        features = workspace.features()
        if not (features["source_file"] == args.file).any():
            files = sorted(set(features["source_file"].dropna()))
            raise UsageError(f"no feature of this workspace comes from a file '{args.file}'; its files: "
                             f"{', '.join(files) or 'none yet'}.")
        chosen = in_folder(features, args.file, args.folder)
        if chosen.empty:
            known = folders(features, args.file)
            listed = "; ".join(f"'{f}' ({n})" for f, n in zip(known["folder"], known["features"])) or "none"
            raise UsageError(f"{args.file} has no folder or sheet named exactly '{args.folder}'. Its folders and "
                             f"sheets: {listed}.")
        count = assign_layer(workspace, chosen["feature_id"], args.layer)
    if args.json:
        print_json({"file": args.file, "folder": args.folder, "layer": args.layer, "features": count})
    else:
        print(f"{count} feature(s) of folder '{args.folder}' in {args.file} now in layer {args.layer}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    limit = whole(args.limit, "--limit", "how many of the newest changes to list")
    with open_workspace(args.workspace) as workspace:
        changes = _changes(workspace, workspace.history(feature_id=args.feature, limit=limit))
    if args.json:
        print_json(changes)
        return 0
    if not changes:
        print("no changes" + (f" touched {args.feature}" if args.feature else ""))
        return 0
    print(f"{'change':>6}  {'at (UTC)':<25} {'user':<12} {'action':<7} summary")
    for change in changes:
        remarks = []
        if change["reverts"] is not None:
            remarks.append(f"undoes {change['reverts']}")
        if change["reverted_by"] is not None:
            remarks.append(f"reverted by {change['reverted_by']}")
        remark = f" [{'; '.join(remarks)}]" if remarks else ""
        print(f"{change['change_id']:>6}  {change['at']:<25} {str(change['user'])[:12]:<12} "
              f"{change['action']:<7} {change['summary']}{remark}")
        _print_rows([r for r in change["rows"] if args.feature in (None, r["feature_id"])], limit=_SHOWN_ROWS)
    return 0


def _cmd_revert(args: argparse.Namespace) -> int:
    change_id = whole(args.change, "--change", "a change id from python -m atlas history")
    with open_workspace(args.workspace, user=args.user) as workspace:
        new = workspace.revert(change_id) if change_id is not None else workspace.revert_import(args.import_id)
        history = workspace.history()
        [change] = _changes(workspace, history[history["change_id"] == new])
    if args.json:
        print_json(change)
        return 0
    print(f"change {new}: {change['summary']}")
    _print_rows(change["rows"])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``edit``, ``assign``, ``history`` and ``revert`` to the ``python -m atlas`` command line."""
    e = subparsers.add_parser(
        "edit", help="change fields of one feature (one change in the history)",
        description="Change fields of one feature in one change. An empty VALUE clears the field.",
    )
    e.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    e.add_argument("--feature", required=True, metavar="ID", help="feature id (see the export or the Data page)")
    e.add_argument("--set", required=True, action="append", metavar="FIELD=VALUE",
                   help="new value of a field, repeatable, e.g. --set town=Galway --set status=planned")
    e.add_argument("--user", metavar="NAME", help="who makes the change (default: your login)")
    e.add_argument("--if-version", metavar="N",
                   help="refuse the change if the feature is no longer at version N (someone changed it)")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    e.set_defaults(run=_cmd_edit)

    a = subparsers.add_parser(
        "assign", help="give a layer to every feature of one folder or sheet of one imported file",
        description="Give a layer to exactly the features read from one folder (KML/KMZ; a nested folder "
                    "by its path, 'Outer/Inner') or sheet (XLSX) of one imported file, in one change. Names "
                    "match exactly.",
    )
    a.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    a.add_argument("--file", required=True, metavar="NAME", help="the imported file's name, as in the history")
    a.add_argument("--folder", required=True, metavar="NAME", help="the folder or sheet name, exactly")
    a.add_argument("--layer", required=True, metavar="LAYER", help=f"one of {', '.join(ALL_LAYERS)}")
    a.add_argument("--user", metavar="NAME", help="who makes the change (default: your login)")
    a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a.set_defaults(run=_cmd_assign)

    h = subparsers.add_parser("history", help="list the changes made to a workspace, newest first")
    h.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    h.add_argument("--feature", metavar="ID", help="only the changes that touched this feature")
    h.add_argument("--limit", metavar="N", help="only the N newest changes")
    h.add_argument("--json", action="store_true", help="print a JSON list of changes on stdout")
    h.set_defaults(run=_cmd_history)

    r = subparsers.add_parser(
        "revert", help="undo one import or one change (itself a new change)",
        description="Undo one import, edit, or boundary, area file or population layer imported or removed. "
                    "The revert is itself a change in the history and can be reverted in turn.",
    )
    r.add_argument("--workspace", required=True, metavar="LOC", help=LOCATION_HELP)
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("--import", dest="import_id", metavar="ID", help="import id from the history")
    which.add_argument("--change", metavar="ID", help="change id from the history")
    r.add_argument("--user", metavar="NAME", help="who makes the revert (default: your login)")
    r.add_argument("--json", action="store_true", help="print the new change as one JSON object")
    r.set_defaults(run=_cmd_revert)
