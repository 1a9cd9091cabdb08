"""Gaps page: radius sliders, coverage figures, towns beyond reach, siting and saving a suggested site."""
from __future__ import annotations

import pytest
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
    assert 0 < share(at, "Hubs coverage") < 100
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
    before = share(at, "Hubs coverage")
    rows_before = len(at.dataframe[0].value)
    at.slider(key="gaps.radius.west-ireland.hubs").set_value(60).run()
    assert not at.exception
    assert share(at, "Hubs coverage") > before
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


def _picker(at):
    [picker] = [s for s in at.selectbox if s.label == "Suggested site"]
    return picker


def _saved(workspace):
    features = Workspace(workspace).features()
    return features[features["source_file"] == "atlas (suggested site)"]


def _shown(picker) -> str:
    """The picker's choice as the user sees it ("3: near Gort")."""
    return picker.options[picker.index]


def test_the_site_saved_is_the_site_shown_after_a_re_ranking(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(GAPS, workspace)
    sites = at.dataframe[1].value
    _picker(at).select_index(2).run()
    assert _shown(_picker(at)) == f"3: near {sites['near'].iloc[2]}"
    # Counting planned sites re-ranks the suggestions: the old choice must not save another site.
    at.toggle(key="gaps.planned").set_value(True).run()
    assert not at.exception
    reranked = at.dataframe[1].value
    shown = _shown(_picker(at))  # what the user sees selected now
    rank = int(shown.split(":")[0])
    assert shown == f"{rank}: near {reranked['near'].iloc[rank - 1]}"
    at.button(key="gaps.add").click().run()
    assert not at.exception
    saved = _saved(workspace)
    assert list(saved["name"]) == [f"Suggested hub near {reranked['near'].iloc[rank - 1]}"]
    point = saved.geometry.iloc[0]
    assert (point.y, point.x) == pytest.approx((reranked["lat"].iloc[rank - 1], reranked["lon"].iloc[rank - 1]), abs=1e-5)


def test_the_chosen_site_is_saved_not_the_first(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(GAPS, workspace)
    sites = at.dataframe[1].value
    _picker(at).select_index(1).run()
    at.button(key="gaps.add").click().run()
    assert list(_saved(workspace)["name"]) == [f"Suggested hub near {sites['near'].iloc[1]}"]


def test_no_site_helps_says_why(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    at.slider(key="gaps.radius.west-ireland.hubs").set_value(100).run()
    assert not at.exception
    assert "0 suggested new sites" in [s.value for s in at.subheader]
    assert "No new site adds anyone" in texts(at) and "above 0" not in texts(at)


def test_sector_select_restricts_the_facilities_counted(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    select = at.selectbox(key="gaps.sector")
    assert select.options[0] == "All sectors" and "games" in select.options and "crafts" in select.options
    assert "all" not in select.options  # "serves all sectors" is not a sector to choose
    before_share, before_discs = share(at, "Hubs coverage"), len(layer(at, "hubs-discs")["data"])
    select.set_value("games").run()
    assert not at.exception
    # Existing hubs listing games (spel, gry): Castlerea, PorterShed, Blekinge Creative Hub, Rödeby, EC1 Łódź.
    assert len(layer(at, "hubs-discs")["data"]) == 5 < before_discs
    assert share(at, "Hubs coverage") < before_share
    assert "Sector games: only the" in texts(at)
