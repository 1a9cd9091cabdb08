"""Tests written to catch known mutations that once left the suite green, and the rules that keep skips honest.

Each test here names the change it catches. They check behaviour (what a user's file
gives), not internals, so they keep biting when the code under them is rewritten:

- the sheet loader's header search: how deep below the top it looks, and that a name
  column alone is not a header (a title row above the real header);
- real-data tests: a missing ``../shared/realdata`` is a skip with a reason on a
  developer's machine, a failure in CI (``ATLAS_REQUIRE_REALDATA=1``).

The GeoJSON ring orientation after rounding is in ``tests/test_export_geojson.py``, the
Data page's country selector in ``tests/test_page_data.py`` and the gazetteer cache in
``tests/test_cache.py``.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openpyxl import Workbook

from loaders.errors import ImportFileError
from loaders.sheets import features_from_csv, features_from_xlsx

ROOT = Path(__file__).resolve().parents[1]
DEEPEST_HEADER_ROW = 20  # documented: "the first of its first 20 rows" (loaders/sheets.py)


def _xlsx(rows: list[list]) -> bytes:
    """A one-sheet workbook 'Hubs' whose rows are Excel rows 1, 2, … (None cells stay empty)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hubs"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list]) -> bytes:
    return "".join(",".join("" if c is None else str(c) for c in row) + "\r\n" for row in rows).encode()


def _located(result) -> dict[str, tuple[str, float, float]]:
    """name -> (source_ref, lat, lon) of every accepted feature (lat/lon None when unlocated)."""
    out = {}
    for row in result.features.to_dict("records"):
        geometry = row["geometry"]
        located = geometry is not None and not geometry.is_empty
        out[row["name"]] = (row["source_ref"], geometry.y if located else None, geometry.x if located else None)
    return out


def _balanced(result) -> None:
    assert result.accepted + len(result.rejected) == result.rows_read


# -- (a) the header is searched down to row 20 --------------------------------------------------
# Mutation caught: lowering the header-scan depth (loaders/sheets.py, HEADER_SCAN_ROWS 20 → 19
# or less). The only test of the depth put the header at row 21, where any depth below 21 passes.

def _title_rows() -> list[list]:
    """Rows 1-19 above the header: a title, notes, blank rows (blank rows count as rows)."""
    rows: list[list] = [["Creative hubs in Blekinge: audit 2024"], ["Compiled by the alliance office"]]
    rows += [[None] if i % 3 else [f"note {i}: see the board minutes"] for i in range(3, DEEPEST_HEADER_ROW)]
    assert len(rows) == DEEPEST_HEADER_ROW - 1
    return rows


HEADER = ["Name", "Town", "Latitude", "Longitude"]
DATA_ROWS = [["Karlshamn Hub", "Karlshamn", 56.17, 14.86], ["Ronneby Makerspace", "Ronneby", 56.21, 15.28]]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_header_at_the_deepest_supported_row_is_found(kind):
    rows = _title_rows() + [HEADER] + DATA_ROWS
    if kind == "xlsx":
        result = features_from_xlsx(_xlsx(rows), "deep.xlsx")
        prefix = "sheet 'Hubs', "
    else:
        result = features_from_csv(_csv(rows), "deep.csv")
        prefix = ""
    _balanced(result)
    assert (result.rows_read, result.accepted, result.rejected) == (2, 2, [])
    assert _located(result) == {
        "Karlshamn Hub": (f"{prefix}row {DEEPEST_HEADER_ROW + 1}", 56.17, 14.86),
        "Ronneby Makerspace": (f"{prefix}row {DEEPEST_HEADER_ROW + 2}", 56.21, 15.28),
    }


def test_a_header_one_row_deeper_is_not_searched_and_the_message_says_how_deep():
    rows = _title_rows() + [["one more note"], HEADER] + DATA_ROWS
    message = rf"sheet 'Hubs' has no header row in its first {DEEPEST_HEADER_ROW} rows"
    with pytest.raises(ImportFileError, match=message):
        features_from_xlsx(_xlsx(rows), "too_deep.xlsx")


# -- (b) a name column alone is not a header --------------------------------------------------
# Mutation caught: accepting a row with only a name column as the header (loaders/columns.py,
# is_header: "a name column and at least one other known column"). A title cell that happens
# to be a name alias ("Organisations") or to hold a name word would then be taken as the
# header, the real header would become a data row, and every place would lose its coordinates.

@pytest.mark.parametrize("title", ["Organisations", "Venue", "Nazwa obiektu"])
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_title_row_with_only_a_name_like_cell_is_not_taken_as_the_header(kind, title):
    rows = [[title], HEADER] + DATA_ROWS
    if kind == "xlsx":
        result = features_from_xlsx(_xlsx(rows), "titled.xlsx")
        prefix = "sheet 'Hubs', "
    else:
        result = features_from_csv(_csv(rows), "titled.csv")
        prefix = ""
    _balanced(result)
    assert (result.rows_read, result.accepted, result.rejected) == (2, 2, [])
    assert _located(result) == {
        "Karlshamn Hub": (f"{prefix}row 3", 56.17, 14.86),
        "Ronneby Makerspace": (f"{prefix}row 4", 56.21, 15.28),
    }


def test_a_sheet_with_only_a_name_column_has_no_header():
    # A bare list of names is not a table of places: refused, with what was found.
    data = _xlsx([["Name"], ["Karlshamn Hub"], ["Ronneby Makerspace"]])
    with pytest.raises(ImportFileError, match=r"names\.xlsx: no header row found in any sheet.*first row: Name\)"):
        features_from_xlsx(data, "names.xlsx")


# -- real data: skipped outside CI with a reason, a failure in CI -----------------------------------
# What this prevents: 38 tests silently skipped when ../shared/realdata was absent, which hid
# two of the mutations above.

def _run_pytest(tmp_path: Path, test_source: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on one test file in `tmp_path` with our conftest loaded as a plugin."""
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(test_source), encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("ATLAS_REALDATA", "ATLAS_REQUIRE_REALDATA")}
    environ.update(env)
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "conftest",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120,
    )


PROBE = """
    import pytest

    def test_uses_the_fixture(realdata):
        assert (realdata / "MANIFEST.md").exists()

    def test_looks_on_its_own():
        pytest.skip("/elsewhere/shared/realdata is not present on this machine")

    def test_skips_for_another_reason():
        pytest.skip("no PostgreSQL here")
"""


def test_missing_realdata_is_a_skip_with_the_reason_outside_ci(tmp_path):
    run = _run_pytest(tmp_path, PROBE, ATLAS_REALDATA=str(tmp_path / "nowhere"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 skipped" in run.stdout
    assert f"the real-data folder (ATLAS_REALDATA={tmp_path / 'nowhere'}) is missing on this machine" in run.stdout
    assert "set ATLAS_REQUIRE_REALDATA=1 to make this a failure" in run.stdout


def test_missing_realdata_fails_in_ci(tmp_path):
    run = _run_pytest(tmp_path, PROBE, ATLAS_REALDATA=str(tmp_path / "nowhere"), ATLAS_REQUIRE_REALDATA="1")
    assert run.returncode == 1, run.stdout + run.stderr
    # The fixture fails the test; a module's own skip about realdata fails too; other skips stay skips.
    assert "ERROR" in run.stdout and "test_uses_the_fixture" in run.stdout
    assert "ATLAS_REQUIRE_REALDATA=1 (CI) forbids skipping" in run.stdout
    assert "FAILED" in run.stdout and "test_looks_on_its_own" in run.stdout
    assert "a test that needs the real data may not skip" in run.stdout
    assert "1 skipped" in run.stdout and "no PostgreSQL here" in run.stdout


def test_realdata_is_found_through_the_environment_variable(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "MANIFEST.md").write_text("probe", encoding="utf-8")
    run = _run_pytest(tmp_path, PROBE, ATLAS_REALDATA=str(folder), ATLAS_REQUIRE_REALDATA="1")
    assert run.returncode == 1, run.stdout + run.stderr  # the module's own realdata skip still fails in CI
    assert "PASSED test_probe.py::test_uses_the_fixture" in run.stdout, run.stdout


def test_the_suite_does_not_importorskip_its_own_modules():
    own = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()} | {
        p.stem for p in ROOT.glob("*.py")}
    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "importorskip(" in line and any(f'"{m}' in line or f"'{m}" in line for m in own):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "a missing module of ours must fail, not skip: " + "; ".join(offenders)
