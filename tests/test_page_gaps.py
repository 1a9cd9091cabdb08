"""Gaps page: radius sliders, coverage figures, towns beyond reach, siting and saving a suggested site."""
from __future__ import annotations

from apptest_helpers import (
    demo_copy,
    empty_workspace,
    layer,
    layer_ids,
    run_page,
    texts,
)

from workspace import Workspace

GAPS = "pages/gaps.py"


def share(at, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).rstrip("%"))


def test_gaps_figures_table_and_suggested_sites(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    assert 0 < share(at, "Hubs & infrastructure coverage") < 100
    towns = at.dataframe[0].value
    assert len(towns) > 0
    assert list(towns.columns[:3]) == ["town", "population", "missing"]
    assert towns["population"].is_monotonic_decreasing
    assert all("hubs" in m for m in towns["missing"])
    assert (towns["hubs km"] > 20).all()  # beyond the 20 km hub radius
    sites = at.dataframe[1].value
    assert len(sites) == 3 and (sites["adds people"] > 0).all()
    ids = layer_ids(at)
    for expected in ("hubs-discs", "gap-areas", "uncovered-settlements", "suggested-sites", "region-boundary"):
        assert expected in ids
    assert len(layer(at, "suggested-sites")["data"]) == 3
    assert "training-existing" not in ids  # the map shows the focus layer only


def test_a_larger_radius_covers_more(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    before = share(at, "Hubs & infrastructure coverage")
    rows_before = len(at.dataframe[0].value)
    at.slider(key="gaps.radius.west-ireland.hubs").set_value(60).run()
    assert not at.exception
    assert share(at, "Hubs & infrastructure coverage") > before
    assert len(at.dataframe[0].value) < rows_before
    assert layer(at, "hubs-discs")["getRadius"] == 60_000


def test_focus_layer_and_k(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    at.selectbox(key="gaps.focus").set_value("networks")
    at.slider(key="gaps.k").set_value(5)
    at.run()
    assert not at.exception
    assert "networks-discs" in layer_ids(at) and "hubs-discs" not in layer_ids(at)
    assert 1 <= len(at.dataframe[1].value) <= 5
    assert "networks" in at.subheader[0].value.lower()


def test_adding_a_suggested_site_saves_a_planned_facility(tmp_path):
    workspace = demo_copy(tmp_path)
    before = len(Workspace(workspace).features())
    at = run_page(GAPS, workspace)
    near = at.dataframe[1].value["near"].iloc[0]
    at.button(key="gaps.add").click().run()
    assert not at.exception
    features = Workspace(workspace).features()
    assert len(features) == before + 1
    added = features[features["source_file"] == "atlas (suggested site)"].iloc[0]
    assert added["name"] == f"Suggested hub near {near}"
    assert (added["layer"], added["status"], added["location_source"]) == ("hubs", "planned", "coordinates")
    assert "as a planned facility" in texts(at)
    # The new planned hub is on the map at once (the caches follow the workspace file).
    assert added["name"] in {r["name"] for r in layer(at, "hubs-planned")["data"]}


def test_gaps_with_an_empty_workspace(tmp_path):
    at = run_page(GAPS, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not at.metric
