"""The sheet loader on real public files from ../shared/realdata (skipped where that folder is absent)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from loaders.errors import ImportFileError
from loaders.sheets import features_from_csv, features_from_xlsx


@pytest.fixture
def no_geocoding(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"geocode called for {args}")

    monkeypatch.setattr("loaders.sheets.geocode", refuse)


def test_localities_workbook_has_no_name_column_and_says_so(realdata):
    # A list of place names with driving distances (NSW): no organisation name column, so
    # there is nothing to map; the message shows what the sheet starts with.
    path = realdata / "spreadsheets" / "localities_in_mymap_boundary.xlsx"
    with pytest.raises(ImportFileError, match=(
        r"localities_in_mymap_boundary\.xlsx: no header row found in any sheet; .*Name/Namn/Nazwa.*"
        r"sheet 'Localities' has no header row in its first 20 rows \(first row: Locality, Driving distance, "
        r"Driving duration \(mins\)\)"
    )):
        features_from_xlsx(path.read_bytes(), path.name)


@pytest.mark.parametrize("name, country, rows", [
    ("eurostat_healthcare_IE.csv", "IE", 199),
    ("eurostat_healthcare_LT.csv", "LT", 142),
])
def test_eurostat_venue_lists(realdata, no_geocoding, name, country, rows):
    path = realdata / "venues" / name
    data = path.read_bytes()
    result = features_from_csv(data, name)
    assert result.rows_read == rows == len(list(csv.reader(io.StringIO(data.decode())))) - 1
    assert result.accepted == rows and not result.rejected
    frame = result.features
    assert set(frame["country"]) == {country}  # from the "cc" column; "country" (the name) is kept
    assert set(frame["location_source"]) == {"coordinates"}
    assert frame["feature_id"].is_unique and frame["feature_id"].str.startswith(f"{name}#").all()
    assert frame.total_bounds[1] > 51 and frame.total_bounds[3] < 56.5  # all on the island / in LT
    first = frame.iloc[0]
    assert first["source_ref"] == "row 2"
    attributes = json.loads(first["attributes"])
    assert "facility_type" in attributes and "country" in attributes


def test_eurostat_ireland_first_row(realdata, no_geocoding):
    path = realdata / "venues" / "eurostat_healthcare_IE.csv"
    row = features_from_csv(path.read_bytes(), path.name).features.iloc[0]
    assert (row["name"], row["town"], row["address"], row["contact"]) == (
        "Millstreet Community Hospital", "Millstreet", "Killarney Road", "029 70003",
    )
    assert (row["geometry"].y, row["geometry"].x) == (52.058, -9.0779352)
    assert row["feature_id"] == "eurostat_healthcare_IE.csv#20036"
