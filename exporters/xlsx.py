"""Write the spreadsheet report for readers who don't use GIS (openpyxl, write-only mode).

Sheets, in order:

- **About**: what the file is, when it was made, region and boundary used, counts per
  layer and status, caveats (settlement points miss dispersed rural population).
- one sheet per layer (``Hubs & Infrastructure``, ``Training & Supports``, ``Networks``,
  ``Unclassified``): name, kind, status … latitude, longitude (WKT for lines and polygons),
  provenance, then one column per attribute key found in that layer;
- with analysis results: **Coverage** (the summary), **By area** (coverage per
  municipality, county or NUTS 3), **Uncovered towns**, **Suggested sites**, **Gap areas**,
  **Catchments**, **Comparison**, **Boundary** — whichever were computed. A result may come
  with caption lines (e.g. where the areas come from), written above its table.

Every text cell that a spreadsheet could run as a formula is written as quoted text
(`exporters.safe_cells`). Characters XML forbids (control characters) are dropped.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from exporters.common import LAYER_TITLES, layer_order, layer_title
from exporters.csv import flat_table
from exporters.safe_cells import xlsx_cell
from i18n import N_
from i18n import gettext as _
from loaders.layers import HUBS, NETWORKS, TRAINING, UNCLASSIFIED

# Analysis results written as sheets, in this order, with their sheet titles.
# Sheet names and headers are written in the current language (`i18n.use`); values never are.
REPORT_SHEETS: dict[str, str] = {
    "coverage_summary": N_("Coverage"),
    "area_coverage": N_("By area"),
    "uncovered_settlements": N_("Uncovered towns"),
    "suggested_sites": N_("Suggested sites"),
    "gap_areas": N_("Gap areas"),
    "facility_catchments": N_("Catchments"),
    "comparison": N_("Comparison"),
    "region_boundary": N_("Boundary"),
}
# A layer's sheet: its toolkit title without "Creative Industries".
LAYER_SHEETS: dict[str, str] = {
    HUBS: N_("Hubs & Infrastructure"),
    TRAINING: N_("Training & Supports"),
    NETWORKS: N_("Networks"),
    UNCLASSIFIED: N_("Unclassified"),
}
# Column headers readers see, by column name. The translations are header aliases the sheet reader
# knows (Namn, Nazwa, Breitengrad …), so a report re-imports in any language. Other columns (the
# attributes' own keys: user data) keep their names.
COLUMN_TITLES: dict[str, str] = {
    "name": N_("name"), "kind": N_("kind"), "status": N_("status"), "sectors": N_("sectors"),
    "helix": N_("helix"), "address": N_("address"), "town": N_("town"), "country": N_("country"),
    "website": N_("website"), "contact": N_("contact"), "description": N_("description"),
    "latitude": N_("latitude"), "longitude": N_("longitude"), "location_source": N_("location_source"),
    "feature_id": N_("feature_id"), "source_file": N_("source_file"), "source_ref": N_("source_ref"),
    "layer": N_("layer"), "radius_km": N_("radius_km"), "facilities": N_("facilities"),
    "covered_population": N_("covered_population"), "population": N_("population"),
    "coverage_share": N_("coverage_share"), "uncovered_settlements": N_("uncovered_settlements"),
    "missing": N_("missing"), "rank": N_("rank"), "added_population": N_("added_population"),
    "added_settlements": N_("added_settlements"), "method": N_("method"), "Code": N_("Code"),
}
_LAYER_COLUMNS = (
    "name", "kind", "status", "sectors", "helix", "address", "town", "country", "website", "contact",
    "description", "latitude", "longitude", "wkt", "location_source", "feature_id", "source_file", "source_ref",
)
_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})
_MAX_WIDTH = 60


def sheet_title(text: str, taken: set[str]) -> str:
    """Return a valid, unused sheet title (≤ 31 characters, no ``[]:*?/\\``)."""
    base = text.translate(_BAD_SHEET_CHARS).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, pd.Timestamp):
        value = value.isoformat()
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _styled(sheet: Any, value: Any, font: Font) -> Cell:
    value = xlsx_cell(sheet, _value(value))
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
    cell.font = font
    return cell


def _write_table(book: Workbook, title: str, table: pd.DataFrame, note: str | None = None,
                 caption: Iterable[str] = ()) -> None:
    sheet = book.create_sheet(title)
    header = [str(c) for c in table.columns]
    widths = [min(max(len(h) + 2, 10), _MAX_WIDTH) for h in header]
    columns = [table[c].astype(object).tolist() for c in table.columns]
    for i, values in enumerate(columns):
        sample = [len(str(v)) for v in values[:200] if v is not None]
        if sample:
            widths[i] = min(max(widths[i], max(sample) + 2), _MAX_WIDTH)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    offset = 0
    if note:
        sheet.append([_styled(sheet, note, Font(bold=True, size=14))])
        offset = 1
    for line in caption:
        sheet.append([_styled(sheet, line, Font(italic=True))])
        offset += 1
    sheet.freeze_panes = f"A{offset + 2}"
    sheet.append([_styled(sheet, _(COLUMN_TITLES[h]) if h in COLUMN_TITLES else h, Font(bold=True)) for h in header])
    for row in zip(*columns):
        sheet.append([xlsx_cell(sheet, _value(v)) for v in row])


def _layer_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    table = flat_table(frame)
    columns = [c for c in _LAYER_COLUMNS if c in table.columns]
    out = table[columns].copy()
    parsed = []
    for text in frame["attributes"].tolist() if "attributes" in frame.columns else []:
        try:
            value = json.loads(text) if isinstance(text, str) else (text or {})
        except ValueError:
            value = {"attributes": text}
        parsed.append(value if isinstance(value, dict) else {"attributes": value})
    keys: list[str] = []
    for attributes in parsed:
        keys.extend(k for k in attributes if k not in keys)
    for key in keys:
        name = key if key not in out.columns else f"attributes.{key}"
        out[name] = [a.get(key) for a in parsed]
    return out


def _result_table(result: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(result, gpd.GeoDataFrame):
        return pd.DataFrame(result)
    table = flat_table(result)
    geoms = result.geometry
    if len(geoms) and not (geoms.geom_type.dropna() == "Point").all():
        table = table.drop(columns=[c for c in ("latitude", "longitude", "wkt") if c in table.columns])
    elif "wkt" in table.columns:
        table = table.drop(columns=["wkt"])
    return table


def write_xlsx(
    features: gpd.GeoDataFrame,
    path: str | Path,
    *,
    analysis: dict[str, pd.DataFrame] | None = None,
    about: Iterable[tuple[str, Any]] = (),
    notes: Iterable[str] = (),
    captions: dict[str, Iterable[str]] | None = None,
) -> Path:
    """Write the report workbook to `path`; return the path.

    Parameters
    ----------
    features
        Canonical features (EPSG:4326).
    path
        The ``.xlsx`` to create.
    analysis
        Named analysis results; those named in `REPORT_SHEETS` become sheets.
    about
        ``(label, value)`` rows for the About sheet (region, boundary, export time …).
    notes
        Caveats listed on the About sheet.
    captions
        Lines written above a result's table, by result name (e.g. the areas' source above
        ``area_coverage``).
    """
    path = Path(path)
    book = Workbook(write_only=True)
    taken: set[str] = set()
    analysis = analysis or {}

    about_rows: list[tuple[str, Any]] = [(_("Creative Atlas report"), "")]
    about_rows += list(about)
    counts = features.groupby(["layer", "status"], dropna=False).size() if len(features) else pd.Series(dtype=int)
    for layer in [l for l in layer_order(features["layer"]) if l in LAYER_TITLES]:
        by_status = {s: int(counts.get((layer, s), 0)) for s in ("existing", "planned")}
        about_rows.append((layer_title(layer), _("{existing} existing, {planned} planned").format(**by_status)))
    about_rows.append((_("Features in this report"), len(features)))
    for note in notes:
        about_rows.append((_("Note"), note))
    about_table = pd.DataFrame(about_rows[1:], columns=[_("Item"), _("Value")])
    _write_table(book, sheet_title(_("About"), taken), about_table, note=about_rows[0][0])

    for layer in layer_order(features["layer"]):
        part = features[features["layer"] == layer]
        title = _(LAYER_SHEETS[layer]) if layer in LAYER_SHEETS else str(layer)
        _write_table(book, sheet_title(title, taken), _layer_table(part))
    for key, title in REPORT_SHEETS.items():
        if key in analysis and analysis[key] is not None:
            _write_table(book, sheet_title(_(title), taken), _result_table(analysis[key]),
                         caption=list((captions or {}).get(key, ())))
    book.save(path)
    return path


__all__ = ["COLUMN_TITLES", "LAYER_SHEETS", "REPORT_SHEETS", "sheet_title", "write_xlsx"]
