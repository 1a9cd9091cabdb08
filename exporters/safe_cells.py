"""Keep text that looks like a formula from becoming one in spreadsheets (CSV/formula injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can
be run as a formula by Excel, LibreOffice or Google Sheets (OWASP "CSV injection"). A
hostile facility name such as ``=HYPERLINK("http://evil", "click")`` must stay text.
Spreadsheet apps are more lenient than that list suggests, so a cell also counts as risky when

- it starts with the full-width (``＝ ＋ － ＠``) or small (``﹦ ﹢ ﹣ ﹫``) forms of those
  signs, which East Asian input methods type and LibreOffice and Excel may fold to ASCII;
- any of them comes after invisible characters or white space: a byte-order mark
  (U+FEFF), zero-width space and (non-)joiners (U+200B–U+200D), word joiner (U+2060),
  spaces, no-break spaces, line feeds. Apps trim some of these before deciding.

What is done with risky text:

- XLSX: it is written as a string cell (never a formula) with Excel's *quote prefix* set,
  so it stays text even after someone edits the cell; the value itself is unchanged.
- CSV: there are no cell types, so it gets a leading apostrophe (``'=1+1``), which
  spreadsheets show as text and do not evaluate. Header cells are treated the same way.

Numbers are never touched: ``-8.57`` as a number is a longitude, not a formula.
"""
from __future__ import annotations

import re
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""The ASCII characters that start a formula (OWASP), tab and carriage return included."""

LOOKALIKE_STARTS: tuple[str, ...] = ("\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe66", "\ufe62", "\ufe63", "\ufe6b")
"""Full-width ＝ ＋ － ＠ and small ﹦ ﹢ ﹣ ﹫: folded to the ASCII signs by some apps."""

INVISIBLE_PREFIXES: str = "\ufeff\u200b\u200c\u200d\u2060"
"""Characters that show nothing and may be skipped before a formula sign."""

# Invisible characters and any white space (spaces, tabs, CR/LF, no-break and ideographic spaces).
_PREFIX = re.compile(f"[{INVISIBLE_PREFIXES}\\s]*")
_SIGNS = frozenset("=+-@" + "".join(LOOKALIKE_STARTS))


def is_risky(value: Any) -> bool:
    """Return True when `value` is text a spreadsheet could read as a formula."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(FORMULA_STARTS):
        return True
    rest = value[_PREFIX.match(value).end():]
    return bool(rest) and rest[0] in _SIGNS


def csv_value(value: Any) -> Any:
    """Return `value` safe for a CSV cell: risky text gets a leading ``'``; the rest is unchanged."""
    return "'" + value if is_risky(value) else value


def xlsx_cell(sheet: Worksheet, value: Any) -> Any:
    """Return `value` ready to append to a write-only `sheet`: risky text as a quoted text cell."""
    if is_risky(value):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
        cell.quotePrefix = True
        return cell
    return value
