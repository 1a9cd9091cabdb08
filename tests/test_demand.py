"""Demand: GeoNames settlements inside a boundary and user population layers."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, box

from geography.settlements import SETTLEMENT_CAVEAT, clip, settlements
from loaders.errors import ImportFileError
from loaders.population import demand_from_bytes, demand_from_file, parse_population

DATA = Path(__file__).resolve().parent / "data" / "analysis"


def test_settlements_inside_a_boundary_largest_first():
    galway_area = box(-9.2, 53.2, -8.9, 53.35)
    frame = settlements(galway_area)
    assert frame.crs == "EPSG:4326"
    assert list(frame.columns) == ["name", "population", "country", "geonameid", "geometry"]
    assert frame["name"].iloc[0] == "Galway" and frame["population"].iloc[0] == 85910
    assert frame["population"].is_monotonic_decreasing
    assert frame.geometry.within(galway_area).all()
    assert set(frame["country"]) == {"IE"}


def test_a_settlement_on_the_boundary_counts():
    # Galway's GeoNames point is (-9.05095, 53.27245): put the edge exactly through it.
    edge = box(-9.05095, 53.2, -8.9, 53.35)
    assert "Galway" in set(settlements(edge)["name"])


def test_countries_filter_and_no_boundary():
    ireland = settlements(countries=["ie"])
    assert set(ireland["country"]) == {"IE"} and len(ireland) > 300
    assert settlements(box(-9.2, 53.2, -8.9, 53.35), countries=["SE"]).empty
    assert settlements(shapely.Polygon()).empty


def test_caveat_mentions_rural_population():
    assert "dispersed rural population" in SETTLEMENT_CAVEAT


def test_csv_fixture():
    load = demand_from_file(DATA / "demand.csv")
    assert load.rows_read == 5 and load.accepted == 5 and load.rejected == []
    assert list(load.demand["name"]) == ["Aville", "Bton", "Cford", "Dmore", "Eglen"]
    assert load.demand["population"].sum() == 4500
    assert load.demand.geometry.iloc[2].equals(Point(-8.0, 53.3))


def test_csv_swedish_headers_decimal_commas_and_rejected_rows():
    load = demand_from_file(DATA / "demand_bad.csv")
    assert load.rows_read == 4
    assert load.accepted == 2 and len(load.rejected) == 2
    assert load.accepted + len(load.rejected) == load.rows_read
    assert list(load.demand["name"]) == ["Aville", "Bton"]
    assert list(load.demand["population"]) == [1000, 500]
    reasons = {r.where: r.reason for r in load.rejected}
    assert "latitude 95.0" in reasons["row 3"] and "check the column order" in reasons["row 3"]
    assert "Invånare: population is empty" in reasons["row 4"]
    assert reasons["row 4"].endswith("Fix the row or remove it.")
    assert load.summary()["rejected"][0] == {"where": "row 3", "reason": reasons["row 3"]}


def test_csv_pair_column_and_tab_separator():
    data = "place\tcoordinates\tinhabitants\nA\t53.1, -8.2\t120\n".encode()
    load = demand_from_bytes(data, "pairs.tsv")
    assert load.demand.geometry.iloc[0].equals(Point(-8.2, 53.1))
    assert load.demand["population"].iloc[0] == 120


def test_csv_without_needed_columns():
    with pytest.raises(ImportFileError, match=r"x.csv: no population column \(found: name, lat, lon\)"):
        demand_from_bytes(b"name,lat,lon\nA,53,-8\n", "x.csv")
    with pytest.raises(ImportFileError, match=r"x.csv: no latitude/longitude columns"):
        demand_from_bytes(b"name,population\nA,5\n", "x.csv")


def test_all_rows_bad_is_an_error_naming_the_rows():
    with pytest.raises(ImportFileError, match=r"x.csv: none of the 2 rows could be used \(row 2: .*row 3: "):
        demand_from_bytes(b"name,lat,lon,population\nA,abc,-8,5\nB,53,-8,-1\n", "x.csv")


def test_empty_and_unsupported_files():
    with pytest.raises(ImportFileError, match="the file is empty"):
        demand_from_bytes(b"", "x.csv")
    with pytest.raises(ImportFileError, match=r"'.xlsx' is not a population layer"):
        demand_from_bytes(b"PK", "x.xlsx")
    with pytest.raises(ImportFileError, match=r"holds no rows"):
        demand_from_bytes(b"name,lat,lon,population\n", "x.csv")


@pytest.mark.parametrize("text, expected", [
    ("1234", 1234), ("1 234", 1234), ("1.234", 1234), ("1,234", 1234), ("12,5", 12.5),
    ("1.234.567", 1234567), (0, 0), (7.0, 7),
])
def test_parse_population(text, expected):
    assert parse_population(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "empty"), (None, "empty"), ("-3", "negative"), ("many", "not a number"), ("100000000", "larger"),
])
def test_parse_population_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_population(text)


def test_geojson_points_with_population(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["A", "B", "C"], "Population": [10, None, 30]},
                             geometry=[Point(-8, 53), Point(-8.1, 53), None], crs="EPSG:4326")
    frame.to_file(tmp_path / "p.geojson", driver="GeoJSON")
    load = demand_from_file(tmp_path / "p.geojson")
    assert load.rows_read == 3 and load.accepted == 1
    assert list(load.demand["name"]) == ["A"]
    reasons = [r.reason for r in load.rejected]
    assert any("population is empty" in r for r in reasons)
    assert any("no geometry" in r for r in reasons)


def test_gpkg_grid_cells_in_laea_become_points_carrying_their_population(tmp_path):
    cells = [box(3200000, 3400000, 3201000, 3401000), box(3201000, 3400000, 3202000, 3401000)]
    frame = gpd.GeoDataFrame({"GRD_ID": ["c1", "c2"], "TOT_P_2021": [12.5, 3.0]}, geometry=cells, crs="EPSG:3035")
    frame.to_file(tmp_path / "grid.gpkg", layer="grid")
    load = demand_from_file(tmp_path / "grid.gpkg")
    assert list(load.demand["population"]) == [13, 3]
    assert list(load.demand["name"]) == ["c1", "c2"]
    assert (load.demand.geom_type == "Point").all()
    back = load.demand.to_crs("EPSG:3035").geometry
    assert back.iloc[0].within(cells[0]) and back.iloc[1].within(cells[1])


def test_gpkg_layer_without_population_column(tmp_path):
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 50)], crs="EPSG:4326").to_file(tmp_path / "n.gpkg", layer="x")
    with pytest.raises(ImportFileError, match=r"n.gpkg: no layer has a population column \(layers: x\)"):
        demand_from_file(tmp_path / "n.gpkg")


def test_lines_are_rejected_per_feature(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["road", "town"], "population": [5, 6]},
                             geometry=[shapely.LineString([(0, 50), (1, 50)]), Point(0, 50)], crs="EPSG:4326")
    frame.to_file(tmp_path / "l.geojson", driver="GeoJSON")
    load = demand_from_file(tmp_path / "l.geojson")
    assert load.accepted == 1 and "LineString is neither a point nor a polygon" in load.rejected[0].reason


def test_clip_keeps_points_inside_or_on_the_boundary():
    load = demand_from_file(DATA / "demand.csv")
    inside = clip(load.demand, box(-8.5, 53.05, -7.5, 53.9))
    assert list(inside["name"]) == ["Bton", "Cford", "Dmore", "Eglen"]  # Dmore lies on the edge
    assert len(clip(load.demand, None)) == 5


def test_missing_file_names_it():
    with pytest.raises(ImportFileError, match=r"nope.csv: cannot be opened"):
        demand_from_file(DATA / "nope.csv")


# -- column-wise parsing --------------------------------------------------------------------
def test_plain_numbers_are_converted_column_wise_without_the_per_row_parsers(monkeypatch):
    def per_row(*args, **kwargs):
        raise AssertionError(f"per-row parser called for {args}")

    for name in ("parse_number", "parse_pair", "parse_population", "check_point"):
        monkeypatch.setattr(f"loaders.population.{name}", per_row)
    rows = "".join(f"Town {i},{50 + i / 1000:.3f},{-8 - i / 1000:.3f},{100 + i}\n" for i in range(2000))
    load = demand_from_bytes(("name,lat,lon,population\n" + rows).encode(), "plain.csv")
    assert (load.rows_read, load.accepted) == (2000, 2000)
    assert load.demand["population"].sum() == sum(range(100, 2100))
    assert load.demand.geometry.iloc[1999].equals(Point(-9.999, 51.999))
    pairs = "".join(f"T{i}\t53.{i}, -8.{i}\t{i + 1}\n" for i in range(10))
    load = demand_from_bytes(("place\tcoordinates\tinhabitants\n" + pairs).encode(), "pairs.tsv")
    assert load.demand.geometry.iloc[3].equals(Point(-8.3, 53.3))


def test_mixed_rows_keep_their_numbers_values_and_reasons():
    text = (
        "name;lat;lon;population\n"
        "Aville;53.0;-8.0;1000\n"            # row 2: plain
        "\n"                                  # row 3: blank, not a row read
        ";;;\n"                               # row 4: blank cells, not a row read
        '"Two\nlines";53,1;-8,1;1.234\n'     # row 5: quoted line break, decimal commas, thousands
        "Cford;53° 18' N;8° 0' W;2 000\n"     # row 6: DMS, spaced thousands
        "Dmore;95;-8;300\n"                  # row 7: impossible latitude
        "Eglen;53.5;-8.0;12,5;extra\n"       # row 8: a cell beyond the header, fractional people
        " ;  ;\t;;\n"                         # row 9: whitespace only, one extra empty cell
        ";53.6;-8.0;7\n"                     # row 10: no name
    )
    load = demand_from_bytes(text.encode(), "mixed.csv")
    assert load.rows_read == 6 and load.accepted == 5
    assert load.accepted + len(load.rejected) == load.rows_read
    assert list(load.demand["name"]) == ["Aville", "Two\nlines", "Cford", "Eglen", "mixed.csv row 10"]
    assert list(load.demand["population"]) == [1000, 1234, 2000, 13, 7]
    assert load.demand.geometry.iloc[1].equals(Point(-8.1, 53.1))
    assert load.demand.geometry.iloc[2].equals(Point(-8.0, 53.3))
    [bad] = load.rejected
    assert bad.where == "row 7" and "latitude 95.0" in bad.reason
    assert bad.raw == {"name": "Dmore", "lat": "95", "lon": "-8", "population": "300"}
    assert load.demand["name"].dtype == object and load.demand["population"].dtype == "int64"


def test_a_cell_over_the_csv_field_limit_is_one_clean_error():
    text = 'name,lat,lon,population\n"A,53,-8,5\n' + "x" * 140_000 + "\n"
    with pytest.raises(ImportFileError, match=r"^long\.csv, line 3: a cell reaching this line holds more than "
                                              r"131,072 characters"):
        demand_from_bytes(text.encode(), "long.csv")


def test_a_csv_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr("loaders.population.MAX_DEMAND_CSV_BYTES", 100)
    text = "name,lat,lon,population\n" + "A,53,-8,5\n" * 20
    with pytest.raises(ImportFileError, match=r"^big\.csv: the file is 0 MB, over the 0 MB limit for a population "
                                              r"table\. Clip it"):
        demand_from_bytes(text.encode(), "big.csv")
