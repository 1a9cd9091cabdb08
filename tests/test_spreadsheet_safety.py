"""Formula injection: every trigger a spreadsheet app honours stays text, in data and header rows, CSV and XLSX."""
from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from exporters.csv import csv_text, write_csv
from exporters.safe_cells import csv_value, is_risky
from exporters.xlsx import write_xlsx
from tests.test_export_xlsx import _features

# What Excel, LibreOffice or Google Sheets may run as a formula (or fold into one).
TRIGGERS = {
    "equals": "=1+1",
    "plus": "+1+1",
    "minus": "-1+1",
    "at": "@SUM(1,1)",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
    "full-width equals": "\uff1d1+1",
    "full-width plus": "\uff0b1+1",
    "full-width minus": "\uff0d1+1",
    "full-width at": "\uff20SUM(1,1)",
    "small equals": "\ufe661+1",
    "small plus": "\ufe621+1",
    "small minus": "\ufe631+1",
    "small at": "\ufe6bSUM(1,1)",
    "byte-order mark": "\ufeff=1+1",
    "zero-width space": "\u200b=1+1",
    "zero-width non-joiner": "\u200c+1+1",
    "zero-width joiner": "\u200d-1+1",
    "word joiner": "\u2060@SUM(1,1)",
    "space": " =1+1",
    "spaces": "   +1+1",
    "line feed": "\n=1+1",
    "no-break space": "\u00a0=1+1",
    "ideographic space": "\u3000=1+1",
    "invisible then full-width": "\ufeff\u200b \uff1d1+1",
    "tab then full-width": "\t\uff0b1",
}
HARMLESS = ["Łódź Art Center", "a=b", "1-2", "5 + 3", "", " ", "\ufeff", "Zoë @ home", "'quoted", "x\t=1"]


def test_every_trigger_is_risky_and_harmless_text_is_not():
    assert [name for name, text in TRIGGERS.items() if not is_risky(text)] == []
    assert [text for text in HARMLESS if is_risky(text)] == []
    assert not is_risky(-8.5) and not is_risky(None) and csv_value(-8.5) == -8.5


# -- CSV -----------------------------------------------------------------------------------------
def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("name", list(TRIGGERS))
def test_csv_data_cell_gets_an_apostrophe(name):
    value = TRIGGERS[name]
    header, row = _csv_rows(csv_text(pd.DataFrame({"name": [value], "population": [-12]})))
    assert row == ["'" + value, "-12"]  # the number stays a number


@pytest.mark.parametrize("name", list(TRIGGERS))
def test_csv_header_cell_gets_an_apostrophe(name):
    value = TRIGGERS[name]
    header, row = _csv_rows(csv_text(pd.DataFrame({value: ["x"], "plain": ["y"]})))
    assert header == ["'" + value, "plain"] and row == ["x", "y"]


def test_csv_leaves_harmless_text_alone(tmp_path):
    frame = pd.DataFrame({h or f"c{i}": [h] for i, h in enumerate(HARMLESS)})
    path = write_csv(frame, tmp_path / "x.csv")
    header, row = _csv_rows(path.read_bytes().decode("utf-8-sig"))
    assert header == [h or f"c{i}" for i, h in enumerate(HARMLESS)] and row == HARMLESS


def test_csv_features_with_hostile_names_and_attributes(tmp_path):
    names = list(TRIGGERS.values())
    text = csv_text(_features(names, attributes='{"=x": 1}'))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["name"] for r in rows] == ["'" + n for n in names]
    assert not [r for r in rows if not r["longitude"].startswith("-8.")]  # negative numbers untouched


# -- XLSX ----------------------------------------------------------------------------------------
def _sheet_xml(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))


def _read_back(value: str) -> str:
    # XML turns a stored carriage return into a line feed when the file is read back.
    return value.replace("\r", "\n")


def test_xlsx_data_and_header_cells_are_quoted_text(tmp_path):
    triggers = list(TRIGGERS.values())
    table = pd.DataFrame({value: [value] for value in triggers})
    features = _features(triggers)
    path = write_xlsx(features, tmp_path / "report.xlsx", analysis={"comparison": table},
                      about=[(t, t) for t in triggers])
    book = load_workbook(path)
    assert b"<f>" not in _sheet_xml(path) and b"<f " not in _sheet_xml(path)

    hubs = book["Hubs & Infrastructure"]
    header = [c.value for c in hubs[1]]
    names = {row[header.index("name")].value: row[header.index("name")] for row in hubs.iter_rows(min_row=2)}
    comparison = book["Comparison"]
    about = {row[0].value: row for row in book["About"].iter_rows(min_row=3)}
    for name, value in TRIGGERS.items():
        expected = _read_back(value)
        data_cell = names[expected]
        header_cell = next(c for c in comparison[1] if c.value == expected)
        value_cell = next(c for c in comparison[2] if c.value == expected)
        label_cell, about_value = about[expected]
        for where, cell in (("data", data_cell), ("header", header_cell), ("table", value_cell),
                            ("about label", label_cell), ("about value", about_value)):
            assert cell.data_type == "s", (name, where, cell.data_type)
            assert cell.quotePrefix, (name, where)
    longitude = hubs.cell(row=2, column=header.index("longitude") + 1)
    assert longitude.data_type == "n" and not longitude.quotePrefix


def test_xlsx_leaves_harmless_text_unquoted(tmp_path):
    path = write_xlsx(_features([h for h in HARMLESS if h.strip("\ufeff ")]), tmp_path / "report.xlsx")
    hubs = load_workbook(path)["Hubs & Infrastructure"]
    header = [c.value for c in hubs[1]]
    cells = [row[header.index("name")] for row in hubs.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [h for h in HARMLESS if h.strip("\ufeff ")]
    assert not [c.value for c in cells if c.quotePrefix]
