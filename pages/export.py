"""Export: the command line's choices (format, region, layers, status, analysis) with download buttons."""
from __future__ import annotations

import hashlib

import streamlit as st

import ui
from atlas.dashboard import inside
from atlas.export import cli_command, export_to_memory
from exporters import FORMAT_HELP, FORMATS, MIME, SUFFIXES
from loaders.layers import ALL_LAYERS
from maps.style import LAYER_LABELS
from maps.text import code_span
from maps.text import markdown_text as md

# Session-state keys of the Export page.
FORMAT, SCOPE, LAYERS, STATUS = "export.format", "export.scope", "export.layers", "export.status"
ANALYSIS, SITES, RESULT = "export.analysis", "export.sites", "export.result"


@st.cache_data(show_spinner=False, max_entries=16)
def prepare(path: str, stamp: int, fmt: str, name: str, region: str | None, layers: tuple[str, ...],
            status: str | None, analysis: bool, sites: int, online: bool) -> dict:
    """Run the export into memory; keyed on the workspace stamp and the choices, never on frames."""
    files, result = export_to_memory(path, fmt, name, region=region, layers=list(layers), status=status,
                                     include_analysis=analysis, sites=sites, online=online)
    return {"files": files, "message": result.message, "notes": result.notes}


ctx = ui.start("Export")
st.title("Export")
st.caption("Files for partners: GeoJSON for GIS and the web, KML/KMZ back into Google My Maps, GeoPackage for "
           "QGIS, a spreadsheet report for readers who don't use GIS, CSV for anything else.")

if not ui.empty_state(ctx, "the export"):
    present = [layer for layer in ALL_LAYERS if layer in set(ui.features(ctx.path, ctx.stamp)["layer"])]
    left, right = st.columns(2)
    fmt = left.radio("Format", FORMATS, key=FORMAT, format_func=lambda f: f"{f.upper()} — {FORMAT_HELP[f]}")
    scope = right.radio("Features", ("region", "all"), key=SCOPE, format_func=lambda s: (
        f"Only in {md(ctx.region.name)}" if s == "region" else "Every feature in the workspace"))
    # Keyed on the workspace and its layers: another workspace starts again from all of its layers.
    layers = right.multiselect("Layers", present, default=present,
                               key=f"{LAYERS}.{hashlib.sha1(repr((ctx.path, present)).encode()).hexdigest()[:12]}")
    status = right.selectbox("Status", ("existing and planned", "existing", "planned"), key=STATUS)
    analysis = left.toggle("Include the analysis results", key=ANALYSIS, disabled=scope == "all",
                           help="Coverage summary, coverage discs, gap areas, uncovered towns, suggested sites, "
                                "catchments, H3 grid and the regions' comparison (needs a region).")
    # 1-10 as on the command line (`export --sites K`), so the command shown below always runs.
    sites = left.slider("Suggested new hub sites", 1, 10, 3, key=SITES) if analysis and scope == "region" else 3
    region = ctx.region.id if scope == "region" else None
    choices = (fmt, region, tuple(layers), None if status.startswith("existing and") else status,
               bool(analysis and region), int(sites))
    name = f"{region or 'workspace'}-export"
    st.caption("Same export from the command line: " + code_span(cli_command(
        ctx.path, fmt, name + SUFFIXES[fmt], region=region, layers=layers if layers != present else None,
        status=choices[3], include_analysis=choices[4], sites=sites)))

    features = ui.features(ctx.path, ctx.stamp)
    if scope == "region":
        features = features[inside(features, ui.boundary(*ctx.key()).geometry)]
    left_out = features[~features["layer"].isin(layers)]["layer"].value_counts()
    if len(left_out):
        st.info("Left out of this export: " + ", ".join(
            f"{count:,} {LAYER_LABELS.get(layer, layer).lower()}" for layer, count in left_out.items())
            + f" feature(s) of {len(features):,} (layers not chosen above).", icon=":material/filter_alt:")
    if not layers:
        st.warning("Pick at least one layer to export.")
    else:
        # Plain exports are quick and made at once; with the analysis they wait for a click.
        if not choices[4] or st.button("Prepare the export with analysis", type="primary"):
            try:
                with st.spinner("Preparing the files…"):
                    st.session_state[RESULT] = (choices, prepare(ctx.path, ctx.stamp, fmt, name, region, tuple(layers),
                                                                 choices[3], choices[4], sites, ctx.online))
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
                st.download_button(f"Download {md(file_name)} ({len(data) / 1024:,.0f} KB)", data, file_name, MIME[fmt],
                                   key=f"export.download.{i}", icon=":material/download:")
