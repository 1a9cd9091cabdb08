"""Pure helpers behind the pages: facility counts, tables, suggested sites, comparison views."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from atlas.dashboard import (
    comparison_views,
    coverage_sentence,
    facility_counts,
    sites_table,
    siting_sentence,
    suggested_site_feature,
    uncovered_table,
)
from loaders.features import COLUMNS, build_features
from workspace import Workspace


def frame() -> gpd.GeoDataFrame:
    records = [
        {"name": "In", "layer": "hubs", "geometry": shapely.Point(0.5, 0.5)},
        {"name": "In planned", "layer": "hubs", "status": "planned", "geometry": shapely.Point(0.2, 0.2)},
        {"name": "Out", "layer": "hubs", "geometry": shapely.Point(5, 5)},
        {"name": "Course", "layer": "training", "geometry": shapely.Point(0.1, 0.9)},
        {"name": "Nowhere", "layer": "networks", "geometry": None},
    ]
    return build_features(records, "t.geojson")[0]


def test_facility_counts_inside_the_boundary():
    counts = facility_counts(frame(), shapely.box(0, 0, 1, 1))
    assert counts == {"hubs": {"existing": 1, "planned": 1}, "training": {"existing": 1, "planned": 0},
                      "networks": {"existing": 0, "planned": 0}}
    assert facility_counts(frame(), None)["hubs"] == {"existing": 2, "planned": 1}


def test_coverage_sentence_names_the_radii():
    line = coverage_sentence({"hubs": 20.0, "training": 30.0, "networks": 30.0})
    assert "hubs 20 km" in line and "full support" in line


def test_uncovered_table_flattens_distances():
    rows = pd.DataFrame({
        "name": ["A", "B"], "population": [900, 500], "lat": [0, 0], "lon": [0, 0],
        "missing": [["hubs", "training"], ["networks"]],
        "nearest_km": [{"hubs": 31.26, "training": None, "networks": 2.0}, {"hubs": 1.0, "training": 2.0,
                                                                            "networks": 44.0}],
    })
    table = uncovered_table(rows)
    assert list(table.columns) == ["town", "population", "missing", "hubs km", "training km", "networks km"]
    assert table.loc[0, "missing"] == "hubs, training" and table.loc[0, "hubs km"] == 31.3
    assert pd.isna(table.loc[0, "training km"])
    assert list(uncovered_table(rows, layer="networks")["town"]) == ["B"]


def test_suggested_site_is_a_canonical_planned_feature(tmp_path):
    site = {"name": "Tuam", "lat": 53.51234567, "lon": -8.85123456, "added_population": 4321}
    row = suggested_site_feature(site, layer="hubs", country="IE")
    assert list(row.columns) == list(COLUMNS) + ["geometry"] and row.crs == "EPSG:4326"
    record = row.iloc[0]
    assert record["name"] == "Suggested hub near Tuam"
    assert (record["layer"], record["status"], record["location_source"], record["source_file"]) == (
        "hubs", "planned", "coordinates", "atlas (suggested site)")
    assert "4,321" in record["description"]
    workspace = Workspace(tmp_path / "ws")
    workspace.add_features(row)
    workspace.add_features(suggested_site_feature(site, layer="hubs", country="IE"))  # same site again
    saved = workspace.features()
    assert len(saved) == 1 and saved.iloc[0]["name"] == "Suggested hub near Tuam"
    assert saved.iloc[0].geometry.equals_exact(shapely.Point(-8.851235, 53.512346), 1e-9)


def test_sites_table():
    table = sites_table([{"name": "Gort", "lat": 53.06, "lon": -8.82, "added_population": 99}])
    assert table.to_dict("records") == [{"#": 1, "near": "Gort", "adds people": 99, "lat": 53.06, "lon": -8.82}]


def test_comparison_views():
    table = pd.DataFrame({
        "region_id": ["a", "b"], "region_name": ["Alpha", "Łódź"], "population": [1000, 2000],
        "facilities_hubs": [1, 2], "facilities_training": [0, 1], "facilities_networks": [3, 0],
        "per_100k_hubs": [100.0, 100.0], "per_100k_training": [0.0, 50.0], "per_100k_networks": [300.0, 0.0],
        "coverage_share_hubs": [0.5, 0.25], "coverage_share_training": [0.0, 1.0],
        "coverage_share_networks": [1.0, 0.0], "full_support_share": [0.0, 0.0], "median_km_hubs": [3.21, None],
        "largest_uncovered_name": ["X", None], "largest_uncovered_population": pd.array([10, None], dtype="Int64"),
    })
    views = comparison_views(table)
    assert list(views["table"]["region"]) == ["Alpha", "Łódź"]
    assert views["table"].loc[0, "hubs coverage %"] == 50 and views["table"].loc[0, "median km to hub"] == 3.2
    assert list(views["coverage"].columns) == ["hubs", "training", "networks", "full support"]
    assert views["per_100k"].loc["Alpha", "networks"] == 300.0
    # Reach comes right after the population, so it is on screen without scrolling sideways.
    assert list(views["table"].columns[:7]) == ["region", "population", "hubs coverage %", "training coverage %",
                                                "networks coverage %", "full support %", "median km to hub"]


def test_siting_sentence():
    from types import SimpleNamespace

    greedy = SimpleNamespace(k=3, covered_before=100, covered_after=160, optimum=70, gap_to_optimum=1 / 7)
    assert siting_sentence(greedy) == ("Together they bring 60 more people within reach (100 → 160). "
                                       "The best possible with 3 sites adds 70: these picks are 14.3% short of it.")
    exact = SimpleNamespace(k=2, covered_before=0, covered_after=5, optimum=5, gap_to_optimum=0.0)
    assert siting_sentence(exact).endswith("No choice of 2 sites does better (checked exactly).")
    unsolved = SimpleNamespace(k=2, covered_before=0, covered_after=5, optimum=None, gap_to_optimum=None)
    assert siting_sentence(unsolved) == "Together they bring 5 more people within reach (0 → 5)."
