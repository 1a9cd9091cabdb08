"""The by-area choropleth: colours follow the share, tooltips name the area, the legend explains both."""
import geopandas as gpd
import numpy as np
from shapely.geometry import box

import maps
from maps.legend import legend_html, legend_items
from maps.overlays import AREAS_ID, area_share_layer
from maps.style import NO_DATA_RGB, SHARE_RGB, share_rgb


def _areas():
    return gpd.GeoDataFrame({
        "name": ["Karlskrona", "Ronneby", "Empty <b>"],
        "population": [66_000, 29_000, 0],
        "coverage_share_hubs": [1.0, 0.25, np.nan],
        "full_support_share": [0.5, 0.0, np.nan],
    }, geometry=[box(15.4, 56.1, 15.8, 56.3), box(15.0, 56.1, 15.4, 56.3), box(14.6, 56.1, 15.0, 56.3)],
        crs="EPSG:4326")


def test_share_colours_run_from_light_to_dark_and_grey_for_no_people():
    assert share_rgb(0.0) == SHARE_RGB[0] and share_rgb(1.0) == SHARE_RGB[-1] and share_rgb(0.5) == SHARE_RGB[2]
    assert share_rgb(float("nan")) == NO_DATA_RGB and share_rgb(7) == SHARE_RGB[-1]
    lightness = [sum(share_rgb(s / 10)) for s in range(11)]
    assert lightness == sorted(lightness, reverse=True)  # darker as more people are within reach


def test_area_layer_colours_each_area_by_its_share_and_names_it_in_the_tooltip():
    [layer] = area_share_layer(_areas(), layer="hubs")
    assert layer.id == AREAS_ID
    records = layer.data
    assert [r["c"][:3] for r in records] == [list(SHARE_RGB[-1]), list(SHARE_RGB[1]), list(NO_DATA_RGB)]
    tooltip = " ".join(str(v) for v in records[0].values())
    assert "Karlskrona" in tooltip and "100% of people within reach of hubs" in tooltip and "66,000 people" in tooltip
    assert "no people counted here" in " ".join(str(v) for v in records[2].values())
    [full] = area_share_layer(_areas(), layer=None)
    assert full.data[0]["c"][:3] == list(share_rgb(0.5))


def test_map_content_draws_areas_and_the_legend_explains_them_with_the_attribution():
    content = maps.MapContent(areas=_areas(), areas_layer="hubs", boundary=box(14.6, 56.1, 15.8, 56.3),
                              boundary_source="official",
                              attribution="© EuroGeographics for the administrative boundaries")
    ids = [layer.id for layer in maps.atlas_layers(content)]
    assert AREAS_ID in ids and ids.index(AREAS_ID) < len(ids)
    legend = maps.atlas_legend(content)
    labels = [item["label"] for item in legend]
    assert "Share of an area's people within reach of hubs & infrastructure: 0–100%" in labels
    assert labels[-1] == "© EuroGeographics for the administrative boundaries"
    assert 'class="atlas-attribution"' in legend_html(legend)


def test_no_areas_no_ramp():
    assert not any(item["symbol"] == "ramp" for item in legend_items(["hubs"]))
    assert area_share_layer(None, layer="hubs") == []


def test_catchments_have_a_legend_entry():
    catchments = gpd.GeoDataFrame({"name": ["Hub A"], "population": [1200]},
                                  geometry=[box(15.0, 56.1, 15.4, 56.3)], crs="EPSG:4326")
    labels = [item["label"] for item in maps.atlas_legend(maps.MapContent(catchments={"hubs": catchments}))]
    assert "Catchment: the area nearest each of the hubs & infrastructure" in labels
    assert not any("Catchment" in label for label in [item["label"] for item in maps.atlas_legend(maps.MapContent())])
