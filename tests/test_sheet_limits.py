"""Sheets bound their work before doing it (cell budget, field and file sizes) and keep what users typed.

Workbooks are written with openpyxl in ``tmp_path`` and then patched inside the zip, as a
hostile or damaged file would be. Reads that could run away are done in a child process
whose address space is capped, so a reader that builds a 17-billion-cell grid fails the
test instead of taking the machine down.
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from loaders import sheets
from loaders.errors import ImportFileError
from loaders.sheets import features_from_csv, features_from_xlsx

ROOT = Path(__file__).resolve().parents[1]
SHEET = "xl/worksheets/sheet1.xml"
HEADROOM_BYTES = 1_000_000_000  # address space a read may add to what the child holds after its imports


def workbook(rows: list[list], *, title: str = "Hubs") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HUBS = [["Name", "Town", "Latitude", "Longitude"], ["Old mill", "Karlshamn", 56.17, 14.86]]


def patched(data: bytes, member: str, change) -> bytes:
    """Return the workbook with one member's text changed (and members added: ``{name: text}``)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == member:
                content = change(content.decode("utf-8")).encode("utf-8")
            archive.writestr(info, content)
    return out.getvalue()


def far_cell(xml: str) -> str:
    return xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
                                       "</row></sheetData>")


def read_in_child(tmp_path: Path, data: bytes) -> dict:
    """Read the workbook in a child process with a capped address space; return what happened."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(data)
    code = textwrap.dedent(f"""
        import json, resource, sys, time
        from errors import AtlasError
        from loaders.sheets import features_from_xlsx
        in_use = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (in_use + {HEADROOM_BYTES}, in_use + {HEADROOM_BYTES}))
        data = open(sys.argv[1], "rb").read()
        start = time.perf_counter()
        try:
            result = features_from_xlsx(data, "audit.xlsx")
            out = {{"rows_read": result.rows_read, "accepted": result.accepted}}
        except AtlasError as exc:
            out = {{"error": str(exc)}}
        out["seconds"] = time.perf_counter() - start
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, f"the reader died (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout)


# -- the cell budget -------------------------------------------------------------------------
def test_one_value_in_the_last_cell_of_the_grid_is_refused_quickly(tmp_path):
    # The <dimension> still says A1:D2: only the cell references tell.
    data = patched(workbook(HUBS), SHEET, far_cell)
    assert '<dimension ref="A1:D2"' in zipfile.ZipFile(io.BytesIO(data)).read(SHEET).decode()
    out = read_in_child(tmp_path, data)
    assert out["error"] == (
        "audit.xlsx, sheet 'Hubs': the used range A1:XFD1048576 holds 17 billion cells (although the sheet "
        "declares A1:D2), over the "
        f"{sheets.MAX_SHEET_CELLS:,} limit for one sheet. Delete the stray cells towards XFD1048576 (Ctrl+End in "
        "Excel jumps to the last one) or copy the table to a new sheet."
    )
    assert out["seconds"] < 5


def test_a_forged_row_number_is_refused_quickly(tmp_path):
    data = patched(workbook(HUBS), SHEET, lambda xml: xml.replace('r="D2"', 'r="D99999999"'))
    out = read_in_child(tmp_path, data)
    assert out["error"].startswith("audit.xlsx, sheet 'Hubs': the used range A1:D99999999 holds 400 million cells "
                                   "(although the sheet declares A1:D2), over the 2,000,000 limit")
    assert out["seconds"] < 5


def test_cells_without_references_are_counted_by_position(tmp_path):
    # No r="" on the cells: their row's number places them, as a reader does.
    def strip_refs(xml: str) -> str:
        xml = re.sub(r' r="[A-Z]+[0-9]+"', "", xml)
        return xml.replace('<row r="2"', '<row r="1048576"')

    out = read_in_child(tmp_path, patched(workbook(HUBS), SHEET, strip_refs))
    assert "the used range A1:D1048576 holds 4,194,304 cells" in out["error"]
    plain = patched(workbook(HUBS), SHEET, lambda xml: re.sub(r' r="[A-Z]+[0-9]+"', "", xml))
    assert features_from_xlsx(plain, "audit.xlsx").accepted == 1


def test_a_dimension_that_lies_big_is_not_trusted():
    data = patched(workbook(HUBS), SHEET,
                   lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml))
    result = features_from_xlsx(data, "audit.xlsx")
    assert (result.rows_read, result.accepted) == (1, 1)


def test_the_budget_is_inclusive(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 12)  # 3 rows x 4 columns
    rows = HUBS + [["Bruket", "Lund", 55.7, 13.2]]
    assert features_from_xlsx(workbook(rows), "audit.xlsx").accepted == 2
    with pytest.raises(ImportFileError, match=r"the used range A1:D4 holds 16 cells, over the 12 limit"):
        features_from_xlsx(workbook(rows + [["Kvarn", "Ystad", 55.4, 13.8]]), "audit.xlsx")
    # One stray value far to the right counts as much as a full column.
    with pytest.raises(ImportFileError, match=r"sheet 'Hubs': the used range A1:E3 holds 15 cells"):
        features_from_xlsx(workbook(HUBS + [["Kvarn", "Ystad", 55.4, 13.8, "x"]]), "audit.xlsx")


def test_a_forged_count_of_shared_texts_is_refused(tmp_path):
    data = workbook(HUBS)
    data = patched(data, SHEET, lambda xml: xml.replace(
        '<c r="A1" t="inlineStr"><is><t>Name</t></is></c>', '<c r="A1" t="s"><v>0</v></c>'))
    data = patched(data, "xl/_rels/workbook.xml.rels", lambda xml: xml.replace(
        "</Relationships>", '<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
    data = patched(data, "[Content_Types].xml", lambda xml: xml.replace(
        "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))

    def with_table(count: int) -> bytes:
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("xl/sharedStrings.xml", (
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                f'uniqueCount="{count}"><si><t>Name</t></si></sst>'))
        return out.getvalue()

    assert features_from_xlsx(with_table(1), "audit.xlsx").accepted == 1
    out = read_in_child(tmp_path, with_table(999_999_999))
    assert out["error"].startswith("audit.xlsx: the workbook declares 1 billion distinct texts (uniqueCount in "
                                   "xl/sharedStrings.xml), over the 5,000,000 limit.")


@pytest.mark.parametrize("data, match", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), (r"x\.xlsx: this is an old-style Excel 97-2003 \(\.xls\) "
                                                         r"workbook; only \.xlsx and \.xlsm are read\. Open it in Excel")),
    (None, r"x\.xlsx: cannot be read as an Excel workbook: it is an OpenDocument spreadsheet \(\.ods\)\. Open it"),
    (b"PK\x03\x04 not really a zip", r"x\.xlsx: not a readable Excel workbook \(\.xlsx\)"),
], ids=["xls", "ods", "broken-zip"])
def test_what_is_not_an_xlsx_says_how_to_save_it(data, match):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("content.xml", "<office:document-content/>")
        data = buffer.getvalue()
    with pytest.raises(ImportFileError, match=match):
        features_from_xlsx(data, "x.xlsx")


def test_a_sheet_part_missing_from_the_archive_is_not_read():
    data = workbook(HUBS)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            if info.filename != SHEET:
                archive.writestr(info, source.read(info))
    with pytest.raises(ImportFileError, match=r"x\.xlsx"):
        features_from_xlsx(out.getvalue(), "x.xlsx")


# -- CSV sizes -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, line", [
    ("Name,Town\nOld mill," + "x" * 200_000 + "\n", 2),
    ('Name,Town\n"Old mill,Karlshamn\n' + "y" * 140_000 + "\n", 3),  # a quote never closed
    ("x" * 200_000, 1),
], ids=["long-cell", "unclosed-quote", "no-header"])
def test_a_cell_over_the_csv_field_limit_is_one_clean_error(text, line):
    limit = csv.field_size_limit()
    with pytest.raises(ImportFileError, match=(
        rf"^big\.csv, line {line}: a cell reaching this line holds more than 131,072 characters, the most one CSV "
        r"cell may hold\. Shorten that cell .* or look for a quote")):
        features_from_csv(text.encode(), "big.csv")
    assert csv.field_size_limit() == limit  # never raised globally to make a read work


def test_a_csv_over_the_size_limit_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_CSV_BYTES", 1024)
    text = "Name,Town\n" + "".join(f"Hub {i},Lund\n" for i in range(200))
    with pytest.raises(ImportFileError, match=r"^big\.csv: the file is 0 MB, over the 0 MB limit for one audit "
                                              r"sheet\. Split it"):
        features_from_csv(text.encode(), "big.csv")


@pytest.mark.parametrize("sep", ['"', "a", " "])
def test_an_unusable_excel_separator_line(sep):
    with pytest.raises(ImportFileError, match=rf"x\.csv, line 1: 'sep={re.escape(sep)}' names a separator"):
        features_from_csv(f"sep={sep}\nName,Town\nA,Lund\n".encode(), "x.csv")


# -- what users typed is kept ------------------------------------------------------------------
# (A raw carriage return in XLSX XML reads back as a line feed, so "\r=" is tested in the CSV.)
FORMULA_LIKE = ["\t=1+1", " =HYPERLINK(\"x\")", "\n=cmd", "  @SUM(A1)", " +1", " -1"]


def test_xlsx_keeps_leading_whitespace_in_text_fields():
    rows = [["Name", "Notes", "Latitude", "Longitude", "Owner"]]
    rows += [[text, text, 56.0 + i / 100, 14.0, text] for i, text in enumerate(FORMULA_LIKE)]
    result = features_from_xlsx(workbook(rows), "audit.xlsx")
    assert result.accepted == len(FORMULA_LIKE)
    records = result.features.to_dict("records")
    assert [r["name"] for r in records] == FORMULA_LIKE
    assert [r["description"] for r in records] == FORMULA_LIKE
    assert [json.loads(r["attributes"])["Owner"] for r in records] == FORMULA_LIKE


def test_csv_keeps_leading_whitespace_but_trims_trailing_and_blank_cells():
    text = 'Name,Notes,Lat,Lon,Town\n"\t=1",  =2  ,56.1,14.8,   \n" \r=3", ,56.2,14.8,\n'
    result = features_from_csv(text.encode(), "ws.csv")
    assert result.accepted == 2
    first, second = result.features.to_dict("records")
    assert (first["name"], first["description"]) == ("\t=1", "  =2")
    assert first["town"] is None  # whitespace only counts as empty
    assert (second["name"], second["description"]) == (" \r=3", None)


def test_header_layer_and_status_matching_still_ignore_surrounding_spaces():
    rows = [["  Name ", " Layer", "Status  ", "Lat", "Lon", " ID "],
            ["Hub", "  hubs ", " planned ", 56.1, 14.8, " 7 "]]
    (record,) = features_from_xlsx(workbook(rows, title="Data"), "audit.xlsx").features.to_dict("records")
    assert (record["layer"], record["status"], record["feature_id"]) == ("hubs", "planned", "audit.xlsx#7")
    assert json.loads(record["attributes"]) == {}


def test_a_latitude_column_without_a_longitude_column_rejects_the_row_with_a_reason():
    # Found by tests/test_fuzz_sheets.py: this used to end in KeyError: 'longitude'.
    result = features_from_csv(b"Name,Town,Latitude\nOld mill,Karlshamn,56.17\n", "half.csv")
    assert (result.rows_read, result.accepted) == (1, 0)
    assert result.rejected[0].reason == (
        "latitude '56.17' (column 'Latitude') is given but the sheet has no longitude column. Add a Longitude "
        "column, or remove the coordinates to look the town up.")
