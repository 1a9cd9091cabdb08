"""Pages on real geography: a stored population grid, coverage by area, honest shares, attribution."""
from __future__ import annotations

import pyproj
from apptest_helpers import demo_copy, layer, layer_ids, run_page, texts

import ui
from geography.demand_layers import import_demand
from maps.overlays import AREAS_ID
from workspace import Workspace

TO_LAEA = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)


def _with_grid(tmp_path):
    """The demo workspace with a 1 km grid over Łódź stored as population layer 'lodz-grid'."""
    workspace = demo_copy(tmp_path)
    x0, y0 = TO_LAEA.transform(19.30, 51.68)
    x1, y1 = TO_LAEA.transform(19.64, 51.86)
    rows = ["GRD_ID,TOT_P_2021"] + [f"CRS3035RES1000mN{n * 1000}E{e * 1000},{300 + (n + e) % 7 * 50}"
                                    for n in range(int(y0 // 1000), int(y1 // 1000))
                                    for e in range(int(x0 // 1000), int(x1 // 1000))]
    import_demand(Workspace(workspace), ("\n".join(rows) + "\n").encode(), "lodz_grid.csv", name="lodz-grid")
    return workspace


def test_two_settlement_points_show_no_share_and_say_why(tmp_path):
    at = run_page("app.py", demo_copy(tmp_path), **{ui.REGION: "lodz"})
    values = {m.label: m.value for m in at.metric}
    assert values["Full support"] == "—" and values["Hubs & infrastructure coverage"] == "—"
    assert any("cannot tell anything useful" in w.value for w in at.warning)


def test_a_stored_grid_is_chosen_in_the_sidebar_and_named_in_the_figures(tmp_path):
    at = run_page("app.py", _with_grid(tmp_path), **{ui.REGION: "lodz"})
    picker = at.selectbox(key=ui.POPULATION)
    assert picker.options[0].startswith("GeoNames") and len(picker.options) == 2
    picker.set_value("lodz-grid").run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Full support"].endswith("%") and int(values["Population"].replace(",", "")) > 100_000
    assert "cell centres" in texts(at)
    assert at.query_params.get("population") in ("lodz-grid", ["lodz-grid"])  # a reload keeps the choice


def test_gaps_shows_coverage_by_nuts3_area_and_the_attribution(tmp_path):
    at = run_page("pages/gaps.py", demo_copy(tmp_path), **{ui.REGION: "west-pomerania"})
    [table] = [df for df in at.dataframe if "Area" in df.value.columns]
    assert list(table.value["Area"]) == ["Miasto Szczecin", "Koszaliński", "Szczecinecko-pyrzycki", "Szczeciński"]
    at.toggle(key="gaps.choropleth").set_value(True).run()
    assert AREAS_ID in layer_ids(at)
    names = {record["name"] for record in layer(at, AREAS_ID)["data"]}
    assert "Miasto Szczecin" in names
    assert "© EuroGeographics" in " ".join(h.proto.body for h in at.get("html"))


def test_present_does_not_claim_a_share_from_two_points(tmp_path):
    at = run_page("pages/present.py", demo_copy(tmp_path), **{ui.REGION: "lodz"})
    [slide] = [h.proto.body for h in at.get("html") if 'class="atlas-present"' in h.proto.body]
    assert "too few points" in slide and "%" not in slide
