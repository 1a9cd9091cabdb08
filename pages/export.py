"""Export: the command line's choices (format, region, layers, status, analysis) with download buttons."""
from __future__ import annotations

import hashlib

import streamlit as st

import ui
from atlas.dashboard import inside
from atlas.export import cli_command, export_to_memory
from exporters import FORMAT_HELP, FORMATS, MIME, SUFFIXES
from i18n import LANGUAGES, N_, current, formats
from i18n import gettext as _
from loaders.layers import ALL_LAYERS
from maps.style import layer_label
from maps.text import code_span
from maps.text import markdown_text as md

# Session-state keys of the Export page.
FORMAT, SCOPE, LAYERS, STATUS = "export.format", "export.scope", "export.layers", "export.status"
ANALYSIS, SITES, RESULT = "export.analysis", "export.sites", "export.result"
LANG = "export.lang"  # key prefix: the language of the file's sheet names, headers and folder names
STATUS_CHOICES = {"both": N_("existing and planned"), "existing": N_("existing"), "planned": N_("planned")}


@st.cache_data(show_spinner=False, max_entries=16)
def prepare(path: str, stamp: int, fmt: str, name: str, region: str | None, layers: tuple[str, ...],
            status: str | None, analysis: bool, sites: int, online: bool, lang: str) -> dict:
    """Run the export into memory; keyed on the workspace stamp and the choices (language too), never on frames."""
    files, result = export_to_memory(path, fmt, name, region=region, layers=list(layers), status=status,
                                     include_analysis=analysis, sites=sites, online=online, lang=lang)
    return {"files": files, "message": result.message, "notes": result.notes}


ctx = ui.start("Export")
st.title(_("Export"))
st.caption(_("Files for partners: GeoJSON for GIS and the web, KML/KMZ back into Google My Maps, GeoPackage for "
             "QGIS, a spreadsheet report for readers who don't use GIS, CSV for anything else."))

if not ui.empty_state(ctx, N_("the export")):
    present = [layer for layer in ALL_LAYERS if layer in set(ui.features(ctx.path, ctx.stamp)["layer"])]
    left, right = st.columns(2)
    fmt = left.radio(_("Format"), FORMATS, key=FORMAT, format_func=lambda f: f"{f.upper()} — {_(FORMAT_HELP[f])}")
    scope = right.radio(_("Features"), ("region", "all"), key=SCOPE, format_func=lambda s: (
        _("Only in {region}").format(region=md(ctx.region.name)) if s == "region"
        else _("Every feature in the workspace")))
    # Keyed on the workspace and its layers: another workspace starts again from all of its layers.
    layers = right.multiselect(_("Layers"), present, default=present, format_func=layer_label,
                               key=f"{LAYERS}.{hashlib.sha1(repr((ctx.path, present)).encode()).hexdigest()[:12]}")
    status = right.selectbox(_("Status"), tuple(STATUS_CHOICES), key=STATUS,
                             format_func=lambda s: _(STATUS_CHOICES[s]))
    # The file's language: the page's unless picked here (keyed on the page's, so changing that resets it);
    # sheet names, headers and KML folder names follow it.
    lang = right.selectbox(_("Language of the file"), list(LANGUAGES), index=list(LANGUAGES).index(current()),
                           key=f"{LANG}.{current()}", format_func=LANGUAGES.get,
                           help=_("Sheet names and column headers of the XLSX report, folder names of the KML. "
                                  "Layer ids, GeoJSON properties and your data stay as they are."))
    analysis = left.toggle(_("Include the analysis results"), key=ANALYSIS, disabled=scope == "all",
                           help=_("Coverage summary, coverage discs, gap areas, uncovered towns, suggested sites, "
                                  "catchments, H3 grid and the regions' comparison (needs a region)."))
    # 1-10 as on the command line (`export --sites K`), so the command shown below always runs.
    sites = left.slider(_("Suggested new hub sites"), 1, 10, 3, key=SITES) if analysis and scope == "region" else 3
    region = ctx.region.id if scope == "region" else None
    choices = (fmt, region, tuple(layers), None if status == "both" else status,
               bool(analysis and region), int(sites), lang)
    name = f"{region or 'workspace'}-export"
    st.caption(_("Same export from the command line:") + " " + code_span(cli_command(
        ctx.path, fmt, name + SUFFIXES[fmt], region=region, layers=layers if layers != present else None,
        status=choices[3], include_analysis=choices[4], sites=sites, lang=lang)))

    features = ui.features(ctx.path, ctx.stamp)
    if scope == "region":
        features = features[inside(features, ui.boundary(*ctx.key()).geometry)]
    left_out = features[~features["layer"].isin(layers)]["layer"].value_counts()
    if len(left_out):
        st.info(_("Left out of this export: {counts} feature(s) of {total} (layers not chosen above).").format(
            counts=", ".join(f"{formats.number(count)} {layer_label(layer).lower()}" for layer, count in left_out.items()),
            total=formats.number(len(features))), icon=":material/filter_alt:")
    if not layers:
        st.warning(_("Pick at least one layer to export."))
    else:
        # Plain exports are quick and made at once; with the analysis they wait for a click.
        if not choices[4] or st.button(_("Prepare the export with analysis"), type="primary"):
            try:
                with st.spinner(_("Preparing the files…")):
                    st.session_state[RESULT] = (choices, prepare(ctx.path, ctx.stamp, fmt, name, region, tuple(layers),
                                                                 choices[3], choices[4], sites, ctx.online, lang))
            except ui.USER_ERRORS as exc:
                st.session_state.pop(RESULT, None)
                st.error(md(exc), icon=":material/error:")
        stored = st.session_state.get(RESULT)
        if stored and stored[0] == choices:
            done = stored[1]
            st.success(md(done["message"]), icon=":material/check:")
            for note in done["notes"]:
                st.caption(md(note))
            for i, (file_name, data) in enumerate(done["files"]):
                st.download_button(_("Download {file} ({size} KB)").format(
                                       file=md(file_name), size=formats.number(len(data) / 1024)),
                                   data, file_name, MIME[fmt], key=f"export.download.{i}", icon=":material/download:")
