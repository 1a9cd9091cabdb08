"""Write KML/KMZ that Google My Maps imports: a Folder and a Style per layer, split to fit its limits.

Each Placemark holds ``<name>``, ``<description>`` (HTML from My Maps kept as it is,
XML-escaped), a ``<styleUrl>`` to its layer's Style, ``<ExtendedData>`` and its geometry
(longitude, latitude rounded to 7 decimals as My Maps writes them; polygons counter-clockwise, as
KML asks).

ExtendedData carries the schema's fields as ``<Data name="feature_id">``, ``layer``,
``kind``, ``status`` … (empty fields are left out), then every key of ``attributes`` as its
own ``<Data>``, so each one is a column in My Maps' data table. An attribute whose key is
one of those field names, or one the KML reader adds itself (``styleUrl``, ``folder``,
``id``), is written as ``attributes.<key>`` so nothing collides. KML stores text: an
attribute that is a number or a list is written as its JSON text. Features without a
location cannot be placed in My Maps and are left out, with a note.

My Maps imports at most 2,000 rows per layer, 10 layers per map and 5 MB per file. The
split rule: file *k* holds the *k*-th block of 2,000 rows of every layer, so no layer
appears twice in a file; a file with more than 10 layers is cut into files of 10 layers;
a file still over 5 MB (the KML text, before zipping) is halved until it fits. Files are
named ``<name>-1-of-3.kmz`` … and the message says why there are several.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import shapely

from exporters.common import (
    ExportError,
    ExportResult,
    layer_order,
    layer_title,
    property_columns,
    round6,
)
from i18n import gettext as _
from loaders.features import COLUMNS, CRS
from loaders.layers import HUBS, NETWORKS, TRAINING, UNCLASSIFIED


@dataclass(frozen=True)
class Limits:
    """What one My Maps import accepts."""

    rows_per_layer: int = 2000
    layers_per_file: int = 10
    bytes_per_file: int = 5 * 1024 * 1024


MY_MAPS = Limits()
# Schema fields written as ExtendedData, in this order (name and description have elements).
FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("name", "description", "attributes"))
# Keys the KML reader adds to attributes by itself; attribute keys like these get a prefix.
_READER_KEYS = frozenset({"styleUrl", "folder", "id"})
PREFIX = "attributes."
# Layer colours (RRGGBB) as on the dashboard; KML writes them as aabbggrr.
COLOURS = {HUBS: "0288D1", TRAINING: "F9A825", NETWORKS: "7CB342", UNCLASSIFIED: "757575"}
_ANALYSIS_COLOURS = {
    "region_boundary": "424242", "coverage_discs": "4FC3F7", "gap_areas": "E53935", "uncovered_settlements": "E53935",
    "suggested_sites": "8E24AA", "catchments": "26A69A", "h3_grid": "FB8C00",
    "area_coverage": "174A75",  # the dark end of the dashboard's share ramp
}
# My Maps writes 7 decimals (about 1 cm); writing as many keeps its coordinates unchanged.
DECIMALS = 7
ICON = "https://www.gstatic.com/mapspro/images/stock/503-wht-blank_maps.png"


def _abgr(rgb: str, alpha: str = "ff") -> str:
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".lower()


def _style(style_id: str, rgb: str) -> str:
    return (
        f'<Style id="{style_id}"><IconStyle><color>{_abgr(rgb)}</color><scale>1.1</scale>'
        f"<Icon><href>{ICON}</href></Icon></IconStyle>"
        f"<LabelStyle><scale>0</scale></LabelStyle>"
        f"<LineStyle><color>{_abgr(rgb)}</color><width>3</width></LineStyle>"
        f"<PolyStyle><color>{_abgr(rgb, '4d')}</color><fill>1</fill><outline>1</outline></PolyStyle></Style>"
    )


def _coords(coords: np.ndarray) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y in round6(np.asarray(coords)[:, :2], DECIMALS).tolist())


def geometry_kml(geometry: Any) -> str:
    """Return a shapely geometry (EPSG:4326) as KML geometry markup ('' when missing or empty)."""
    if geometry is None or geometry.is_empty:
        return ""
    kind = geometry.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{_coords(np.asarray(geometry.coords))}</coordinates></Point>"
    if kind in ("LineString", "LinearRing"):
        return (f"<LineString><tessellate>1</tessellate><coordinates>{_coords(np.asarray(geometry.coords))}"
                "</coordinates></LineString>")
    if kind == "Polygon":
        polygon = shapely.orient_polygons(geometry)
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_coords(np.asarray(r.coords))}</coordinates>"
            "</LinearRing></innerBoundaryIs>"
            for r in polygon.interiors
        )
        return (f"<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing><coordinates>"
                f"{_coords(np.asarray(polygon.exterior.coords))}</coordinates></LinearRing></outerBoundaryIs>"
                f"{inner}</Polygon>")
    return "<MultiGeometry>" + "".join(geometry_kml(g) for g in geometry.geoms) + "</MultiGeometry>"


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (dict, list, tuple, bool)) or value is None:
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def data_name(key: str) -> str:
    """Return the ExtendedData name for attribute `key` (prefixed when it would collide)."""
    if key in COLUMNS or key in _READER_KEYS or key.startswith(PREFIX):
        return PREFIX + key
    return key


def _extended(row: dict[str, Any], columns: list[str]) -> str:
    parts = []
    for column in columns:
        if column == "attributes":
            attributes = row.get("attributes")
            try:
                attributes = json.loads(attributes) if isinstance(attributes, str) else (attributes or {})
            except ValueError:
                attributes = {"attributes": attributes}
            if not isinstance(attributes, dict):
                attributes = {"attributes": attributes}
            for key, value in attributes.items():
                text = _text(value)
                parts.append(f"<Data name={quoteattr(data_name(str(key)))}><value>{escape(text or '')}</value></Data>")
            continue
        text = _text(row.get(column))
        if text is not None:
            parts.append(f"<Data name={quoteattr(column)}><value>{escape(text)}</value></Data>")
    return f"<ExtendedData>{''.join(parts)}</ExtendedData>" if parts else ""


def _placemarks(frame: gpd.GeoDataFrame, style_id: str) -> list[str]:
    """Return one Placemark string per row (rows must have a geometry)."""
    columns = property_columns(frame)
    data_columns = [c for c in columns if c not in ("name", "description")]
    geoms = frame.geometry.values
    table = frame[columns].astype(object)
    table = table.where(table.notna(), None)
    marks = []
    for i, values in enumerate(table.itertuples(index=False, name=None)):
        row = dict(zip(columns, values))
        name = _text(row.get("name")) or ""
        description = _text(row.get("description"))
        marks.append(
            f'<Placemark id="{style_id}-{i + 1}"><name>{escape(name)}</name>'
            + (f"<description>{escape(description)}</description>" if description else "")
            + f"<styleUrl>#{style_id}</styleUrl>{_extended(row, data_columns)}{geometry_kml(geoms[i])}</Placemark>"
        )
    return marks


@dataclass
class _Block:
    key: str          # layer id or analysis result name
    title: str        # folder name
    marks: list[str]  # rendered placemarks
    part: int = 1
    parts: int = 1

    def folder(self) -> str:
        name = self.title if self.parts == 1 else _("{title} ({part} of {parts})").format(
            title=self.title, part=self.part, parts=self.parts)
        return f"<Folder><name>{escape(name)}</name>{''.join(self.marks)}</Folder>"


def _document(title: str, blocks: list[_Block], styles: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{escape(title)}</name>{styles}" + "\n".join(b.folder() for b in blocks) + "</Document></kml>\n"
    )


def _fit(blocks: list[_Block], title: str, styles: str, limits: Limits) -> list[list[_Block]]:
    """Split one file's blocks until each rendered file is within the byte limit."""
    text = _document(title, blocks, styles)
    if len(text.encode("utf-8")) <= limits.bytes_per_file:
        return [blocks]
    if len(blocks) > 1:
        half = len(blocks) // 2
        return _fit(blocks[:half], title, styles, limits) + _fit(blocks[half:], title, styles, limits)
    block = blocks[0]
    if len(block.marks) <= 1:
        raise ExportError(
            f"one placemark of '{block.title}' is larger than {limits.bytes_per_file:,} bytes of KML; "
            "simplify its geometry (e.g. in QGIS) and export again."
        )
    half = len(block.marks) // 2
    first = _Block(block.key, block.title, block.marks[:half])
    second = _Block(block.key, block.title, block.marks[half:])
    return _fit([first], title, styles, limits) + _fit([second], title, styles, limits)


def plan_files(layers: dict[str, list[str]], titles: dict[str, str], limits: Limits = MY_MAPS) -> list[list[_Block]]:
    """Group rendered placemarks per layer into files that My Maps accepts (no byte check)."""
    chunks = {
        key: [marks[i:i + limits.rows_per_layer] for i in range(0, len(marks), limits.rows_per_layer)]
        for key, marks in layers.items() if marks
    }
    rounds = max((len(c) for c in chunks.values()), default=0)
    files = []
    for k in range(rounds):
        blocks = [
            _Block(key, titles[key], parts[k], k + 1, len(parts)) for key, parts in chunks.items() if k < len(parts)
        ]
        for start in range(0, len(blocks), limits.layers_per_file):
            files.append(blocks[start:start + limits.layers_per_file])
    return files


def write_kml(
    features: gpd.GeoDataFrame,
    path: str | Path,
    *,
    kmz: bool | None = None,
    analysis: dict[str, Any] | None = None,
    title: str = "Creative Atlas export",
    limits: Limits = MY_MAPS,
) -> ExportResult:
    """Write features (and analysis map layers) as KML or KMZ files that My Maps imports.

    Parameters
    ----------
    features
        Canonical features (any CRS; written as WGS 84 lon/lat).
    path
        Target file; ``.kmz`` (or ``kmz=True``) zips each file as ``doc.kml``. When the
        export must be split, files are named ``<stem>-1-of-N<suffix>`` beside it.
    analysis
        Named analysis results; GeoDataFrames become extra folders after the layers.
    title
        The Document name (My Maps' map title).
    limits
        My Maps' limits; tests pass smaller ones.

    Returns
    -------
    ExportResult
        The files written, in order, and a message saying how (and why) it was split.
    """
    path = Path(path)
    kmz = path.suffix.lower() == ".kmz" if kmz is None else kmz
    frame = features.to_crs(CRS) if features.crs is not None and features.crs != CRS else features
    geoms = frame.geometry.values
    located = ~(geoms.isna() | geoms.is_empty)
    notes = []
    if (~located).sum():
        notes.append(_(
            "{count} feature(s) without a location (e.g. online networks) are not in the KML: "
            "My Maps needs a position for every row. The GeoJSON, GeoPackage and XLSX exports include them."
        ).format(count=int((~located).sum())))
    frame = frame[located]
    layers: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    styles = []
    for layer in layer_order(frame["layer"]):
        style_id = f"layer-{layer}"
        styles.append(_style(style_id, COLOURS.get(layer, "757575")))
        layers[layer] = _placemarks(frame[frame["layer"] == layer].reset_index(drop=True), style_id)
        titles[layer] = layer_title(layer)  # the folder name, in the current language
    for name, result in (analysis or {}).items():
        if not isinstance(result, gpd.GeoDataFrame) or result.empty:
            continue
        result = result.to_crs(CRS) if result.crs is not None and result.crs != CRS else result
        shaped = ~(result.geometry.isna() | result.geometry.is_empty)
        if name == "area_coverage" and not shaped.all():
            rows = ", ".join(map(str, result.loc[~shaped, "name"]))
            notes.append(_("{title}: {rows} has no shape and is not in the KML; the GeoJSON, GeoPackage, CSV "
                           "and XLSX exports include it.").format(title=layer_title(name), rows=rows))
        result = result[shaped].reset_index(drop=True)
        style_id = f"result-{name}"
        styles.append(_style(style_id, _ANALYSIS_COLOURS.get(name, "000000")))
        layers[name] = _placemarks(result, style_id)
        titles[name] = layer_title(name)
    style_text = "".join(styles)
    planned = plan_files(layers, titles, limits) or [[]]
    files = [fitted for blocks in planned for fitted in _fit(blocks, title, style_text, limits)]
    written = []
    for number, blocks in enumerate(files, start=1):
        doc_title = title if len(files) == 1 else _("{title} ({part} of {parts})").format(
            title=title, part=number, parts=len(files))
        target = path if len(files) == 1 else path.with_name(f"{path.stem}-{number}-of-{len(files)}{path.suffix}")
        text = _document(doc_title, blocks, style_text)
        if kmz:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("doc.kml", text)
            target.write_bytes(buffer.getvalue())
        else:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    rows = sum(len(m) for m in layers.values())
    kind = "KMZ" if kmz else "KML"
    if len(written) == 1:
        message = _("Wrote {rows} placemark(s) in {layers} layer(s) to {file}.").format(
            rows=rows, layers=len(layers), file=written[0].name)
    else:
        split = [f"{titles[k]} ({len(m):,} rows)" for k, m in layers.items() if len(m) > limits.rows_per_layer]
        reasons = [f"My Maps imports at most {limits.rows_per_layer:,} rows per layer"
                   + (f" ({'; '.join(split)} split into parts)" if split else ""),
                   f"{limits.layers_per_file} layers per map and {limits.bytes_per_file / 1024 / 1024:g} MB per file"]
        message = (
            f"Wrote {rows} placemark(s) in {len(written)} {kind} files ({', '.join(p.name for p in written)}) "
            f"because {', '.join(reasons)}. Import each file into My Maps (Add layer → Import); "
            "keep at most 10 layers per map."
        )
    return ExportResult(written, message, notes)
