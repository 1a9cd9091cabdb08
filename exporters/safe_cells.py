"""Keep text that looks like a formula from becoming one in spreadsheets (CSV/formula injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can
be run as a formula by Excel, LibreOffice or Google Sheets (OWASP "CSV injection"). A
hostile facility name such as ``=HYPERLINK("http://evil", "click")`` must stay text.

- XLSX: such text is written as a string cell (never a formula) with Excel's
  *quote prefix* set, so it stays text even after someone edits the cell; the value
  itself is unchanged.
- CSV: there are no cell types, so such text gets a leading apostrophe (``'=1+1``), which
  spreadsheets show as text and do not evaluate.

Numbers are never touched: ``-8.57`` as a number is a longitude, not a formula.
"""
from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: Any) -> bool:
    """Return True when `value` is text a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """Return `value` safe for a CSV cell: risky text gets a leading ``'``; the rest is unchanged."""
    return "'" + value if is_risky(value) else value


def xlsx_cell(sheet: Worksheet, value: Any) -> Any:
    """Return `value` ready to append to a write-only `sheet`: risky text as a quoted text cell."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl would otherwise store it as a formula
        cell.quotePrefix = True
        return cell
    if is_risky(value):
        cell = WriteOnlyCell(sheet, value)
        cell.quotePrefix = True
        return cell
    return value
