"""Fuzz every loader with mutants of real exports and our fixtures; count tracebacks, hangs and memory.

Run by hand from the repository root (not a test; `tests/test_fuzz_geo.py` runs a small,
fixed-seed share of it in CI)::

    python bench/fuzz.py                        # 300 mutants, seed 1
    python bench/fuzz.py --count 1000 --seed 7 --formats kml kmz geojson
    python bench/fuzz.py --realdata /work/shared/realdata --timeout 20

Seeds: the real public exports in the realdata folder (My Maps/Google Earth KML/KMZ,
GeoJSON; ``--realdata``, default ``$ATLAS_REALDATA`` or ``../shared/realdata``) and our own
fixtures of every format (``tests/data``; a KMZ, an XLSX built with openpyxl and a
GeoPackage written by our exporter). Each mutant is made by a format-aware mutator
(deep nesting, bogus encodings, wrong JSON member types, empty coordinates, huge
attributes, zip tricks, forged XLSX extents, damaged SQLite pages …) or by byte flips,
insertions and truncation, and read through `loaders.read_bytes` in a worker process
limited to 1 GiB of address space beyond what the interpreter holds after its imports
(``RLIMIT_AS``), with a per-mutant time limit (``--timeout``, default 20 s).

Outcomes: ``ok`` (a LoadResult with accepted + rejected == rows_read and a summary that
builds), ``clean error`` (an `errors.AtlasError`), ``traceback`` (any other exception,
or a broken invariant), ``hang`` (time limit), ``crash`` (the worker died, e.g. an abort on
a failed allocation) and the peak RSS of the workers. Failing mutants are saved to
``bench/out/fuzz/`` with the first line of the problem, so they can be replayed with
``python bench/fuzz.py --replay FILE``.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
OUT = ROOT / "bench" / "out" / "fuzz"
MEMORY_HEADROOM = 1 << 30
"""Address space a worker may take beyond what it holds after its imports (bytes)."""
FORMATS = ("kml", "kmz", "geojson", "gpkg", "csv", "xlsx")
GEO_FORMATS = ("kml", "kmz", "geojson", "gpkg")
SUFFIX = {"kml": ".kml", "kmz": ".kmz", "geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv", "xlsx": ".xlsx"}


# ============================================================================ seeds
def _kmz(kml: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx_seed() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Hubs"
    sheet.append(["Creative audit, Blekinge"])
    sheet.append([])
    sheet.append(["Name", "Layer", "Status", "Latitude", "Longitude", "Town", "Website", "Notes"])
    sheet.append(["Karlshamn Makerspace", "Hubs", "Befintlig", 56.1706, 14.8619, "Karlshamn",
                  "https://example.se", " =1"])
    sheet.append(["Blekinge Tekniska Högskola", "Utbildning & stöd", "Planerad", "56,18", "15,59",
                  "Karlskrona", "javascript:alert(1)", "\t=1"])
    sheet.append(["Netzwerk Süd", "Nätverk", "", None, None, "Ronneby", "", "no coordinates"])
    sheet.append(["Placeholder", "Hubs", "", 0, 0, "", "", ""])
    second = book.create_sheet("Nätverk")
    second.append(["Namn", "Typ", "Ort", "Lat", "Lon"])
    second.append(["Kreativa nätverket", "network", "Karlskrona", 56.16, 15.58])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _gpkg_seed() -> bytes:
    from exporters.gpkg import write_gpkg
    from loaders import read_file

    features = read_file(DATA / "geojson" / "mixed.geojson").features
    with tempfile.TemporaryDirectory() as folder:
        path = write_gpkg(features, Path(folder) / "seed.gpkg")
        return path.read_bytes()


def default_realdata() -> Path | None:
    named = os.environ.get("ATLAS_REALDATA")
    for folder in ([Path(named)] if named else []) + [ROOT.parent / "shared" / "realdata",
                                                        Path("/work/shared/realdata")]:
        if folder.is_dir():
            return folder
    return None


def seeds(formats: tuple[str, ...], realdata: Path | None = None, *, max_bytes: int = 3_000_000) -> list[tuple[str, bytes]]:
    """Return (file name, bytes) seeds of the given formats: fixtures, then real exports."""
    found: list[tuple[str, bytes]] = []
    kmls = sorted((DATA / "kml").glob("*.kml"))
    if "kml" in formats:
        found += [(p.name, p.read_bytes()) for p in kmls]
    if "kmz" in formats:
        found += [(p.stem + ".kmz", _kmz(p.read_bytes(), extra={"images/icon-1.png": b"\x89PNG\r\n"}))
                  for p in kmls[:4]]
    if "geojson" in formats:
        found += [(p.name, p.read_bytes()) for p in sorted(DATA.rglob("*.geojson"))]
    if "csv" in formats:
        found += [(p.name, p.read_bytes()) for p in sorted((DATA / "sheets").glob("*.csv"))]
    if "xlsx" in formats:
        found.append(("audit.xlsx", _xlsx_seed()))
    if "gpkg" in formats:
        found.append(("export.gpkg", _gpkg_seed()))
    if realdata is not None:
        for path in sorted(realdata.rglob("*")):
            kind = path.suffix.lower().lstrip(".")
            kind = "geojson" if kind == "json" else kind
            if path.is_file() and kind in formats and path.stat().st_size <= max_bytes:
                found.append((path.name, path.read_bytes()))
    return found


def kind_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".json": "geojson", ".xlsm": "xlsx", ".txt": "csv"}.get(suffix, suffix.lstrip("."))


# ============================================================================ mutators
MAGIC = [
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"<!DOCTYPE kml [<!ENTITY a 'aaaa'>]>", b"&a;", b"]]>", b"<![CDATA[",
    b"NaN", b"-Infinity", b"1e999", b"-0", b"9" * 400, b'"', b"'", b"{", b"[", b"}", b"]", b"<", b">", b"&#0;",
    b"&#13;=1", b"\t=1", b" =1", b"=HYPERLINK(\"http://x\")", b"\xc3\x28", b"\xed\xa0\x80", b"\r", b"\n" * 50,
    b"\xe2\x80\x8b", b"PK\x03\x04", b"SQLite format 3\x00", b"0,0", b"nan,nan", b"180.0000001,90.1",
]


def _bytes_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    data = bytearray(data)
    how = rng.choice(("flip", "insert", "delete", "truncate", "duplicate", "magic", "magic"))
    if not data:
        return "magic", bytes(rng.choice(MAGIC))
    at = rng.randrange(len(data))
    if how == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == "insert":
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
    elif how == "delete":
        del data[at:at + rng.randint(1, 64)]
    elif how == "truncate":
        del data[at:]
    elif how == "duplicate":
        end = min(len(data), at + rng.randint(1, 4096))
        data[end:end] = data[at:end] * rng.randint(1, 20)
    else:
        data[at:at] = rng.choice(MAGIC)
    return f"bytes:{how}", bytes(data)


# ---------------------------------------------------------------------------- KML
_KML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>'


def _kml_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    choices: list[tuple[str, Callable[[], bytes]]] = [
        ("encoding", lambda: re.sub(rb'encoding="[^"]*"', b'encoding="%s"' % rng.choice(
            [b"bogus", b"utf-7", b"rot13", b"zlib", b"x-mac-roman", b"shift_jis", b"utf-16", b"cp037", b"idna",
             b"windows-1250", b"a" * 300, b""]), data, count=1) if b"encoding=" in data[:200]
            else b'<?xml version="1.0" encoding="bogus-%d"?>' % rng.randrange(99) + data),
        ("deep-folders", lambda: data.replace(b"<Document>", b"<Document>" + b"<Folder>" * rng.choice((50, 5000, 100_000)), 1)),
        ("deep-multigeometry", lambda: data.replace(b"<Point>", b"<MultiGeometry>" * rng.choice((40, 3000)) + b"<Point>", 1)),
        ("huge-name", lambda: re.sub(rb"<name>", b"<name>" + b"x" * rng.choice((200_000, 3_000_000)), data, count=1)),
        ("huge-value", lambda: re.sub(rb"<value>", b"<value>" + b"y" * 1_200_000, data, count=1)),
        ("many-fields", lambda: data.replace(b"<ExtendedData>", b"<ExtendedData>" + b"".join(
            b'<Data name="f%d"><value>%d</value></Data>' % (i, i) for i in range(5000)), 1)),
        ("zero-point", lambda: re.sub(rb"<coordinates>[^<]*</coordinates>", b"<coordinates>0,0,0</coordinates>", data,
                                      count=rng.randint(1, 5))),
        ("bad-coordinates", lambda: re.sub(rb"<coordinates>[^<]*</coordinates>", b"<coordinates>%s</coordinates>" %
                                           rng.choice([b"", b"nan,nan", b"inf,1", b"1", b"a,b", b"1e400,2", b"1,,2",
                                                       b"200,95", b" , ", b"1,2 3", b"-0,-0"]), data,
                                           count=rng.randint(1, 3))),
        ("leading-space", lambda: re.sub(rb"<name>", rng.choice([b"<name> =1", b"<name>&#9;=1", b"<name>&#13;=1",
                                                                 b"<name>\n   "]), data, count=3)),
        ("entity-bomb", lambda: data.replace(_KML_HEAD, _KML_HEAD + b'<!DOCTYPE kml [<!ENTITY a "' + b"a" * 100 +
                                             b'"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', 1)),
        ("xxe", lambda: data.replace(_KML_HEAD, _KML_HEAD + b'<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                                     1).replace(b"<name>", b"<name>&x;", 1)),
        ("unbound-prefix", lambda: data.replace(b"<Placemark>", b'<Placemark xsi:foo="1"><q:x>1</q:x>', 1)),
        ("duplicate-placemarks", lambda: _repeat_first(data, b"<Placemark", b"</Placemark>", rng.choice((2, 500)))),
        ("strip-namespace", lambda: data.replace(b' xmlns="http://www.opengis.net/kml/2.2"', b"", 1)),
        ("bad-polygon", lambda: data.replace(b"<Point>", b"<Polygon><outerBoundaryIs><LinearRing><coordinates>1,1 2,2"
                                             b"</coordinates></LinearRing></outerBoundaryIs></Polygon><Point>", 1)),
        ("utf16", lambda: data.decode("utf-8", "replace").replace('encoding="UTF-8"', 'encoding="UTF-16"')
         .encode("utf-16")),
        ("cdata-html", lambda: data.replace(b"<description>", b"<description><b>x<i>y</b><img src=x onerror=1>", 1)),
    ]
    name, make = rng.choice(choices)
    return f"kml:{name}", make()


def _repeat_first(data: bytes, start: bytes, end: bytes, times: int) -> bytes:
    a = data.find(start)
    b = data.find(end, a)
    if a < 0 or b < 0:
        return data
    b += len(end)
    return data[:b] + data[a:b] * times + data[b:]


# ---------------------------------------------------------------------------- KMZ
def _zip_with(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def _inner_kml(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            return archive.read(names[0]) if names else b""
    except Exception:  # a mutant seed may not be a zip at all
        return b""


def _kmz_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kml = _inner_kml(data) or _KML_HEAD + b"<kml/>"
    choice = rng.randrange(9)
    if choice <= 2:
        how, mutated = _kml_mutation(rng, kml)
        return f"kmz:inner-{how}", _zip_with([("doc.kml", mutated)])
    if choice == 3:
        return "kmz:traversal", _zip_with([(rng.choice(["../doc.kml", "/abs/doc.kml", "C:/doc.kml", "a/../../x.kml"]),
                                             kml)])
    if choice == 4:
        return "kmz:no-kml", _zip_with([("images/a.png", b"\x89PNG"), ("readme.txt", b"hi")])
    if choice == 5:  # declared size smaller than the real one: a forged central directory
        blob = bytearray(_zip_with([("doc.kml", kml + b"<!--" + b"z" * 2_000_000 + b"-->")]))
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = blob.find(signature)
            if at >= 0:
                blob[at + offset:at + offset + 4] = struct.pack("<I", 100)
        return "kmz:forged-size", bytes(blob)
    if choice == 6:
        return "kmz:bomb", _zip_with([("doc.kml", kml.replace(b"</kml>", b"<!--" + b"0" * 30_000_000 + b"--></kml>"))])
    if choice == 7:
        return "kmz:nested-zip", _zip_with([("doc.kml", data)])
    blob = bytearray(data)
    at = blob.find(b"PK\x01\x02")
    if at >= 0:
        blob[at + 8] |= 1  # "encrypted" flag
    return "kmz:encrypted-flag", bytes(blob)


# ---------------------------------------------------------------------------- GeoJSON
_ODD_VALUES = [
    [], {}, ["hubs", "planned"], {"a": 1}, 3, 2.5, True, None, "", "  ", " =1", "\t=1", "\r=1", float("nan"),
    "x" * 150_000, [[["deep"]]], 10 ** 30,
]
_ODD_GEOMETRIES = [
    None, {}, [], "POINT (1 2)", {"type": "Point"}, {"type": "Point", "coordinates": []},
    {"type": "Point", "coordinates": None}, {"type": "Point", "coordinates": [0, 0]},
    {"type": "Point", "coordinates": ["1", "2"]}, {"type": "Point", "coordinates": [float("nan"), 1]},
    {"type": "Point", "coordinates": [1e400, 1]}, {"type": "Point", "coordinates": [1]},
    {"type": "Point", "coordinates": [[1, 2]]}, {"type": "LineString", "coordinates": [[1, 2]]},
    {"type": "LineString", "coordinates": [1, 2]}, {"type": "Polygon", "coordinates": [[[1, 2], [3, 4], [1, 2]]]},
    {"type": "Polygon", "coordinates": [[]]}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]],
                                                                               [[5, 5]]]},
    {"type": "MultiPolygon", "coordinates": [[]]}, {"type": "MultiPoint", "coordinates": []},
    {"type": "GeometryCollection", "geometries": []}, {"type": "GeometryCollection"},
    {"type": "GeometryCollection", "geometries": [{"type": "Nope", "coordinates": [1, 2]}]},
    {"type": "Circle", "coordinates": [1, 2], "radius": 3}, {"type": ["Point"], "coordinates": [1, 2]},
    {"type": "Point", "coordinates": [True, False]}, {"type": "Point", "coordinates": [200, 95]},
    {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]], [[5, 6]]]},
]


def _json_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return _bytes_mutation(rng, data)
    features = doc.get("features") if isinstance(doc, dict) else None
    how = rng.randrange(8)
    if how == 0 or not isinstance(features, list) or not features:
        depth = rng.choice((150, 5000, 100_000))
        return "geojson:deep-nesting", b'{"type": "FeatureCollection", "features": [' + b"[" * depth + b"]" * depth + b"]}"
    feature = rng.choice(features)
    if not isinstance(feature, dict):
        return _bytes_mutation(rng, data)
    props = feature.setdefault("properties", {}) if isinstance(feature.get("properties"), dict) else {}
    if how in (1, 2):
        key = rng.choice(["layer", "status", "location_source", "feature_id", "name", "description", "website",
                          "sectors", "attributes", "kind"])
        props[key] = rng.choice(_ODD_VALUES)
        label = f"geojson:member-{key}"
    elif how in (3, 4):
        feature["geometry"] = rng.choice(_ODD_GEOMETRIES)
        label = "geojson:geometry"
    elif how == 5:
        feature[rng.choice(["properties", "id", "type"])] = rng.choice(_ODD_VALUES)
        label = "geojson:feature-member"
    elif how == 6:
        props["attributes"] = json.dumps([[[[1]]]] * 3) if rng.random() < 0.5 else "[" * 3000 + "]" * 3000
        label = "geojson:attributes-text"
    else:
        doc["features"] = rng.choice([{}, "x", None, features * 50])
        label = "geojson:features-member"
    return label, json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()


# ---------------------------------------------------------------------------- GeoPackage
def _gpkg_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    if rng.random() < 0.3:
        how, mutated = _bytes_mutation(rng, data)
        return f"gpkg:{how}", mutated
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(data)
        for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute('DROP TRIGGER "%s"' % trigger.replace('"', '""'))  # R-tree triggers need SpatiaLite
        tables = [t for (t,) in con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
        table = '"%s"' % rng.choice(tables).replace('"', '""') if tables else None
        column = con.execute("SELECT column_name FROM gpkg_geometry_columns").fetchone()
        column = '"%s"' % (column[0] if column else "geom")
        how = rng.randrange(7)
        if how == 0 and table:
            con.execute(f"UPDATE {table} SET {column} = ?", (rng.choice([b"GP", b"GP\x00\x01" + os.urandom(40),
                                                                      b"GP\x00\x03" + b"\x00" * 4 + os.urandom(60),
                                                                      os.urandom(30)]),))
            label = "gpkg:geometry-blob"
        elif how == 1 and table:
            con.execute(f"UPDATE {table} SET layer = ?, status = ?", (rng.choice([3, 2.5, b"\xff", None, "x" * 200_000]),
                                                                       rng.choice([7, b"blob", ""])))
            label = "gpkg:member-types"
        elif how == 2:
            con.execute("UPDATE gpkg_spatial_ref_sys SET definition = ?, organization = ?",
                        (rng.choice(["garbage", "", 'PROJCS["x"]', None]), rng.choice(["EPSG", "x", None])))
            label = "gpkg:srs"
        elif how == 3 and table:
            con.execute(f"UPDATE {table} SET attributes = ?", (rng.choice(["{", "[1,2]", '"x"', "[" * 5000, "null"]),))
            label = "gpkg:attributes"
        elif how == 4:
            con.execute("UPDATE gpkg_contents SET table_name = ?", (rng.choice(["missing", "", "gpkg_contents"]),))
            label = "gpkg:contents"
        elif how == 5 and table:
            con.execute(f"UPDATE {table} SET feature_id = ?", (rng.choice([1, None, "same", b"\x00"]),))
            label = "gpkg:feature-id"
        else:
            con.execute("DROP TABLE IF EXISTS gpkg_geometry_columns")
            label = "gpkg:no-geometry-columns"
        con.commit()
        return label, con.serialize()
    except sqlite3.Error:
        return _bytes_mutation(rng, data)
    finally:
        con.close()


# ---------------------------------------------------------------------------- sheets
def _csv_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    lines = data.split(b"\n")
    how = rng.randrange(6)
    if how == 0:
        at = rng.randrange(len(lines))
        lines[at] = lines[at] + b"," + b'"' + b"z" * rng.choice((140_000, 2_000_000)) + b'"'
        return "csv:huge-field", b"\n".join(lines)
    if how == 1:
        return "csv:formula", b"\n".join(l.replace(b",", rng.choice([b",=1+1,", b",\t=1,", b", =1,", b",\xef\xbc\x9d1,"]), 1)
                                          for l in lines)
    if how == 2:
        return "csv:many-columns", lines[0] + b"," * 20_000 + b"\n" + b"\n".join(lines[1:])
    if how == 3:
        return "csv:nul", data.replace(b",", b"\x00,", 3)
    if how == 4:
        return "csv:unbalanced-quote", data.replace(b",", b',"', 1)
    return _bytes_mutation(rng, data)


def _xlsx_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    except Exception:  # a mutant seed may not be a zip
        return _bytes_mutation(rng, data)
    how = rng.randrange(6)
    sheet_index = next((i for i, (n, _) in enumerate(members) if n.endswith("sheet1.xml")), None)
    if sheet_index is None:
        return _bytes_mutation(rng, data)
    name, sheet = members[sheet_index]
    if how == 0:
        sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet)
        label = "xlsx:declared-extent"
    elif how == 1:
        sheet = sheet.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                               b"</c></row></sheetData>")
        label = "xlsx:far-cell"
    elif how == 2:
        sheet = re.sub(rb'r="D(\d+)"', b'r="D99999999"', sheet, count=1)
        label = "xlsx:forged-reference"
    elif how == 3:
        sheet = sheet.replace(b"encoding=\"UTF-8\"", b'encoding="bogus"', 1)
        label = "xlsx:encoding"
    elif how == 4:
        how_b, sheet = _bytes_mutation(rng, sheet)
        label = f"xlsx:sheet-{how_b}"
    else:
        return "xlsx:" + _bytes_mutation(rng, data)[0], _bytes_mutation(rng, data)[1]
    members[sheet_index] = (name, sheet)
    return label, _zip_with(members)


MUTATORS: dict[str, Callable[[random.Random, bytes], tuple[str, bytes]]] = {
    "kml": _kml_mutation, "kmz": _kmz_mutation, "geojson": _json_mutation, "gpkg": _gpkg_mutation,
    "csv": _csv_mutation, "xlsx": _xlsx_mutation,
}


def mutate(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    """Return (what was done, mutant bytes): the format's own mutator, or byte-level noise (1 in 4)."""
    kind = kind_of(name)
    if rng.random() < 0.25 or kind not in MUTATORS:
        return _bytes_mutation(rng, data)
    return MUTATORS[kind](rng, data)


def mutants(count: int, seed: int, formats: tuple[str, ...], realdata: Path | None) -> list[tuple[str, str, bytes]]:
    """Return `count` (file name, mutation, bytes), cycling through the formats so each gets its share."""
    rng = random.Random(seed)
    pool = seeds(formats, realdata)
    by_kind: dict[str, list[tuple[str, bytes]]] = {}
    for name, data in pool:
        by_kind.setdefault(kind_of(name), []).append((name, data))
    kinds = [k for k in formats if k in by_kind]
    made = []
    for i in range(count):
        name, data = rng.choice(by_kind[kinds[i % len(kinds)]])
        how, mutated = mutate(rng, name, data)
        if rng.random() < 0.15:  # a second mutation on top
            more, mutated = mutate(rng, name, mutated)
            how = f"{how}+{more}"
        made.append((name, how, mutated))
    return made


# ============================================================================ worker (child side)
def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def worker() -> None:
    """Read framed mutants from stdin, read each with `loaders.read_bytes`, answer one JSON line each."""
    import loaders
    import loaders.geojson  # noqa: F401  (imported before the limit: import cost is not the mutant's)
    import loaders.gpkg  # noqa: F401
    import loaders.kml  # noqa: F401
    import loaders.roundtrip  # noqa: F401
    import loaders.sheets  # noqa: F401
    from errors import AtlasError

    # Read one seed of each format first: lazy imports (pyarrow for the gazetteer, GDAL) map
    # hundreds of MB of address space and are not the mutants' doing.
    for name, data in seeds(tuple(os.environ.get("ATLAS_FUZZ_FORMATS", " ".join(FORMATS)).split())):
        try:
            loaders.read_bytes(data, name)
        except AtlasError:
            pass
    limit = _address_space() + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout
    probe = os.environ.get("ATLAS_FUZZ_PROBE") == "1"  # the tests check that the harness bites
    while True:
        header = stdin.readline()
        if not header:
            return
        name, size = json.loads(header)
        data = stdin.read(size)
        start = time.perf_counter()
        answer: dict = {}
        try:
            if probe and data == b"raise":
                1 / 0
            if probe and data == b"hang":
                time.sleep(3600)
            result = loaders.read_bytes(data, name)
            summary = result.summary()
            rejected = len(result.rejected)
            answer = {"status": "ok", "rows_read": result.rows_read, "accepted": result.accepted, "rejected": rejected}
            problems = []
            if result.accepted + rejected != result.rows_read:
                problems.append(f"accepted {result.accepted} + rejected {rejected} != rows read {result.rows_read}")
            if result.features["feature_id"].duplicated().any():
                problems.append("two features share a feature_id")
            if summary["accepted"] != result.accepted:
                problems.append("summary disagrees with the features")
            if problems:
                answer = {"status": "traceback", "detail": "invariant: " + "; ".join(problems)}
        except AtlasError as exc:
            answer = {"status": "error", "detail": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}
        except MemoryError:
            answer = {"status": "traceback", "detail": "MemoryError (over the 1 GiB headroom)"}
        except BaseException as exc:  # noqa: BLE001  (the point: anything else is a finding)
            lines = traceback.format_exception(exc)
            answer = {"status": "traceback", "detail": f"{type(exc).__name__}: {str(exc)[:200]}",
                      "traceback": "".join(lines[-12:])[-4000:]}
        answer["seconds"] = round(time.perf_counter() - start, 3)
        answer["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


# ============================================================================ driver (parent side)
@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    findings: list[dict] = field(default_factory=list)
    peak_mb: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    by_mutation: Counter = field(default_factory=Counter)

    @property
    def failures(self) -> int:
        return self.counts["traceback"] + self.counts["hang"] + self.counts["crash"]


class Worker:
    """A worker process fed one mutant at a time; restarted after a hang or a crash."""

    def __init__(self, formats: tuple[str, ...] = FORMATS) -> None:
        self.process: subprocess.Popen | None = None
        self.peak_mb = 0.0
        self.formats = formats

    def start(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONWARNINGS="ignore",
                   ATLAS_FUZZ_FORMATS=" ".join(self.formats))
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream:
                    stream.close()
            self.process = None

    def run(self, name: str, data: bytes, timeout: float) -> dict:
        import selectors

        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin and self.process.stdout
        try:
            self.process.stdin.write(json.dumps([name, len(data)]).encode() + b"\n" + data)
            self.process.stdin.flush()
        except BrokenPipeError:
            return self._died()
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        # Worker start-up (imports) is not the mutant's time.
        ready = selector.select(timeout + (60 if not getattr(self, "_warm", False) else 0))
        selector.close()
        if not ready:
            self.stop()
            return {"status": "hang", "detail": f"no answer within {timeout:.0f} s"}
        line = self.process.stdout.readline()
        if not line:
            return self._died()
        self._warm = True
        answer = json.loads(line)
        self.peak_mb = max(self.peak_mb, answer.get("peak_mb", 0.0))
        return answer

    def _died(self) -> dict:
        assert self.process is not None
        self.process.wait()
        err = self.process.stderr.read().decode("utf-8", "replace") if self.process.stderr else ""
        code = self.process.returncode
        self.stop()
        self._warm = False
        last = [line for line in err.strip().splitlines() if line.strip()][-1:] or [""]
        return {"status": "crash", "detail": f"worker died (exit {code}): {last[0][:200]}"}


def run(made: list[tuple[str, str, bytes]], *, timeout: float, save: Path | None = OUT,
        progress: bool = False) -> Report:
    """Read every mutant in a worker; return the counts and the findings (saved under `save`)."""
    report = Report()
    worker_process = Worker(tuple(sorted({kind_of(name) for name, _, _ in made} & set(FORMATS))) or FORMATS)
    try:
        for number, (name, how, data) in enumerate(made, start=1):
            answer = worker_process.run(name, data, timeout)
            status = {"ok": "ok", "error": "clean error"}.get(answer["status"], answer["status"])
            report.counts[status] += 1
            report.by_mutation[kind_of(name) + ":" + status] += 1
            seconds = answer.get("seconds", timeout)
            if seconds > report.slowest[0]:
                report.slowest = (seconds, f"{name} [{how}]")
            if status in ("traceback", "hang", "crash"):
                finding = {"number": number, "file": name, "mutation": how, "status": status,
                           "detail": answer.get("detail", ""), "traceback": answer.get("traceback", "")}
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    stem = f"{number:04d}-{status}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', how)[:60]}"
                    path = save / (stem + Path(name).suffix)
                    path.write_bytes(data)
                    path.with_suffix(path.suffix + ".txt").write_text(
                        f"{name} [{how}] {status}: {finding['detail']}\n\n{finding['traceback']}", encoding="utf-8")
                    finding["saved"] = str(path)
                report.findings.append(finding)
            if progress and number % 25 == 0:
                print(f"  {number}/{len(made)} {dict(report.counts)}", file=sys.stderr, flush=True)
    finally:
        worker_process.stop()
    report.peak_mb = worker_process.peak_mb
    return report


def print_report(report: Report, total: int, seconds: float) -> None:
    print(f"{total} mutants in {seconds:.0f} s: ok {report.counts['ok']}, clean errors {report.counts['clean error']}, "
          f"tracebacks {report.counts['traceback']}, hangs {report.counts['hang']}, crashes {report.counts['crash']}; "
          f"peak RSS {report.peak_mb:.0f} MB; slowest {report.slowest[0]:.2f} s ({report.slowest[1]})")
    kinds = sorted({key.split(":")[0] for key in report.by_mutation})
    for kind in kinds:
        parts = ", ".join(f"{key.split(':', 1)[1]} {n}" for key, n in sorted(report.by_mutation.items())
                          if key.split(":")[0] == kind)
        print(f"  {kind:8s} {parts}")
    for finding in report.findings:
        print(f"  #{finding['number']} {finding['file']} [{finding['mutation']}] {finding['status']}: "
              f"{finding['detail'][:200]}" + (f"  -> {finding['saved']}" if finding.get("saved") else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per mutant (default 20)")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--realdata", type=Path, default=None, help="folder of real exports (default: found)")
    parser.add_argument("--no-realdata", action="store_true", help="fixtures only")
    parser.add_argument("--replay", type=Path, nargs="+", help="read saved mutants again, print the outcome")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker()
        return 0
    if args.replay:
        made = [(p.name, "replay", p.read_bytes()) for p in args.replay]
        report = run(made, timeout=args.timeout, save=None)
        print_report(report, len(made), 0)
        for finding in report.findings:
            print(finding["traceback"])
        return 1 if report.failures else 0
    realdata = None if args.no_realdata else (args.realdata or default_realdata())
    print(f"seed {args.seed}, formats {' '.join(args.formats)}, real exports from {realdata or 'nowhere'}, "
          f"{args.timeout:.0f} s and 1 GiB (beyond the imports) per mutant")
    made = mutants(args.count, args.seed, tuple(args.formats), realdata)
    start = time.perf_counter()
    report = run(made, timeout=args.timeout, progress=True)
    print_report(report, len(made), time.perf_counter() - start)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
