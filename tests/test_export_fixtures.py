"""Fixtures shared by the export tests: a My Maps-style KMZ built here, and field-by-field comparison."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import shapely

from loaders.features import COLUMNS

NOTE = "Test fixture: invented places."

# (folder, [(name, lon, lat, extended data)]) as Google My Maps writes them: layer names in
# the alliances' languages, fields as ExtendedData, one planned site, HTML descriptions.
MYMAPS_FOLDERS = [
    ("Creative Industries Hubs & Infrastructure", [
        ("Ballaghaderreen Creative Hub", -8.577, 53.903,
         {"Type": "co-working", "Status": "existing", "Sectors": "design; crafts", "Website": "https://example.org/bh"}),
        ("Łódź Art Center", 19.456, 51.759,
         {"Type": "incubator", "Status": "planned", "Town": "Łódź", "Notes": "floor 2 — ask for Zoë"}),
        # A lower-case 'status' field collides with the schema's column name once exported.
        ("Borås Textile Hub", 12.94, 57.721, {"Type": "studio", "status": "befintlig", "Rooms": "12"}),
    ]),
    ("Utbildning & stöd", [
        ("Blekinge tekniska högskola", 15.59, 56.182, {"Typ": "högskola", "Status": "befintlig", "Hemsida": ""}),
        ("Baile Átha an Rí skills course", -8.745, 53.309, {"Type": "course", "Status": "existing"}),
    ]),
    ("Sieci", [
        ("Klaster Gier Łódź", 19.46, 51.77, {"Rodzaj": "klaster", "Stan": "istniejący"}),
    ]),
    ("Misc things", [
        ("Unsorted place", -9.05, 53.27, {"Type": "?"}),
    ]),
]


def _placemark(name: str, lon: float, lat: float, data: dict[str, str], style: str) -> str:
    extended = "".join(f'<Data name="{escape(k)}"><value>{escape(v)}</value></Data>' for k, v in data.items())
    desc = f"<b>{escape(name)}</b><br>{NOTE} &amp; more"
    return (
        f"<Placemark><name>{escape(name)}</name><description><![CDATA[{desc}]]></description>"
        f"<styleUrl>#{style}</styleUrl><ExtendedData>{extended}</ExtendedData>"
        f"<Point><coordinates>\n  {lon},{lat},0\n</coordinates></Point></Placemark>"
    )


def mymaps_kml() -> str:
    """Return the text of a My Maps-style KML: four folders, points, a clockwise polygon with a hole, a line."""
    folders = []
    for i, (folder, rows) in enumerate(MYMAPS_FOLDERS):
        marks = [_placemark(n, x, y, d, f"icon-1899-{i}") for n, x, y, d in rows]
        if i == 0:
            # Clockwise outer ring (My Maps does not care about orientation), with a hole.
            outer = "-8.58,53.90,0 -8.58,53.91,0 -8.57,53.91,0 -8.57,53.90,0 -8.58,53.90,0"
            inner = "-8.577,53.903,0 -8.573,53.903,0 -8.573,53.907,0 -8.577,53.907,0 -8.577,53.903,0"
            marks.append(
                "<Placemark><name>Mart site offered for a hub</name><styleUrl>#poly-000000</styleUrl>"
                '<ExtendedData><Data name="Status"><value>planned</value></Data></ExtendedData>'
                f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{outer}</coordinates></LinearRing></outerBoundaryIs>"
                f"<innerBoundaryIs><LinearRing><coordinates>{inner}</coordinates></LinearRing></innerBoundaryIs>"
                "</Polygon></Placemark>"
            )
        if i == 2:
            marks.append(
                "<Placemark><name>Łódź–Zgierz creative trail</name><styleUrl>#line-7CB342</styleUrl>"
                "<LineString><tessellate>1</tessellate><coordinates>19.456,51.759,0 19.41,51.855,0</coordinates>"
                "</LineString></Placemark>"
            )
        folders.append(f"<Folder><name>{escape(folder)}</name>{''.join(marks)}</Folder>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>Creative map</name><description>{NOTE}</description>{''.join(folders)}</Document></kml>"
    )


def mymaps_kmz(folder: Path, name: str = "alliance_mymaps.kmz") -> Path:
    """Write the My Maps-style map as a KMZ (doc.kml plus an icon image) and return its path."""
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", mymaps_kml())
        archive.writestr("images/icon-1.png", b"\x89PNG\r\n\x1a\n")
    return path


def assert_same_features(
    expected: gpd.GeoDataFrame, actual: gpd.GeoDataFrame, *, source_file: str, tolerance: float = 1e-9
) -> None:
    """Assert `actual` (re-imported from `source_file`) holds `expected`'s features, column by column.

    ``source_file`` and ``source_ref`` are provenance: the re-import's point at the file it
    was read from. Attributes are compared as JSON objects; geometries after normalising
    ring orientation (exports orient polygons counter-clockwise), each coordinate
    within `tolerance` degrees of each other (GeoJSON rounds to 6 decimals: pass 0.71e-6 for
    sources with more).
    """
    assert len(actual) == len(expected)
    left = expected.set_index("feature_id", drop=False).sort_index()
    right = actual.set_index("feature_id", drop=False).sort_index()
    assert list(right.index) == list(left.index)
    for column in COLUMNS:
        if column in ("source_file", "source_ref"):
            continue
        for fid in left.index:
            want, got = left.at[fid, column], right.at[fid, column]
            if column == "attributes":
                want, got = json.loads(want), json.loads(got)
            assert got == want, f"{column} of {fid} ({left.at[fid, 'name']}): {got!r} != {want!r}"
    assert set(right["source_file"]) == {source_file}
    for fid in left.index:
        a, b = left.at[fid, "geometry"], right.at[fid, "geometry"]
        if a is None or a.is_empty:
            assert b is None or b.is_empty
            continue
        # Exports orient rings counter-clockwise (keeping the first vertex), so orient both.
        a, b = shapely.orient_polygons(a), shapely.orient_polygons(b)
        assert shapely.equals_exact(a, b, tolerance=tolerance), (fid, a, b)
