"""Map page: toggleable layers, filters, overlays and the full record of a clicked feature."""
from __future__ import annotations

import re

import numpy as np
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
from scipy.spatial.distance import pdist

import ui
from geography.boundaries import boundary_for
from geography.regions import load_regions
from maps.features import LEADERS_ID, SPREAD_PX
from maps.style import LAYER_LABELS, POINT_RADIUS_PX
from maps.view import fit_view, project
from workspace import Workspace

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
    assert "facilities in West of Ireland" in texts(at)


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
    for key in ("map.discs", "map.gaps", "map.h3", "map.catchments", "map.choropleth"):
        at.toggle(key=key).set_value(True)
    at.run()
    assert not at.exception
    ids = layer_ids(at)
    for expected in ("hubs-discs", "training-discs", "networks-discs", "gap-areas", "h3-distance",
                     "hubs-catchments"):
        assert expected in ids
    legend = at.columns[3].get("html")[0].value  # the legend in the panel beside the map
    for entry in ("Within reach", "Gap area", "Catchment: the area nearest each of the hubs", "Distance to nearest"):
        assert entry in legend, entry
    # West of Ireland is one NUTS 3 region and the demo has no imported areas: the page says so.
    assert "area-shares" not in ids and "has no areas to colour" in texts(at)
    # West Pomerania has four NUTS 3 regions: coloured by their share within reach.
    at.selectbox(key=ui.REGION).set_value("west-pomerania").run()
    assert "area-shares" in layer_ids(at)
    assert "Miasto Szczecin" in {r["name"] for r in layer(at, "area-shares")["data"]}
    assert "Share of an area" in at.columns[3].get("html")[0].value
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


def _inside_counts(workspace, region_id: str) -> dict[str, int]:
    """Located features inside the region's offline boundary, per layer, counted with GeoPandas."""
    boundary = boundary_for(load_regions(workspace).get(region_id), Workspace(workspace), online=False).geometry
    frame = Workspace(workspace).features()
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    inside = frame[frame.geometry.representative_point().within(boundary)]
    return {"all": len(inside), "outside": len(frame) - len(inside),
            **{layer: int((inside["layer"] == layer).sum()) for layer in ("hubs", "training", "networks")}}


def _caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith(("Showing", "No facilities")))


def test_the_caption_counts_the_facilities_of_the_region_shown(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page(MAP, workspace)
    west = _inside_counts(workspace, "west-ireland")
    assert west["all"] > 5
    assert _caption(at).startswith(f"Showing {west['all']} of the {west['all']} facilities in West of Ireland; "
                                   f"{west['outside']} more lie outside the region")

    # Toggles and filters: the caption says how many of the region's facilities they hide.
    at.checkbox(key="map.show.networks").uncheck().run()
    shown = west["all"] - west["networks"]
    assert _caption(at).startswith(f"Showing {shown} of the {west['all']} facilities in West of Ireland "
                                   f"({west['networks']} hidden by the layer toggles and filters)")
    at.checkbox(key="map.show.networks").check().run()

    at.selectbox(key=ui.REGION).set_value("lodz").run()
    lodz = _inside_counts(workspace, "lodz")
    assert 9 <= lodz["all"] < west["all"]
    assert _caption(at).startswith(f"Showing {lodz['all']} of the {lodz['all']} facilities in Łódź; "
                                   f"{lodz['outside']} more lie outside the region")

    # A region with no facilities says so plainly, and why.
    at.selectbox(key=ui.REGION).set_value("szczecin").run()
    assert _inside_counts(workspace, "szczecin")["all"] == 0
    caption = _caption(at)
    assert caption.startswith("No facilities in Szczecin yet: all 71 located features of the workspace lie "
                              "outside it."), caption
    assert "Showing" not in caption and "Click" not in caption


def test_the_record_of_a_clicked_feature_is_at_the_top_of_the_panel_beside_the_map(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    map_col, side = at.columns[2], at.columns[3]
    assert next(iter(map_col.children.values())).type == "deck_gl_json_chart"  # the map first
    assert "Click a facility" in side.children[0].value  # the panel waits for a click
    hub = next(r for r in layer(at, "hubs-existing")["data"] if r["name"] == "PorterShed Galway")
    click_map(at, "hubs-existing", hub)
    side = at.columns[3]
    kinds = [c.type for c in side.children.values()]
    assert kinds[0] == "subheader" and side.children[0].value == "Selected: PorterShed Galway"
    assert kinds.index("link_button") < kinds.index("dataframe") < kinds.index("html")  # the legend stays, below
    assert at.get("link_button")[0].proto.url == "https://example.org/portershed"
    record = dict(zip(*at.dataframe[0].value[["field", "value"]].T.values))
    assert record["name"] == "PorterShed Galway" and record["layer"] == "hubs"
    assert "Hubs &amp; infrastructure" in side.children[len(kinds) - 1].value  # the legend


def test_the_controls_sit_in_popovers_above_the_map_with_whole_labels(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    popovers = at.get("popover")
    assert [p.proto.popover.label for p in popovers] == ["Layers", "Filters: kind, sector, status",
                                                         "Analysis overlays"]
    # Each control on a line of its own in a popover (no narrow columns that cut labels short).
    assert [c.label for c in popovers[0].children.values()] == [LAYER_LABELS[k] for k in ("hubs", "training",
                                                                                            "networks")]
    assert {c.key for c in popovers[1].children.values()} == {"map.kinds", "map.sectors", "map.statuses"}
    assert {c.key for c in popovers[2].children.values()} == {"map.discs", "map.gaps", "map.h3", "map.catchments",
                                                              "map.choropleth", "map.focus"}


def test_the_lodz_clump_is_spread_so_every_facility_can_be_clicked(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path), **{ui.REGION: "lodz"})
    spec = deck(at)
    view = spec["initialViewState"]
    # The page's canvas (pages/map.py MAP_WIDTH_PX x MAP_HEIGHT_PX): the deck is fitted for it.
    boundary = boundary_for(load_regions(tmp_path / "demo_workspace").get("lodz"),
                            Workspace(tmp_path / "demo_workspace"), online=False).geometry
    assert view["zoom"] == fit_view(boundary.bounds, width_px=640, height_px=500).zoom
    points = [(lay["id"], r) for lay in spec["layers"] if lay["id"].endswith(("-existing", "-planned"))
              for r in lay["data"]]
    shown = np.array([r["p"] for _, r in points])
    xy = project(shown[:, 0], shown[:, 1], view, width_px=640, height_px=500)
    # The Łódź city-centre group: 0.01° of longitude is about 16 px at this zoom.
    centre = project(19.4737, 51.7701, view, width_px=640, height_px=500)
    near = np.hypot(*(xy - centre).T) < 4 * SPREAD_PX
    assert near.sum() >= 9
    assert pdist(xy[near]).min() >= SPREAD_PX - 0.05  # no two within 18 px at the zoom the map opens at
    # A click on each point's centre falls in its disc alone (planned points are 15% larger), so it picks it.
    reach = POINT_RADIUS_PX * 1.15 + 1.5
    for i in np.flatnonzero(near):
        assert (np.hypot(*(xy - xy[i]).T) <= reach).sum() == 1
    # Each moved point is joined to its true place by a leader line, and its record keeps the true place.
    frame = Workspace(tmp_path / "demo_workspace").features().set_index("feature_id")
    leaders = {tuple(r["t"]): r["s"] for r in layer(at, LEADERS_ID)["data"]}
    moved = 0
    for layer_id, record in (points[i] for i in np.flatnonzero(near)):
        true = frame.loc[record["fid"]].geometry
        if tuple(record["p"]) in leaders:
            moved += 1
            assert np.allclose(leaders[tuple(record["p"])], [true.x, true.y], atol=1e-5)
        else:
            assert np.allclose(record["p"], [true.x, true.y], atol=1e-5)
        click_map(at, layer_id, record)
        assert at.columns[3].children[0].value == "Selected: " + record["name"]
        fields = dict(zip(*at.dataframe[0].value[["field", "value"]].T.values))
        assert re.fullmatch(r"POINT \((\S+) (\S+)\)", fields["geometry"])
        x, y = map(float, fields["geometry"][7:-1].split())
        assert abs(x - true.x) < 1e-5 and abs(y - true.y) < 1e-5
    assert moved >= 9
