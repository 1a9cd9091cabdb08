"""Read Google My Maps and Google Earth KML/KMZ exports into canonical features.

The file is parsed as a stream with expat, asking only for "end" events. A file whose
prolog declares a DTD is read through ``defusedxml.ElementTree.iterparse``, which refuses
DTDs, entity declarations and external references; one without (every genuine export) is
read by the standard library's C parser, its events collected a chunk at a time, which is
safe there because entities can only be declared in a DTD (see
`loaders._kml_parse._checked_prolog`). Each Placemark is read into columns (name,
description, fields, coordinates …) when it ends and is then cleared, so memory does not
grow with the file; the cleared element stays in its parent as an empty shell whose tag
is replaced by the placemark's index, which is how a Folder, when it ends, learns which
placemarks (and which sub-folders) it held. Layers, statuses and ``source_ref`` are
resolved from that small folder tree at the end, and the columns go to
`loaders.features.build_features_from_columns` as they are.

Layer and status
    The layer comes from an ExtendedData field ``layer``/``Warstwa``/``Lager`` when its
    value names a layer, else from the nearest enclosing Folder whose name names one
    (Google Earth nests folders), else, for placemarks directly in the Document (a
    single-layer My Maps export), from the Document name; otherwise ``unclassified``.
    Status likewise: a ``status``/``Stan`` field, a ``Planerad``/``planned`` yes/no
    field, then the nearest folder name ("Hubs (planned)"); default existing.

Fields
    ExtendedData ``Data``/``SchemaData`` fields and other simple Placemark elements
    (``address``, ``phoneNumber``, ``Snippet``, ``TimeStamp`` …) all go to ``attributes``
    under their own names, as does ``styleUrl`` and the folder path (``folder``). Well-known
    field names in English, Swedish, Polish, German and Irish also fill the canonical
    columns (``Typ`` → kind, ``Strona www:`` → website, ``Miejscowość`` → town …), matched
    without regard to case, diacritics, spaces and a trailing colon. View settings
    (LookAt, Camera, Region, inline styles) are not kept. Text keeps its leading white
    space as written (``" =1"``, ``"&#9;=1"``); only trailing white space and the
    indentation of a pretty-printed file (leading white space holding a line break) go.

Refused or rejected
    A file whose XML declaration names an encoding the parser cannot read (unknown, not a
    text encoding, multi-byte other than UTF-8/16) is one `ImportFileError` asking for
    UTF-8. A Point at exactly 0, 0 is rejected as a placeholder, as the sheet loader does
    (`loaders.coords.placeholder_point`); a line or polygon vertex at 0, 0 is kept.

``source_ref`` convention
    ``folder 'Hubs' › placemark 3``: the 3rd Placemark (1-based, counting rejected ones)
    directly inside the folder; nested Google Earth folders give their path,
    ``folder 'Ireland/Hubs' › placemark 3``. Placemarks directly under the Document read
    ``document 'West hubs' › placemark 3`` (``document › placemark 3`` when it has no
    name), and placemarks outside any Document or Folder ``placemark 3``.
"""
from __future__ import annotations

import gc
import io
import zipfile
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterator

import numpy as np
import shapely

from i18n import Message, Text
from loaders import safe_zip
from loaders._kml_elements import GX_NS, KML_NS  # noqa: F401  (public constants, still importable from here)
from loaders._kml_fields import put_field
from loaders._kml_parse import (
    Container,
    Parsed,
    UnboundPrefix,
    parse_kml,
    parse_with_declared_prefixes,
)
from loaders.errors import ImportFileError, NetworkLinkOnlyError
from loaders.features import LoadResult, make_result_from_columns
from loaders.layers import UNCLASSIFIED, layer_from_name, status_from_text

__all__ = ["features_from_kml", "features_from_kmz"]

_MAX_PATH_FOLDERS = 20

# Joins translatable parts (no words of its own, so not in the catalogues).
_JOIN = "{a}{b}"
MY_MAPS_EXPORT_HELP = Text(
    "In Google My Maps open the map, use the ⋮ menu next to the map title → 'Export to KML/KMZ', "
    "choose the layer or 'Entire map', leave 'Keep data up to date with network link KML' UNticked, "
    "and import the file that downloads."
)


# ----------------------------------------------------------------------------- public API
def features_from_kml(data: bytes, source_file: str) -> LoadResult:
    """Read a KML file (Google My Maps or Google Earth export) into canonical features.

    Parameters
    ----------
    data
        The file content (UTF-8, UTF-16 or any encoding its XML declaration names).
    source_file
        The file name, recorded as provenance and used in messages.

    Returns
    -------
    LoadResult
        One feature per usable Placemark (geometry in EPSG:4326 lon/lat, altitudes
        dropped); Placemarks without usable geometry are in ``rejected`` with the reason.
        ``rows_read`` is the number of Placemarks.

    Raises
    ------
    ImportFileError
        Empty file, malformed XML (with line and column), or not KML at all.
    UnsafeFileError
        A DTD, entity declaration or external reference (billion laughs, XXE).
    NetworkLinkOnlyError
        The file only links to an online map (My Maps' "keep data up to date" export).
    """
    if not data:
        raise ImportFileError(Message("{file}: the file is empty (0 bytes). Export or download it again.",
                                      file=source_file))
    if data[:4] == b"PK\x03\x04":
        raise ImportFileError(Message(
            "{file}: this is a zip archive (a KMZ), not a plain KML. Rename it to .kmz and import it again.",
            file=source_file))
    return _load(lambda: io.BytesIO(data), lambda: data, source_file)


def features_from_kmz(data: bytes, source_file: str) -> LoadResult:
    """Read a KMZ (a zip holding ``doc.kml`` and images) into canonical features.

    The KML read is ``doc.kml``, else the first ``.kml`` at the top of the archive, else
    the first ``.kml`` anywhere. Images are never unpacked. The archive is refused when
    a member name is absolute or contains ``..``, or when the KML would unpack to more
    than 200 MB or more than declared (zip bomb). See `features_from_kml` for the rest.
    """
    if not data:
        raise ImportFileError(Message("{file}: the file is empty (0 bytes). Export or download it again.",
                                      file=source_file))
    hint = (
        Text("It looks like a plain KML file: rename it to .kml and import it again.")
        if data.lstrip()[:5] in (b"<?xml", b"<kml ", b"<kml>") or data[:3] == b"\xef\xbb\xbf"
        else Text("A KMZ is a zip holding doc.kml; export the map again from Google My Maps or Google Earth.")
    )
    archive = safe_zip.open_zip(data, source_file, what=Text("KMZ (a zip archive holding doc.kml)"), hint=hint)
    info = _pick_kml(archive, source_file)
    label = f"{source_file} ({info.filename})"
    return _load(
        lambda: safe_zip.open_member(archive, info, source_file),
        lambda: safe_zip.read_member(archive, info, source_file),
        source_file,
        label=label,
    )


# ----------------------------------------------------------------------------- driver
def _pick_kml(archive: zipfile.ZipFile, source_file: str) -> zipfile.ZipInfo:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    kmls = [i for i in infos if i.filename.lower().endswith(".kml")]
    for info in kmls:
        if info.filename.lower() == "doc.kml":
            return info
    top = [i for i in kmls if "/" not in i.filename.replace("\\", "/")]
    if top or kmls:
        return (top or kmls)[0]
    listed = ", ".join(i.filename for i in infos[:5]) or Text("nothing")
    more = Text(" and {count} more", count=len(infos) - 5) if len(infos) > 5 else ""
    raise ImportFileError(Message(
        "{file}: the KMZ holds no .kml file (found {listed}). "
        "Export the map again from Google My Maps (⋮ → Export to KML/KMZ) or Google Earth.",
        file=source_file, listed=Text(_JOIN, a=listed, b=more)))


@contextmanager
def _without_cyclic_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read, then restore it as it was.

    A 100,000-placemark file allocates millions of short-lived elements and event tuples
    that never form reference cycles (refcounting frees them); the collector's full passes
    over the growing folder tree found nothing to free and took a quarter of the parse.
    Nothing else is changed, and the collector is switched on again only by whoever
    switched it off, so concurrent reads cannot leave it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(
    open_stream: Callable[[], IO[bytes]], read_all: Callable[[], bytes], source_file: str, *, label: str | None = None
) -> LoadResult:
    """Parse, retrying with injected namespace declarations after an "unbound prefix" error."""
    label = label or source_file
    with _without_cyclic_collector():
        stream = open_stream()
        try:
            parsed = parse_kml(stream, label)
        except UnboundPrefix as first:
            parsed = parse_with_declared_prefixes(read_all(), label, first.error)
        finally:
            stream.close()
        return _result(parsed, source_file, label)


# ----------------------------------------------------------------------------- results
_READER_FIELDS = ("kind", "sectors", "helix", "address", "town", "country", "website", "contact")


def _result(parsed: Parsed, source_file: str, label: str) -> LoadResult:
    count, rejected = parsed.count, parsed.rejected
    if not count and parsed.network_links:
        links = ", ".join(link[:120] for link in parsed.network_links[:3] if link) or Text("an online map")
        raise NetworkLinkOnlyError(Message(
            "{file}: the file holds no places, only a network link to an online map ({links}); nothing is "
            "fetched from the internet. This is what My Maps exports when 'Keep data up to date with network "
            "link KML' is ticked. {help}", file=label, links=links, help=MY_MAPS_EXPORT_HELP))
    reader = parsed.reader
    attributes = reader.attributes
    # Where each placemark sits, by index: source_ref, folder as written, and the layer and
    # status of the nearest folder naming one (None: none does).
    refs: list[str | None] = [None] * count
    groups: list[str] = [""] * count
    layers: list[str | None] = [None] * count
    statuses: list[str | None] = [None] * count

    def place(index: int, ref: str, layer: str | None, status: str | None, folder: str | None) -> None:
        refs[index], layers[index], statuses[index] = ref, layer, status
        if folder:
            groups[index] = folder
            fields = attributes[index]
            put_field(rejected[index].raw if fields is None else fields, "folder", folder)

    # Walk the folder tree. Stack entries: node, the innermost folder names above it, its
    # folder depth, layer and status from the nearest folder that names one, is-the-document.
    stack: list[tuple[Any, tuple[str, ...], int, str | None, str | None, bool]] = []
    documents_seen = False
    for node in reversed(parsed.top):
        is_document = isinstance(node, Container) and node.kind == "Document" and not documents_seen
        documents_seen = documents_seen or is_document
        stack.append((node, (), 0, None, None, is_document))
    loose = 0
    while stack:
        node, path, depth, layer, status, is_document = stack.pop()
        if not isinstance(node, Container):  # a placemark outside any Document/Folder
            loose += 1
            place(node, f"placemark {loose}", layer, status, None)
            continue
        name = node.name
        own_layer = layer_from_name(name) if name else UNCLASSIFIED
        if is_document:
            here, folder = (), None
            ref_head = f"document '{name}'" if name else "document"
            direct_layer = own_layer if own_layer != UNCLASSIFIED else None
            direct_status = status_from_text(name)
            child_layer = child_status = None  # folders do not inherit the map's title
        else:
            # Only the innermost folders are named, so absurdly deep nesting stays linear.
            depth += 1
            here = (path + (name or "(unnamed folder)",))[-_MAX_PATH_FOLDERS:]
            folder = ("…/" if depth > _MAX_PATH_FOLDERS else "") + "/".join(here)
            ref_head = f"folder '{folder}'"
            direct_layer = child_layer = own_layer if own_layer != UNCLASSIFIED else layer
            direct_status = child_status = status_from_text(name) or status
        number = 0
        subfolders = []
        for child in node.children:
            if child.__class__ is Container:
                subfolders.append((child, here, depth, child_layer, child_status, False))
                continue
            number += 1
            place(child, f"{ref_head} › placemark {number}", direct_layer, direct_status, folder)
        stack.extend(reversed(subfolders))
    for index, ref in enumerate(refs):  # nested where no folder can claim them (malformed nesting)
        if ref is None:
            loose += 1
            place(index, f"placemark {loose} (outside any folder)", None, None, None)

    geometries = np.empty(count, dtype=object)
    if reader.point_items:
        geometries[reader.point_items] = shapely.points(reader.point_x, reader.point_y)
    for index, geometry in reader.geometries.items():
        geometries[index] = geometry
    field_layers, field_statuses = reader.layers, reader.status_values
    columns: dict[str, Any] = {
        "name": reader.names,
        "description": reader.descriptions,
        "own_id": reader.own_ids,
        "attributes": attributes,
        "geometry": geometries,
        "location_source": ["coordinates"] * count,
        "source_ref": refs,
        "group": groups,
        # A layer or status named by the placemark's own fields wins over its folder's.
        "layer": [field_layers.get(i, layer or UNCLASSIFIED) for i, layer in enumerate(layers)],
        "status": [field_statuses.get(i, status) for i, status in enumerate(statuses)],
    }
    for target in _READER_FIELDS:
        values = reader.fields.get(target)
        if values:
            columns[target] = list(map(values.get, range(count)))
    accepted = count
    if rejected:
        for index, problem in rejected.items():
            problem.where = refs[index]
        keep = [i for i in range(count) if i not in rejected]
        accepted = len(keep)
        columns = {key: [values[i] for i in keep] for key, values in columns.items()}
    result = make_result_from_columns(source_file, columns, accepted, list(rejected.values()), count)
    if parsed.network_links:
        result.notes.append(Text(
            "{file} also holds {count} network link(s) to online data; those were not "
            "fetched: only the places stored in the file were imported.", file=label, count=len(parsed.network_links)))
    return result
