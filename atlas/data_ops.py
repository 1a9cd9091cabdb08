"""What the Data page does, without Streamlit: import uploads, build the import report, apply fixes, keep geography.

The page reads widgets and calls these; tests call them directly. Everything returned is
plain JSON-able data or a DataFrame, so the page can keep it in its session state.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
from shapely.geometry import Point

import access
from analysis.distance import pairwise_km
from errors import UsageError, WorkspaceError
from exporters.csv import csv_text
from geography.areas import areas, import_areas, remove_areas
from geography.demand_layers import demand_layers, import_demand, remove_demand
from i18n import N_, Message, formats, ngettext
from i18n import gettext as _
from loaders import columns as C
from loaders import gazetteer
from loaders.coords import check_point, parse_number, parse_pair, placeholder_point
from loaders.errors import ImportFileError
from loaders.layers import (
    ALL_LAYERS,
    EXISTING,
    STATUSES,
    UNCLASSIFIED,
    layer_from_name,
    status_from_text,
)
from loaders.vocabulary import normalise_fields
from maps.style import kind_label, layer_short_label, status_label
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
    return {"label": ngettext("Imported {done} of {total} file", "Imported {done} of {total} files", len(reports)).format(
                done=len(reports) - failed, total=len(reports)),
            "state": "error" if failed == len(reports) else "complete"}


def report_table(reports: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per file: read, accepted, rejected, layers found, and notes or the error."""
    rows = []
    for r in reports:
        layers = ", ".join(f"{layer_short_label(k)} {formats.number(v)}" for k, v in r["by_layer"].items())
        remark = r["error"] or " ".join(r["notes"]) or (_("re-imported: replaces what this file gave before")
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


def rejected_choices(workspace: Workspace) -> dict[int, str]:
    """The workspace's rejected rows for a picker: ``{rejected id: "file · where — reason"}``."""
    table = workspace.rejected()
    return {int(r.rejected_id): f"{r.source_file} · {r.where} — {_short(r.reason)}" for r in table.itertuples()}


def _short(text: Any, limit: int = 90) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
    text = features["name"].fillna(_("(no name)"))
    for column in columns:
        text = text + " · " + features[column].fillna("")
    return dict(zip(features["feature_id"], text))


def assign_layer(workspace: Workspace, feature_ids: Iterable[str], layer: str) -> int:
    """Give `layer` to every feature in `feature_ids`; return how many were changed."""
    if layer not in ALL_LAYERS:
        raise UsageError(Message("layer '{layer}' is not one of {layers}.", layer=layer, layers=", ".join(ALL_LAYERS)))
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
            raise UsageError(Message("field '{name}' cannot be edited; editable: {fields}", name=name,
                                     fields=", ".join(EDITABLE)))
        if name == "status" and value not in STATUSES:
            raise UsageError(Message("status must be one of {statuses}, not '{value}'.",
                                     statuses=", ".join(STATUSES), value=value))
        new = blank(value)
        if new != blank(current.get(name)):
            changes[name] = new
    return changes


def edit_feature(workspace: Workspace, feature_id: str, values: dict[str, Any], *,
                 version: int | None = None, place: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save the changed fields of one feature; return what changed (empty when nothing did).

    `version` is the feature's version when the user opened it: if someone changed the
    feature since, nothing is saved and `errors.ConflictError` says who changed what.
    `place` (a row of `town_candidates`: lat, lon in EPSG:4326) moves the feature's point
    there in the same recorded change (``geometry`` and ``location_source`` are then
    among what changed); None leaves the point where it is.
    """
    frame = workspace.features()
    rows = frame[frame["feature_id"] == feature_id]
    if rows.empty:
        raise UsageError(Message("feature '{feature}' is not in the workspace (it may have been re-imported).",
                                 feature=feature_id))
    changes = field_changes(rows.iloc[0].to_dict(), normalise_fields(values))  # kind/sectors: shared vocabulary
    if place is not None:
        point = Point(float(place["lon"]), float(place["lat"]))
        current = rows.iloc[0]["geometry"]
        if current is None or current.is_empty or not point.equals(current):
            changes.update(geometry=point, location_source="gazetteer")
    if changes:
        workspace.edit_features({feature_id: changes},
                                versions=None if version is None else {feature_id: int(version)})
    return changes


# -- a town changed or a rejected row fixed: places for the town ------------------------------------------
CANDIDATE_COLUMNS = ("geonameid", "name", "admin1", "country", "population", "lat", "lon", "km")


def town_changed(current: dict[str, Any], values: dict[str, Any]) -> bool:
    """True when `values` give a (non-empty) town, and it or the country differs from `current`."""
    if not blank(values.get("town")):
        return False
    return any(blank(values.get(f)) != blank(current.get(f)) for f in ("town", "country") if f in values)


def town_candidates(town: str | None, country: str | None = None, *, near: Any = None) -> pd.DataFrame:
    """The GeoNames places (500+ people, offline) a town name may be, most populous first.

    Matched as on import (case, diacritics and alternate names ignored; "Newport, Co. Mayo"
    also tries "Newport"); places in `country` (a code or a name) are preferred when
    there are any. Columns: geonameid, name, admin1 (GeoNames first-level area code),
    country, population, lat, lon (EPSG:4326) and km: the great-circle distance from
    `near` (a shapely point, lon/lat), NaN without one.
    """
    code = gazetteer.country_code(country)
    found: list[Any] = []
    text = blank(town)
    if text:
        for name in dict.fromkeys([text, text.split(",")[0].strip()]):
            # The gazetteer's own look-up, so the page offers exactly the places an import would weigh.
            found = gazetteer.candidates(name, code) if name else []
            if found:
                break
    table = pd.DataFrame([{c: getattr(p, c) for c in CANDIDATE_COLUMNS[:-1]} for p in found],
                         columns=list(CANDIDATE_COLUMNS[:-1]))
    table["km"] = np.nan
    if len(table) and near is not None and not near.is_empty:
        here = np.array([[near.x, near.y]] * len(table))
        table["km"] = pairwise_km(here, table[["lon", "lat"]].to_numpy(dtype=float))
    return table.sort_values(["population", "geonameid"], ascending=[False, True], kind="stable").reset_index(drop=True)


def candidate_label(place: dict[str, Any]) -> str:
    """'Newport · IE, area C · pop. 626 · 53.8851, -9.5453 · 120.4 km from the current point'."""
    area = _(", area {code}").format(code=place["admin1"]) if place.get("admin1") else ""
    text = _("{name} · {country}{area} · pop. {people} · {lat}, {lon}").format(
        name=place["name"], country=place["country"], area=area, people=formats.number(int(place["population"])),
        lat=f"{place['lat']:.4f}", lon=f"{place['lon']:.4f}")
    km = place.get("km")
    if km is not None and km == km:
        text += _(" · {distance} from the current point").format(distance=formats.km(km))
    return text


def no_place_message(town: str, country: str | None = None, *, typed: bool = False) -> str:
    """The line saying a town has no GeoNames place: the point stays, or (`typed`) coordinates are needed."""
    code = gazetteer.country_code(country)
    where = _(" in {country}").format(country=code) if code else ""
    then = _("type latitude and longitude instead.") if typed else _("the point stays where it is.")
    return _("No place named '{town}'{where} among the GeoNames settlements of 500+ people: {then}").format(
        town=town, where=where, then=then)


def saved_message(name: str | None, changes: dict[str, Any], place: dict[str, Any] | None, *,
                  kept: bool = False) -> str:
    """What an edit saved, in one line: 'Saved town of Hub A. The point moved to Newport (53.88508, -9.54526).'

    `kept`: the user chose to keep the point where it was, which the line then says.
    """
    fields = [f for f in changes if f not in ("geometry", "location_source")]
    # Field names as the form shows them (the XLSX headers' words); the feature's name is data.
    text = (_("Saved {fields} of {name}.").format(fields=", ".join(_field(f) for f in fields),
                                                  name=name or _("(no name)")) if fields else _("Nothing changed."))
    if "geometry" in changes and place is not None:
        return _("{saved} The point moved to {place} ({point}).").format(
            saved=text, place=place["name"], point=point_text(changes["geometry"]))
    return _("{saved} The point stays where it is.").format(saved=text) if kept and fields else text


def _field(name: str) -> str:
    # Lower-case: the field names run in a sentence ("Saved town, kind of …").
    from maps.filters import field_label

    label = field_label(name)
    return label if label == name else label[:1].lower() + label[1:]


def point_text(geometry: Any) -> str:
    """'53.88508, -9.54526' (lat, lon) of a point; how else it is located otherwise."""
    if geometry is None or geometry.is_empty:
        return _("no location")
    if geometry.geom_type != "Point":
        return _("a {geometry}").format(geometry=geometry.geom_type)
    return f"{geometry.y:.5f}, {geometry.x:.5f}"


# -- rejected rows fixed and accepted ------------------------------------------------------------------------
ACCEPT_FIELDS = ("name", "layer", "status", "kind", "sectors", "helix", "address", "town", "country",
                 "website", "contact", "description")
"""Fields of the form that fixes a rejected row, in form order (latitude and longitude follow)."""


def rejected_prefill(workspace: Workspace, rejected_id: int) -> dict[str, Any]:
    """Form values for one rejected row, read from what the row held: the `ACCEPT_FIELDS`, lat and lon (text).

    Columns are recognised as on import (Town/Ort/Miejscowość …); the layer comes from a
    layer column, else from the sheet or folder the row was in; the country is given as
    its ISO code when it is recognised. Also returns ``file``, ``where`` and ``reason``.
    """
    table = workspace.rejected()
    rows = table[table["rejected_id"].astype("int64") == int(rejected_id)]
    if rows.empty:
        raise UsageError(Message("rejected row {row} is no longer in the workspace (accepted or re-imported "
                                 "meanwhile). Pick a row from the list again.", row=rejected_id))
    row = rows.iloc[0]
    try:
        raw = json.loads(row["raw"] or "{}")
    except ValueError:
        raw = {}
    values: dict[str, Any] = {name: "" for name in ACCEPT_FIELDS}
    values.update(lat="", lon="", file=row["source_file"], where=row["where"], reason=row["reason"])
    for key, value in (raw.items() if isinstance(raw, dict) else ()):
        text = blank(value)
        if text is None:
            continue
        if key == "coordinates":  # a KML placemark: "lon,lat[,alt]"
            parts = text.split()[0].split(",")
            if len(parts) >= 2 and not values["lat"]:
                values["lon"], values["lat"] = parts[0], parts[1]
            continue
        field = C.field_for(key)
        if field == C.LAT and not values["lat"]:
            values["lat"] = text
        elif field == C.LON and not values["lon"]:
            values["lon"] = text
        elif field == C.PAIR and not values["lat"]:
            try:
                pair = parse_pair(text)
            except ValueError:
                pair = None
            if pair:
                values["lat"], values["lon"] = str(pair[0]), str(pair[1])
        elif field in ACCEPT_FIELDS and not values[field]:
            values[field] = text
    layer = layer_from_name(values["layer"]) if values["layer"] else UNCLASSIFIED
    if layer == UNCLASSIFIED:
        layer = layer_from_name(source_folder(row["where"]))
    values["layer"] = layer
    values["status"] = status_from_text(values["status"]) or EXISTING
    values["country"] = gazetteer.country_code(values["country"]) or values["country"]
    return values


def typed_point(lat: Any, lon: Any, *, country: str | None = None) -> Point:
    """A point (EPSG:4326) from latitude and longitude as typed ('53,88'); `UsageError` when it is not a place."""
    try:
        y, x = parse_number(lat), parse_number(lon)
    except ValueError as exc:
        raise UsageError(Message("the coordinates cannot be read ({problem}). "
                                 "Type decimal degrees, e.g. 53.885 and -9.545.", problem=exc)) from None
    if y is None or x is None:
        raise UsageError(Message("no location: pick a place for the town, or type both latitude and longitude. "
                                 "Nothing was changed."))
    problem = placeholder_point(y, x) or check_point(y, x, country=gazetteer.country_code(country))
    if problem:
        raise UsageError(Message("{problem} Nothing was changed.", problem=problem))
    return Point(x, y)


def accept_rejected(workspace: Workspace, rejected_id: int, values: dict[str, Any], *,
                    place: dict[str, Any] | None = None) -> str:
    """Accept one rejected row as a feature with the user's fix; return a sentence saying what was done.

    The location is `place` (a row of `town_candidates`), else the ``lat``/``lon`` text in
    `values`. Raises `UsageError` (nothing changed) when there is no usable location or a
    field is invalid, `errors.ConflictError` when the row was accepted or replaced meanwhile.
    """
    fields = {name: blank(values.get(name)) for name in ACCEPT_FIELDS}
    if fields["layer"] not in (None, *ALL_LAYERS):
        raise UsageError(Message("layer must be one of {layers}, not '{layer}'.", layers=", ".join(ALL_LAYERS),
                                 layer=fields["layer"]))
    if place is not None:
        point, source = Point(float(place["lon"]), float(place["lat"])), "gazetteer"
    else:
        point, source = typed_point(values.get("lat"), values.get("lon"), country=fields["country"]), "coordinates"
    fields = {k: v for k, v in fields.items() if v is not None}
    change, _feature = workspace.accept_rejected(int(rejected_id), fields, point, location_source=source)
    where = f"{place['name']} ({place['country']}), " if place is not None else ""
    return _("Accepted {name} as a feature of {layer} at {where}{point} (change {change}; undo it below).").format(
        name=fields.get("name") or _("(no name)"), layer=layer_short_label(fields.get("layer") or UNCLASSIFIED),
        where=where, point=point_text(point), change=change)


CHANGE_COLUMNS = ("change", "when", "who", "what", "undone by")
# What a change did (the history's action ids), as readers see it; other actions as recorded.
ACTION_LABELS: dict[str, str] = {
    "import": N_("import"), "edit": N_("edit"), "assign": N_("assign"), "add": N_("add"),
    "boundary": N_("boundary"), "accept": N_("accept"), "revert": N_("revert"),
}


def action_label(action: Any) -> str:
    """A change's action ("import", "edit" …) in the reader's language."""
    found = ACTION_LABELS.get(str(action))
    return _(found) if found else str(action)


def changes(workspace: Workspace, *, limit: int = 500) -> pd.DataFrame:
    """The workspace's history of changes, newest first, for reading: id, when, who, what, reverted by."""
    table = workspace.history(limit=limit)
    out = pd.DataFrame({
        "change": table["change_id"].astype("int64"),
        "when": table["at"].astype(str).str.replace("T", " ").str.replace("+00:00", " UTC", regex=False),
        "who": table["user"],
        "what": table["action"].map(action_label) + ": " + table["summary"].fillna(""),
        "undone by": table["reverted_by"].map(
            lambda v: "" if v is None or v != v else _("change {number}").format(number=int(v))),
    }, columns=list(CHANGE_COLUMNS))
    return out.reset_index(drop=True)


# "boundary": a boundary, area file or population layer imported or removed (its tables get their rows back).
REVERTIBLE = ("import", "edit", "assign", "add", "boundary", "accept")


def revertible(workspace: Workspace, *, limit: int = 500) -> dict[int, str]:
    """Changes that can still be undone, newest first: ``{change id: label}``."""
    table = workspace.history(limit=limit)
    table = table[table["action"].isin(REVERTIBLE) & table["reverted_by"].isna()]
    return {int(r.change_id): f"{int(r.change_id)} · {action_label(r.action)}: {r.summary} ({r.user}, {str(r.at)[:16]})"
            for r in table.itertuples()}


def revert_change(workspace: Workspace, change_id: int) -> str:
    """Undo one change (an import whole, an edit, or a boundary/area/population change); return a sentence."""
    label = revertible(workspace).get(int(change_id), _("change {number}").format(number=change_id))
    new = workspace.revert(int(change_id))
    return _("Undid {change} (recorded as change {number}).").format(change=label.split(" · ", 1)[-1], number=new)


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
    # English keeps its "(s)" (one msgid for both forms); the catalogues give each language its plural forms.
    first = ngettext("Stored population layer {layer} from {file} ({count} row(s) read). "
                     "Choose it as Population in the sidebar.",
                     "Stored population layer {layer} from {file} ({count} row(s) read). "
                     "Choose it as Population in the sidebar.", load.rows_read).format(
        layer=layer.label(), file=layer.file, count=formats.number(load.rows_read))
    lines = [first]
    lines += [_("Note: {note}").format(note=note) for note in layer.notes]
    if load.rejected:
        lines.append(ngettext("{count} row(s) rejected, e.g.:", "{count} row(s) rejected, e.g.:", len(load.rejected)).format(
            count=formats.number(len(load.rejected))))
        lines += [f"{r.where}: {r.reason}" for r in load.rejected[:REJECTED_SHOWN]]
        if len(load.rejected) > REJECTED_SHOWN:
            lines.append(_("… and {count} more.").format(count=formats.number(len(load.rejected) - REJECTED_SHOWN)))
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
        raise UsageError(Message("the workspace has no population layer '{name}' (it may have been removed already).",
                                 name=name))
    return _("Removed population layer '{name}'. Gaps and Home count the GeoNames settlements again where it was "
             "chosen.").format(name=name)


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
        raise UsageError(Message("the workspace has no areas from '{file}' (they may have been removed already).",
                                 file=file))
    return ngettext("Removed the {count} area(s) imported from {file}.", "Removed the {count} area(s) imported from {file}.",
                    removed).format(count=formats.number(removed), file=file)


# -- geography: street networks ---------------------------------------------------------------------------
def network_folder(workspace: Workspace) -> Path | None:
    """The folder a workspace keeps street-network extracts and built graphs in (None for PostGIS)."""
    from atlas.analyze import network_cache

    return network_cache(workspace)


def import_street_network(workspace: Workspace, file: str, data: bytes, *, folder: str | Path) -> str:
    """Store an uploaded ``.osm.pbf`` extract (checked and built for every mode); return a one-line summary.

    `folder` is where the extract and its built graphs are cached (`network_folder`, or a
    private folder for a PostGIS workspace). Raises `errors.ImportFileError` for a file that
    is not a usable extract.
    """
    from geography.network_files import import_network

    entry = import_network(workspace, data, file, folder=folder)
    counts = entry.counts
    return _("Stored street network {file} ({size} MB): drive {drive_nodes} nodes / {drive_edges} edges, walk "
             "{walk_nodes} / {walk_edges}, bike {bike_nodes} / {bike_edges}. Gaps and Map now offer travel time "
             "for the regions it covers.").format(
        file=entry.file, size=formats.number(entry.bytes / 1e6, 2),
        **{f"{mode}_{what}": formats.number(counts[mode][what]) for mode in counts for what in ("nodes", "edges")})


def street_networks(workspace: Workspace) -> pd.DataFrame:
    """The street-network extracts stored in the workspace: file, MB, nodes and edges per mode, imported."""
    from geography.network import MODES
    from geography.network_files import describe, stored_networks

    columns = ["file", "MB", *(f"{m} {w}" for m in MODES for w in ("nodes", "edges")), "imported"]
    table = pd.DataFrame([describe(e) for e in stored_networks(workspace)], columns=columns)
    table["imported"] = _when(table["imported"])
    return table


def remove_street_network(workspace: Workspace, file: str) -> str:
    """Remove the stored extract `file`; return a sentence saying so."""
    from geography.network_files import remove_network

    if not remove_network(workspace, file):
        raise UsageError(Message("the workspace has no street network '{file}' (it may have been removed already).",
                                 file=file))
    return _("Removed street network {file}. Figures are in km again where it was used (undo it under Changes).").format(
        file=file)


# The headers of the tables the Data page shows, as readers see them. The frames keep these canonical
# names (tests, CSV downloads and other code read them); `shown` renames a copy for display only.
COLUMN_LABELS: dict[str, str] = {
    "file": N_("file"), "read": N_("read"), "accepted": N_("accepted"), "rejected": N_("rejected"),
    "layers": N_("layers"), "remark": N_("remark"), "where": N_("where"), "reason": N_("reason"),
    "imported_at": N_("imported_at"), "rows_read": N_("rows_read"),
    "change": N_("change"), "when": N_("when"), "who": N_("who"), "what": N_("what"), "undone by": N_("undone by"),
    "workspace": N_("workspace"), "rows": N_("rows"), "people": N_("people"), "imported": N_("imported"),
    "areas": N_("areas"), "countries": N_("countries"), "features": N_("features"),
}


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its column headers in the reader's language (canonical feature columns too), for display.

    Canonical values are shown in the reader's words: layer ids by their short names ("hubs", "nav"), the
    shared vocabulary's kinds and the statuses; names and everything else users typed are not translated.
    """
    from maps.filters import field_label

    out = table.rename(columns=lambda c: _(COLUMN_LABELS[c]) if c in COLUMN_LABELS else field_label(c))
    for column, label in (("layer", layer_short_label), ("kind", kind_label), ("status", status_label)):
        if column in table.columns:  # canonical values only; anything a user typed stays as written
            out[field_label(column)] = table[column].map(lambda v, f=label: f(v) if isinstance(v, str) else v)
    return out


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
        raise WorkspaceError(Message("{folder} is a file, not a folder. Enter a folder for the workspace.",
                                     folder=folder))
    if (folder / GPKG_NAME).exists():
        return
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve() or any(
            resolved == root or root in resolved.parents for root in _SYSTEM_ROOTS):
        raise WorkspaceError(Message("{folder} is a system or home folder; a workspace is not created there. "
                                     "Enter a new folder for it, e.g. ~/atlas/my-alliance.", folder=folder))
    if folder.is_dir() and any(folder.iterdir()):
        raise WorkspaceError(Message("{folder} already holds other files and no workspace. Enter a new or empty "
                                     "folder for the workspace (it will hold atlas.gpkg).", folder=folder))
