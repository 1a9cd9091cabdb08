"""Map page: toggleable layers, filters, overlays and the full record of a clicked feature."""
from __future__ import annotations

from apptest_helpers import (
    click_map,
    deck,
    demo_copy,
    empty_workspace,
    layer,
    layer_ids,
    run_page,
    texts,
)

import ui

MAP = "pages/map.py"


def test_map_draws_every_layer_with_boundary_labels_lines_and_polygons(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    ids = layer_ids(at)
    for expected in ("region-fill", "region-boundary", "settlement-labels", "hubs-existing", "hubs-planned",
                     "training-existing", "networks-existing", "networks-lines", "hubs-areas"):
        assert expected in ids
    deck = at.get("deck_gl_json_chart")[0]
    assert "__MAP_STYLE__" in deck.proto.json  # no basemap tiles by default
    hub = next(r for r in layer(at, "hubs-existing")["data"] if r["name"] == "PorterShed Galway")
    assert set(hub) == {"fid", "name", "kind", "town", "website", "p"}  # only what is needed
    assert hub["kind"].startswith("Hubs & infrastructure · incubator")
    assert all(len(str(v).split(".")[-1]) <= 5 for v in hub["p"])  # rounded to 5 decimals
    planned = {r["name"] for r in layer(at, "hubs-planned")["data"]}
    assert "Boyle makerspace (former courthouse)" in planned
    assert layer(at, "hubs-planned")["getFillColor"] != layer(at, "hubs-existing")["getFillColor"]
    assert "facilities inside West of Ireland; showing" in texts(at)


def test_map_layer_toggles_and_filters(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    at.checkbox(key="map.show.hubs").uncheck().run()
    ids = layer_ids(at)
    assert not [i for i in ids if i.startswith("hubs-")]
    assert "training-existing" in ids

    at.checkbox(key="map.show.hubs").check().run()
    at.multiselect(key="map.statuses").select("planned").run()
    ids = layer_ids(at)
    assert "hubs-planned" in ids and "hubs-existing" not in ids

    at.multiselect(key="map.statuses").unselect("planned").run()
    at.multiselect(key="map.kinds").select("incubator").run()
    names = {r["name"] for r in layer(at, "hubs-existing")["data"]}
    assert "PorterShed Galway" in names and "Westport hub" not in names
    assert "training-existing" not in layer_ids(at)


def test_map_overlays(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    for key in ("map.discs", "map.gaps", "map.h3", "map.catchments"):
        at.toggle(key=key).set_value(True)
    at.run()
    assert not at.exception
    ids = layer_ids(at)
    for expected in ("hubs-discs", "training-discs", "networks-discs", "gap-areas", "h3-distance",
                     "hubs-catchments"):
        assert expected in ids
    discs = layer(at, "hubs-discs")
    assert discs["getRadius"] == 20_000 and discs["radiusUnits"] == "meters"
    assert len(layer(at, "h3-distance")["data"]) > 100
    gap = layer(at, "gap-areas")["data"][0]
    assert gap["name"].startswith("Gap: no hubs") and "km²" in gap["kind"]


def test_clicking_a_feature_shows_its_full_record(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    hub = next(r for r in layer(at, "hubs-existing")["data"] if r["name"] == "PorterShed Galway")
    click_map(at, "hubs-existing", hub)
    assert any("PorterShed Galway" in s.value for s in at.subheader)
    record = at.dataframe[0].value
    fields = dict(zip(record["field"], record["value"]))
    assert fields["layer"] == "hubs" and fields["kind"] == "incubator"
    assert fields["website"] == "https://example.org/portershed"
    assert "<br>" not in fields["description"]  # My Maps HTML shown as text
    assert any(f.startswith("attributes.") for f in fields)


def test_map_with_an_empty_workspace(tmp_path):
    at = run_page(MAP, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not at.get("deck_gl_json_chart")


def test_map_without_a_workspace(tmp_path):
    at = run_page(MAP, tmp_path / "missing")
    assert "No workspace at" in texts(at)


def test_the_view_stays_put_when_widgets_change(tmp_path):
    # The browser keeps the user's pan and zoom while the deck's initial view and the
    # chart's key stay the same; only a region change may move the view.
    at = run_page(MAP, demo_copy(tmp_path))
    first = deck(at)["initialViewState"]
    chart_id = at.get("deck_gl_json_chart")[0].proto.id
    at.checkbox(key="map.show.training").uncheck().run()
    at.toggle(key="map.discs").set_value(True).run()
    at.multiselect(key="map.statuses").select("planned").run()
    assert deck(at)["initialViewState"] == first
    assert at.get("deck_gl_json_chart")[0].proto.id == chart_id
    assert not [i for i in layer_ids(at) if i.startswith("training-")]  # the widgets did change the deck


def test_the_caption_counts_the_region_shown(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page("pages/map.py", workspace)
    west = [c.value for c in at.caption if "inside West of Ireland" in c.value]
    at.selectbox(key=ui.REGION).set_value("szczecin").run()
    szczecin = [c.value for c in at.caption if "inside Szczecin" in c.value]
    assert west and szczecin
    count = int(west[0].split(" ")[0])
    assert count > 5 and not szczecin[0].startswith(f"{count} ")  # each region its own count
