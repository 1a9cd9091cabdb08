"""Regions as data: the shipped file, the workspace override, validation and radius parsing."""
from __future__ import annotations

import json

import pytest
import shapely

from geography.boundaries import read_boundary_file
from geography.regions import (
    FALLBACK_RADIUS_KM,
    RegionsFileError,
    load_regions,
    parse_radius_args,
)

DESIGN_REGIONS = ("west-ireland", "armagh-banbridge-craigavon", "blekinge", "szczecin", "lodz", "boras", "south-baltic")


def test_shipped_regions_cover_the_design_table():
    registry = load_regions()
    for region_id in DESIGN_REGIONS:
        assert region_id in registry.regions
    assert registry.get("west-ireland").nuts == ("IE042",)
    assert registry.get("armagh-banbridge-craigavon").nuts == ("UKN07",)
    assert registry.get("armagh-banbridge-craigavon").countries == ("GB",)
    blekinge = registry.get("blekinge")
    assert blekinge.nuts == ("SE221",) and blekinge.nuts_partial == ("SE224",)
    assert not blekinge.official_is_exact
    assert registry.get("lodz").nuts == ("PL711",)
    assert registry.get("szczecin").nuts == ("PL424",)
    assert registry.get("west-pomerania").nuts == ("PL42",)
    assert registry.get("boras").nuts == () and registry.get("boras").nuts_partial == ("SE232",)


def test_south_baltic_codes_are_corrected():
    # Rietavas lies in LT028 (Telšių apskritis), Elbląg in PL621 (Elbląski); the design
    # table's LT023 and PL622 were wrong. The note says so.
    region = load_regions().get("south-baltic")
    assert set(region.nuts) == {"PL424", "DE803", "LT028", "PL621", "SE221"}
    assert "LT023" in region.notes and "PL622" in region.notes


def test_radius_defaults_and_city_radii():
    registry = load_regions()
    assert registry.default_radius_km == {"hubs": 20.0, "training": 30.0, "networks": 30.0}
    assert registry.radius_km(registry.get("west-ireland")) == {"hubs": 20.0, "training": 30.0, "networks": 30.0}
    assert registry.radius_km(registry.get("lodz")) == {"hubs": 5.0, "training": 10.0, "networks": 10.0}
    assert registry.radius_km(registry.get("lodz"), {"hubs": 7}) == {"hubs": 7, "training": 10.0, "networks": 10.0}
    assert registry.radius_km(None) == FALLBACK_RADIUS_KM


def test_every_shipped_outline_exists_is_small_and_labelled():
    for region in load_regions():
        assert region.outline is not None and region.outline.is_file(), region.id
        geometry, _ = read_boundary_file(region.outline)
        parts = list(getattr(geometry, "geoms", [geometry]))
        for part in parts:
            assert shapely.get_num_coordinates(part) - 1 <= 40, region.id
        doc = json.loads(region.outline.read_text(encoding="utf-8"))
        assert "approximate" in doc["features"][0]["properties"]["label"]


def test_workspace_file_overrides_fields_and_adds_regions(tmp_path):
    (tmp_path / "regions.json").write_text(json.dumps({
        "regions": [
            {"id": "west-ireland", "radius_km": {"hubs": 12}},
            {"id": "my-town", "name": "My town", "countries": ["IE"], "nuts": ["IE041"],
             "radius_km": {"hubs": 3, "training": 4, "networks": 5}},
        ],
    }), encoding="utf-8")
    registry = load_regions(tmp_path)
    west = registry.get("west-ireland")
    assert west.radius_km == {"hubs": 12.0}
    assert registry.radius_km(west) == {"hubs": 12.0, "training": 30.0, "networks": 30.0}
    assert west.nuts == ("IE042",) and west.outline is not None  # untouched fields stay
    assert registry.get("my-town").nuts == ("IE041",)
    assert list(registry.regions)[-1] == "my-town"


def test_workspace_override_outline_path_is_relative_to_the_workspace(tmp_path):
    outline = tmp_path / "mine.geojson"
    outline.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 50], [1, 50], [1, 51], [0, 50]]]}))
    (tmp_path / "regions.json").write_text(json.dumps({
        "regions": [{"id": "lodz", "outline": "mine.geojson"}]}), encoding="utf-8")
    assert load_regions(tmp_path).get("lodz").outline == outline.resolve()


def test_null_removes_a_field(tmp_path):
    (tmp_path / "regions.json").write_text(json.dumps({
        "regions": [{"id": "szczecin", "radius_km": None}]}), encoding="utf-8")
    registry = load_regions(tmp_path)
    assert registry.radius_km(registry.get("szczecin")) == {"hubs": 20.0, "training": 30.0, "networks": 30.0}


def test_all_problems_are_reported_together_with_file_region_field_and_fix(tmp_path):
    (tmp_path / "regions.json").write_text(json.dumps({
        "regions": [
            {"id": "bad-one", "name": "Bad", "countries": ["Ireland"], "nuts": ["ie-042"],
             "radius_km": {"hubs": -1, "parks": 3}, "colour": "red"},
            {"id": "Bad Id", "name": "x", "countries": ["IE"]},
        ],
    }), encoding="utf-8")
    with pytest.raises(RegionsFileError) as info:
        load_regions(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "regions.json") in message
    assert "region 'bad-one'" in message
    assert "countries code 'Ireland'" in message
    assert "nuts code 'ie-042'" in message
    assert "radius_km.hubs is -1" in message
    assert "unknown layer 'parks'" in message
    assert "unknown field(s) colour" in message
    assert "id 'Bad Id' is not valid" in message


def test_missing_outline_file_and_new_region_without_name(tmp_path):
    (tmp_path / "regions.json").write_text(json.dumps({
        "regions": [{"id": "new-one", "countries": ["SE"], "outline": "nowhere.geojson"}]}), encoding="utf-8")
    with pytest.raises(RegionsFileError, match=r"\"name\" is missing.*nowhere.geojson does not exist"):
        load_regions(tmp_path)


def test_broken_json_names_line_and_column(tmp_path):
    (tmp_path / "regions.json").write_text('{"regions": [\n {"id": "x",}\n]}', encoding="utf-8")
    with pytest.raises(RegionsFileError, match=r"regions.json: not valid JSON \(line 2"):
        load_regions(tmp_path)


def test_unknown_region_lists_the_known_ones():
    with pytest.raises(RegionsFileError, match=r"unknown region 'atlantis'.*west-ireland"):
        load_regions().get("atlantis")


def test_parse_radius_args():
    assert parse_radius_args(["hubs=20", "training=7,5"]) == {"hubs": 20.0, "training": 7.5}
    assert parse_radius_args(None) == {}
    with pytest.raises(ValueError, match="LAYER=KM"):
        parse_radius_args(["parks=3"])
    with pytest.raises(ValueError, match="not a number"):
        parse_radius_args(["hubs=far"])
    with pytest.raises(ValueError, match="between 0 and 500"):
        parse_radius_args(["hubs=0"])
