"""Analysis results turned into exportable frames: flat columns, points, hand-checked figures."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analysis.coverage import compute
from analysis.gaps import uncovered
from analysis.siting import site
from atlas.analysis_frames import coverage_summary_frame, sites_frame, uncovered_frame
from loaders.features import COLUMNS

# Three towns on the equator, 1° of longitude ≈ 111.2 km apart; one hub at the first.
DEMAND = gpd.GeoDataFrame(
    {"name": ["Alpha", "Beta", "Gamma"], "population": [1000, 500, 200]},
    geometry=[shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(2, 0)], crs="EPSG:4326",
)


def _facilities() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: [None] for c in COLUMNS})
    frame.loc[0, ["feature_id", "name", "layer", "status", "attributes"]] = ["h1", "Hub Alpha", "hubs", "existing", "{}"]
    return gpd.GeoDataFrame(frame.astype(object), geometry=gpd.GeoSeries([shapely.Point(0, 0)], crs="EPSG:4326"))


def test_coverage_summary_has_a_row_per_layer_and_full_support():
    result = compute(DEMAND, _facilities(), radius_km={"hubs": 20, "training": 30})
    table = coverage_summary_frame(result, demand_source="geonames", boundary_label="test box")
    assert table["layer"].tolist() == ["hubs", "training", "full support (all layers at once)"]
    hubs = table.iloc[0]
    assert (hubs["radius_km"], hubs["facilities"], hubs["covered_population"], hubs["population"]) == (20.0, 1, 1000, 1700)
    assert hubs["coverage_share"] == round(1000 / 1700, 4) and hubs["uncovered_settlements"] == 2
    assert table.iloc[1]["covered_population"] == 0
    assert table.iloc[2]["coverage_share"] == 0.0  # no training anywhere: nobody has full support
    assert set(table["boundary"]) == {"test box"} and set(table["demand_source"]) == {"geonames"}


def test_uncovered_towns_become_points_with_one_distance_column_per_layer():
    result = compute(DEMAND, _facilities(), radius_km={"hubs": 20, "training": 30})
    frame = uncovered_frame(uncovered(result))
    assert frame.crs == "EPSG:4326"
    assert frame["name"].tolist() == ["Alpha", "Beta", "Gamma"]  # Alpha lacks training
    assert frame["missing"].tolist() == ["training", "hubs; training", "hubs; training"]
    assert frame.loc[1, "nearest_km_hubs"] == pytest.approx(111.195, abs=0.01)
    assert frame["nearest_km_training"].isna().all()  # no training facility at all
    assert frame.geometry.iloc[2].equals(shapely.Point(2, 0))


def test_suggested_sites_become_ranked_points():
    siting = site(DEMAND, _facilities(), layer="hubs", radius_km=20, k=1)
    frame = sites_frame(siting)
    assert frame[["rank", "name", "layer", "added_population"]].to_dict("records") == [
        {"rank": 1, "name": "Beta", "layer": "hubs", "added_population": 500}]
    assert frame.geometry.iloc[0].equals(shapely.Point(1, 0))

