"""Helpers for the page tests: run a page of the app on a workspace with AppTest, read its map."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

import ui
from workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "geodata" / "demo_workspace"
TIMEOUT_S = 180  # the first run in a process loads the GeoNames table (several seconds)


def demo_copy(tmp_path: Path) -> Path:
    """Copy the demo workspace into `tmp_path` so a test may change it."""
    assert (DEMO / "atlas.gpkg").exists(), (
        f"{DEMO} is missing: build it with `python geodata/demo/build_demo.py`."
    )
    target = tmp_path / "demo_workspace"
    shutil.copytree(DEMO, target)
    return target


def empty_workspace(tmp_path: Path) -> Path:
    """Return a workspace folder whose GeoPackage exists but holds no features."""
    folder = tmp_path / "empty_workspace"
    Workspace(folder).create()
    return folder


def run_page(page: str, workspace: Path, *, query: dict[str, str] | None = None, **state) -> AppTest:
    """Run Home (app.py) with `workspace` in the sidebar, switch to `page` and return the finished AppTest.

    `query` is the URL's query string on opening (a shared link: ``{"lang": "sv"}``); `state`
    sets session-state keys first.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.session_state[ui.WORKSPACE] = str(workspace)
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page != "app.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def deck(at: AppTest, index: int = 0) -> dict:
    """Return the JSON spec of the page's `index`-th map, as the browser receives it."""
    return json.loads(at.get("deck_gl_json_chart")[index].proto.json)


def layer_ids(at: AppTest, index: int = 0) -> list[str]:
    """Return the ids of the layers drawn on the page's `index`-th map."""
    return [layer["id"] for layer in deck(at, index)["layers"]]


def layer(at: AppTest, layer_id: str, index: int = 0) -> dict:
    """Return one layer of the page's map by id."""
    return next(layer for layer in deck(at, index)["layers"] if layer["id"] == layer_id)


def click_map(at: AppTest, layer_id: str, obj: dict, index: int = 0) -> AppTest:
    """Rerun as if the user clicked `obj` of `layer_id` on the map (a pydeck selection event)."""
    chart = at.get("deck_gl_json_chart")[index]
    states = at._tree.get_widget_states()
    event = {"selection": {"indices": {layer_id: [0]}, "objects": {layer_id: [obj]}}}
    states.widgets.append(WidgetState(id=chart.proto.id, string_value=json.dumps(event)))
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Return every markdown, caption, info and error text of the page, and the HTML blocks' bodies, joined."""
    parts = [e.value for kind in ("markdown", "caption", "info", "error", "success", "subheader", "title")
             for e in getattr(at, kind)]
    parts += [e.proto.body for e in at.get("html")]
    return "\n".join(str(p) for p in parts)
