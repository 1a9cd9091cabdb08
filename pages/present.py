"""Present: a full-screen map for alliance meetings, stepping through the story with big type.

Made for a projector at 1280x720 and larger: the controls sit in a bar fixed to the bottom of
the screen, keys and a presenter clicker step through the story, each step starts at the top,
every text on the slide is at least 24 px, the URL keeps the step (``?step=3``) and the story can
advance by itself for a stand at an event.
"""
from __future__ import annotations

import time
from html import escape

import streamlit as st

import maps
import ui
from atlas.dashboard import is_demo
from errors import UsageError
from i18n import N_
from i18n import gettext as _
from loaders.layers import HUBS
from maps.story import STEPS, next_step, step_content, step_from_url
from maps.style import boundary_source_label
from maps.text import markdown_text as md

# (height, width) px of the map: "room" fits title, sentence, demo line and map above the bar at 1280x720;
# "large" is shown instead on screens of 1400x900 and more (1920x1080).
MAP_SIZES_PX = {"room": (420, 850), "large": (680, 1250)}
INTERVAL_S = (10, 120, 20)  # auto-advance: min, max, default seconds per step

ctx = ui.start("Present")
# Meeting mode: no sidebar, no toolbar, big type (every text on the slide >= 24 px), controls in a fixed bar.
st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
header[data-testid="stHeader"] {display: none !important;}
.block-container {padding: .75rem 1.5rem 7.5rem 1.5rem; max-width: 100%;}
.atlas-present h1 {font-size: 2.6rem; line-height: 1.15; margin: 0; padding: 0;}
.atlas-present p {font-size: 1.85rem; line-height: 1.25; margin: .25rem 0 0 0; color: #111;}
.atlas-present p.atlas-demo {font-size: 1.5rem; color: #a04000; font-weight: 600;}
p.atlas-meta {font-size: 1.5rem; line-height: 1.3; color: #222; margin: 0;}
.atlas-legend .atlas-attribution {font-size: 1.5rem !important; color: #222 !important;}
.st-key-present-bar {position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990; background: #fff;
  flex-wrap: nowrap !important;
  border-top: 2px solid #ccc; padding: .5rem 1rem; box-shadow: 0 -4px 12px rgba(0,0,0,.08);}
.st-key-present-bar p, .st-key-present-bar label {font-size: 1.5rem !important; line-height: 1.2;}
.st-key-present-bar input {font-size: 1.5rem !important;}
.st-key-present-bar .atlas-step {font-size: 1.5rem; font-weight: 600; margin: 0 .75rem; white-space: nowrap;}
.st-key-present-keys, .st-key-present-map-large {display: none;}
@media (min-width: 1400px) and (min-height: 900px) {
  .st-key-present-map-large {display: flex;}
  .st-key-present-map-room {display: none;}
}
</style>""")


def _go(index: int) -> None:
    """Show step `index` (a button's callback, so the run that follows draws that step)."""
    st.session_state[ui.PRESENT_STEP] = index


def _restart_clock() -> None:
    """Count the current step's time from now (auto-advance turned on or its interval changed)."""
    st.session_state[ui.PRESENT_SHOWN] = (st.session_state.get(ui.PRESENT_STEP, 0), time.monotonic())


def _current_step(count: int) -> int:
    """The step to show: a new ``?step=`` in the URL (a link, a reload), else this session's; written back to the URL."""
    wanted = st.query_params.get("step")
    if wanted is not None and wanted != st.session_state.get(ui.PRESENT_URL):
        try:
            st.session_state[ui.PRESENT_STEP] = step_from_url(wanted, count)
        except UsageError as exc:
            st.warning(md(exc), icon=":material/warning:")
    st.session_state.setdefault(ui.PRESENT_STEP, 0)
    index = min(max(int(st.session_state[ui.PRESENT_STEP]), 0), count - 1)
    st.session_state[ui.PRESENT_STEP] = index
    st.session_state[ui.PRESENT_URL] = str(index + 1)
    if st.query_params.get("step") != str(index + 1):
        st.query_params["step"] = str(index + 1)
    if st.session_state.get(ui.PRESENT_SHOWN, (None, 0.0))[0] != index:
        st.session_state[ui.PRESENT_SHOWN] = (index, time.monotonic())
    return index


def _keys_script(index: int) -> str:
    """Keyboard and clicker control plus scroll-to-top, run in the page (not an iframe).

    One keydown listener on the document, registered once per browser tab, clicks the bar's
    buttons: ArrowRight, PageDown, Space = next; ArrowLeft, PageUp = previous; Home, End = first,
    last. Keys typed into a text field stay there, except a clicker's PageUp/PageDown (which a
    text field has no use for). On another page the buttons are absent and keys do what they
    always do. The step index in the body makes Streamlit run the script again on every step
    change, which scrolls the slide to the top so the room sees the new title.
    """
    return f"""<script>
(() => {{
  const w = window;
  if (!w.atlasPresentKeys) {{
    w.atlasPresentKeys = true;
    const actions = {{ArrowRight: "next", PageDown: "next", " ": "next", Spacebar: "next",
                      ArrowLeft: "prev", PageUp: "prev", Home: "first", End: "last"}};
    const typing = 'textarea, select, [contenteditable=""], [contenteditable="true"], [role="combobox"], '
      + 'input:not([type]), input[type="text"], input[type="number"], input[type="search"], '
      + 'input[type="email"], input[type="password"], input[type="url"], input[type="tel"]';
    document.addEventListener("keydown", (event) => {{
      const action = actions[event.key];
      if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target;
      const inField = target && target.closest && target.closest(typing);
      const clicker = event.key === "PageDown" || event.key === "PageUp";
      if (inField && (!clicker || target.closest("textarea, [contenteditable]"))) return;
      const button = document.querySelector(".st-key-present-" + action + " button");
      if (!button) return;
      event.preventDefault();
      event.stopPropagation();
      if (!button.disabled) button.click();
    }}, true);
  }}
  const top = () => {{
    for (const el of document.querySelectorAll('[data-testid="stMain"], section.main, [data-testid="stAppViewContainer"]'))
      el.scrollTo(0, 0);
    w.scrollTo(0, 0);
  }};
  top();
  setTimeout(top, 150);
  setTimeout(top, 600);
}})();
</script><span data-step="{index}"></span>"""


if not ui.empty_state(ctx, N_("the presentation")):
    count = len(STEPS)
    index = _current_step(count)
    step = STEPS[index]
    key = ctx.key()
    radius = ui.radius_items(ctx)
    network, mode = ui.chosen_travel(ctx)  # minutes when the session chose them on Gaps or Map
    minutes = ui.travel_minutes(ctx) if network else ()
    try:
        bound = ui.boundary(*key)
        if network:
            sha = network["sha256"]
            result = ui.travel_coverage(*key, sha, mode, minutes, False)
            rep = ui.travel_report(*key, sha, mode, minutes, False)
        else:
            result = ui.coverage(*key, radius, False)
            rep = ui.report(*key, radius, False)
        content, sentence = step_content(
            step, boundary=bound.geometry, boundary_source=bound.source,
            facilities=lambda shown, radius_km: ui.facility_map(
                *key, shown, radius=tuple(radius_km.items()) if radius_km else None, scale=2.0),
            settlements=ui.towns(*key), result=result, counts=ui.facility_counts(*key),
            gaps=ui.gap_areas(*key, radius, False, HUBS) if step.id == "gaps" and not network else None,
            sites=(ui.travel_siting(*key, network["sha256"], mode, HUBS, dict(minutes)[HUBS], 3, False) if network
                   else ui.siting(*key, HUBS, dict(radius)[HUBS], 3, False)).sites if step.id == "sites" else None,
            isochrones=(lambda layer: ui.isochrones(ctx.path, ctx.stamp, network["sha256"], mode, layer,
                                                    dict(minutes)[layer])) if network else None, mode=mode,
            demand_kind=("settlements of 500+" if rep["demand"]["source"] == "geonames" else rep["demand"]["kind"]),
            too_few=rep["demand"]["too_few_points"], attribution=bound.attribution,
        )
        where = ctx.workspace_name or ctx.workspace.name
        demo = _("Illustrative data: invented facilities in real towns, not a real audit.")
        note = f'<p class="atlas-demo">{escape(demo)}</p>' if is_demo(ctx.workspace.path) else ""
        st.html(f'<div class="atlas-present"><h1>{escape(ctx.region.name)} · {escape(step.label)}</h1>'
                f"<p>{escape(sentence)}</p>{note}</div>")
        map_col, legend_col = st.columns([2, 1])
        with map_col:
            # pydeck sizes and fits the map in px and the server does not know the screen, so the map is
            # drawn for a 1280x720 room and for a large screen; CSS shows the one that fits.
            for size, (height_px, width_px) in MAP_SIZES_PX.items():
                with st.container(key=f"present-map-{size}"):
                    st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, scale=2.0, height_px=height_px,
                                                    width_px=width_px),
                                    height=height_px, key=f"present.deck.{size}")
        with legend_col:
            st.html(maps.legend_html(maps.atlas_legend(content), large=True))
        # The demand layer's name ("source") is data: shown as it is.
        population = (_("settlements of 500+ (dispersed rural population not counted)")
                      if rep["demand"]["source"] == "geonames"
                      else _("population: {source}").format(source=rep["demand"]["source"]))
        meta = _("Step {step} of {count} · workspace: {workspace} · boundary: {boundary} · {population}").format(
            step=index + 1, count=count, workspace=where, boundary=boundary_source_label(bound.source),
            population=population)
        st.html(f'<p class="atlas-meta">{escape(meta)}</p>')
    except ui.USER_ERRORS as exc:
        st.error(md(exc))

    with st.container(key="present-bar", horizontal=True, vertical_alignment="center", gap="small"):
        # First and Last are icons only (named in their tooltips), so the bar stays one row in every language.
        st.button("", icon=":material/first_page:", key="present.first", help=_("First step (Home)"),
                  disabled=index == 0, on_click=_go, args=(0,))
        st.button(_("◀ Previous"), key="present.prev", help=_("Previous step (←, PageUp)"), disabled=index == 0,
                  on_click=_go, args=(index - 1,))
        step_line = _("Step {step} of {count}").format(step=index + 1, count=count)
        st.html(f'<p class="atlas-step">{escape(step_line)}</p>', width="content")
        st.button(_("Next ▶"), key="present.next", help=_("Next step (→, PageDown, Space)"),
                  disabled=index == count - 1, on_click=_go, args=(index + 1,), type="primary")
        st.button("", icon=":material/last_page:", key="present.last", help=_("Last step (End)"),
                  disabled=index == count - 1, on_click=_go, args=(count - 1,))
        st.space("stretch")
        auto = st.toggle(_("Auto-advance"), key=ui.PRESENT_AUTO, on_change=_restart_clock,
                         help=_("Step on by itself, back to the first step after the last: for a stand at an event."))
        low, high, default = INTERVAL_S
        st.session_state.setdefault(ui.PRESENT_INTERVAL, default)
        interval = st.number_input(_("Seconds per step"), min_value=low, max_value=high, step=5, key=ui.PRESENT_INTERVAL,
                                   on_change=_restart_clock, label_visibility="collapsed", width=130,
                                   help=_("Seconds per step when auto-advancing ({low}–{high}).").format(low=low, high=high))
        st.page_link("app.py", query_params=ui.query(ctx), label=_("Leave meeting mode"), icon=":material/close:")

    with st.container(key="present-keys"):
        st.html(_keys_script(index), unsafe_allow_javascript=True)

        @st.fragment(run_every=interval if auto else None)
        def _auto_advance() -> None:
            """Go to the next step (the first after the last) once the current one has been shown `interval` s."""
            shown, since = st.session_state.get(ui.PRESENT_SHOWN, (index, time.monotonic()))
            # Half a second of slack: the timer starts when the browser has drawn the run, a little after `since`.
            if auto and time.monotonic() - since >= interval - 0.5:
                _go(next_step(shown, count, wrap=True))
                st.rerun(scope="app")

        _auto_advance()
