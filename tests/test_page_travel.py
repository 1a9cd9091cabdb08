"""Travel time in the dashboard: a street network loaded on Data, minutes on Gaps, Map and Present.

No real extract of a demo region is available offline, so the network is a tiny PBF written
with osmium's SimpleWriter: a grid of secondary roads (60 km/h) every 0.03° over the middle
of the West of Ireland (9.4–8.0° W, 53.2–53.9° N), with a node every 0.01° (moved slightly off
the lattice). It passes
within 2 km of Athenry, Strokestown, Roscommon, Claremorris, Castlebar and Galway's
facilities; Belmullet's hub and the towns of west Mayo and Connemara lie off it.
"""
from __future__ import annotations

import math

import pytest
from apptest_helpers import demo_copy, layer, layer_ids, run_page, texts
from osm_fixtures import write_town

import ui
from atlas import data_ops as ops
from errors import ImportFileError
from geography.network_files import stored_networks
from workspace import Workspace

DATA, GAPS, MAP, PRESENT = "pages/data.py", "pages/gaps.py", "pages/map.py", "pages/present.py"
WEST, EAST, SOUTH, NORTH = -9.4, -8.0, 53.2, 53.9
STEP, NODE = 0.03, 0.01  # degrees between roads, and between nodes along a road


def grid_pbf(path):
    """Write the road grid described in the module docstring; return the path."""
    ids: dict[tuple[float, float], int] = {}

    def node(x: float, y: float) -> int:
        return ids.setdefault((round(x, 4), round(y, 4)), len(ids) + 1)

    nx, ny, every = round((EAST - WEST) / NODE), round((NORTH - SOUTH) / NODE), round(STEP / NODE)
    ways = [[node(WEST + i * NODE, SOUTH + j * NODE) for j in range(ny + 1)] for i in range(0, nx + 1, every)]
    ways += [[node(WEST + i * NODE, SOUTH + j * NODE) for i in range(nx + 1)] for j in range(0, ny + 1, every)]
    # Nodes moved up to 0.0005° off the lattice, as surveyed roads are: a perfect lattice is degenerate
    # input for GEOS' concave hull (LocateFailureException in the isochrones).
    nodes = {i: (x + 0.0005 * math.sin(i * 12.9898), y + 0.0005 * math.cos(i * 78.233)) for (x, y), i in ids.items()}
    return write_town(path, nodes=nodes,
                      ways=[(k + 1, refs, {"highway": "secondary"}) for k, refs in enumerate(ways)])


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    path = grid_pbf(tmp_path_factory.mktemp("osm") / "west-ireland.osm.pbf")
    return path.name, path.read_bytes()


@pytest.fixture
def with_network(tmp_path, extract):
    """A copy of the demo workspace with the grid stored as its street network."""
    folder = demo_copy(tmp_path)
    workspace = Workspace(folder)
    ops.import_street_network(workspace, *extract, folder=ops.network_folder(workspace))
    return folder


def metric(at, starts: str):
    return next(m for m in at.metric if m.label.startswith(starts))


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def minutes_mode(at, mode: str = "drive"):
    at.segmented_control(key=ui.MEASURE).set_value("minutes").run()
    assert not at.exception, [e.value for e in at.exception]
    if mode != "drive":
        at.segmented_control(key=ui.TRAVEL_MODE).set_value(mode).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


# -- storing the extract ------------------------------------------------------------------------------------
def test_the_extract_is_stored_listed_removed_and_the_removal_reverted(tmp_path, extract):
    workspace = Workspace(demo_copy(tmp_path))
    line = ops.import_street_network(workspace, *extract, folder=ops.network_folder(workspace))
    nodes = 47 * 71 + 24 * 141 - 47 * 24  # road lines x nodes on each, less the crossings counted twice
    assert line.startswith("Stored street network west-ireland.osm.pbf") and f"drive {nodes:,} nodes" in line
    table = ops.street_networks(workspace)
    assert table["file"].tolist() == ["west-ireland.osm.pbf"]
    assert table["MB"].iloc[0] == round(len(extract[1]) / 1e6, 2) and table["drive nodes"].iloc[0] == nodes
    # The bytes are in the workspace itself: a fresh folder (a PostGIS-like reader) writes the same extract back.
    from geography.network_files import extract_path

    entry = stored_networks(workspace)[0]
    assert extract_path(workspace, entry, tmp_path / "elsewhere").read_bytes() == extract[1]
    assert ops.remove_street_network(workspace, "west-ireland.osm.pbf").startswith("Removed street network")
    assert ops.street_networks(workspace).empty
    change = int(workspace.history(limit=1)["change_id"].iloc[0])
    assert "removed street network west-ireland.osm.pbf" in ops.changes(workspace)["what"].iloc[0]
    workspace.revert(change)
    assert [e.file for e in stored_networks(workspace)] == ["west-ireland.osm.pbf"]
    with pytest.raises(ImportFileError, match=r"^notroads\.osm\.pbf: not an OpenStreetMap PBF file"):
        ops.import_street_network(workspace, "notroads.osm.pbf", b"<osm></osm>", folder=tmp_path / "nets")


def test_both_backends_store_route_and_revert(location, extract, tmp_path):
    """GeoPackage keeps the extract and graphs in networks/; PostGIS only in the database (and a private folder)."""
    from analysis.travel import Router
    from geography.network_files import load_stored

    workspace = Workspace(location)
    folder = ops.network_folder(workspace) or tmp_path / "private"
    ops.import_street_network(workspace, *extract, folder=folder)
    entry = stored_networks(workspace)[0]
    # Another process (an empty folder) rebuilds the network from the bytes stored in the workspace.
    network = load_stored(workspace, entry, "walk", folder=tmp_path / "fresh")
    assert network.nodes == entry.counts["walk"]["nodes"] and network.source["file"] == "west-ireland.osm.pbf"
    assert Router(network).snap([[-8.743, 53.296]]).on_network.all()  # Athenry's hub is near a road
    ops.remove_street_network(workspace, entry.file)
    assert not stored_networks(workspace)
    workspace.revert(int(workspace.history(limit=1)["change_id"].iloc[0]))
    assert [e.sha256 for e in stored_networks(workspace)] == [entry.sha256]


def test_data_page_lists_and_removes_the_network_and_the_history_shows_it(with_network):
    at = run_page(DATA, with_network)
    table = frame_with(at, "drive edges")
    assert table["file"].tolist() == ["west-ireland.osm.pbf"] and table["drive nodes"].iloc[0] > 5000
    at.selectbox(key=ui.NETWORK_REMOVE).set_value("west-ireland.osm.pbf")
    next(b for b in at.button if b.key == "data.network_remove_button").click().run()
    assert not at.exception
    assert "Removed street network west-ireland.osm.pbf" in texts(at)
    assert not any("drive edges" in d.value.columns for d in at.dataframe)
    changes = frame_with(at, "what")  # the Changes table (headers shown in English)
    assert changes["what"].str.contains("removed street network west-ireland.osm.pbf").any()
    assert changes["what"].str.contains("imported street network west-ireland.osm.pbf").any()


def test_an_extract_uploaded_on_the_data_page_is_stored_and_a_bad_one_gives_one_line(tmp_path, extract):
    at = run_page(DATA, demo_copy(tmp_path))
    at.file_uploader(key=f"{ui.NETWORK_FILE}.0").set_value([("broken.osm.pbf", b"PK\x03\x04 not a pbf",
                                                              "application/octet-stream")])
    at.run()
    next(b for b in at.button if b.key == "data.network_import").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "broken.osm.pbf: not an OpenStreetMap PBF file" in errors[0] and "\n" not in errors[0]
    assert not stored_networks(Workspace(tmp_path / "demo_workspace"))
    at.file_uploader(key=f"{ui.NETWORK_FILE}.0").set_value([(*extract, "application/octet-stream")])
    at.run()
    next(b for b in at.button if b.key == "data.network_import").click().run()
    assert not at.exception
    assert "Stored street network west-ireland.osm.pbf" in texts(at)
    assert frame_with(at, "drive edges")["file"].tolist() == ["west-ireland.osm.pbf"]
    assert (tmp_path / "demo_workspace" / "networks").is_dir()  # the extract and its graphs, cached


# -- Gaps ---------------------------------------------------------------------------------------------------
def test_gaps_shows_no_switch_without_a_network(tmp_path):
    at = run_page(GAPS, demo_copy(tmp_path))
    assert not at.get("segmented_control")
    assert "Hubs coverage" in [m.label for m in at.metric]


def test_gaps_in_minutes_by_car(with_network):
    at = run_page(GAPS, with_network)
    assert [s.key for s in at.get("segmented_control")] == [ui.MEASURE]
    assert "beyond 20 km" in metric(at, "Hubs coverage").help  # km until minutes are chosen
    minutes_mode(at)
    hubs = metric(at, "Hubs coverage")
    assert hubs.value.endswith("%") and "within 30 min by car" in hubs.help
    assert "by car" in metric(at, "Full support").help
    assert ("Share of the population within reach by travel time: hubs within 30 min by car, "
            "training within 30 min by car, networks within 30 min by car.") in texts(at)
    towns = frame_with(at, "hubs min")
    assert list(towns.columns) == ["town", "population", "missing", "hubs min", "training min", "networks min",
                                   "on network"]
    reached = towns["hubs min"].dropna()
    assert len(reached) and (reached > 30).all()  # beyond the 30 minutes, or unreachable (NaN)
    assert (~towns["on network"]).any() and towns.loc[~towns["on network"], "hubs min"].isna().all()
    off = frame_with(at, "km to the network")
    assert len(off) > 0 and (off["km to the network"] > 2.0).all()
    assert f"Off the network ({len(off)})" in texts(at)
    far = next(d.value for d in at.dataframe if {"layer", "km to the network"} <= set(d.value.columns))
    assert "hubs" in far.loc[far["name"] == "Belmullet Tionól hub", "layer"].tolist()
    assert (far["km to the network"] > 2.0).all()
    assert "Speeds assumed by car" in [e.label for e in at.expander]
    speeds = frame_with(at, "km/h")
    assert dict(zip(speeds["road class"], speeds["km/h"]))["secondary"] == 60
    sites = frame_with(at, "adds people")
    assert len(sites) == 3 and (sites["adds people"] > 0).all()
    assert "travel time, drive" in texts(at) and "within 30 min by car" in texts(at)
    ids = layer_ids(at)
    assert "hubs-isochrones" in ids and "hubs-discs" not in ids and "suggested-sites" in ids


def test_a_site_suggested_in_minutes_is_saved_as_shown(with_network):
    at = minutes_mode(run_page(GAPS, with_network))
    sites = frame_with(at, "adds people")
    [picker] = [s for s in at.selectbox if s.label == "Suggested site"]
    picker.select_index(1).run()
    assert picker.options[1] == f"2: near {sites['near'].iloc[1]}"
    at.button(key="gaps.add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = Workspace(with_network).features()
    saved = saved[saved["source_file"] == "atlas (suggested site)"]
    assert len(saved) == 1 and sites["near"].iloc[1] in saved["name"].iloc[0]
    assert saved["status"].iloc[0] == "planned" and saved["layer"].iloc[0] == "hubs"
    assert any("as a planned facility" in s.value for s in at.success)
    toggles = {t.key: t for t in at.toggle}
    assert toggles["gaps.areas"].disabled and toggles["gaps.choropleth"].disabled  # km-only drawings


def test_more_minutes_cover_more_and_walking_covers_less(with_network):
    at = minutes_mode(run_page(GAPS, with_network))

    def share(label: str) -> int:
        return int(metric(at, label).value.rstrip("%"))

    before = share("Hubs coverage")
    at.slider(key="gaps.minutes.west-ireland.hubs").set_value(90).run()
    assert not at.exception
    assert "hubs within 90 min by car" in texts(at)
    by_car = share("Hubs coverage")
    assert by_car > before
    at.segmented_control(key=ui.TRAVEL_MODE).set_value("walk").run()
    assert not at.exception
    assert "hubs within 90 min on foot" in texts(at)
    assert share("Hubs coverage") < by_car
    assert "Speeds assumed on foot" in [e.label for e in at.expander]


def test_map_isochrones_and_catchments_in_minutes(with_network):
    at = run_page(MAP, with_network)
    assert "hubs-isochrones" not in layer_ids(at)
    minutes_mode(at)
    at.toggle(key="map.isochrones").set_value(True)
    at.toggle(key="map.catchments").set_value(True)
    at.run()
    assert not at.exception
    ids = layer_ids(at)
    assert "hubs-isochrones" in ids and "hubs-catchments" in ids
    shapes = layer(at, "hubs-isochrones")["data"]
    assert shapes and all(len(s["polygon"][0]) >= 4 for s in shapes)
    legend = "\n".join(e.proto.body for e in at.get("html"))
    assert "Hubs &amp; infrastructure: reached within 30 min by car" in legend
    assert "Travel time by car on the street network west-ireland.osm.pbf." in texts(at)


def test_map_without_network_has_no_switch(tmp_path):
    at = run_page(MAP, demo_copy(tmp_path))
    assert not at.get("segmented_control")
    assert not [t for t in at.toggle if t.key == "map.isochrones"]


def test_present_shows_isochrones_when_minutes_were_chosen(with_network):
    at = run_page(PRESENT, with_network, **{ui.MEASURE: "minutes", ui.PRESENT_STEP: 1})
    assert "hubs-isochrones" in layer_ids(at) and "hubs-discs" not in layer_ids(at)
    assert "min by car" in texts(at)
    legend = "\n".join(e.proto.body for e in at.get("html"))
    assert "reached within 30 min by car" in legend


def test_present_stays_in_km_without_the_choice(with_network):
    at = run_page(PRESENT, with_network, **{ui.PRESENT_STEP: 1})
    assert "hubs-discs" in layer_ids(at) and "hubs-isochrones" not in layer_ids(at)
    assert " km" in texts(at)
