"""Data: import files, read the report, assign layers, fix a feature, keep population layers and areas, see history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from access import AUDIT, EDIT, IMPORT, REVERT
from atlas import data_ops as ops
from errors import AtlasError
from geography.demand_layers import layer_name
from i18n import formats, ngettext
from i18n import gettext as _
from loaders import SUPPORTED
from loaders.layers import ALL_LAYERS, LAYERS, STATUSES
from maps.filters import field_label
from maps.style import layer_label, layer_short_label, status_label
from maps.text import markdown_text as md


def run_import(file_name: str, do, round_key: str) -> None:
    """Run an import (`do` returns the message lines); on success show them after a rerun with a fresh uploader."""
    try:
        with st.spinner(_("Reading {file}…").format(file=md(file_name))):
            lines = do()
    except ui.USER_ERRORS as exc:
        st.error(md(exc), icon=":material/error:")
    else:
        st.session_state[ui.GEO_MESSAGE] = lines
        st.session_state[round_key] = st.session_state.get(round_key, 0) + 1  # a new uploader key: it clears
        st.rerun()


def stored_items(table, empty: str, removable: bool, *, column: str, label: str, key: str, button: str,
                 button_key: str, remove, table_key: str | None = None) -> None:
    """List what the workspace stores (or say `empty`), and, when `removable`, offer to remove an item."""
    if len(table):
        st.dataframe(ops.shown(table), hide_index=True, width="stretch", key=table_key)
    else:
        st.caption(empty)
    if removable and len(table):
        remove_control(label, table[column].tolist(), key, button, button_key, remove)


def remove_control(label: str, options: list[str], key: str, button: str, button_key: str, remove) -> None:
    """A picker and a button that removes the picked item with `remove(workspace, item)` (a one-line message)."""
    cols = st.columns([4, 1], vertical_alignment="bottom")
    picked = cols[0].selectbox(label, options, key=key)
    if cols[1].button(button, key=button_key):
        try:
            st.session_state[ui.GEO_MESSAGE] = [remove(ctx.workspace, picked)]
        except ui.USER_ERRORS as exc:
            st.error(md(exc), icon=":material/error:")
        else:
            st.rerun()


def place_picker(places, key: str, other: str) -> dict | None:
    """A choice among the GeoNames places of a town, or `other` (option 0); return the picked place or None."""
    rows = {int(p["geonameid"]): p for p in places.to_dict("records")}
    labels = {**{gid: ops.candidate_label(p) for gid, p in rows.items()}, 0: other}
    picked = st.radio(_("Where is it?"), [*rows, 0], format_func=labels.get, key=key, index=None if rows else 0)
    return rows.get(picked) if picked else None


ctx = ui.start("Data")
st.title(_("Data"))
st.caption(_("Workspace: {workspace}").format(workspace=md(ctx.workspace_name or ctx.path)))
may_import, may_edit, may_revert = ctx.can(IMPORT), ctx.can(EDIT), ctx.can(REVERT)
if not (may_import or may_edit):
    st.info(_("You are signed in as a viewer: you can look at everything here, but importing, editing and "
              "undoing changes need the editor role. Ask an admin of the alliance."), icon=":material/visibility:")

# -- upload -------------------------------------------------------------------------------------
if ctx.problem and ctx.stamp:  # e.g. a broken regions.json: imports still work
    st.error(md(ctx.problem), icon=":material/error:")
if ctx.stamp == 0:
    st.info(_("This folder has no workspace yet: importing files creates it here. Start with the alliance's "
              "My Maps export (⋮ → Export to KML/KMZ) or its audit spreadsheet."), icon=":material/folder_open:")
if may_import:
    uploads = st.file_uploader(_("Import files (KMZ/KML from My Maps, XLSX/CSV audit sheets, GeoJSON, GeoPackage)"),
                               type=[s.lstrip(".") for s in SUPPORTED], accept_multiple_files=True,
                               key=f"{ui.UPLOADS}.{st.session_state.get(ui.UPLOADS_ROUND, 0)}")
    countries = list(ctx.region.countries) if ctx.region else []
    country = st.selectbox(_("Country for town names without coordinates"), countries + ["(any)"],
                           format_func=lambda c: _("(any)") if c == "(any)" else c,
                           help=_("Towns are matched offline against GeoNames; this country is preferred."))
    count = len(uploads or [])
    # English keeps its "(s)" (one msgid for both forms); the catalogues give each language its plural forms.
    if st.button(ngettext("Import {count} file(s)", "Import {count} file(s)", count).format(count=count),
                 type="primary", disabled=not uploads):
        bar = st.progress(0.0, text=_("Starting…"))
        with st.status(_("Importing…"), expanded=True) as status:
            def progress(done: int, total: int, name: str) -> None:
                bar.progress(done / total if total else 1.0,
                             text=_("Reading {file}…").format(file=md(name)) if name else _("Done"))
                if name:
                    status.write(_("Reading **{file}** ({number} of {total})").format(
                        file=md(name), number=done + 1, total=total))

            try:
                reports = ops.import_uploads(ctx.workspace, [(f.name, f.getvalue()) for f in uploads],
                                             country=None if country == "(any)" else country, progress=progress)
            except AtlasError as exc:
                status.update(label=_("Nothing was imported"), state="error", expanded=False)
                st.error(md(exc), icon=":material/error:")
            else:
                status.update(**ops.import_status(reports), expanded=False)
                st.session_state[ui.REPORT] = reports
                # A new uploader key empties it, so the next import does not bring these files in again.
                st.session_state[ui.UPLOADS_ROUND] = st.session_state.get(ui.UPLOADS_ROUND, 0) + 1
                st.rerun()  # the sidebar and every cached view pick up the new workspace stamp

# -- the last import's report ---------------------------------------------------------------------
reports = st.session_state.get(ui.REPORT)
if reports:
    st.subheader(_("Import report"))
    for report in reports:
        if report["error"]:
            st.error(md(report["error"]), icon=":material/error:")
    st.dataframe(ops.shown(ops.report_table(reports)), hide_index=True, width="stretch")
    rejected = ops.rejected_table(reports)
    if len(rejected):
        st.markdown(ngettext("**{count} row(s) could not be used** — each with where it is and how to fix it:",
                             "**{count} row(s) could not be used** — each with where it is and how to fix it:",
                             len(rejected)).format(count=formats.number(len(rejected))))
        st.dataframe(ops.shown(rejected), hide_index=True, width="stretch")
        st.download_button(_("Download rejected rows (CSV)"), ops.rejected_csv(rejected), "rejected_rows.csv",
                           "text/csv", key="data.rejected_csv")
    for report in reports:
        if report["preview"]:
            with st.expander(ngettext("Preview of {file} ({count} feature(s))", "Preview of {file} ({count} feature(s))",
                                      report["accepted"]).format(file=md(report["file"]),
                                                                 count=formats.number(report["accepted"]))):
                st.dataframe(ops.shown(pd.DataFrame(report["preview"])), hide_index=True, width="stretch")

if ctx.stamp == 0:
    st.stop()

features = ui.features(ctx.path, ctx.stamp)
if len(features) == 0:
    st.info(_("The workspace holds no features yet. Import a file above to start."), icon=":material/folder_open:")

# -- layers for unclassified features ---------------------------------------------------------------
todo = ops.unclassified(features)
if len(todo) and may_edit:
    st.subheader(_("Unclassified features ({count})").format(count=formats.number(len(todo))))
    st.caption(_("Their folder, sheet or column matched no layer (or two). Give them one; nothing is guessed."))
    st.dataframe(ops.shown(todo.drop(columns="feature_id")), hide_index=True, width="stretch")
    groups = ops.folders(todo)
    if len(groups):
        st.markdown(_("**By folder or sheet** (exactly the features read from it)"))
        options = {f"{file}\x1f{folder}": f"{folder} — {file} ({formats.number(count)})"
                   for file, folder, count in groups.itertuples(index=False)}
        cols = st.columns([3, 1, 1], vertical_alignment="bottom")
        picked = cols[0].selectbox(_("Folder or sheet"), list(options), format_func=options.get,
                                   key=ui.ASSIGN_FOLDER)
        folder_layer = cols[1].selectbox(_("Layer"), LAYERS, key=ui.ASSIGN_FOLDER_LAYER, format_func=layer_label)
        file, folder = picked.split("\x1f", 1)
        members = ops.in_folder(todo, file, folder)
        examples = ", ".join(md(n) for n in members["name"].fillna(_("(no name)")).head(5))
        st.caption(_("For example: {names}").format(names=examples)
                   + (_(" and {count} more").format(count=formats.number(len(members) - 5)) if len(members) > 5 else ""))
        if cols[2].button(_("Assign {count}").format(count=formats.number(len(members))), key="data.assign_folder"):
            count = ops.assign_layer(ctx.workspace, members["feature_id"], folder_layer)
            st.session_state[ui.MESSAGE] = ngettext(
                "{count} feature(s) of '{folder}' moved to {layer}.", "{count} feature(s) of '{folder}' moved to {layer}.",
                count).format(count=formats.number(count), folder=md(folder), layer=md(layer_short_label(folder_layer)))
            st.rerun()
        st.markdown(_("**By selection**"))
    names = ops.labels(todo, "source_ref")
    cols = st.columns([3, 1, 1], vertical_alignment="bottom")
    chosen = cols[0].multiselect(_("Features"), list(names), format_func=names.get, key=ui.ASSIGN_IDS)
    target = cols[1].selectbox(_("Layer"), LAYERS, key=ui.ASSIGN_LAYER, format_func=layer_label)
    if cols[2].button(_("Assign layer"), disabled=not chosen):
        count = ops.assign_layer(ctx.workspace, chosen, target)
        st.session_state[ui.MESSAGE] = ngettext("{count} feature(s) moved to {layer}.",
                                                "{count} feature(s) moved to {layer}.", count).format(
            count=formats.number(count), layer=md(layer_short_label(target)))
        st.rerun()

if message := st.session_state.pop(ui.MESSAGE, None):
    st.success(message, icon=":material/check:")
if note := st.session_state.pop(ui.EDIT_NOTE, None):
    st.warning(note, icon=":material/location_off:")

# -- edit one feature ----------------------------------------------------------------------------------
if len(features) and may_edit:
    st.subheader(_("Fix a feature"))
    labels = ops.labels(features, "layer", "source_file")
    fid = st.selectbox(_("Feature"), list(labels), format_func=labels.get, key=ui.EDIT_ID, index=None,
                       placeholder=_("Type a name to find it"))
    if fid:
        row = features[features["feature_id"] == fid].iloc[0].to_dict()
        # The version the user starts from: if someone saves this feature meanwhile, our save is refused.
        opened = st.session_state.setdefault(ui.field_key(fid, "version"), ctx.workspace.versions([fid]).get(fid))
        with st.form(key="data.edit_form"):
            values = {}
            for name in ops.FORM_FIELDS:
                current, key = ops.blank(row.get(name)) or "", ui.field_key(fid, name)
                label = field_label(name)  # the label only: values keep canonical layer ids and statuses
                if name == "layer":
                    values[name] = st.selectbox(label, ALL_LAYERS, index=ALL_LAYERS.index(row["layer"]), key=key,
                                                format_func=layer_label)
                elif name == "status":
                    values[name] = st.selectbox(label, STATUSES, index=STATUSES.index(row["status"]), key=key,
                                                format_func=status_label)
                elif name == "description":
                    values[name] = st.text_area(label, current, key=key)
                else:
                    values[name] = st.text_input(label, current, key=key)
            saved = st.form_submit_button(_("Save changes"))
        pending = st.session_state.get(ui.EDIT_PENDING)
        if saved:  # a new town first asks where the point goes
            pending = {"fid": fid, "values": values}
            if ops.town_changed(row, values):
                st.session_state[ui.EDIT_PENDING] = pending
                st.session_state.pop(ui.EDIT_PLACE, None)
            else:
                pending["place"] = None
        if pending and pending["fid"] == fid and "place" not in pending:
            town, country = pending["values"]["town"], pending["values"].get("country")
            places = ops.town_candidates(town, country, near=row["geometry"])
            if places.empty:  # nothing to choose: saved as it is, and the page says the point stays
                pending = {**pending, "place": None, "note": ops.no_place_message(town, country)}
            else:
                st.markdown(_("**The town is now {town}.** The point is at {point}; move it to the new town?").format(
                    town=md(town), point=ops.point_text(row["geometry"])))
                place = place_picker(places, ui.EDIT_PLACE, _("Keep the point where it is"))
                cols = st.columns([1, 1, 3])
                if cols[0].button(_("Save changes"), key="data.edit_place_save", type="primary"):
                    pending = {**pending, "place": place, "kept": place is None}
                if cols[1].button(_("Cancel"), key="data.edit_place_cancel"):
                    st.session_state.pop(ui.EDIT_PENDING, None)
                    st.rerun()
        if pending and pending["fid"] == fid and "place" in pending:
            try:
                changes = ops.edit_feature(ctx.workspace, fid, pending["values"], version=opened,
                                           place=pending["place"])
            except AtlasError as exc:
                st.error(md(f"{labels[fid]}: {exc}"))
            else:
                for key in (ui.field_key(fid, "version"), ui.EDIT_PENDING, ui.EDIT_PLACE):
                    st.session_state.pop(key, None)
                st.session_state[ui.MESSAGE] = md(ops.saved_message(row["name"], changes, pending["place"],
                                                                    kept=pending.get("kept", False)))
                if pending.get("note"):
                    st.session_state[ui.EDIT_NOTE] = md(pending["note"])
                st.rerun()

# -- fix a rejected row and accept it ------------------------------------------------------------------------
rejected_rows = ops.rejected_choices(ctx.workspace) if may_edit else {}
if rejected_rows:
    st.subheader(_("Fix a rejected row"))
    st.caption(_("Rows an import could not use, e.g. a town the offline gazetteer could not place. Fix one and "
                 "accept it: it becomes a feature (undo it below), and a re-import of its file keeps the fix."))
    rid = st.selectbox(_("Rejected row"), list(rejected_rows), format_func=rejected_rows.get, key=ui.REJECTED_ID,
                       index=None, placeholder=_("Pick a row to fix"))
    start = None
    if rid is not None:
        try:
            start = ops.rejected_prefill(ctx.workspace, rid)
        except AtlasError as exc:
            st.error(md(exc), icon=":material/error:")
    if start:
        st.caption(f"{md(start['file'])}, {md(start['where'])}: {md(start['reason'])}")
        fixed, key = {}, f"rejected-{rid}"
        cols = st.columns(3)
        for i, name in enumerate((*ops.ACCEPT_FIELDS, "lat", "lon")):
            label = {"lat": _("latitude"), "lon": _("longitude")}.get(name) or field_label(name)
            where, field_key = cols[i % 3], ui.field_key(key, name)
            if name == "layer":
                fixed[name] = where.selectbox(label, ALL_LAYERS, index=ALL_LAYERS.index(start[name]), key=field_key,
                                              format_func=layer_label)
            elif name == "status":
                fixed[name] = where.selectbox(label, STATUSES, index=STATUSES.index(start[name]), key=field_key,
                                              format_func=status_label)
            else:
                fixed[name] = where.text_input(label, start[name], key=field_key)
        places = ops.town_candidates(fixed["town"], fixed["country"])
        if fixed["town"].strip() and places.empty:
            st.warning(md(ops.no_place_message(fixed["town"], fixed["country"], typed=True)),
                       icon=":material/location_off:")
        place = place_picker(places, f"{ui.REJECTED_PLACE}.{rid}", _("At the latitude and longitude typed above"))
        if st.button(_("Accept as a feature"), key="data.accept_rejected", type="primary"):
            try:
                st.session_state[ui.MESSAGE] = md(ops.accept_rejected(ctx.workspace, rid, fixed, place=place))
            except AtlasError as exc:
                st.error(md(exc), icon=":material/error:")
            else:
                st.session_state.pop(ui.REJECTED_ID, None)
                st.rerun()

# -- geography: population layers and area files -------------------------------------------------------
populations, area_table = ops.population_table(ctx.workspace), ops.area_files(ctx.workspace)
networks = ops.street_networks(ctx.workspace)
if may_import or len(populations) or len(area_table) or len(networks):
    st.subheader(_("Geography"))
    if lines := st.session_state.pop(ui.GEO_MESSAGE, None):
        st.success("  \n".join(md(line) for line in lines), icon=":material/check:")

    st.markdown(_("**Population layers**"))
    st.caption(_("Whose people the figures count. Import a layer once; Home, Gaps and the command line "
                 "(`--demand NAME`) then offer it for any region. Read: a 1 km grid CSV with GRD_ID cell codes "
                 "(Eurostat GEOSTAT), GeoTIFF rasters (GHS-POP, WorldPop), a CSV of settlements with lat, lon and "
                 "population, or polygons with a population (GeoJSON/GeoPackage, weighted by area)."))
    if may_import:
        n = st.session_state.setdefault(ui.DEMAND_ROUND, 0)
        upload = st.file_uploader(_("Population layer"), type=["csv", "tsv", "txt", "tif", "tiff", "geojson", "json",
                                                            "gpkg"], key=f"{ui.DEMAND_FILE}.{n}")
        cols = st.columns([3, 1], vertical_alignment="bottom")
        name = cols[0].text_input(_("Layer name (optional)"), key=f"{ui.DEMAND_NAME}.{n}",
                                  placeholder=layer_name(upload.name) if upload else _("the file's name"),
                                  help=_("How the layer is listed and chosen. Importing again under a name "
                                         "replaces that layer."))
        if cols[1].button(_("Import layer"), key="data.demand_import", disabled=upload is None):
            # After the rerun the sidebar's Population picker offers the new layer.
            run_import(upload.name, lambda: ops.import_population(ctx.workspace, upload.name, upload.getvalue(),
                                                                  name=name), ui.DEMAND_ROUND)
    stored_items(populations, _("No population layer stored: the figures count the built-in GeoNames settlements of "
                                "500+."), may_import, column="name", label=_("Remove a population layer"),
                 key=ui.DEMAND_REMOVE, button=_("Remove layer"), button_key="data.demand_remove_button",
                 remove=ops.remove_population)

    st.markdown(_("**Areas (municipalities, counties)**"))
    st.caption(_("A file of area polygons, e.g. a country's municipalities. These areas give regions made of "
                 "municipalities their shape (Kristianstad for Blekinge) and break the figures down by area on "
                 "Gaps and Map."))
    if may_import:
        n = st.session_state.setdefault(ui.AREAS_ROUND, 0)
        upload = st.file_uploader(_("Area file (GeoJSON, TopoJSON, GeoPackage, KML/KMZ, zipped shapefile)"),
                                  type=["geojson", "json", "topojson", "gpkg", "kml", "kmz", "zip"],
                                  key=f"{ui.AREAS_FILE}.{n}")
        cols = st.columns([3, 1], vertical_alignment="bottom")
        country = cols[0].selectbox(_("Country of the areas"), ops.AREA_COUNTRIES, key=ui.AREAS_COUNTRY,
                                    format_func=lambda c: c or _("(from the file)"),
                                    help=_("For a file without a country column: every area is taken to lie "
                                           "in this country."))
        if cols[1].button(_("Import areas"), key="data.areas_import", disabled=upload is None):
            # After the rerun boundaries and the by-area figures use the new areas.
            run_import(upload.name, lambda: [ops.import_area_file(ctx.workspace, upload.name, upload.getvalue(),
                                                                  country=country)], ui.AREAS_ROUND)
    stored_items(area_table, _("No areas imported: regions use their NUTS boundaries, and figures by area use NUTS 3."),
                 may_import, column="file", label=_("Remove an area file"), key=ui.AREAS_REMOVE,
                 button=_("Remove areas"), button_key="data.areas_remove_button", remove=ops.remove_area_file)

    st.markdown(_("**Street network**"))
    st.caption(_("An OpenStreetMap extract of the region (.osm.pbf from Geofabrik or BBBike). With one, Gaps, Map and "
                 "Present can measure in minutes of travel by car, on foot or by bike instead of straight-line km. "
                 "It is read once and its road networks kept in the workspace."))
    if may_import:
        n = st.session_state.setdefault(ui.NETWORK_ROUND, 0)
        upload = st.file_uploader(_("Street network (.osm.pbf)"), type=["pbf"], key=f"{ui.NETWORK_FILE}.{n}")
        if st.button(_("Import street network"), key="data.network_import", disabled=upload is None):
            run_import(upload.name, lambda: [ops.import_street_network(ctx.workspace, upload.name, upload.getvalue(),
                                                                       folder=ui.network_folder(ctx.path))],
                       ui.NETWORK_ROUND)
    stored_items(networks, _("No street network stored: every figure is a straight-line distance in km."), may_import,
                 column="file", label=_("Remove a street network"), key=ui.NETWORK_REMOVE, button=_("Remove network"),
                 button_key="data.network_remove_button", remove=ops.remove_street_network, table_key="data.networks")

# -- every change, and undo ----------------------------------------------------------------------------------
st.subheader(_("Changes"))
st.caption(_("Every import, edit, layer assignment, saved site and undo, with who made it and when."))
st.dataframe(ops.shown(ops.changes(ctx.workspace)), hide_index=True, width="stretch", height=260)
if may_revert:
    options = ops.revertible(ctx.workspace)
    if options:
        cols = st.columns([4, 1], vertical_alignment="bottom")
        picked = cols[0].selectbox(_("Undo a change"), list(options), format_func=options.get, key=ui.REVERT_ID,
                                   help=_("An import is undone whole: its features leave and whatever it replaced "
                                          "comes back. An edit is undone if nobody changed those fields since."))
        if cols[1].button(_("Undo"), key="data.revert"):
            try:
                st.session_state[ui.MESSAGE] = md(ops.revert_change(ctx.workspace, picked))
            except AtlasError as exc:
                st.error(md(exc), icon=":material/error:")
            else:
                st.rerun()
if ctx.user is not None and ctx.can(AUDIT):
    with st.expander(_("Activity across all workspaces (admins)")):
        st.dataframe(ops.shown(ops.activity(ctx.config)), hide_index=True, width="stretch")

# -- rejected rows and history -----------------------------------------------------------------------------
stored = ops.workspace_rejected(ctx.workspace)
with st.expander(_("Rejected rows kept in the workspace ({count})").format(count=formats.number(len(stored))),
                 expanded=False):
    st.dataframe(ops.shown(stored), hide_index=True, width="stretch")
    if len(stored):
        st.download_button(_("Download all rejected rows (CSV)"), ops.rejected_csv(stored), "workspace_rejected.csv",
                           "text/csv", key="data.workspace_rejected_csv")
st.subheader(_("Import history"))
st.dataframe(ops.shown(ops.history(ctx.workspace)), hide_index=True, width="stretch")
