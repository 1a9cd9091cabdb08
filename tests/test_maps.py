"""Map builders: layers, records, colours, legend, view, aggregation and the deck JSON."""
from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

import maps
from analysis.coverage import compute
from loaders.features import build_features
from maps.deck import BASEMAP_STYLE, build_deck
from maps.features import HEX_LAYER_ID, aggregate_points, facility_layers
from maps.filters import (
    feature_record,
    filter_features,
    filter_options,
    plain_text,
    selected_feature_ids,
)
from maps.legend import legend_html, legend_items
from maps.overlays import (
    boundary_layers,
    coverage_disc_layers,
    gap_layer,
    h3_grid_layer,
    settlement_layers,
    site_layers,
    uncovered_layer,
)
from maps.story import STEPS, step_content
from maps.style import LAYER_RGB, distance_rgb, point_style
from maps.view import fit_view

CRS = "EPSG:4326"


def features() -> gpd.GeoDataFrame:
    records = [
        {"name": "Hub A", "layer": "hubs", "kind": "co-working", "town": "Tuam", "sectors": "design; games",
         "website": "https://a.example", "geometry": shapely.Point(-8.8512345678, 53.5123456789),
         "description": "Type: hub<br>Open <b>daily</b>", "attributes": {"Owner": "Council"}},
        {"name": "Hub B (planned)", "layer": "hubs", "status": "planned", "kind": "makerspace",
         "geometry": shapely.Point(-9.0, 53.3)},
        {"name": "College", "layer": "training", "kind": "college", "sectors": "film",
         "geometry": shapely.Point(-9.05, 53.27)},
        {"name": "Trail", "layer": "networks", "kind": "route",
         "geometry": shapely.LineString([(-8.2, 53.6), (-8.3, 53.9)])},
        {"name": "Site", "layer": "hubs", "status": "planned", "kind": "empty building",
         "geometry": shapely.Polygon([(-8.5, 53.8), (-8.49, 53.8), (-8.49, 53.81), (-8.5, 53.8)])},
        {"name": "Online network", "layer": "networks", "kind": "online", "geometry": None},
        {"name": "Two venues", "layer": "networks", "kind": "festival",
         "geometry": shapely.MultiPoint([(-8.0, 53.0), (-8.1, 53.1)])},
    ]
    frame, rejected = build_features(records, "test.kml")
    assert not rejected
    return frame


def ids(layers) -> list[str]:
    return [layer.id for layer in layers]


# -- style, view --------------------------------------------------------------------------
def test_layer_colours_are_distinct_and_planned_looks_different():
    colours = [np.array(LAYER_RGB[k]) for k in ("hubs", "training", "networks", "unclassified")]
    for i in range(len(colours)):
        for j in range(i + 1, len(colours)):
            assert np.abs(colours[i] - colours[j]).sum() > 100
    existing, planned = point_style("hubs", False), point_style("hubs", True)
    assert existing["fill"][:3] == list(LAYER_RGB["hubs"])
    assert planned["fill"][:3] == [255, 255, 255] and planned["line"][:3] == list(LAYER_RGB["hubs"])
    assert planned["width"] > existing["width"]


def test_distance_ramp_is_monotonic_in_lightness():
    lightness = [sum(distance_rgb(km)) for km in (0, 5, 10, 20, 30, 50, 80, math.inf)]
    assert lightness == sorted(lightness)


def test_fit_view_contains_the_box_and_is_stable():
    bounds = (-10.3, 52.9, -7.7, 54.4)  # West of Ireland
    view = fit_view(bounds)
    assert bounds[0] < view.longitude < bounds[2] and bounds[1] < view.latitude < bounds[3]
    assert 6.5 < view.zoom < 8.5
    assert fit_view(bounds).__dict__ == view.__dict__
    assert fit_view(None).zoom < 5  # Europe
    assert fit_view((1.0, 2.0, 1.0, 2.0)).zoom == 13.0  # one point: capped


# -- facility layers ------------------------------------------------------------------------
def test_facility_layers_split_by_layer_status_and_geometry():
    layers = facility_layers(features())
    assert ids(layers) == ["hubs-areas", "networks-lines", "hubs-existing", "hubs-planned", "training-existing",
                           "networks-existing"]
    by_id = {layer.id: layer for layer in layers}
    record = by_id["hubs-existing"].data[0]
    assert set(record) == {"fid", "name", "kind", "town", "website", "p"}
    assert record["p"] == [-8.85123, 53.51235]  # 5 decimals
    assert record["kind"].startswith("Hubs & infrastructure · co-working")  # the vocabulary may name it in full
    assert by_id["hubs-planned"].data[0]["kind"].endswith("· planned")
    assert by_id["networks-lines"].data[0]["path"] == [[-8.2, 53.6], [-8.3, 53.9]]
    assert len(by_id["hubs-areas"].data[0]["polygon"][0]) == 4
    # The online network has no geometry and is not drawn; the MultiPoint is drawn at its first point.
    assert [r["name"] for r in by_id["networks-existing"].data] == ["Two venues"]


def test_facility_layers_only_the_layers_asked_for():
    assert ids(facility_layers(features(), layers=("training",))) == ["training-existing"]
    assert facility_layers(features(), layers=()) == []


def test_many_points_are_sent_as_hexagons():
    rng = np.random.default_rng(1)
    n = 2_000
    frame = gpd.GeoDataFrame(
        {"layer": rng.choice(["hubs", "training", "networks"], n), "status": "existing", "name": "x",
         "kind": "k", "town": "", "website": "", "feature_id": [str(i) for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(-9, -8, n), rng.uniform(53, 54, n)), crs=CRS,
    )
    layers = facility_layers(frame, aggregate_above=1_000, bounds=(-9, 53, -8, 54))
    assert ids(layers) == [HEX_LAYER_ID]
    cells = layers[0].data
    assert 10 < len(cells) < n
    counts = aggregate_points(frame, resolution=6)
    assert counts["total"].sum() == n
    assert (counts[["hubs", "training", "networks"]].sum(axis=1) == counts["total"]).all()
    assert all(c["name"].endswith(" facilities" if not c["name"].startswith("1 ") else " facility") for c in cells)


def test_facility_map_filters_counts_and_skips_discs_when_aggregated():
    frame = features()
    fm = maps.facility_map(frame, layers=("hubs", "networks"), statuses=("existing",), radius_km={"hubs": 20})
    assert fm.present == ("hubs", "networks") and not fm.planned
    assert fm.drawn == 3 and fm.unlocated == 1  # Hub A, Trail, Two venues; the online network has no place
    assert ids(fm.discs) == ["hubs-discs"] and not fm.aggregated
    many = maps.facility_map(frame, radius_km={"hubs": 20}, aggregate_above=2)
    assert many.aggregated and many.discs_skipped and many.discs == []
    assert HEX_LAYER_ID in ids(many.layers)
    assert maps.facility_map(None).layers == [] and maps.facility_map(frame, layers=()).drawn == 0
    from maps.filters import map_caption

    caption = map_caption(many, 7, "approximate", [("hubs", 20.0)])
    assert caption.startswith("Showing 6 of 7 features (1 without a location") and "H3 hexagons" in caption
    assert "discs are left out" in caption and "hubs 20 km" in caption


# -- overlays -----------------------------------------------------------------------------
def square(x0=-9.5, y0=53.0, size=1.0):
    return shapely.box(x0, y0, x0 + size, y0 + size)


def test_boundary_is_dashed_only_when_approximate():
    solid = boundary_layers(square(), source="official")
    dashed = boundary_layers(square(), source="approximate")
    assert ids(solid) == ["region-fill", "region-boundary"]
    assert solid[1].get_dash_array == [0, 0] and dashed[1].get_dash_array == [8, 5]
    assert boundary_layers(None) == []


def settlements() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Łódź", "Borås", "Tiny"], "population": [670_000, 70_000, 600]},
        geometry=gpd.points_from_xy([-9.2, -8.9, -8.6], [53.2, 53.5, 53.8]), crs=CRS,
    )


def test_settlement_labels_keep_diacritics_and_show_the_largest():
    dots, labels = settlement_layers(settlements(), labels=2)
    assert len(dots.data) == 3
    assert [r["t"] for r in labels.data] == ["Łódź", "Borås"]
    assert labels.character_set == "auto"


def test_coverage_discs_use_the_radius_in_metres_and_skip_planned():
    discs = coverage_disc_layers(features(), {"hubs": 20, "training": 30})
    assert ids(discs) == ["hubs-discs", "training-discs"]
    assert discs[0].get_radius == 20_000 and discs[0].radius_units == "meters"
    assert len(discs[0].data) == 1  # Hub A only: planned hubs are a scenario
    with_planned = coverage_disc_layers(features(), {"hubs": 20}, include_planned=True, circuity=1.25)
    assert len(with_planned[0].data) == 3 and with_planned[0].get_radius == 16_000


def test_analysis_overlays_from_real_results():
    frame = features()
    demand = settlements()
    result = compute(demand, frame, radius_km={"hubs": 20, "training": 30, "networks": 30})
    from analysis.gaps import gap_areas, h3_grid

    gaps = gap_areas(result, frame, square(), layers=["hubs"], explode=True)
    layer = gap_layer(gaps)[0]
    assert layer.id == "gap-areas" and layer.data[0]["name"] == "Gap: no hubs & infrastructure"
    assert "km²" in layer.data[0]["kind"] and "people" in layer.data[0]["kind"]
    grid = h3_grid(square(), frame, resolution=5)
    hexes = h3_grid_layer(grid, layer="training")[0]
    assert len(hexes.data) == len(grid) and hexes.data[0]["name"].endswith("to the nearest")
    lacking = result.settlements[~result.settlements["covered_hubs"]]
    rings = uncovered_layer(lacking)[0]
    assert {r["name"] for r in rings.data} == set(lacking["name"])
    assert rings.data[0]["town"].startswith("nearest: hubs ")
    assert rings.data[0]["kind"].endswith(" people")


def test_suggested_sites_are_numbered():
    sites = [{"name": "Tuam", "lat": 53.5, "lon": -8.85, "added_population": 1234},
             {"name": "Gort", "lat": 53.06, "lon": -8.82, "added_population": 99}]
    markers, numbers = site_layers(sites)
    assert [r["t"] for r in numbers.data] == ["1", "2"]
    assert markers.data[0]["name"] == "Suggested site 1: near Tuam"
    assert "1,234" in markers.data[0]["kind"]
    assert site_layers([]) == []


# -- deck ---------------------------------------------------------------------------------
def test_deck_has_no_basemap_by_default_and_compact_json():
    deck = build_deck(facility_layers(features()), fit_view(None))
    text = deck.to_json()
    spec = json.loads(text)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec  # Streamlit: no tiles at all
    assert "\n" not in text and "Łódź" not in text
    assert "{name}" in deck._tooltip["html"] and "{website}" in deck._tooltip["html"]
    online = json.loads(build_deck([], fit_view(None), basemap=True).to_json())
    assert online["mapStyle"] == BASEMAP_STYLE and online["mapProvider"] == "carto"


def test_every_pickable_record_has_the_tooltip_fields():
    frame = features()
    content = maps.MapContent(features=frame, boundary=square(), boundary_source="approximate",
                              settlements=settlements(), radius_km={"hubs": 20},
                              sites=[{"name": "Tuam", "lat": 53.5, "lon": -8.85, "added_population": 5}])
    spec = json.loads(maps.atlas_deck(content).to_json())
    for layer in spec["layers"]:
        assert layer["id"]
        if layer.get("pickable"):
            for record in layer["data"]:
                assert {"name", "kind", "town", "website"} <= set(record), layer["id"]


def test_view_depends_on_the_boundary_only():
    frame = features()
    a = maps.view_for(maps.MapContent(features=frame, boundary=square()))
    b = maps.view_for(maps.MapContent(features=frame.iloc[:1], boundary=square(), layers=("hubs",)))
    assert a.__dict__ == b.__dict__


# -- legend -------------------------------------------------------------------------------
def test_legend_lists_what_is_drawn_and_escapes_text():
    items = legend_items(["hubs", "training"], planned=True, boundary_source="approximate", gaps=True,
                         h3_layer="hubs", sites=True)
    labels = [i["label"] for i in items]
    assert labels[:2] == ["Hubs & infrastructure", "Training & supports"]
    assert any("Planned" in label for label in labels) and any("approximate" in label for label in labels)
    assert next(i for i in items if i["label"].startswith("Region"))["symbol"] == "dashed"
    html = legend_html(items + [{"label": "<script>x</script>", "colour": "#000000", "symbol": "dot"}], large=True)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1.6rem" in html and "&amp;" in html


# -- filters and the record panel ---------------------------------------------------------
def test_filter_options_and_filters():
    frame = features()
    options = filter_options(frame)
    assert options["sectors"] == ["design", "film", "games"]
    assert any(k.startswith("co-working") for k in options["kind"]) and options["status"] == ["existing", "planned"]
    assert list(filter_features(frame, sectors=["games"])["name"]) == ["Hub A"]
    assert set(filter_features(frame, statuses=["planned"])["name"]) == {"Hub B (planned)", "Site"}
    college = frame.loc[frame["name"] == "College", "kind"].iloc[0]  # as the kind vocabulary names it
    assert list(filter_features(frame, kinds=[college], layers=["training"])["name"]) == ["College"]
    assert len(filter_features(frame)) == len(frame)


def test_selection_gives_the_full_record():
    frame = features()
    fid = frame.loc[frame["name"] == "Hub A", "feature_id"].iloc[0]
    selection = {"indices": {"hubs-existing": [0]}, "objects": {"hubs-existing": [{"fid": fid, "name": "Hub A"}]}}
    assert selected_feature_ids(selection) == [fid]
    assert selected_feature_ids({"indices": {}, "objects": {}}) == [] and selected_feature_ids(None) == []
    record = dict(feature_record(frame, fid).itertuples(index=False))
    assert record["name"] == "Hub A" and record["sectors"] == "design; games"
    assert record["description"] == "Type: hub\nOpen daily"
    assert record["attributes.Owner"] == "Council"
    assert record["geometry"] == "POINT (-8.85123 53.51235)"
    assert feature_record(frame, "nope").empty


def test_plain_text_never_keeps_markup():
    assert plain_text('<img src=x onerror="alert(1)">Hi<br/>there') == "Hi\nthere"
    assert plain_text(None) == ""


# -- story --------------------------------------------------------------------------------
@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_every_story_step_builds(step):
    frame = features()
    result = compute(settlements(), frame, radius_km={"hubs": 20, "training": 30, "networks": 30})
    counts = {layer: {"existing": 1, "planned": 0} for layer in ("hubs", "training", "networks")}
    asked = []

    def facilities(shown, radius_km):
        asked.append((shown, radius_km))
        return maps.facility_map(frame, layers=shown, radius_km=radius_km, scale=2)

    content, sentence = step_content(
        step, facilities=facilities, boundary=square(), boundary_source="official", settlements=settlements(),
        result=result, counts=counts, gaps=None,
        sites=[{"name": "Tuam", "lat": 53.5, "lon": -8.85, "added_population": 5}],
    )
    assert sentence and isinstance(content, maps.MapContent)
    ids = [layer["id"] for layer in json.loads(maps.atlas_deck(content, scale=2).to_json())["layers"]]
    assert "region-boundary" in ids
    expected = {"region": ((), None), "hubs": (("hubs",), {"hubs": 20.0}), "training": (("training",), {"training": 30.0}),
                "networks": (("networks",), {"networks": 30.0}), "gaps": (("hubs",), None),
                "sites": (("hubs",), {"hubs": 20.0})}
    assert asked == [expected[step.id]]
    if step.id == "sites":
        assert "suggested-sites" in ids and "hubs-discs" in ids


# -- projection, fitting and spreading (the Map page) ---------------------------------------
def test_project_matches_web_mercator_from_pyproj():
    from pyproj import Transformer

    view = {"longitude": 15.0, "latitude": 56.1, "zoom": 7.5}
    lon = np.array([14.15, 15.0, 15.59, -9.05])
    lat = np.array([56.03, 56.1, 56.16, 53.27])
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = to_3857.transform(lon, lat)
    cx, cy = to_3857.transform(view["longitude"], view["latitude"])
    metres_per_px = 2 * math.pi * 6378137.0 / (512 * 2 ** view["zoom"])
    expected = np.column_stack([(x - cx) / metres_per_px + 320, (cy - y) / metres_per_px + 250])
    got = maps.view.project(lon, lat, view, width_px=640, height_px=500)
    assert np.allclose(got, expected, atol=1e-6)
    assert np.allclose(got[1], [320, 250])  # the centre is the canvas's centre
    # A pydeck ViewState works as well as the deck JSON's dict; the inverse returns the degrees.
    state = fit_view((14.0, 55.9, 16.0, 56.5))
    assert np.allclose(maps.view.project(15.0, 56.2, state, width_px=640, height_px=500),
                       maps.view.project(15.0, 56.2, state.__dict__, width_px=640, height_px=500))
    world = maps.view.world_xy(lon, lat, 9.3)
    assert np.allclose(maps.view.lonlat_from_world(world, 9.3), np.column_stack([lon, lat]))


def test_blekinge_with_kristianstad_fits_the_map_canvas():
    from geography.boundaries import boundary_for
    from geography.regions import load_regions

    boundary = boundary_for(load_regions().get("blekinge"), None, online=False).geometry
    bounds = boundary.bounds
    assert bounds[0] < 14.16 < bounds[2]  # Kristianstad (14.16 E) is part of the region
    corners = np.array([(bounds[0], bounds[1]), (bounds[0], bounds[3]), (bounds[2], bounds[1]), (bounds[2], bounds[3])])
    # The Map page's canvas at a 1400 px window with the sidebar open: 643 x 500 px; fitted for 640 x 500.
    view = fit_view(bounds, width_px=640, height_px=500)
    xy = maps.view.project(corners[:, 0], corners[:, 1], view, width_px=643, height_px=500)
    assert (xy[:, 0] > 0).all() and (xy[:, 0] < 643).all() and (xy[:, 1] > 0).all() and (xy[:, 1] < 500).all()
    # Why Map clipped while Home did not: the view was fitted for 900 px and drawn in a narrower canvas.
    old = fit_view(bounds, width_px=900, height_px=620)
    xy = maps.view.project(corners[:, 0], corners[:, 1], old, width_px=736, height_px=620)
    assert xy[:, 0].min() < 0 and xy[:, 0].max() > 736
    assert fit_view(bounds, width_px=640, height_px=500).zoom <= math.log2(640 / 512 / ((bounds[2] - bounds[0]) / 360))


def test_ring_slots_keep_their_distance():
    from scipy.spatial.distance import pdist

    from maps.features import ring_slots

    for n in range(2, 80):
        slots = ring_slots(n, 18.0)
        assert len(slots) == n and pdist(slots).min() >= 18.0 - 1e-6, n
    assert np.allclose(ring_slots(2, 18.0), [[0, -9], [0, 9]])  # two points: 18 px apart, one above the other
    assert len(ring_slots(1, 18.0)) == 1 and len(ring_slots(0, 18.0)) == 0


def test_spread_positions_separates_a_clump_and_leaves_lone_points():
    from scipy.spatial.distance import pdist

    from maps.features import SPREAD_PX, spread_positions

    rng = np.random.default_rng(3)
    zoom = 10.0
    px_per_degree = 512 * 2 ** zoom / 360
    # 13 points within 25 px (as the Łódź centre once was), 3 at exactly the same place, one far away.
    clump = np.column_stack([19.47 + rng.uniform(0, 25, 13) / px_per_degree, 51.77 + rng.uniform(0, 15, 13) / px_per_degree])
    same = np.tile([19.60, 51.70], (3, 1))
    lone = np.array([[19.30, 51.90]])
    points = np.vstack([clump, same, lone])
    shown = spread_positions(points, zoom=zoom)
    xy = maps.view.world_xy(shown[:, 0], shown[:, 1], zoom)
    assert pdist(xy).min() >= SPREAD_PX - 1e-6
    assert np.array_equal(shown[-1], lone[0])  # alone: not moved
    true = maps.view.world_xy(points[:, 0], points[:, 1], zoom)
    assert np.hypot(*(xy - true).T).max() < 3 * SPREAD_PX  # every point stays near its place
    assert np.array_equal(spread_positions(points, zoom=zoom), shown)  # the same every run
    # Zoomed in far enough, nothing overlaps and nothing moves.
    assert np.allclose(spread_positions(points, zoom=16.0), points)
    # A group too large to spread stays where it is (60 by default).
    crowd = np.tile([19.47, 51.77], (80, 1))
    assert np.array_equal(spread_positions(crowd, zoom=zoom), crowd)


def test_facility_layers_spread_points_with_leader_lines_to_their_true_place():
    from maps.features import LEADERS_ID

    frame = features()
    near = frame.copy()
    near.loc[near["name"] == "College", "geometry"] = shapely.Point(-8.8512, 53.5123)  # on top of Hub A
    plain = {lay.id: lay for lay in facility_layers(near)}
    assert LEADERS_ID not in plain
    spread = {lay.id: lay for lay in facility_layers(near, spread_zoom=9.0)}
    hub = spread["hubs-existing"].data[0]
    college = spread["training-existing"].data[0]
    assert hub["p"] != [-8.85123, 53.51235] and college["p"] != [-8.8512, 53.5123]
    leaders = {tuple(r["t"]): r["s"] for r in spread[LEADERS_ID].data}
    assert leaders == {tuple(hub["p"]): [-8.85123, 53.51235], tuple(college["p"]): [-8.8512, 53.5123]}
    assert spread["hubs-planned"].data == plain["hubs-planned"].data  # far from the others: as it was
    assert not spread[LEADERS_ID].pickable


def test_facility_map_counts_the_region_and_the_caption_says_so():
    from maps.filters import map_caption

    frame = features()
    region = square(-9.1, 53.2, 0.5)  # holds Hub A (-8.85, 53.51), Hub B (-9.0, 53.3) and the College (-9.05, 53.27)
    fm = maps.facility_map(frame, boundary=region)
    assert (fm.region_total, fm.region_drawn, fm.outside, fm.unlocated) == (3, 3, 3, 1)
    caption = map_caption(fm, 7, "official", [("hubs", 20.0)], region="Galway")
    assert caption == ("Showing 3 of the 3 facilities in Galway; 3 more lie outside the region, 1 has no location. "
                       "Boundary: official · radii: hubs 20 km.")
    training_only = maps.facility_map(frame, layers=("training",), boundary=region)
    assert (training_only.region_total, training_only.region_drawn) == (3, 1)
    assert map_caption(training_only, 7, "official", [], region="Galway").startswith(
        "Showing 1 of the 3 facilities in Galway (2 hidden by the layer toggles and filters)")
    empty = maps.facility_map(frame, boundary=square(19.0, 51.0))
    assert (empty.region_total, empty.outside) == (0, 6)
    assert map_caption(empty, 7, "official", [], region="Łódź").startswith(
        "No facilities in Łódź yet: all 6 located features of the workspace lie outside it.")
    assert maps.facility_map(frame).region_total is None  # no boundary: the workspace's counts
