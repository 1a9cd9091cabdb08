"""Home page: headline figures of the default region on the demo workspace, and the empty states."""
from __future__ import annotations

import json

from apptest_helpers import (
    deck,
    demo_copy,
    empty_workspace,
    layer,
    layer_ids,
    run_page,
    texts,
)

import ui


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_the_default_region_figures_and_map(tmp_path):
    at = run_page("app.py", demo_copy(tmp_path))

    assert at.session_state[ui.REGION] == "west-ireland"  # the region holding most demo features
    assert at.selectbox(key=ui.REGION).value == "west-ireland"
    values = metrics(at)
    population = int(values["Population (settlements 500+)"].replace(",", ""))
    assert 150_000 < population < 300_000
    # West of Ireland demo: 10 existing hubs inside the outline (planned ones counted apart).
    assert int(values["Hubs & infrastructure"]) >= 8
    for label in ("Hubs & infrastructure coverage", "Training & supports coverage", "Networks coverage",
                  "Full support"):
        share = int(values[label].rstrip("%"))
        assert 0 < share <= 100
    assert int(values["Full support"].rstrip("%")) <= min(
        int(values[f"{name} coverage"].rstrip("%"))
        for name in ("Hubs & infrastructure", "Training & supports", "Networks"))
    page_text = texts(at)
    assert "full support" in page_text.lower()
    # Offline, the shipped GISCO file gives the official boundary, with its attribution.
    assert "Official boundary: NUTS 2021 IE042" in page_text
    assert "© EuroGeographics for the administrative boundaries" in page_text
    assert "dispersed rural population" in page_text

    ids = layer_ids(at)
    for expected in ("region-boundary", "settlement-labels", "hubs-existing", "training-existing",
                     "networks-existing", "hubs-planned", "networks-lines", "hubs-areas"):
        assert expected in ids
    names = {record["name"] for record in layer(at, "hubs-existing")["data"]}
    assert "PorterShed Galway" in names


def test_home_follows_the_region_picker(tmp_path):
    at = run_page("app.py", demo_copy(tmp_path))
    at.selectbox(key=ui.REGION).set_value("lodz").run()
    assert not at.exception
    assert at.subheader[0].value == "Łódź"
    names = {record["name"] for record in layer(at, "hubs-existing")["data"]}
    assert "Art Inkubator w Fabryce Sztuki" in names


def test_home_without_a_workspace_explains_what_to_do(tmp_path):
    at = run_page("app.py", tmp_path / "nowhere")
    assert "No workspace at" in texts(at)
    assert not at.metric
    assert not at.get("deck_gl_json_chart")


def test_home_with_an_empty_workspace_points_to_the_data_page(tmp_path):
    at = run_page("app.py", empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not at.metric


def test_online_without_a_connection_falls_back_at_once(tmp_path, monkeypatch):
    # A closed local port: the official boundary download fails at once, as with no network.
    monkeypatch.setenv("ATLAS_GISCO_NUTS_URL", "http://127.0.0.1:9/{nuts_id}.geojson")
    workspace = demo_copy(tmp_path)
    # A NUTS code no shipped file holds, so the page has to try the download.
    (workspace / "regions.json").write_text(json.dumps({"version": 1, "regions": [
        {"id": "west-ireland", "nuts": ["FRL04"]}]}), encoding="utf-8")
    at = run_page("app.py", workspace, **{ui.ONLINE: True})
    spec = deck(at)
    assert spec["mapStyle"].startswith("https://basemaps.cartocdn.com/")  # tiles only when online
    page_text = texts(at)
    assert "Approximate outline" in page_text and "could not be downloaded" in page_text
    assert metrics(at)["Full support"].endswith("%")
