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
    assert record["kind"] == "Hubs & infrastructure · co-working"
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
    assert all(c["name"].endswith("facilities") for c in cells)


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
    assert "co-working" in options["kind"] and options["status"] == ["existing", "planned"]
    assert list(filter_features(frame, sectors=["games"])["name"]) == ["Hub A"]
    assert set(filter_features(frame, statuses=["planned"])["name"]) == {"Hub B (planned)", "Site"}
    assert list(filter_features(frame, kinds=["college"], layers=["training"])["name"]) == ["College"]
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
