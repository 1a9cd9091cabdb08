"""Compare page: one row per region with figures, and the charts."""
from __future__ import annotations

import json

from apptest_helpers import demo_copy, empty_workspace, run_page, texts

from geography.regions import load_regions

COMPARE = "pages/compare.py"


def test_compare_table_has_a_row_per_region_with_real_figures(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(COMPARE, workspace)
    table = at.dataframe[0].value
    assert len(table) == len(load_regions(workspace))
    rows = table.set_index("region")
    west, lodz = rows.loc["West of Ireland"], rows.loc["Łódź"]
    assert west["population"] > 100_000 and lodz["population"] > 500_000
    assert west["hubs"] >= 8 and lodz["hubs"] >= 3
    assert 0 < west["hubs coverage %"] <= 100
    assert west["full support %"] <= west["hubs coverage %"]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2
    assert "Boundaries used" in [e.label for e in at.expander]


def test_compare_with_planned_sites_counts_more_facilities(tmp_path):
    at = run_page(COMPARE, demo_copy(tmp_path))
    before = at.dataframe[0].value.set_index("region").loc["West of Ireland", "hubs"]
    at.toggle(key="compare.planned").set_value(True).run()
    after = at.dataframe[0].value.set_index("region").loc["West of Ireland", "hubs"]
    assert after > before


def test_compare_with_an_empty_workspace(tmp_path):
    at = run_page(COMPARE, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not at.dataframe


def test_populations_are_shown_with_thousands_separators(tmp_path):
    at = run_page("pages/compare.py", demo_copy(tmp_path))
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["population"]["type_config"]["format"] == "localized"
    assert "Half the population" in config["median km to hub"]["help"]


def test_chart_axis_titles_sit_on_the_value_axis(tmp_path):
    """The bars run horizontally, so the unit names the horizontal (x) axis; the regions need no title."""
    at = run_page(COMPARE, demo_copy(tmp_path))
    titles = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        encoding = spec.get("encoding") or spec["layer"][0]["encoding"]
        assert encoding["y"]["type"] in ("nominal", "ordinal"), "regions on the vertical axis"
        titles.append(encoding["x"].get("title"))
        assert not encoding["y"].get("title")
        assert encoding["y"]["axis"]["labelLimit"] >= 300  # "Armagh City, Banbridge & Craigavon" whole
    assert titles == ["% of the population in settlements", "facilities per 100,000 inhabitants"]
