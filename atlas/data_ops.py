"""What the Data page does, without Streamlit: import uploads, build the import report, apply fixes, keep geography.

The page reads widgets and calls these; tests call them directly. Everything returned is
plain JSON-able data or a DataFrame, so the page can keep it in its session state.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

import access
from errors import UsageError, WorkspaceError
from exporters.csv import csv_text
from geography.areas import areas, import_areas, remove_areas
from geography.demand_layers import demand_layers, import_demand, remove_demand
from loaders.errors import ImportFileError
from loaders.layers import ALL_LAYERS, STATUSES, UNCLASSIFIED
from workspace import EDITABLE, GPKG_NAME, Workspace, sha256

PREVIEW_ROWS = 200
PREVIEW_COLUMNS = ("name", "layer", "kind", "status", "town", "country", "location_source", "source_ref")
REJECTED_COLUMNS = ("file", "where", "reason")
# Fields offered on the edit form, in form order.
FORM_FIELDS = ("name", "layer", "status", "kind", "sectors", "helix", "address", "town", "country",
               "website", "contact", "description")


@dataclass
class FileReport:
    """One uploaded file's outcome: counts, rejected rows, a preview, or the error that stopped it."""

    file: str
    rows_read: int = 0
    accepted: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by_layer: dict[str, int] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    reimport: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_uploads(
    workspace: Workspace,
    files: Iterable[tuple[str, bytes]],
    *,
    country: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[dict[str, Any]]:
    """Import uploaded files one by one with `Workspace.import_bytes`; return one report dict per file.

    A file that cannot be read at all (ImportFileError) is reported with its message and
    skipped; the others are still imported. `progress(done, total, name)` is called before
    each file and once at the end.
    """
    files = list(files)
    if workspace.path is not None and not workspace.exists():
        check_new_workspace(workspace.path)
    known = set(workspace.imports()["sha256"]) if workspace.exists() else set()
    reports = []
    for i, (name, data) in enumerate(files):
        if progress:
            progress(i, len(files), name)
        report = FileReport(name, reimport=sha256(data) in known)
        try:
            result = workspace.import_bytes(data, name, country=country)
        except ImportFileError as exc:
            report.error = str(exc)
        else:
            summary = result.summary()
            report.rows_read, report.accepted = summary["rows_read"], summary["accepted"]
            report.rejected, report.notes = summary["rejected"], summary.get("notes", [])
            report.by_layer = {k: v for k, v in summary["by_layer"].items() if v}
            preview = result.features.head(PREVIEW_ROWS)[list(PREVIEW_COLUMNS)].astype(object)
            report.preview = preview.where(preview.notna(), None).to_dict("records")
        reports.append(report.to_dict())
    if progress:
        progress(len(files), len(files), "")
    return reports


def import_status(reports: list[dict[str, Any]]) -> dict[str, str]:
    """The label and state of the import's status box: how many files went in, an error when none did."""
    failed = sum(1 for r in reports if r["error"])
    return {"label": f"Imported {len(reports) - failed} of {len(reports)} file(s)",
            "state": "error" if failed == len(reports) else "complete"}


def report_table(reports: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per file: read, accepted, rejected, layers found, and notes or the error."""
    rows = []
    for r in reports:
        layers = ", ".join(f"{k} {v}" for k, v in r["by_layer"].items())
        remark = r["error"] or " ".join(r["notes"]) or ("re-imported: replaces what this file gave before"
                                                         if r["reimport"] else "")
        rows.append({"file": r["file"], "read": r["rows_read"], "accepted": r["accepted"],
                     "rejected": len(r["rejected"]), "layers": layers, "remark": remark})
    return pd.DataFrame(rows, columns=["file", "read", "accepted", "rejected", "layers", "remark"])


def rejected_table(reports: list[dict[str, Any]]) -> pd.DataFrame:
    """Every rejected row of the reported files: file, where in it, and why (with the fix)."""
    rows = [{"file": r["file"], "where": x["where"], "reason": x["reason"]} for r in reports for x in r["rejected"]]
    return pd.DataFrame(rows, columns=list(REJECTED_COLUMNS))


def workspace_rejected(workspace: Workspace) -> pd.DataFrame:
    """Rejected rows stored in the workspace (from every import), as file / where / reason."""
    table = workspace.rejected()
    return pd.DataFrame({"file": table["source_file"], "where": table["where"], "reason": table["reason"]})


def rejected_csv(table: pd.DataFrame) -> bytes:
    """Return a rejected-rows table as CSV bytes (UTF-8 with BOM, formula-safe) for download."""
    return csv_text(table).encode("utf-8-sig")


def history(workspace: Workspace) -> pd.DataFrame:
    """The import log, newest first, with the SHA-256 shortened for reading."""
    log = workspace.imports()
    if log.empty:
        return pd.DataFrame(columns=["imported_at", "file", "rows_read", "accepted", "rejected", "sha256"])
    log = log.sort_values("imported_at", ascending=False, kind="stable")
    out = log[["imported_at", "file", "rows_read", "accepted", "rejected", "sha256"]].copy()
    out["sha256"] = out["sha256"].astype(str).str[:12]
    return out.reset_index(drop=True)


def unclassified(features: pd.DataFrame) -> pd.DataFrame:
    """Features still without a layer: id, name, where they came from, kind."""
    rows = features[features["layer"] == UNCLASSIFIED]
    return pd.DataFrame(rows[["feature_id", "name", "source_file", "source_ref", "kind"]]).reset_index(drop=True)


def labels(features: pd.DataFrame, *columns: str) -> dict[str, str]:
    """``{feature_id: "name · column · …"}`` for pickers (a missing name reads "(no name)")."""
    text = features["name"].fillna("(no name)")
    for column in columns:
        text = text + " · " + features[column].fillna("")
    return dict(zip(features["feature_id"], text))


def assign_layer(workspace: Workspace, feature_ids: Iterable[str], layer: str) -> int:
    """Give `layer` to every feature in `feature_ids`; return how many were changed."""
    if layer not in ALL_LAYERS:
        raise UsageError(f"layer '{layer}' is not one of {', '.join(ALL_LAYERS)}.")
    ids = list(dict.fromkeys(feature_ids))
    if ids:
        workspace.edit_features({fid: {"layer": layer} for fid in ids}, action="assign")
    return len(ids)


# Where a feature came from inside its file, from its source_ref: "folder 'Hubs' › placemark 3",
# "document 'Map' › placemark 3", "sheet 'Hubs', row 3", "table 'hubs' › row 3". Names are not
# escaped, so the pattern takes everything up to the last quote before the row or placemark.
_CONTAINER = re.compile(r"^(?:folder|document|sheet|table) '(?P<name>.*)'(?: › |, )(?:placemark|row) \d+$")


def source_folder(source_ref: Any) -> str | None:
    """The folder, sheet or table a feature was read from (nested KML folders as 'Outer/Inner'), or None."""
    found = _CONTAINER.match(str(source_ref or ""))
    return found["name"] if found else None


def folders(features: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Folders/sheets per source file with their feature counts: file, folder, features."""
    frame = features if file is None else features[features["source_file"] == file]
    table = pd.DataFrame({"file": frame["source_file"].to_numpy(dtype=object),
                          "folder": [source_folder(r) for r in frame["source_ref"]]}).dropna()
    return table.groupby(["file", "folder"], sort=False).size().reset_index(name="features")


def in_folder(features: pd.DataFrame, file: str, folder: str) -> pd.DataFrame:
    """The features read from exactly this folder or sheet of this file.

    Names match exactly: case and spaces count, and 'Kempingi' is not 'Kempingi
    (OpenStreetMap)'. A nested Google Earth folder is named by its path ('Ireland/Hubs');
    a path cannot be split into its folders, since folder names may hold '/' themselves
    ('Pola namiotowe/biwakowe').
    """
    mine = features[features["source_file"] == file]
    return mine[[source_folder(r) == folder for r in mine["source_ref"]]]


def blank(value: Any) -> str | None:
    """Return `value` as stripped text, or None when it is missing or blank."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value).strip() or None


def field_changes(current: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Return the editable fields whose new value differs from `current` (blank text means empty)."""
    changes = {}
    for name, value in values.items():
        if name not in EDITABLE:
            raise UsageError(f"field '{name}' cannot be edited; editable: {', '.join(EDITABLE)}")
        if name == "status" and value not in STATUSES:
            raise UsageError(f"status must be one of {', '.join(STATUSES)}, not '{value}'.")
        new = blank(value)
        if new != blank(current.get(name)):
            changes[name] = new
    return changes


def edit_feature(workspace: Workspace, feature_id: str, values: dict[str, Any], *,
                 version: int | None = None) -> dict[str, Any]:
    """Save the changed fields of one feature; return what changed (empty when nothing did).

    `version` is the feature's version when the user opened it: if someone changed the
    feature since, nothing is saved and `errors.ConflictError` says who changed what.
    """
    frame = workspace.features()
    rows = frame[frame["feature_id"] == feature_id]
    if rows.empty:
        raise UsageError(f"feature '{feature_id}' is not in the workspace (it may have been re-imported).")
    changes = field_changes(rows.iloc[0].to_dict(), values)
    if changes:
        workspace.edit_features({feature_id: changes},
                                versions=None if version is None else {feature_id: int(version)})
    return changes


CHANGE_COLUMNS = ("change", "when", "who", "what", "undone by")


def changes(workspace: Workspace, *, limit: int = 500) -> pd.DataFrame:
    """The workspace's history of changes, newest first, for reading: id, when, who, what, reverted by."""
    table = workspace.history(limit=limit)
    out = pd.DataFrame({
        "change": table["change_id"].astype("int64"),
        "when": table["at"].astype(str).str.replace("T", " ").str.replace("+00:00", " UTC", regex=False),
        "who": table["user"],
        "what": table["action"] + ": " + table["summary"].fillna(""),
        "undone by": table["reverted_by"].map(lambda v: "" if v is None or v != v else f"change {int(v)}"),
    }, columns=list(CHANGE_COLUMNS))
    return out.reset_index(drop=True)


# "boundary": a boundary, area file or population layer imported or removed (its tables get their rows back).
REVERTIBLE = ("import", "edit", "assign", "add", "boundary")


def revertible(workspace: Workspace, *, limit: int = 500) -> dict[int, str]:
    """Changes that can still be undone, newest first: ``{change id: label}``."""
    table = workspace.history(limit=limit)
    table = table[table["action"].isin(REVERTIBLE) & table["reverted_by"].isna()]
    return {int(r.change_id): f"{int(r.change_id)} · {r.action}: {r.summary} ({r.user}, {str(r.at)[:16]})"
            for r in table.itertuples()}


def revert_change(workspace: Workspace, change_id: int) -> str:
    """Undo one change (an import whole, an edit, or a boundary/area/population change); return a sentence."""
    label = revertible(workspace).get(int(change_id), f"change {change_id}")
    new = workspace.revert(int(change_id))
    return f"Undid {label.split(' · ', 1)[-1]} (recorded as change {new})."


def activity(config: access.Config, *, per_workspace: int = 20) -> pd.DataFrame:
    """Who did what across every configured workspace (for admins), newest first."""
    frames = []
    for name, location in config.workspaces.items():
        table = changes(Workspace(location), limit=per_workspace)
        table.insert(0, "workspace", name)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["workspace", *CHANGE_COLUMNS])
    return pd.concat(frames, ignore_index=True).sort_values("when", ascending=False, kind="stable")


# -- geography: population layers and area files ------------------------------------------------------
POPULATION_COLUMNS = ("name", "file", "kind", "rows", "people", "imported")
AREA_FILE_COLUMNS = ("file", "areas", "countries", "imported")
AREA_COUNTRIES = ("", "IE", "GB", "SE", "PL", "DE", "LT")  # offered for files without a country column
REJECTED_SHOWN = 3


def _when(values: pd.Series) -> pd.Series:
    """ISO timestamps (UTC) as "2025-05-01 12:00:00 UTC", as in the list of changes."""
    return values.astype(str).str.replace("T", " ").str.replace("+00:00", " UTC", regex=False)


def import_population(workspace: Workspace, file: str, data: bytes, *, name: str | None = None) -> list[str]:
    """Store an uploaded population file as a demand layer; return the lines of the message saying what was kept.

    The lines are plain text (escape them for Markdown): the layer stored, how the file was
    read, and how many rows were rejected with the first few reasons. Raises the project's
    errors (`errors.ImportFileError`, `errors.UsageError`) when nothing could be stored.
    """
    layer, load = import_demand(workspace, data, file, name=blank(name))
    first = (f"Stored population layer {layer.label()} from {layer.file} ({load.rows_read:,} row(s) read). "
             "Choose it as Population in the sidebar.")
    lines = [first]
    lines += [f"Note: {note}" for note in layer.notes]
    if load.rejected:
        lines.append(f"{len(load.rejected):,} row(s) rejected, e.g.:")
        lines += [f"{r.where}: {r.reason}" for r in load.rejected[:REJECTED_SHOWN]]
        if len(load.rejected) > REJECTED_SHOWN:
            lines.append(f"… and {len(load.rejected) - REJECTED_SHOWN:,} more.")
    return lines


def population_table(workspace: Workspace) -> pd.DataFrame:
    """The population layers stored in the workspace: name, file, kind, rows, people, imported."""
    layers = demand_layers(workspace)
    table = pd.DataFrame([{"name": la.name, "file": la.file, "kind": la.kind, "rows": la.points,
                           "people": la.population, "imported": la.imported_at} for la in layers],
                         columns=list(POPULATION_COLUMNS))
    table["imported"] = _when(table["imported"])
    return table


def remove_population(workspace: Workspace, name: str) -> str:
    """Remove stored population layer `name`; return a sentence saying so."""
    if not remove_demand(workspace, name):
        raise UsageError(f"the workspace has no population layer '{name}' (it may have been removed already).")
    return f"Removed population layer '{name}'. Gaps and Home count the GeoNames settlements again where it was chosen."


def import_area_file(workspace: Workspace, file: str, data: bytes, *, country: str | None = None) -> str:
    """Store an uploaded file of areas (municipalities, counties); return the one-line summary of the import."""
    result = import_areas(workspace, data, file, country=blank(country))
    summary = result.summary()
    return f"{summary[:1].upper()}{summary[1:]}."


def area_files(workspace: Workspace) -> pd.DataFrame:
    """The area files imported into the workspace: file, number of areas, their countries, when imported."""
    table = areas(workspace)
    if table.empty:
        return pd.DataFrame(columns=list(AREA_FILE_COLUMNS))
    out = (table.groupby("file", sort=False)
           .agg(areas=("name", "size"),
                countries=("country", lambda c: ", ".join(sorted({str(v) for v in c if v}))),
                imported=("imported_at", "max"))
           .reset_index())
    out["imported"] = _when(out["imported"])
    return out[list(AREA_FILE_COLUMNS)]


def remove_area_file(workspace: Workspace, file: str) -> str:
    """Remove the areas imported from `file`; return a sentence saying how many went."""
    removed = remove_areas(workspace, file)
    if not removed:
        raise UsageError(f"the workspace has no areas from '{file}' (they may have been removed already).")
    return f"Removed the {removed:,} area(s) imported from {file}."


# Folders a workspace is never created in from the app (local mode): the file system's own.
_SYSTEM_ROOTS = tuple(Path(p) for p in ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root",
                                        "/run", "/sbin", "/sys", "/usr", "/var"))


def check_new_workspace(path: str | Path) -> None:
    """Refuse to create a workspace where the app should not write: a file, a system folder, or a folder in use.

    A new workspace goes in a new or empty folder (or one that already holds atlas.gpkg).
    """
    folder = Path(path).expanduser()
    resolved = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder} is a file, not a folder. Enter a folder for the workspace.")
    if (folder / GPKG_NAME).exists():
        return
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve() or any(
            resolved == root or root in resolved.parents for root in _SYSTEM_ROOTS):
        raise WorkspaceError(f"{folder} is a system or home folder; a workspace is not created there. "
                             "Enter a new folder for it, e.g. ~/atlas/my-alliance.")
    if folder.is_dir() and any(folder.iterdir()):
        raise WorkspaceError(f"{folder} already holds other files and no workspace. Enter a new or empty "
                             "folder for the workspace (it will hold atlas.gpkg).")
