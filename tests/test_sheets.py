"""XLSX and CSV audit sheets: headers in several languages, coordinates as typed, geocoding, rejections."""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from loaders import columns
from loaders.errors import ImportFileError
from loaders.sheets import features_from_csv, features_from_xlsx

DATA = Path(__file__).resolve().parent / "data" / "sheets"


@pytest.fixture(scope="session")
def gazetteer():
    """Build the offline gazetteer index once for every test that geocodes (it is cached per process)."""
    from loaders.gazetteer import geocode

    assert geocode("Karlshamn", country="SE").place is not None


@pytest.fixture
def no_geocoding(monkeypatch):
    """Fail the test if a row is geocoded: rows with coordinates must not touch the gazetteer."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"geocode called for {args}")

    monkeypatch.setattr("loaders.sheets.geocode", refuse)


def csv_file(name: str, *, country: str | None = None):
    return features_from_csv((DATA / name).read_bytes(), name, country=country)


def xlsx(sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = ()) -> bytes:
    """Build a workbook in memory: {sheet name: rows}; rows are appended as Excel rows 1, 2, …"""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def balanced(result) -> None:
    assert result.accepted + len(result.rejected) == result.rows_read


def by_name(result) -> dict[str, dict]:
    return {row["name"]: row for row in result.features.to_dict("records")}


def rejected_at(result) -> dict[str, str]:
    return {r.where: r.reason for r in result.rejected}


# -- header aliases ---------------------------------------------------------------------------

@pytest.mark.parametrize("header, field", [
    ("Name", "name"), ("NAMN", "name"), ("Nazwa", "name"), ("Organisation", "name"),
    ("Adress", "address"), ("Ulica", "address"), ("Gatuadress", "address"), ("Adresse", "address"),
    ("Miejscowość", "town"), ("miejscowosc", "town"), ("Kommun", "town"), ("Stadt", "town"), ("Gmina", "town"),
    ("Land", "country"), ("Kraj", "country"), ("Rodzaj", "kind"), ("Typ", "kind"),
    ("Kategori", "layer"), ("Warstwa", "layer"), ("Kategorie", "layer"),
    ("Planerad", "status"), ("Stan", "status"), ("Branża", "sectors"), ("Bransch", "sectors"),
    ("Sector", "sectors"), ("Sector type", "helix"), ("Helix", "helix"),
    ("Strona www", "website"), ("Hemsida", "website"), ("Webbplats", "website"),
    ("E-post:", "contact"), ("e-mail", "contact"), ("Telefon", "contact"),
    ("Anteckningar", "description"), ("Uwagi", "description"), ("Opis", "description"),
    ("Szerokość geograficzna", "latitude"), ("Latitud", "latitude"), ("Breitengrad", "latitude"),
    ("Latitude (WGS84)", "latitude"), ("Y", "latitude"),
    ("Długość geograficzna", "longitude"), ("Längengrad", "longitude"), ("Lng", "longitude"), ("X", "longitude"),
    ("Współrzędne", "pair"), ("Lat, Lon", "pair"), ("Koordinater", "pair"), ("GPS", "pair"),
    ("ID", "id"), ("Id", "id"),
    ("Opening hours", None), ("County", None), (12, None), ("", None),
])
def test_header_aliases(header, field):
    assert columns.field_for(header) == field


def test_header_without_exact_name_alias_uses_a_name_word():
    mapping = columns.map_header(["id", "hospital_name", "site_name", "lat", "lon"])
    assert mapping == {0: "id", 1: "name", 3: "latitude", 4: "longitude"}
    assert columns.map_header(["Contact name", "Town"]) == {0: "contact", 1: "town"}


# -- CSV ----------------------------------------------------------------------------------------

@pytest.mark.usefixtures("gazetteer")
def test_csv_title_rows_blank_rows_and_a_multiline_field():
    result = csv_file("hubs_comma.csv")
    balanced(result)
    # 2 title rows, a blank row, the header and a blank row between data rows are not rows read.
    assert result.rows_read == 4 and result.accepted == 4 and not result.rejected
    rows = by_name(result)
    hub = rows["The Digital Hub Roscommon"]
    assert hub["source_ref"] == "row 5"  # the quoted line break keeps it one spreadsheet row
    assert hub["description"] == "Two floors,\nhot desks and a makerspace"
    assert (hub["layer"], hub["status"], hub["country"], hub["kind"]) == ("hubs", "existing", "IE", "co-working space")
    assert hub["contact"] == "info@example.ie"
    assert json.loads(hub["attributes"]) == {"Email": "info@example.ie", "Phone": "090 123", "Opening hours": "Mon-Fri",
                                             "Type": "co-working"}
    assert hub["location_source"] == "coordinates"
    assert (hub["geometry"].y, hub["geometry"].x) == (53.6333, -8.1833)

    ballagh = rows["Ballaghaderreen Enterprise Centre"]
    assert ballagh["source_ref"] == "row 7"
    assert (ballagh["status"], ballagh["location_source"]) == ("planned", "gazetteer")
    assert ballagh["geometry"].y == pytest.approx(53.90, abs=0.01)

    online = rows["Online Creatives West"]
    assert (online["layer"], online["location_source"], online["geometry"]) == ("networks", "none", None)


@pytest.mark.usefixtures("gazetteer")
def test_csv_semicolons_with_decimal_commas_bom_and_swedish_headers():
    assert (DATA / "blekinge_semicolon_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = csv_file("blekinge_semicolon_bom.csv")
    balanced(result)
    rows = by_name(result)
    assert set(rows) == {"Karlshamns kulturhus", "Karlshamn makerspace", "Ronneby studio"}
    house = rows["Karlshamns kulturhus"]
    assert (house["geometry"].y, house["geometry"].x) == (56.1706, 14.8619)
    assert house["description"] == "Öppet; året runt"
    assert (house["kind"], house["country"], house["website"]) == ("studio", "SE", "https://example.se")
    maker = rows["Karlshamn makerspace"]
    assert (maker["status"], maker["location_source"], maker["town"]) == ("planned", "gazetteer", "Karlshamn")
    assert maker["geometry"].y == pytest.approx(56.17, abs=0.01)
    ronneby = rows["Ronneby studio"]  # degrees, minutes and seconds
    assert ronneby["geometry"].y == pytest.approx(56.21) and ronneby["geometry"].x == pytest.approx(15.28)


@pytest.mark.usefixtures("gazetteer")
def test_csv_windows_1252():
    data = (DATA / "boras_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = features_from_csv(data, "boras_cp1252.csv", country="SE")
    balanced(result)
    rows = by_name(result)
    assert rows["Borås Kreativa Kluster"]["town"] == "Borås"
    assert rows["Borås Kreativa Kluster"]["sectors"] == "fashion"  # "textil & mode", kept in attributes
    museum = rows["Textilmuseet"]
    assert (museum["location_source"], museum["country"]) == ("gazetteer", "SE")
    assert any("Windows-1252" in note for note in result.notes)


@pytest.mark.usefixtures("gazetteer")
def test_csv_polish_headers_pair_column_and_lodz_without_diacritics():
    result = csv_file("lodz_polish.csv")
    balanced(result)
    assert (result.rows_read, result.accepted) == (4, 3)
    rows = by_name(result)
    fabryka = rows["Fabryka Sztuki"]
    assert (fabryka["geometry"].y, fabryka["geometry"].x) == (51.7469, 19.4793)
    assert (fabryka["layer"], fabryka["status"], fabryka["address"]) == ("hubs", "existing", "ul. Tymienieckiego 3")
    sieci = rows["Łódzkie Sieci Muzyczne"]
    assert (sieci["layer"], sieci["town"], sieci["location_source"]) == ("networks", "Lodz", "gazetteer")
    assert sieci["geometry"].y == pytest.approx(51.77, abs=0.02)  # matched to Łódź
    assert rows["Ozorków przestrzeń"]["status"] == "planned"
    reason = rejected_at(result)["row 5"]
    assert "'not a pair 12' in column 'Współrzędne' is not a 'latitude, longitude' pair" in reason


@pytest.mark.usefixtures("gazetteer")
def test_csv_tab_separated_with_ambiguous_and_unknown_towns():
    result = csv_file("west_ireland_tab.csv")
    balanced(result)
    assert result.accepted == 1
    reasons = rejected_at(result)
    assert "town 'Newport' is ambiguous in IE: 2 places match" in reasons["row 3"]
    assert "52.7111, -8.4097" in reasons["row 3"] and "53.8851, -9.5453" in reasons["row 3"]
    assert "no place named 'Nowhereville' in IE" in reasons["row 4"]
    rejected = {r.where: r for r in result.rejected}
    assert rejected["row 3"].raw == {"Name": "Newport Creative Space", "Town": "Newport", "Country": "IE", "Lat": "", "Lon": ""}


@pytest.mark.parametrize("where, expected", [
    ("row 3", "latitude '95.3' is outside −90…90."),
    ("row 3", "Check the column order (Lat/Lon)."),
    ("row 4", "lies outside Europe but the row is in SE; swapping them (latitude 56.1612, longitude 15.5869)"),
    ("row 5", "latitude '56.1x' (column 'Lat') is not a number. Write decimal degrees such as 56.16 or 56,16"),
    ("row 6", "latitude '56.16' is given but longitude (column 'Lon') is empty."),
    ("row 7", "duplicate of row 2"),
    ("row 8", "latitude 0, longitude 0 is a placeholder"),
    ("row 9", "look like projected coordinates"),
])
def test_csv_each_rejection_names_the_row_the_value_and_the_fix(no_geocoding, where, expected):
    result = csv_file("rejections.csv")
    balanced(result)
    assert result.rows_read == 8 and result.accepted == 1
    assert expected in rejected_at(result)[where]


def test_rejected_duplicate_keeps_the_row_as_typed(no_geocoding):
    result = csv_file("rejections.csv")
    duplicate = next(r for r in result.rejected if r.where == "row 7")
    assert duplicate.raw == {"Name": "Good hub", "Town": "Karlskrona", "Country": "SE", "Lat": "56.1612", "Lon": "15.5869"}


def test_swapped_point_is_caught_with_the_file_country_when_rows_have_none(no_geocoding):
    data = "Name;Lat;Lon\nSwapped;14,86;56,17\nFine;56,17;14,86\n".encode()
    result = features_from_csv(data, "se.csv", country="SE")
    balanced(result)
    assert "check the column order (Lat/Lon)." in rejected_at(result)["row 2"]
    assert features_from_csv(data, "anywhere.csv").accepted == 2  # no country: nothing to compare with


@pytest.mark.parametrize("name, match", [
    ("empty.csv", r"empty\.csv: the file is empty \(0 bytes\)"),
    ("whitespace.csv", r"whitespace\.csv: the file holds only blank lines"),
    ("no_header.csv", r"no_header\.csv: no header row found .* such as Name/Namn/Nazwa.*first row: Locality"),
])
def test_csv_that_cannot_be_read(name, match):
    with pytest.raises(ImportFileError, match=match):
        csv_file(name)


def test_csv_given_an_excel_workbook_or_binary_bytes():
    with pytest.raises(ImportFileError, match=r"audit\.csv: this is an Excel workbook, not CSV text"):
        features_from_csv(xlsx({"Hubs": [["Name", "Town"]]}), "audit.csv")
    with pytest.raises(ImportFileError, match=r"neither UTF-8 nor Windows-1252"):
        features_from_csv(b"Name,Town\n\x81\x8d\x8f,x\n", "odd.csv")


def test_csv_extra_cells_duplicate_headers_and_lf_only(no_geocoding):
    data = b"Name,Email,Email,Lat,Lon\nA,a@x.se,b@x.se,56.1,15.5,stray\n"
    result = features_from_csv(data, "x.csv")
    (row,) = result.features.to_dict("records")
    assert row["contact"] == "a@x.se"
    assert json.loads(row["attributes"]) == {"Email": "a@x.se", "Email (2)": "b@x.se", "column 6": "stray"}


# -- XLSX ---------------------------------------------------------------------------------------

TITLE = [["Kartläggning av kreativa resurser — Blekinge"], ["Fyll i en rad per resurs"], []]
SV_HEADER = ["Namn", "Typ", "Status", "Ort", "Land", "Latitud", "Longitud", "E-post", "Telefon", "Öppettider"]


@pytest.mark.usefixtures("gazetteer")
def test_xlsx_a_sheet_per_layer_with_title_rows_and_swedish_headers():
    data = xlsx({
        "Instruktioner": [["Så här fyller du i mallen"], ["En rad per resurs."]],
        "Kreativa nav": TITLE + [SV_HEADER,
            ["Kulturhuset", "ateljé", "befintlig", "Karlshamn", "Sverige", "56,1706", "14,8619", "a@k.se", "0454-123", "9-17"],
            [],
            ["Makerspace Karlshamn", "makerspace", "planerad", "Karlshamn", "SE", None, None, None, None, None],
        ],
        "Utbildning & stöd": TITLE + [SV_HEADER,
            ["Blekinge folkhögskola", "folkhögskola", "befintlig", "Karlskrona", "SE", 56.1612, 15.5869],
        ],
        "Tom": [],
        "Listor": [["Namn", "Ort"], ["dold rad", "Karlshamn"]],
    }, hidden=("Listor",))
    result = features_from_xlsx(data, "blekinge.xlsx", country="SE")
    balanced(result)
    assert (result.rows_read, result.accepted) == (3, 3)
    rows = by_name(result)
    house = rows["Kulturhuset"]
    assert house["source_ref"] == "sheet 'Kreativa nav', row 5"
    assert (house["layer"], house["status"], house["country"]) == ("hubs", "existing", "SE")
    assert (house["geometry"].y, house["geometry"].x) == (56.1706, 14.8619)
    assert house["contact"] == "a@k.se"
    assert json.loads(house["attributes"]) == {"E-post": "a@k.se", "Telefon": "0454-123", "Öppettider": "9-17",
                                               "Typ": "ateljé"}  # the kind as written (stored: studio)
    maker = rows["Makerspace Karlshamn"]
    assert maker["source_ref"] == "sheet 'Kreativa nav', row 7"  # the blank row 6 is skipped, not renumbered
    assert (maker["status"], maker["location_source"]) == ("planned", "gazetteer")
    school = rows["Blekinge folkhögskola"]
    assert (school["layer"], school["source_ref"]) == ("training", "sheet 'Utbildning & stöd', row 5")
    notes = " ".join(result.notes)
    assert "sheet 'Instruktioner' has no header row" in notes and "sheet 'Tom' is empty" in notes
    assert "sheet 'Listor' is hidden (unhide it to import it): skipped." in notes


@pytest.mark.usefixtures("gazetteer")
def test_xlsx_polish_sheet_with_pair_column_and_numbers_as_floats():
    data = xlsx({"Sieci": [
        ["Nazwa", "Rodzaj", "Miejscowość", "Kraj", "Współrzędne", "Data założenia", "Członkowie"],
        ["Łódzkie Sieci Muzyczne", "sieć", "Łódź", "Polska", "51.7592, 19.4560", dt.date(2019, 5, 1), 120],
        ["Klaster Kreatywny", "klaster", "Lodz", "PL", None, None, 12.5],
        ["Sieć Szczecin", "sieć", "Szczecin", "PL", "53,4285; 14,5528", None, None],
    ]})
    result = features_from_xlsx(data, "lodz.xlsx")
    balanced(result)
    rows = by_name(result)
    first = rows["Łódzkie Sieci Muzyczne"]
    assert (first["layer"], first["country"]) == ("networks", "PL")
    assert (first["geometry"].y, first["geometry"].x) == (51.7592, 19.456)
    assert json.loads(first["attributes"]) == {"Data założenia": "2019-05-01", "Członkowie": 120, "Rodzaj": "sieć"}
    assert json.loads(rows["Klaster Kreatywny"]["attributes"]) == {"Członkowie": 12.5, "Rodzaj": "klaster"}
    assert rows["Klaster Kreatywny"]["location_source"] == "gazetteer"
    assert rows["Sieć Szczecin"]["geometry"].x == 14.5528


def test_xlsx_layer_column_wins_over_the_sheet_name(no_geocoding):
    data = xlsx({"Hubs": [
        ["Name", "Category", "Lat", "Lon"],
        ["A network", "Networks", 53.6, -8.2],
        ["Music thing", "Music", 53.61, -8.2],  # not a layer: the sheet name decides, the text is kept
        ["Plain hub", None, 53.62, -8.2],
    ], "Sheet1": [["Name", "Lat", "Lon"], ["Somewhere", 53.63, -8.2]]})
    rows = by_name(features_from_xlsx(data, "mixed.xlsx"))
    assert rows["A network"]["layer"] == "networks"
    assert rows["Music thing"]["layer"] == "hubs"
    assert json.loads(rows["Music thing"]["attributes"]) == {"Category": "Music"}
    assert rows["Plain hub"]["layer"] == "hubs"
    assert rows["Somewhere"]["layer"] == "unclassified"


def test_xlsx_planned_yes_no_column_and_ids(no_geocoding):
    data = xlsx({"Hubs": [
        ["ID", "Name", "Planned", "Lat", "Lon"],
        [7, "Old mill", "yes", 53.6, -8.2],
        [8, "Town hall", "nej", 53.61, -8.2],
        [9, "Library", "maybe", 53.62, -8.2],
    ]})
    result = features_from_xlsx(data, "ids.xlsx")
    rows = by_name(result)
    assert rows["Old mill"]["status"] == "planned" and rows["Town hall"]["status"] == "existing"
    assert rows["Library"]["status"] == "existing"
    assert json.loads(rows["Library"]["attributes"]) == {"Planned": "maybe"}  # not understood: kept
    assert rows["Old mill"]["feature_id"] == "ids.xlsx#7"


def test_xlsx_ids_repeated_across_sheets_are_qualified_by_sheet(no_geocoding):
    header = ["ID", "Name", "Lat", "Lon"]
    data = xlsx({
        "Hubs": [header, [1, "Hub one", 53.6, -8.2], [2, "Hub two", 53.7, -8.2]],
        "Networks": [header, [1, "Network one", 53.8, -8.2]],
    })
    result = features_from_xlsx(data, "ids.xlsx")
    balanced(result)
    assert result.accepted == 3
    assert set(result.features["feature_id"]) == {"ids.xlsx#Hubs:1", "ids.xlsx#Hubs:2", "ids.xlsx#Networks:1"}
    assert any("prefixed with its sheet name" in n for n in result.notes)


def test_xlsx_same_id_twice_in_a_sheet_is_a_duplicate(no_geocoding):
    data = xlsx({"Hubs": [["ID", "Name", "Lat", "Lon"], [1, "Hub", 53.6, -8.2], [1, "Hub again", 53.7, -8.2]]})
    result = features_from_xlsx(data, "dup.xlsx")
    balanced(result)
    reason = rejected_at(result)["sheet 'Hubs', row 3"]
    assert reason.startswith("duplicate of sheet 'Hubs', row 2")
    assert result.rejected[0].raw == {"ID": 1, "Name": "Hub again", "Lat": 53.7, "Lon": -8.2}


def test_xlsx_numeric_coordinates_are_checked_too(no_geocoding):
    data = xlsx({"Nav": [
        ["Namn", "Ort", "Latitud", "Longitud"],
        ["Fel ordning", "Karlshamn", 14.86, 56.17],
        ["Omöjlig", "Karlshamn", 95.3, 14.8],
        ["Text", "Karlshamn", "95,3", "14,8"],
    ]})
    result = features_from_xlsx(data, "blekinge.xlsx", country="SE")
    balanced(result)
    reasons = rejected_at(result)
    assert "swapping them (latitude 56.17, longitude 14.86)" in reasons["sheet 'Nav', row 2"]
    assert reasons["sheet 'Nav', row 3"].startswith("latitude '95.3' is outside −90…90.")
    assert reasons["sheet 'Nav', row 4"].startswith("latitude '95,3' is outside −90…90.")
    assert reasons["sheet 'Nav', row 4"].endswith("Check the column order (Latitud/Longitud).")


@pytest.mark.usefixtures("gazetteer")
def test_xlsx_location_column_naming_a_town_and_german_headers():
    data = xlsx({"Netzwerke": [
        ["Name", "Stadt", "Breitengrad", "Längengrad"],
        ["Kreativnetz Rostock", "Rostock", "54,0887", "12,1405"],
    ], "Hubs": [
        ["Name", "Location"],
        ["Ballaghaderreen hub", "Ballaghaderreen"],
    ]})
    result = features_from_xlsx(data, "mixed.xlsx", country="IE")
    rows = by_name(result)
    assert rows["Kreativnetz Rostock"]["layer"] == "networks"
    assert rows["Kreativnetz Rostock"]["geometry"].x == 12.1405
    hub = rows["Ballaghaderreen hub"]
    assert (hub["town"], hub["location_source"], hub["country"]) == ("Ballaghaderreen", "gazetteer", "IE")


def test_xlsx_blank_rows_are_not_counted(no_geocoding):
    data = xlsx({"Hubs": [
        [], ["Name", "Type", "Lat", "Lon"], [], ["A", "studio", 53.6, -8.2], [None, None, None, None],
        ["  ", "", None, None], ["B", "studio", 53.7, -8.2], [],
    ]})
    result = features_from_xlsx(data, "blank.xlsx")
    balanced(result)
    assert result.rows_read == 2
    assert list(result.features["source_ref"]) == ["sheet 'Hubs', row 4", "sheet 'Hubs', row 7"]


def test_xlsx_rows_without_a_place_are_kept_without_geometry(no_geocoding):
    data = xlsx({"Networks": [["Name", "Website"], ["Online group", "https://example.org"]]})
    (row,) = features_from_xlsx(data, "online.xlsx").features.to_dict("records")
    assert (row["location_source"], row["geometry"], row["website"]) == ("none", None, "https://example.org")


def test_xlsx_without_a_header_row():
    data = xlsx({"Localities": [["Locality", "Driving distance"], ["Airds", "66.4 km"]], "Blank": []})
    with pytest.raises(ImportFileError, match=(
        r"towns\.xlsx: no header row found in any sheet; expected a row with a name column such as "
        r"Name/Namn/Nazwa.*sheet 'Localities' has no header row.*first row: Locality, Driving distance"
        r".*sheet 'Blank' is empty"
    )):
        features_from_xlsx(data, "towns.xlsx")


@pytest.mark.parametrize("data, match", [
    (b"", r"x\.xlsx: the file is empty \(0 bytes\)"),
    (b"Name,Town\nA,B\n", r"x\.xlsx: cannot be read as an Excel workbook"),
])
def test_xlsx_that_cannot_be_read(data, match):
    with pytest.raises(ImportFileError, match=match):
        features_from_xlsx(data, "x.xlsx")


def test_header_found_below_twenty_rows_is_not_a_header():
    rows = [[f"note {i}"] for i in range(20)] + [["Name", "Town"], ["A", "Karlshamn"]]
    with pytest.raises(ImportFileError, match="no header row found"):
        features_from_xlsx(xlsx({"Hubs": rows}), "late.xlsx")


def test_row_without_a_name_is_rejected(no_geocoding):
    data = xlsx({"Hubs": [["Name", "Lat", "Lon", "Notes"], ["A", 53.6, -8.2, None], [None, None, None, "Source: survey 2023"]]})
    result = features_from_xlsx(data, "notes.xlsx")
    balanced(result)
    assert (result.rows_read, result.accepted) == (2, 1)
    assert rejected_at(result)["sheet 'Hubs', row 3"].startswith("the name (column 'Name') is empty.")
    assert result.rejected[0].raw["Notes"] == "Source: survey 2023"


def test_csv_excel_sep_line_names_the_delimiter(no_geocoding):
    data = "sep=;\r\nName;Lat;Lon;Notes\r\nA;56,1;15,5;x, y\r\n".encode()
    (row,) = features_from_csv(data, "sep.csv").features.to_dict("records")
    assert (row["source_ref"], row["description"], row["geometry"].y) == ("row 2", "x, y", 56.1)


def test_one_place_on_two_sheets_is_two_features_but_a_repeat_on_one_sheet_is_not():
    row = ["Old mill", 53.63, -8.18]
    data = xlsx({"Hubs": [["Name", "Lat", "Lon"], row, row], "Hubs (2024 audit)": [["Name", "Lat", "Lon"], row]})
    result = features_from_xlsx(data, "audit.xlsx")
    assert result.rows_read == 3 and result.accepted == 2
    [dup] = result.rejected
    assert dup.where == "sheet 'Hubs', row 3" and dup.reason.startswith("duplicate of sheet 'Hubs', row 2")
    assert set(result.features["source_ref"]) == {"sheet 'Hubs', row 2", "sheet 'Hubs (2024 audit)', row 2"}
