"""Read XLSX and CSV audit sheets (one sheet per layer, or a layer column) into canonical features."""
from __future__ import annotations

import csv
import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import reduce
from itertools import chain, islice
from typing import IO, Any, Iterable, Iterator

import defusedxml.ElementTree as safe_etree
import numpy as np
import shapely
from defusedxml import DefusedXmlException
from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from i18n import N_, Message, Text, tr
from i18n.formats import Figure
from loaders import columns as C
from loaders.coords import EUROPE_BBOX, check_point, parse_number, parse_pair
from loaders.errors import ImportFileError
from loaders.features import LoadResult, Rejected, make_result
from loaders.gazetteer import country_code, geocode
from loaders.layers import UNCLASSIFIED, fold, layer_from_name, status_from_text
from loaders.safe_zip import open_zip
from loaders.vocabulary import kind_of, sectors_of

HEADER_SCAN_ROWS = 20
_TEXT_FIELDS = (C.NAME, C.KIND, C.SECTORS, C.HELIX, C.ADDRESS, C.TOWN, C.WEBSITE, C.CONTACT, C.DESCRIPTION)
_YES = frozenset("yes y ja j tak t x true 1 planned planerad planowany planowane planowana geplant".split())
_NO = frozenset("no n nej nie false 0 - existing befintlig istniejacy".split())
_HAS_DIGIT = re.compile(r"\d")
_EXPECTED_HEADER = Text(
    "expected a row with a name column such as Name/Namn/Nazwa/Organisation and at least one other "
    "known column such as Town/Ort/Miejscowość, Address/Adress/Adres, Type/Typ/Rodzaj or "
    "Latitude/Latitud/Szerokość"
)
# Joins of translatable parts (no words of their own, so not in the catalogues).
_ORDER_PAIR, _WITH_ORDER, _TWO, _SEMI = " ({lat}/{lon})", "{problem}{order}.", "{a} {b}", "{a}; {b}"


class _Stripped:
    """A text without its final full stop, in whatever language it is shown."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __format__(self, spec: str) -> str:
        return str(tr(self.text)).rstrip(".")


def _joined(problems: list[str]) -> str:
    """A row's problems in one reason, each part still translatable (`i18n.Text`)."""
    out = problems[0]
    for problem in problems[1:]:
        out = Text(_TWO, a=out, b=problem)
    return out


# The column header to add for a missing coordinate ("Add a Longitude column").
_HEADER_WORDS = {C.LAT: N_("Latitude"), C.LON: N_("Longitude")}
_CSV_DELIMITERS = (",", ";", "\t", "|")
MAX_CSV_BYTES = 100 * 1024 * 1024
"""Largest CSV audit sheet we read (bytes; about a million rows). One cell may hold at most
`csv.field_size_limit()` characters (131,072 unless changed); a longer cell is refused."""
_LON_MIN, _LAT_MIN, _LON_MAX, _LAT_MAX = EUROPE_BBOX


# -- cell values -------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or value == "" or (value.__class__ is str and not value.strip())


def _text(value: Any) -> str | None:
    """A cell as text for a canonical field (numbers without a trailing .0, dates ISO).

    Leading whitespace is the user's and is kept (``" =1"`` stays as typed, so an export
    can still neutralise it); only trailing whitespace is trimmed, and a cell of
    whitespace only is empty.
    """
    if value.__class__ is str:
        return value.rstrip() or None
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip() or None


def _value(value: Any) -> Any:
    """A cell as a JSON-friendly attribute value (trailing whitespace trimmed, 3.0 → 3, dates ISO)."""
    if value.__class__ is str:
        return value.rstrip()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if value != value:
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, int):
        return value
    return _text(value)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the header ----------------------------------------------------------------------------

@dataclass
class _Plan:
    """Which column feeds which field, for one table (a sheet or a CSV file)."""

    headers: list[str]
    fields: dict[str, int]                    # field -> first column that names it
    attribute_columns: list[tuple[int, str]]  # (column, header) kept in attributes
    planned_flag: bool                        # the status column is a yes/no "Planned" column
    named: frozenset[int]                     # columns whose header cell is not empty

    def header(self, field_name: str) -> str:
        return self.headers[self.fields[field_name]]


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[int, str]] | None:
    """Return (index in `rows`, column mapping) of the first header row, or None."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if not any(cell.__class__ is str and cell.strip() for cell in row):
            continue
        mapping = C.map_header(row)
        if C.is_header(mapping):
            return index, mapping
    return None


def _plan(header_row: list[Any], mapping: dict[int, str], *, letters: bool) -> _Plan:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header_row):
        text = (_text(cell) or "").strip() or f"column {_column_letter(index) if letters else index + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        headers.append(text)
    fields: dict[str, int] = {}
    for index in sorted(mapping):
        fields.setdefault(mapping[index], index)
    contact_columns = [i for i, f in mapping.items() if f == C.CONTACT]
    attribute_columns = [
        (i, headers[i]) for i in range(len(headers))
        if i not in mapping or fields[mapping[i]] != i or (mapping[i] == C.CONTACT and len(contact_columns) > 1)
    ]
    planned_flag = C.STATUS in fields and C.normalize_header(header_row[fields[C.STATUS]]) in C.PLANNED_FLAG_HEADERS
    named = frozenset(i for i, cell in enumerate(header_row) if _text(cell))
    return _Plan(headers, fields, attribute_columns, planned_flag, named)


def _first_cells(rows: list[list[Any]]) -> str:
    for row in rows[:HEADER_SCAN_ROWS]:
        texts = [t for t in (_text(c) for c in row) if t]
        if texts:
            shown = ", ".join(texts[:8]) + (" …" if len(texts) > 8 else "")
            return Text("first row: {cells}", cells=shown)
    return Text("no text in the first rows")


def _raw(cells: list[Any], plan: _Plan) -> dict[str, Any]:
    """The row as typed, header → value, for the rejected-rows report."""
    raw = {}
    for i, header in enumerate(plan.headers):
        value = _value(cells[i]) if i < len(cells) else ""
        if i in plan.named or value not in ("", None):
            raw[header] = value
    for i in range(len(plan.headers), len(cells)):
        if not _blank(cells[i]):
            raw[f"column {i + 1}"] = _value(cells[i])
    return raw


# -- rows to records -------------------------------------------------------------------------

@dataclass
class _Reader:
    """Collects records, rejections and the row count of one file, table by table."""

    source_file: str
    country: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)
    lats: list[float] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    located: list[int] = field(default_factory=list)  # record positions of lats/lons
    tables: list[str] = field(default_factory=list)   # the sheet of each record
    sources: list[tuple[list[Any], _Plan]] = field(default_factory=list)  # its cells, for duplicates
    ids_by_table: dict[str, set[str]] = field(default_factory=dict)
    _geocoded: dict[tuple, Any] = field(default_factory=dict)
    _layers: dict[str, str] = field(default_factory=dict)
    _statuses: dict[str, str | None] = field(default_factory=dict)

    def read_table(self, rows: Iterable[list[Any]], *, sheet: str | None) -> str | None:
        """Read one table (sheet or CSV); return why it was skipped, or None when read.

        Rows are numbered from 1 as a spreadsheet shows them, title rows included.
        """
        iterator = iter(rows)
        head = list(islice(iterator, HEADER_SCAN_ROWS))
        if not any(not _blank(c) for row in head for c in row):
            return Text("is empty")
        found = _find_header(head)
        if found is None:
            return Text("has no header row in its first {n} rows ({cells})", n=HEADER_SCAN_ROWS,
                        cells=_first_cells(head))
        header_index, mapping = found
        plan = _plan(head[header_index], mapping, letters=sheet is not None)
        prefix = f"sheet '{sheet}', " if sheet is not None else ""
        sheet_layer = layer_from_name(sheet) if sheet is not None else UNCLASSIFIED
        data_rows = chain(head[header_index + 1:], iterator)
        self._read_rows(data_rows, header_index + 2, plan, prefix, sheet_layer, sheet or "")
        return None

    def _reject(self, ref: str, reason: str, cells: list[Any], plan: _Plan) -> None:
        self.rejected.append(Rejected(ref, reason, _raw(cells, plan)))

    def _layer(self, text: str) -> str:
        layer = self._layers.get(text)
        if layer is None:
            layer = self._layers[text] = layer_from_name(text)
        return layer

    def _status(self, text: str) -> str | None:
        if text not in self._statuses:
            self._statuses[text] = status_from_text(text)
        return self._statuses[text]

    def _read_rows(
        self, rows: Iterator[list[Any]], first_number: int, plan: _Plan, prefix: str,
        sheet_layer: str, table: str,
    ) -> None:
        fields = plan.fields
        width = len(plan.headers)
        text_columns = [(name, fields[name]) for name in _TEXT_FIELDS if name in fields]
        # Kind and sectors are stored in the shared vocabulary (by `build_features`); the
        # text as written is kept in attributes under its header when it differs.
        vocabulary = [(name, plan.headers[fields[name]], normalise)
                      for name, normalise in ((C.KIND, kind_of), (C.SECTORS, sectors_of)) if name in fields]
        attribute_columns = plan.attribute_columns
        i_lat, i_lon, i_pair = fields.get(C.LAT), fields.get(C.LON), fields.get(C.PAIR)
        i_layer, i_status, i_country, i_id = (
            fields.get(C.LAYER), fields.get(C.STATUS), fields.get(C.COUNTRY), fields.get(C.ID)
        )
        file_country = country_code(self.country)
        table_ids = self.ids_by_table.setdefault(table, set())
        countries: dict[str, str | None] = {}
        headers = plan.headers
        i_name = fields[C.NAME]
        statuses = self._statuses
        records = self.records
        add_lat, add_lon, add_located = self.lats.append, self.lons.append, self.located.append
        add_table, add_source = self.tables.append, self.sources.append
        rows_read = 0
        for number, cells in enumerate(rows, start=first_number):
            for value in cells:
                if value != "" and value is not None and not (value.__class__ is str and not value.strip()):
                    break
            else:
                continue  # a blank row is not a row read
            rows_read += 1
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            ref = f"{prefix}row {number}"
            record: dict[str, Any] = {"source_ref": ref, "group": table}
            # Hot loop: str cells (most of them) are handled inline, the rest by _text/_value.
            for name, index in text_columns:
                value = cells[index]
                record[name] = (value.rstrip() or None) if value.__class__ is str else _text(value)
            if record["name"] is None:
                self._reject(ref, Text(
                    "the name (column '{column}') is empty. Fill in the name, or delete "
                    "the row if it is a note or a total.", column=headers[i_name]), cells, plan)
                continue
            attributes = {}
            for index, header in attribute_columns:
                value = cells[index]
                if value.__class__ is str:
                    value = value.rstrip()
                    if value:
                        attributes[header] = value
                elif value is not None and value != "":
                    attributes[header] = _value(value)
            if len(cells) > width:
                for index in range(width, len(cells)):
                    if not _blank(cells[index]):
                        attributes[f"column {index + 1}"] = _value(cells[index])
            for name, header, normalise in vocabulary:
                text = record[name]
                if text is not None and normalise(text) != text:
                    attributes[header] = text
            record["attributes"] = attributes

            layer = sheet_layer
            if i_layer is not None:
                text = _text(cells[i_layer])
                if text:
                    found = self._layer(text)
                    if found != UNCLASSIFIED or sheet_layer == UNCLASSIFIED:
                        layer = found
                    else:  # the sheet name is the better guide; keep what was typed
                        attributes[headers[i_layer]] = text
            record["layer"] = layer

            if i_status is not None:
                text = cells[i_status]
                text = (text.strip() or None) if text.__class__ is str else _text(text)
                if text:
                    status = None
                    if plan.planned_flag:
                        key = fold(text)
                        status = "planned" if key in _YES else "existing" if key in _NO else None
                    if status is None:
                        status = statuses[text] if text in statuses else self._status(text)
                    if status is None:
                        attributes[headers[i_status]] = text
                    record["status"] = status

            row_country = None
            if i_country is not None:
                text = cells[i_country]
                text = (text.strip() or None) if text.__class__ is str else _text(text)
                if text:
                    if text in countries:
                        row_country = countries[text]
                    else:
                        row_country = countries[text] = country_code(text)
                    if row_country is None:
                        attributes[headers[i_country]] = text
            record["country"] = row_country
            prefer = row_country or file_country

            if i_id is not None:
                own_id = (_text(cells[i_id]) or "").strip()
                if own_id:
                    record["own_id"] = own_id
                    table_ids.add(own_id)

            # Coordinates: two columns, else one "lat, lon" column, else the town.
            problems: list[str] = []
            point: tuple[float, float] | None = None
            fast = False
            lat_raw = cells[i_lat] if i_lat is not None else ""
            lon_raw = cells[i_lon] if i_lon is not None else ""
            if (lat_raw.__class__ is float and lon_raw.__class__ is float
                    and _LAT_MIN <= lat_raw <= _LAT_MAX and _LON_MIN <= lon_raw <= _LON_MAX):
                point = (lat_raw, lon_raw)  # numeric cells inside Europe: nothing to check
                fast = True
            elif not _blank(lat_raw) or not _blank(lon_raw):
                lat_given, lon_given = not _blank(lat_raw), not _blank(lon_raw)
                if lat_given and lon_given:
                    lat = self._number(lat_raw, "latitude", plan, C.LAT, problems)
                    lon = self._number(lon_raw, "longitude", plan, C.LON, problems)
                    if lat is not None and lon is not None:
                        point = (lat, lon)
                else:
                    given, empty = (C.LAT, C.LON) if lat_given else (C.LON, C.LAT)
                    if empty in plan.fields:
                        problems.append(Text(
                            "{given} '{value}' is given but {empty} (column '{column}') is empty. Fill in both, "
                            "or leave both empty to look the town up.", given=Text(given),
                            value=_text(lat_raw if lat_given else lon_raw), empty=Text(empty),
                            column=plan.header(empty)))
                    else:
                        problems.append(Text(
                            "{given} '{value}' (column '{column}') is given but the sheet has no {empty} column. "
                            "Add a {header} column, or remove the coordinates to look the town up.", given=Text(given),
                            value=_text(lat_raw if lat_given else lon_raw), column=plan.header(given),
                            empty=Text(empty), header=Text(_HEADER_WORDS[empty])))
            elif i_pair is not None and not _blank(cells[i_pair]):
                pair_raw = cells[i_pair]
                pair_text = _text(pair_raw) or ""
                if not _HAS_DIGIT.search(pair_text) and not record.get("town"):
                    record["town"] = pair_text  # "Location: Karlshamn" names a place, not a point
                else:
                    try:
                        point = parse_pair(pair_raw if isinstance(pair_raw, str) else pair_text)
                    except ValueError:
                        problems.append(Text(
                            "'{value}' in column '{column}' is not a 'latitude, "
                            "longitude' pair. Write it as 56.16, 15.59 (or 56,16; 15,59), "
                            "or leave it empty to look the town up.", value=pair_text, column=plan.header(C.PAIR)))
            if point is not None and not fast:
                problem = self._check(point, prefer, lat_raw, lon_raw, plan)
                if problem:
                    problems.append(problem)
            if problems:
                self._reject(ref, _joined(problems), cells, plan)
                continue

            if point is not None:
                record["location_source"] = "coordinates"
                add_lat(point[0])
                add_lon(point[1])
                add_located(len(records))
            elif record.get("town") or record.get("address"):
                key = (record.get("town"), record.get("address"), prefer)
                match = self._geocoded.get(key)
                if match is None:
                    match = self._geocoded[key] = geocode(key[0], key[1], country=prefer)
                if match.place is None:
                    self._reject(ref, match.reason or Text("the town was not found."), cells, plan)
                    continue
                record["location_source"] = "gazetteer"
                record["country"] = record["country"] or match.place.country
                add_lat(match.place.lat)
                add_lon(match.place.lon)
                add_located(len(records))
            else:
                record["location_source"] = "none"
            records.append(record)
            add_table(table)
            add_source((cells, plan))
        self.rows_read += rows_read

    def _number(self, raw: Any, label: str, plan: _Plan, field_name: str, problems: list[str]) -> float | None:
        if isinstance(raw, float):
            return raw
        try:
            return parse_number(raw)
        except ValueError:
            problems.append(Text(
                "{label} '{value}' (column '{column}') is not a number. "
                "Write decimal degrees such as 56.16 or 56,16 (or 56° 9' 36\" N).",
                label=Text(label) if label in (N_("latitude"), N_("longitude")) else label, value=_text(raw),
                column=plan.header(field_name)))
            return None

    def _check(self, point: tuple[float, float], country: str | None, lat_raw: Any, lon_raw: Any, plan: _Plan) -> str | None:
        lat, lon = point
        if _LAT_MIN <= lat <= _LAT_MAX and _LON_MIN <= lon <= _LON_MAX:
            return None  # inside Europe: neither impossible nor swapped (the common case)
        order = (
            Text(_ORDER_PAIR, lat=plan.header(C.LAT), lon=plan.header(C.LON))
            if C.LAT in plan.fields and C.LON in plan.fields
            else Text(" in column '{column}'", column=plan.header(C.PAIR)) if C.PAIR in plan.fields else ""
        )
        if lat == 0 and lon == 0:
            return Text("latitude 0, longitude 0 is a placeholder, not a place. "
                        "Enter the real coordinates, or leave them empty to look the town up.")
        problem = check_point(lat, lon, country=country)
        if problem is None:
            return None
        lat_text = _text(lat_raw) if not _blank(lat_raw) else f"{lat:g}"
        lon_text = _text(lon_raw) if not _blank(lon_raw) else f"{lon:g}"
        if abs(lat) > 1000 or abs(lon) > 1000:
            return Text("latitude '{lat}', longitude '{lon}' look like projected coordinates "
                        "(metres, e.g. SWEREF 99 TM or Irish Grid), not degrees. "
                        "Convert them to WGS 84 latitude/longitude (EPSG:4326).", lat=lat_text, lon=lon_text)
        if not -90 <= lat <= 90:
            if -90 <= lon <= 90:
                return Text("latitude '{value}' is outside −90…90. Swapping latitude and longitude would give a "
                            "valid point. Check the column order{order}.", value=lat_text, order=order)
            return Text("latitude '{value}' is outside −90…90. Check the column order{order}.", value=lat_text,
                        order=order)
        if not -180 <= lon <= 180:
            return Text("longitude '{value}' is outside −180…180. Check the column order{order}.", value=lon_text,
                        order=order)
        return Text(_WITH_ORDER, problem=_Stripped(problem), order=order)

    def finish(self) -> LoadResult:
        """Attach the points, qualify ids repeated across sheets and build the LoadResult."""
        if self.located:
            points = shapely.points(np.column_stack([self.lons, self.lats]))
            records = self.records
            for position, point in zip(self.located, points):
                records[position]["geometry"] = point
        tables_with_ids = [ids for ids in self.ids_by_table.values() if ids]
        if len(tables_with_ids) > 1 and sum(map(len, tables_with_ids)) > len(set().union(*tables_with_ids)):
            for record, sheet in zip(self.records, self.tables):
                if record.get("own_id"):
                    record["own_id"] = f"{sheet}:{record['own_id']}"
            self.notes.append(
                "ids repeat across sheets, so each id is prefixed with its sheet name (e.g. 'Hubs:1')."
            )
        own = len(self.rejected)
        result = make_result(self.source_file, self.records, self.rejected, self.rows_read)
        if len(result.rejected) > own:
            # Duplicates found by build_features carry canonical fields as raw; give them the
            # row as typed, like every other rejected row.
            by_ref = {r["source_ref"]: i for i, r in enumerate(self.records)}
            for rejected in result.rejected[own:]:
                position = by_ref.get(rejected.where)
                if position is not None:
                    rejected.raw = _raw(*self.sources[position])
        result.notes.extend(self.notes)
        return result


# -- XLSX: bounding the work before it is done --------------------------------------------------

MAX_SHEET_CELLS = 2_000_000
"""Largest used range of one sheet we read (rows x columns, counted from A1), e.g. 100,000 rows
of 20 columns. A reader builds the whole grid, so one stray cell at XFD1048576 would
otherwise ask for 17 billion cells; larger sheets are refused before anything is read."""
MAX_SHARED_STRINGS = 5_000_000
"""Most distinct texts a workbook may declare (``uniqueCount`` in ``xl/sharedStrings.xml``)."""
MAX_XLSX_PART_BYTES = 512 * 1024 * 1024
"""Largest unpacked size of one part of a workbook (a sheet's XML, the shared strings)."""
_MAX_WORKBOOK_XML_BYTES = 16 * 1024 * 1024
_MAX_TAG_BYTES = 1 << 20
_CHUNK_BYTES = 1 << 20
_MB = 1024 * 1024
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL_TAG = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_TOKEN = re.compile(rb"<" + _PREFIX + rb"(row|c)([\s/>][^>]*)?>")
_R_ATTR = re.compile(rb"\br\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(rb"\s*([A-Za-z]{0,3})([0-9]{1,10})\s*")
_DIMENSION = re.compile(rb"<" + _PREFIX + rb"dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']{1,64})[\"']")
_SST = re.compile(rb"<" + _PREFIX + rb"sst[\s>/]")
_UNIQUE_COUNT = re.compile(rb"<" + _PREFIX + rb"sst\s[^>]*?\buniqueCount\s*=\s*[\"']\s*([0-9]{1,30})\s*[\"']")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class _BadPart(ValueError):
    """A workbook part we cannot scan; the message says why."""


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + char - 64
    return number


def _cells_text(cells: int) -> Text | Figure:
    if cells >= 999_500_000:
        return Text("{count} billion", count=Figure(cells / 1e9))
    if cells >= 10_000_000:
        return Text("{count} million", count=Figure(cells / 1e6))
    return Figure(cells)


def _why(exc: BaseException) -> str:
    """What was wrong with a workbook part: our own reason (translatable) or the library's, shortened."""
    return exc.args[0] if isinstance(exc, _BadPart) else str(exc)[:200]


@dataclass
class _Extent:
    """The used range of one sheet from its cells' references (real) and its <dimension> (declared)."""

    rows: int = 0
    columns: int = 0
    cell_tags: int = 0
    declared: str | None = None

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def range(self) -> str:
        return f"A1:{_column_letter(self.columns - 1)}{self.rows}" if self.rows and self.columns else "A1"


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield the XML in chunks of about 1 MB that never cut a tag (the carried tail is bounded)."""
    carry = b""
    total = 0
    while True:
        chunk = stream.read(_CHUNK_BYTES)
        if not chunk:
            if carry:
                yield carry
            return
        total += len(chunk)
        if total > MAX_XLSX_PART_BYTES:
            raise _BadPart(Text("unpacks to more than {limit} MB", limit=MAX_XLSX_PART_BYTES // _MB))
        data = carry + chunk
        last_lt, last_gt = data.rfind(b"<"), data.rfind(b">")
        if last_lt > last_gt:
            carry = data[last_lt:]
            if len(carry) > _MAX_TAG_BYTES:
                raise _BadPart(Text("holds a tag longer than 1 MB"))
            data = data[:last_lt]
        else:
            carry = b""
        yield data


def _scan_chunk(data: bytes) -> tuple[int, int, int, int] | None:
    """Return (cell tags, cells with a plain reference, largest row, largest column) of a chunk.

    Vectorised over every ``<c r="B7"`` in the chunk; None when a reference is not of the
    plain form (the caller then counts positions exactly).
    """
    arr = np.frombuffer(data + bytes(24), np.uint8)
    lt = np.flatnonzero((arr[:-1] == 60) & (arr[1:] == 99))  # "<c"
    after = arr[lt + 2]
    space = after == 32
    tags = int(np.count_nonzero(space | (after == 62) | (after == 47) | (after == 9) | (after == 10) | (after == 13)))
    if b":c" in data:  # a prefixed namespace (<x:c ...>) or just text: count tags the slow way
        tags = len(_CELL_TAG.findall(data))
    lt = lt[space]
    starts = lt[(arr[lt + 3] == 114) & (arr[lt + 4] == 61) & (arr[lt + 5] == 34)] + 6  # '<c r="'
    n = len(starts)
    if not n:
        return tags, 0, 0, 0
    column = np.zeros(n, np.int64)
    row = np.zeros(n, np.int64)
    state = np.zeros(n, np.int8)  # 0: in the letters, 1: in the digits, 2: past the closing quote
    letters = np.zeros(n, np.int8)
    digits = np.zeros(n, np.int8)
    for offset in range(12):  # up to 3 letters, 8 digits and the quote
        char = arr[starts + offset]
        is_letter = (char >= 65) & (char <= 90) & (state == 0)
        column = np.where(is_letter, column * 26 + (char.astype(np.int64) - 64), column)
        letters += is_letter
        is_digit = (char >= 48) & (char <= 57) & (state <= 1) & ~is_letter
        row = np.where(is_digit, row * 10 + (char.astype(np.int64) - 48), row)
        digits += is_digit
        ended = ~is_letter & ~is_digit & (state < 2)
        if (ended & (char != 34)).any():
            return None
        state = np.where(is_digit, 1, np.where(ended, 2, state)).astype(np.int8)
    if (state != 2).any() or ((letters < 1) | (letters > 3) | (digits < 1)).any():
        return None
    return tags, n, int(row.max()), int(column.max())


def _scan_extent(open_stream) -> _Extent:
    """Find a sheet's used range from the cell references actually present, in bounded memory.

    The ``<dimension>`` element is read too but not trusted: it can be wrong either way,
    and the reader sizes its grid from the cells. Cells normally carry ``r="B7"``; when
    some do not (or a reference is unusual), a second pass counts positions as a reader
    does (a cell without ``r`` follows the previous one in its row, a row without ``r``
    follows the previous row).
    """
    extent = _Extent()
    refs = 0
    exact = False
    with open_stream() as stream:
        for index, data in enumerate(_chunks(stream)):
            if index == 0:
                if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
                    raise _BadPart(Text("is saved as UTF-16 or UTF-32 XML"))
                found = _DIMENSION.search(data)
                if found:
                    extent.declared = found.group(1).decode("ascii", "replace").strip()
            scanned = _scan_chunk(data)
            if scanned is None:
                exact = True
                extent.cell_tags += len(_CELL_TAG.findall(data))
            else:
                tags, plain, rows, columns = scanned
                extent.cell_tags += tags
                refs += plain
                extent.rows, extent.columns = max(extent.rows, rows), max(extent.columns, columns)
            if extent.cell_tags > MAX_SHEET_CELLS:
                return extent  # more cells than the budget: the range can only be larger
    if exact or refs != extent.cell_tags:
        extent.rows, extent.columns = _count_positions(open_stream)
    return extent


def _count_positions(open_stream) -> tuple[int, int]:
    rows = columns = row = column = 0
    with open_stream() as stream:
        for data in _chunks(stream):
            for kind, attributes in _TOKEN.findall(data):
                found = _R_ATTR.search(attributes or b"")
                ref = _REF.fullmatch(found.group(1)) if found else None
                if found and ref is None:
                    raise _BadPart(Text(
                        "has a cell reference '{value}' that is not of the form B7",
                        value=found.group(1)[:20].decode("ascii", "replace")))
                if kind == b"row":
                    row = int(ref.group(2)) if ref and not ref.group(1) else row + 1
                    column = 0
                    continue
                if ref and ref.group(1):
                    column, cell_row = _column_number(ref.group(1)), int(ref.group(2))
                else:
                    column, cell_row = column + 1, max(row, 1)
                rows, columns = max(rows, cell_row), max(columns, column)
    return rows, columns


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(archive: zipfile.ZipFile, source_file: str) -> dict[str, zipfile.ZipInfo]:
    """Map each sheet name of ``xl/workbook.xml`` to its part in the archive."""
    def xml(name: str):
        info = archive.getinfo(name)
        if info.file_size > _MAX_WORKBOOK_XML_BYTES:
            raise _BadPart(Text("'{part}' would unpack to {size} MB", part=name, size=info.file_size // _MB))
        with archive.open(info) as stream:
            return safe_etree.fromstring(stream.read(_MAX_WORKBOOK_XML_BYTES + 1))

    workbook = xml("xl/workbook.xml")
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in archive.NameToInfo:
        for element in xml("xl/_rels/workbook.xml.rels").iter():
            if _local(element.tag) == "Relationship" and element.get("Id") and element.get("Target"):
                target = element.get("Target").replace("\\", "/")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                targets[element.get("Id")] = path
    parts: dict[str, zipfile.ZipInfo] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        path = targets.get(rid or "")
        info = archive.NameToInfo.get(path or "")
        if info is None:  # case-insensitive, as Windows-made archives sometimes need
            info = next((i for i in archive.infolist() if path and i.filename.lower() == path.lower()), None)
        if info is not None:
            parts[element.get("name", "")] = info
    return parts


def _check_workbook(data: bytes, source_file: str) -> dict[str, _Extent]:
    """Check a workbook before any reader builds its grids; return each sheet's extent.

    Raises ImportFileError for what is not an XLSX/XLSM, and for a part, a text table or a
    sheet over the limits (`MAX_XLSX_PART_BYTES`, `MAX_SHARED_STRINGS`, `MAX_SHEET_CELLS`).
    """
    resave = Text("Open it in Excel or LibreOffice and save it as .xlsx, or export the sheet as CSV.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(Message(
            "{file}: this is an old-style Excel 97-2003 (.xls) workbook; only .xlsx and .xlsm are read. {resave}",
            file=source_file, resave=resave))
    if not data.startswith(b"PK"):
        raise ImportFileError(Message(
            "{file}: cannot be read as an Excel workbook (it is not an .xlsx zip archive). {resave}", file=source_file,
            resave=resave))
    archive = open_zip(data, source_file, what=Text("Excel workbook (.xlsx)"), hint=resave)
    names = archive.NameToInfo
    if "xl/workbook.xml" not in names:
        if "content.xml" in names or _ODS_MIMETYPE in data[:200]:
            kind = Text("an OpenDocument spreadsheet (.ods)")
        elif "xl/workbook.bin" in names:
            kind = Text("a binary Excel workbook (.xlsb)")
        else:
            kind = Text("a zip archive without xl/workbook.xml")
        raise ImportFileError(Message(
            "{file}: cannot be read as an Excel workbook: it is {kind}. {resave}", file=source_file, kind=kind,
            resave=resave))
    for info in archive.infolist():
        if info.file_size > MAX_XLSX_PART_BYTES:
            raise ImportFileError(Message(
                "{file}: the workbook part '{part}' would unpack to {size} MB, over the {limit} MB limit "
                "for one part. Split the workbook into smaller files (a few sheets each) or export each sheet as CSV.",
                file=source_file, part=info.filename[:100], size=Figure(info.file_size / _MB),
                limit=MAX_XLSX_PART_BYTES // _MB))
    try:
        parts = _sheet_parts(archive, source_file)
    except (_BadPart, safe_etree.ParseError, DefusedXmlException, zipfile.BadZipFile, zlib.error, EOFError,
            NotImplementedError, RuntimeError, KeyError) as exc:
        raise ImportFileError(Message(
            "{file}: cannot be read as an Excel workbook (its list of sheets is damaged: {reason}). {resave}",
            file=source_file, reason=_why(exc), resave=resave)) from None
    for info in archive.infolist():
        if info.filename.lower().endswith("sharedstrings.xml"):
            _check_shared_strings(archive, info, source_file)
    extents: dict[str, _Extent] = {}
    for sheet, info in parts.items():
        try:
            extent = _scan_extent(lambda info=info: archive.open(info))
        except (_BadPart, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ImportFileError(Message(
                "{file}, sheet '{sheet}': cannot be read (its XML {reason}). {resave}", file=source_file, sheet=sheet,
                reason=_why(exc), resave=resave)) from None
        if extent.cells > MAX_SHEET_CELLS or extent.cell_tags > MAX_SHEET_CELLS:
            if extent.cells > MAX_SHEET_CELLS:
                what = Text("the used range {range} holds {cells} cells", range=extent.range,
                            cells=_cells_text(extent.cells))
                if extent.declared and extent.declared.upper() not in (extent.range, extent.range[3:]):
                    what = Text("the used range {range} holds {cells} cells (although the sheet declares "
                                "{declared})", range=extent.range, cells=_cells_text(extent.cells),
                                declared=extent.declared[:40])
                fix = Text("Delete the stray cells towards {cell} (Ctrl+End in Excel jumps to the last "
                           "one) or copy the table to a new sheet.", cell=extent.range[3:])
            else:
                what = Text("the sheet holds more than {cells} cells", cells=_cells_text(extent.cell_tags))
                fix = Text("Split the table into several sheets or files, or export it as CSV.")
            raise ImportFileError(Message(
                "{file}, sheet '{sheet}': {what}, over the {limit} limit for one sheet. {fix}",
                file=source_file, sheet=sheet, what=what, limit=Figure(MAX_SHEET_CELLS), fix=fix))
        extents[sheet] = extent
    return extents


def _check_shared_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str) -> None:
    """Refuse a text table that declares more entries than the limit (a reader reserves them all)."""
    try:
        with archive.open(info) as stream:
            for data in _chunks(stream):
                found = _UNIQUE_COUNT.search(data)
                if found:
                    count = int(found.group(1))
                    if count > MAX_SHARED_STRINGS:
                        raise ImportFileError(Message(
                            "{file}: the workbook declares {count} distinct texts (uniqueCount in {part}), over "
                            "the {limit} limit. Open it in Excel or LibreOffice and save it again as "
                            ".xlsx, or export the sheets as CSV.", file=source_file, count=_cells_text(count),
                            part=info.filename, limit=Figure(MAX_SHARED_STRINGS)))
                    return
                if _SST.search(data):
                    return  # the table's start tag has no count
    except (_BadPart, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(Message(
            "{file}: cannot be read as an Excel workbook ('{part}' {reason}). Open it in Excel or LibreOffice "
            "and save it again as .xlsx.", file=source_file, part=info.filename, reason=_why(exc))) from None


# -- XLSX ------------------------------------------------------------------------------------

def features_from_xlsx(data: bytes, source_file: str, *, country: str | None = None) -> LoadResult:
    """Read an XLSX/XLSM audit workbook: every sheet with a header row.

    A sheet is a table whose header is the first of its first 20 rows naming a name
    column and one other known column (English, Swedish, Polish, German or Irish headers);
    empty, hidden and header-less sheets are skipped and listed in ``LoadResult.notes``.
    The layer comes from a layer/category column, else the sheet name. Rows with
    coordinates keep them; rows with only a town or address are matched offline to
    GeoNames settlements; rows with neither are kept without a place.

    Before anything is read, each sheet's used range is found from the cell references
    in its XML and a sheet over `MAX_SHEET_CELLS` is refused, as is a part over
    `MAX_XLSX_PART_BYTES` or a text table over `MAX_SHARED_STRINGS`.

    Parameters
    ----------
    data
        The file's bytes.
    source_file
        The file name, used in provenance and messages.
    country
        ISO alpha-2 code of the file's region: preferred when geocoding towns and used to
        spot swapped coordinates when a row has no country column.

    Raises
    ------
    ImportFileError
        The file is not an XLSX/XLSM workbook, a sheet is over the limits, or no sheet
        has a header row.
    """
    if not data:
        raise ImportFileError(Message(
            "{file}: the file is empty (0 bytes). Save the workbook again from Excel or LibreOffice as .xlsx and "
            "re-import it.", file=source_file))
    extents = _check_workbook(data, source_file)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as exc:
        raise ImportFileError(Message(
            "{file}: cannot be read as an Excel workbook ({reason}). Open it in Excel or LibreOffice and save it as "
            ".xlsx, or export the sheet as CSV.", file=source_file, reason=str(exc))) from None
    reader = _Reader(source_file, country)
    skipped: list[str] = []
    tables_read = 0
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            if meta.visible != SheetVisibleEnum.Visible:
                skipped.append(Text("sheet '{sheet}' is hidden (unhide it to import it)", sheet=meta.name))
                continue
            if meta.name not in extents:
                # Never let the reader build a grid we have not measured.
                raise ImportFileError(Message(
                    "{file}, sheet '{sheet}': its XML part is not where the workbook's list of sheets says. Open the "
                    "workbook in Excel or LibreOffice, save it again as .xlsx and re-import it.", file=source_file,
                    sheet=meta.name))
            try:
                rows = workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            except (CalamineError, ValueError, OverflowError) as exc:
                raise ImportFileError(Message(
                    "{file}, sheet '{sheet}': cannot be read ({reason}). Open the workbook in Excel or LibreOffice, "
                    "save it again as .xlsx and re-import it.", file=source_file, sheet=meta.name,
                    reason=str(exc)[:200])) from None
            why = reader.read_table(rows, sheet=meta.name)
            del rows
            if why is None:
                tables_read += 1
            else:
                skipped.append(Text("sheet '{sheet}' {why}", sheet=meta.name, why=why))
    if not tables_read:
        detail = (reduce(lambda a, b: Text(_SEMI, a=a, b=b), skipped) if skipped
                  else Text("the workbook has no worksheets"))
        raise ImportFileError(Message(
            "{file}: no header row found in any sheet; {expected}. In this file, {detail}. Add a header row to "
            "the sheet, or rename its columns.", file=source_file, expected=_EXPECTED_HEADER, detail=detail))
    reader.notes.extend(Text("{sheet}: skipped.", sheet=s) for s in skipped)
    return reader.finish()


# -- CSV -------------------------------------------------------------------------------------

def _decode(data: bytes, source_file: str) -> tuple[str, str]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(Message(
            "{file}: this is an Excel workbook, not CSV text. Give the file the extension .xlsx (or .xls) and import "
            "it again.", file=source_file))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise ImportFileError(Message(
            "{file}: byte {start} is neither UTF-8 nor Windows-1252 text. Save the file from Excel as 'CSV UTF-8 "
            "(comma delimited)' and import it again.", file=source_file, start=exc.start)) from None


def _field_too_long(source_file: str, line: int) -> ImportFileError:
    return ImportFileError(Message(
        "{file}, line {line}: a cell reaching this line holds more than {limit} characters, the most one CSV cell "
        "may hold. Shorten that cell (or move long text to a linked document), or look for a quote (\") that is "
        "never closed, which turns the rest of the file into one cell.", file=source_file, line=line,
        limit=Figure(csv.field_size_limit())))


def _is_field_limit(exc: csv.Error) -> bool:
    return "field larger than field limit" in str(exc)


def _sniff(
    text: str, source_file: str, delimiters: tuple[str, ...] = _CSV_DELIMITERS,
) -> tuple[str, list[list[str]]] | None:
    """Pick the delimiter that gives a recognisable header; return it and the first rows."""
    best: tuple[tuple[int, int, int], str, list[list[str]]] | None = None
    too_long: int | None = None
    for rank, delimiter in enumerate(delimiters):
        if delimiter not in text[:65536]:
            continue
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            head = list(islice(reader, HEADER_SCAN_ROWS))
        except csv.Error as exc:
            if _is_field_limit(exc):
                too_long = reader.line_num if too_long is None else min(too_long, reader.line_num)
            continue
        found = _find_header(head)
        if found is None:
            continue
        index, mapping = found
        score = (len(set(mapping.values())), len(head[index]), -rank)
        if best is None or score > best[0]:
            best = (score, delimiter, head)
    if best is None and too_long is not None:
        raise _field_too_long(source_file, too_long)
    return (best[1], best[2]) if best else None


def features_from_csv(data: bytes, source_file: str, *, country: str | None = None) -> LoadResult:
    """Read a CSV audit sheet: UTF-8 (with or without BOM) or Windows-1252, `,` `;` or tab.

    The delimiter is the one that yields a recognisable header row within the first 20
    rows (title rows above it are allowed), or the one an Excel ``sep=;`` first line names;
    quoted fields may hold line breaks. Rows are
    numbered as a spreadsheet shows them, the header line included. See
    `features_from_xlsx` for columns, coordinates and geocoding.

    Raises
    ------
    ImportFileError
        The file is empty, is not text, or has no header row.
    """
    if not data:
        raise ImportFileError(Message(
            "{file}: the file is empty (0 bytes). Export the sheet again as CSV with a "
            "header row such as Name, Town, Latitude, Longitude.", file=source_file))
    if len(data) > MAX_CSV_BYTES:
        raise ImportFileError(Message(
            "{file}: the file is {size} MB, over the {limit} MB limit for one audit sheet. Split it into "
            "several files (e.g. one per layer), or remove columns that are not needed.", file=source_file,
            size=Figure(len(data) / _MB), limit=MAX_CSV_BYTES // _MB))
    text, encoding = _decode(data, source_file)
    if not text.strip():
        raise ImportFileError(Message(
            "{file}: the file holds only blank lines or spaces. Export the sheet again as "
            "CSV with a header row such as Name, Town, Latitude, Longitude.", file=source_file))
    if "\x00" in text:
        raise ImportFileError(Message(
            "{file}: the file contains NUL bytes, so it is not CSV text. "
            "Export the sheet again as CSV (UTF-8).", file=source_file))
    delimiters = _CSV_DELIMITERS
    first_line, _, rest = text.partition("\n")
    if re.fullmatch(r"sep=.", first_line.rstrip("\r"), flags=re.IGNORECASE):
        # Excel's "sep=;" line names the delimiter and is not shown as a row.
        delimiters, text = (first_line[4],), rest
        if not _usable_delimiter(delimiters[0]):
            raise ImportFileError(Message(
                "{file}, line 1: 'sep={value}' names a separator that cannot separate cells. Delete that line "
                "or write sep=, or sep=; and import the file again.", file=source_file, value=first_line[4]))
    sniffed = _sniff(text, source_file, delimiters)
    if sniffed is None:
        head_reader = csv.reader(io.StringIO(text, newline=""))
        head: list[list[str]] = []
        try:
            head.extend(islice(head_reader, HEADER_SCAN_ROWS))  # rows read before an error stay
        except csv.Error as exc:
            if _is_field_limit(exc):
                raise _field_too_long(source_file, head_reader.line_num) from None
        raise ImportFileError(Message(
            "{file}: no header row found in the first {n} rows; {expected}, separated by ',' or ';' (this "
            "file's {cells}). Add a header row or rename the columns.", file=source_file, n=HEADER_SCAN_ROWS,
            expected=_EXPECTED_HEADER, cells=_first_cells(head)))
    delimiter, _ = sniffed
    reader = _Reader(source_file, country)
    if encoding != "UTF-8":
        reader.notes.append(Text("read as {encoding} text (not UTF-8).", encoding=encoding))
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        reader.read_table(rows, sheet=None)
    except csv.Error as exc:
        if _is_field_limit(exc):
            raise _field_too_long(source_file, rows.line_num) from None
        raise ImportFileError(Message(
            "{file}, row {row}: {reason}. Check the quotes on that line, or export the sheet again as CSV.",
            file=source_file, row=rows.line_num, reason=str(exc))) from None
    return reader.finish()


def _usable_delimiter(char: str) -> bool:
    return char == "\t" or not (char.isalnum() or char.isspace() or char in "\"'\r\n")
