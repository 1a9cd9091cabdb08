"""Read Google My Maps and Google Earth KML/KMZ exports into canonical features.

The file is parsed as a stream with expat, asking only for "end" events. A file whose
prolog declares a DTD is read through ``defusedxml.ElementTree.iterparse``, which refuses
DTDs, entity declarations and external references; one without (every genuine export) is
read by the standard library's C-accelerated iterparse, which is safe there because
entities can only be declared in a DTD (see `_checked_prolog`). Each Placemark is turned into a record when it ends and is then cleared,
so memory does not grow with the file; the cleared element stays in its parent as an
empty shell whose tag is replaced by the record's index, which is how a Folder, when it
ends, learns which placemarks (and which sub-folders) it held. Layers, statuses and
``source_ref`` are resolved from that small folder tree at the end.

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
    (LookAt, Camera, Region, inline styles) are not kept.

``source_ref`` convention
    ``folder 'Hubs' › placemark 3``: the 3rd Placemark (1-based, counting rejected ones)
    directly inside the folder; nested Google Earth folders give their path,
    ``folder 'Ireland/Hubs' › placemark 3``. Placemarks directly under the Document read
    ``document 'West hubs' › placemark 3`` (``document › placemark 3`` when it has no
    name), and placemarks outside any Document or Folder ``placemark 3``.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any, Callable
import xml.etree.ElementTree as std_etree
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import errors as expat_errors

import defusedxml.ElementTree as safe_etree
import shapely
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from loaders import safe_zip
from loaders.coords import check_point
from loaders.errors import ImportFileError, NetworkLinkOnlyError, UnsafeFileError, UnsupportedFileError
from loaders.features import LoadResult, Rejected, make_result
from loaders.layers import ALL_LAYERS, EXISTING, PLANNED, UNCLASSIFIED, fold, layer_from_name, status_from_text

__all__ = ["features_from_kml", "features_from_kmz"]

KML_NS = "http://www.opengis.net/kml/2.2"
GX_NS = "http://www.google.com/kml/ext/2.2"
_KML_ID = "{%s}id" % KML_NS
# Namespaces whose elements we read as KML: OGC 2.2/2.3 and Google's older 2.0–2.2.
_KML_NS_STARTS = (
    "http://www.opengis.net/kml/", "https://www.opengis.net/kml/",
    "http://earth.google.com/kml/", "https://earth.google.com/kml/",
)
_GX_NS_STARTS = ("http://www.google.com/kml/ext/", "https://www.google.com/kml/ext/")
# Declarations injected when a file uses a prefix it never declares (Google Earth opens those).
_WELL_KNOWN_PREFIXES = {
    "gx": GX_NS,
    "kml": KML_NS,
    "atom": "http://www.w3.org/2005/Atom",
    "xal": "urn:oasis:names:tc:ciq:xsdschema:xAL:2.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xsd": "http://www.w3.org/2001/XMLSchema",
    "xlink": "http://www.w3.org/1999/xlink",
}
_UNDECLARED_NS = "urn:creative-atlas:undeclared-prefix:"
_UNBOUND_PREFIX = expat_errors.codes[expat_errors.XML_ERROR_UNBOUND_PREFIX]
_MAX_PREFIX_RETRIES = 5
_MAX_GEOMETRY_DEPTH = 32
_MAX_PATH_FOLDERS = 20

MY_MAPS_EXPORT_HELP = (
    "In Google My Maps open the map, use the ⋮ menu next to the map title → 'Export to KML/KMZ', "
    "choose the layer or 'Entire map', leave 'Keep data up to date with network link KML' UNticked, "
    "and import the file that downloads."
)

# Roles of elements in the event loop.
_SKIP, _PLACEMARK, _CONTAINER, _NETWORK_LINK, _DISCARD = range(5)
_ROLES = {
    "Placemark": _PLACEMARK,
    "Folder": _CONTAINER,
    "Document": _CONTAINER,
    "NetworkLink": _NETWORK_LINK,
    # Styles and schemas are never read; clear them so a style-heavy file stays small.
    "Style": _DISCARD,
    "StyleMap": _DISCARD,
    "gx:CascadingStyle": _DISCARD,
    "Schema": _DISCARD,
    "GroundOverlay": _DISCARD,
    "ScreenOverlay": _DISCARD,
    "PhotoOverlay": _DISCARD,
}
_GEOMETRIES = frozenset(
    {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model", "gx:Track", "gx:MultiTrack"}
)
(
    _C_OTHER, _C_NAME, _C_DESCRIPTION, _C_STYLEURL, _C_EXTENDED, _C_POINT, _C_GEOMETRY, _C_VIEW,
    _C_ADDRESS, _C_TIME, _C_DATA, _C_VALUE, _C_DISPLAYNAME, _C_SCHEMADATA, _C_COORDINATES,
) = range(15)
# Placemark children that hold view settings or styling, not data someone typed.
_VIEW_ELEMENTS = frozenset(
    {"LookAt", "Camera", "Region", "Style", "StyleMap", "gx:CascadingStyle", "open",
     "gx:balloonVisibility", "drawOrder"}
)
_CODES: dict[str, int] = {
    "name": _C_NAME, "description": _C_DESCRIPTION, "styleUrl": _C_STYLEURL, "ExtendedData": _C_EXTENDED,
    "Point": _C_POINT, "address": _C_ADDRESS, "phoneNumber": _C_ADDRESS, "TimeStamp": _C_TIME,
    "TimeSpan": _C_TIME, "Data": _C_DATA, "value": _C_VALUE, "displayName": _C_DISPLAYNAME,
    "SchemaData": _C_SCHEMADATA, "coordinates": _C_COORDINATES,
    **{tag: _C_GEOMETRY for tag in _GEOMETRIES if tag != "Point"},
    **{tag: _C_VIEW for tag in _VIEW_ELEMENTS},
}

# ExtendedData field names (folded: lower case, no diacritics, letters and digits only)
# that fill canonical columns. The original field is kept in `attributes` as well.
_FIELD_ALIASES: dict[str, str] = {
    alias: target
    for target, aliases in {
        "kind": "kind typ type kategori kategoria category categories kategorie rodzaj",
        "sectors": "sectors sector sektor sektorer sektory sektoren bransch branza branche branchen",
        "website": "website web www url stronawww stronainternetowa webbplats hemsida webseite homepage",
        "address": "address adres adress adresse anschrift seoladh gatuadress",
        "town": "town city ort stad miejscowosc miasto stadt baile postort",
        "country": "country land kraj tir",
        "contact": (
            "contact kontakt email mail epost emailaddress telefon phone tel telephone telefonnummer "
            "phonenumber mobile mobil"
        ),
        "status": "status stan",
        "status_flag": "planerad planned planowane planowany geplant beartaithe",
        "helix": "helix quadruplehelix",
        "layer": "layer warstwa lager ebene sraith",
        "_description": "description opis beskrivning beschreibung",
        "_name": "name nazwa namn ainm",
    }.items()
    for alias in aliases.split()
}
_CANONICAL_TEXT = frozenset(("kind", "sectors", "website", "address", "town", "country", "contact", "helix"))
_YES = frozenset("ja yes tak y j x true 1 si sea planerad planned planowane geplant".split())
_NO = frozenset("nej no nie n false 0 nein nil".split())

_LOOSE_COMMA = re.compile(r"\s,|,\s")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


class _BadGeometry(Exception):
    """A placemark's geometry cannot be used; the message is the rejection reason."""


@dataclass(eq=False)  # hashed by identity: it also stands in for an element's tag
class _Container:
    """A Document or Folder once it has ended: its name and what it held, in order."""

    kind: str
    name: str | None
    children: list[int | _Container] = field(default_factory=list)


@dataclass
class _Parsed:
    items: list[Any]  # record dicts and Rejected, in document order
    top: list[int | _Container]
    network_links: list[str]
    reader: _Reader


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
        raise ImportFileError(f"{source_file}: the file is empty (0 bytes). Export or download it again.")
    if data[:4] == b"PK\x03\x04":
        raise ImportFileError(
            f"{source_file}: this is a zip archive (a KMZ), not a plain KML. Rename it to .kmz and import it again."
        )
    return _load(lambda: io.BytesIO(data), lambda: data, source_file)


def features_from_kmz(data: bytes, source_file: str) -> LoadResult:
    """Read a KMZ (a zip holding ``doc.kml`` and images) into canonical features.

    The KML read is ``doc.kml``, else the first ``.kml`` at the top of the archive, else
    the first ``.kml`` anywhere. Images are never unpacked. The archive is refused when
    a member name is absolute or contains ``..``, or when the KML would unpack to more
    than 200 MB or more than declared (zip bomb). See `features_from_kml` for the rest.
    """
    if not data:
        raise ImportFileError(f"{source_file}: the file is empty (0 bytes). Export or download it again.")
    hint = (
        "It looks like a plain KML file: rename it to .kml and import it again."
        if data.lstrip()[:5] in (b"<?xml", b"<kml ", b"<kml>") or data[:3] == b"\xef\xbb\xbf"
        else "A KMZ is a zip holding doc.kml; export the map again from Google My Maps or Google Earth."
    )
    archive = safe_zip.open_zip(data, source_file, what="KMZ (a zip archive holding doc.kml)", hint=hint)
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
    listed = ", ".join(i.filename for i in infos[:5]) or "nothing"
    more = f" and {len(infos) - 5} more" if len(infos) > 5 else ""
    raise ImportFileError(
        f"{source_file}: the KMZ holds no .kml file (found {listed}{more}). "
        "Export the map again from Google My Maps (⋮ → Export to KML/KMZ) or Google Earth."
    )


def _load(
    open_stream: Callable[[], IO[bytes]], read_all: Callable[[], bytes], source_file: str, *, label: str | None = None
) -> LoadResult:
    """Parse, retrying with injected namespace declarations after an "unbound prefix" error."""
    label = label or source_file
    stream = open_stream()
    try:
        parsed = _parse(stream, label)
    except _UnboundPrefix as first:
        parsed = _parse_with_declared_prefixes(read_all(), label, first.error)
    finally:
        stream.close()
    return _result(parsed, source_file, label)


class _UnboundPrefix(Exception):
    def __init__(self, error: ParseError):
        super().__init__(str(error))
        self.error = error


def _parse_with_declared_prefixes(data: bytes, label: str, error: ParseError) -> _Parsed:
    """Declare every prefix the file uses without declaring it on the root element, then parse.

    Google Earth opens files such as Earth Pro exports that write ``xsi:schemaLocation``
    without ``xmlns:xsi``; expat does not. Known prefixes get their real namespace (so
    ``gx:Track`` still reads as a track), unknown ones a private placeholder.
    """
    declared = {m.group(1) for m in re.finditer(rb"xmlns:([A-Za-z_][\w.\-]*)\s*=", data)}
    used = {m.group(1) for m in re.finditer(rb"</?([A-Za-z_][\w.\-]*):[A-Za-z_]", data)}
    used |= {m.group(1) for m in re.finditer(rb"\s([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*\s*=\s*[\"']", data)}
    missing = used - declared - {b"xml", b"xmlns"}
    added: set[bytes] = set()
    for _attempt in range(_MAX_PREFIX_RETRIES):
        if not missing:
            missing = _prefixes_near(data, error) - added - {b"xml", b"xmlns"}
            if not missing:
                break
        added |= missing
        fixed = _declare_on_root(data, added)
        if fixed is None:
            break
        missing = set()
        try:
            return _parse(io.BytesIO(fixed), label)
        except _UnboundPrefix as again:
            error = again.error
    line, column = error.position
    raise ImportFileError(
        f"{label}: not valid XML at line {line}, column {column + 1}: a namespace prefix is used without "
        "being declared and could not be repaired. Open the file in Google Earth and save it again."
    )


def _prefixes_near(data: bytes, error: ParseError) -> set[bytes]:
    line = error.position[0]
    lines = data.split(b"\n", line)
    text = lines[line - 1] if 0 < line <= len(lines) else b""
    found = {m.group(1) for m in re.finditer(rb"</?([A-Za-z_][\w.\-]*):[A-Za-z_]", text)}
    found |= {m.group(1) for m in re.finditer(rb"\s([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*\s*=", text)}
    return found


def _declare_on_root(data: bytes, prefixes: set[bytes]) -> bytes | None:
    position = 0
    while True:
        start = data.find(b"<", position)
        if start < 0:
            return None
        if data.startswith(b"<?", start):
            position = data.find(b"?>", start) + 2
        elif data.startswith(b"<!--", start):
            position = data.find(b"-->", start) + 3
        elif data.startswith(b"<!", start):
            position = data.find(b">", start) + 1
        else:
            break
        if position <= 1:
            return None
    match = re.compile(rb"<[A-Za-z_][\w.\-:]*").match(data, start)
    if match is None:
        return None
    declarations = b"".join(
        b' xmlns:%s="%s"' % (prefix, _namespace_for(prefix.decode("ascii")).encode()) for prefix in sorted(prefixes)
    )
    return data[: match.end()] + declarations + data[match.end():]


def _namespace_for(prefix: str) -> str:
    return _WELL_KNOWN_PREFIXES.get(prefix, _UNDECLARED_NS + prefix)


# ----------------------------------------------------------------------------- parsing
class _Reader:
    """Per-file caches: tag → local name and tag → code, ids seen, field-name targets, points."""

    def __init__(self) -> None:
        self.local_names: dict[Any, str] = {}
        self.codes: dict[Any, int] = {}
        self.roles: dict[Any, int] = {}
        self.seen_ids: set[str] = set()
        self.targets: dict[str, str | None] = {}
        # Points are built in one vectorised call at the end: (item index, lon, lat).
        self.point_items: list[int] = []
        self.point_x: list[float] = []
        self.point_y: list[float] = []
        # Attributes and geometries are kept beside the records, not in them, until the end:
        # a dict holding only text is not tracked by the garbage collector, which keeps the
        # collector's full passes over 100,000 live records from dominating the parse.
        self.attributes: list[dict[str, Any] | None] = []
        self.geometries: dict[int, Any] = {}

    def local(self, tag: Any) -> str:
        try:
            return self.local_names[tag]
        except KeyError:
            name = self.local_names[tag] = _local_name(tag)
            return name

    def code(self, tag: Any) -> int:
        code = self.codes[tag] = _CODES.get(self.local(tag), _C_OTHER)
        return code

    def role(self, tag: Any) -> int:
        role = self.roles[tag] = _ROLES.get(self.local(tag), _SKIP)
        return role


def _parse(stream: IO[bytes], label: str) -> _Parsed:
    """Stream through the KML, returning the records and the folder tree."""
    reader = _Reader()
    roles = reader.roles
    local = reader.local
    items: list[Any] = []
    network_links: list[str] = []
    stream, plain = _checked_prolog(stream)
    if plain:
        iterator = std_etree.iterparse(stream, events=("end",))
    else:
        iterator = safe_etree.iterparse(
            stream, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    try:
        for _event, element in iterator:
            role = roles.get(element.tag)
            if role is None:
                role = reader.role(element.tag)
            if role == _SKIP:
                continue
            if role == _PLACEMARK:
                index = len(items)
                item = _read_placemark(element, reader, index)
                items.append(item)
                if item.__class__ is Rejected:
                    reader.attributes.append(None)
                element.clear()
                element.tag = index  # the shell left in the parent says which item it was
            elif role == _CONTAINER:
                container = _Container(local(element.tag), None)
                for child in element:
                    tag = child.tag
                    if tag.__class__ is int or tag.__class__ is _Container:
                        container.children.append(tag)
                    elif container.name is None and local(tag) == "name":
                        container.name = _text(child)
                element.clear()
                element.tag = container
            elif role == _NETWORK_LINK:
                network_links.append(_network_link_href(element, local))
                element.clear()
            else:
                element.clear()
        root = iterator.root
    except ParseError as exc:
        if getattr(exc, "code", None) == _UNBOUND_PREFIX:
            raise _UnboundPrefix(exc) from None
        raise _xml_error(label, exc) from None
    except DTDForbidden:
        raise UnsafeFileError(
            f"{label}: the file declares a DTD (<!DOCTYPE …>). KML never needs one, and DTDs are how "
            "'billion laughs' entity bombs and external-entity (XXE) attacks work, so the file was refused. "
            "Export the map again from Google My Maps or Google Earth."
        ) from None
    except EntitiesForbidden as exc:
        raise UnsafeFileError(
            f"{label}: the file declares the XML entity '{exc.name}'. KML never needs entity declarations "
            "(they are used for entity-expansion attacks), so the file was refused. Export the map again."
        ) from None
    except ExternalReferenceForbidden as exc:
        raise UnsafeFileError(
            f"{label}: the file refers to an external entity ({exc.sysid}); reading it could leak local files "
            "(XXE), so the file was refused. Export the map again."
        ) from None
    except RecursionError:
        raise UnsafeFileError(
            f"{label}: elements are nested too deeply to be a genuine export; the file was refused."
        ) from None
    if root is None:
        raise ImportFileError(f"{label}: the XML ended before its root element closed. Export the file again.")
    if root.tag.__class__ is _Container:
        root_name = root.tag.kind
    else:
        root_name = "Placemark" if root.tag.__class__ is int else local(root.tag)
    if root_name not in ("kml", "Document", "Folder", "Placemark"):
        raise UnsupportedFileError(
            f"{label}: this is XML but not KML (its root element is <{_key(root.tag)}>, expected <kml>). "
            "Export the map as KML/KMZ from Google My Maps or Google Earth."
        )
    if root.tag.__class__ is int or root.tag.__class__ is _Container:
        top: list[int | _Container] = [root.tag]
    else:
        top = [child.tag for child in root if child.tag.__class__ is int or child.tag.__class__ is _Container]
    return _Parsed(items, top, network_links, reader)


class _Chained(io.RawIOBase):
    """The bytes already read from a stream, followed by the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._head):
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_PROLOG_BYTES = 1 << 16


def _checked_prolog(stream: IO[bytes]) -> tuple[IO[bytes], bool]:
    """Look at everything before the root element; say whether the C parser is safe to use.

    Entity declarations and external references can only live in a DTD, and a DTD can only
    stand before the root element. So when that prolog holds no ``<!DOCTYPE``, the
    document cannot expand or fetch an entity (expat rejects undeclared ones) and the
    standard library's C-accelerated iterparse reads it about 1.3x faster than defusedxml's
    pure-Python parser. Otherwise (a DTD, an odd encoding, a prolog we can't see the end
    of) defusedxml reads it and refuses what it must.
    """
    head = stream.read(_PROLOG_BYTES)
    chained = io.BufferedReader(_Chained(head, stream))
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        return chained, False  # UTF-16/32: our byte scan would not see the markup
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        start = head.find(b"<", position)
        if start < 0:
            return chained, False
        if head.startswith(b"<?", start):
            end = head.find(b"?>", start)
            position = end + 2
        elif head.startswith(b"<!--", start):
            end = head.find(b"-->", start)
            position = end + 3
        elif head.startswith(b"<!", start):
            return chained, False  # <!DOCTYPE …>: defusedxml decides
        else:
            return chained, True
        if end < 0:
            return chained, False


def _local_name(tag: Any) -> str:
    """``{kml ns}Point`` → ``Point``, ``{gx ns}Track`` → ``gx:Track``; foreign tags stay as they are."""
    if not isinstance(tag, str):
        return ""
    if tag[:1] != "{":
        return tag
    namespace, _, name = tag[1:].partition("}")
    if namespace.startswith(_KML_NS_STARTS):
        return name
    if namespace.startswith(_GX_NS_STARTS):
        return "gx:" + name
    return tag


def _key(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _xml_error(label: str, exc: ParseError) -> ImportFileError:
    line, column = getattr(exc, "position", (0, -1))
    reason = str(exc).split(": line ")[0]
    if reason in ("no element found", "unclosed token"):
        return ImportFileError(
            f"{label}: not valid XML at line {line}, column {column + 1} ({reason}): the file ends before "
            "the KML is complete, so it is empty or was cut short. Export or download it again."
        )
    return ImportFileError(
        f"{label}: not valid XML at line {line}, column {column + 1} ({reason}). The file is damaged, "
        "cut short or was edited by hand: export it again, or fix that line in a text editor."
    )


def _text(element: Any) -> str | None:
    text = element.text if len(element) == 0 else "".join(element.itertext())
    if text is None:
        return None
    text = text.strip()
    return text or None


def _markup(element: Any) -> str | None:
    """Return an element's content as text, serialising stray unescaped HTML tags inside it."""
    if len(element) == 0:
        return element.text
    parts = [_escape(element.text or "", False)]
    stack: list[Any] = [(child, False) for child in reversed(list(element))]
    while stack:
        node, closing = stack.pop()
        name = _key(node.tag)
        if closing:
            parts.append(f"</{name}>{_escape(node.tail or '', False)}")
            continue
        attrs = "".join(f' {_key(k)}="{_escape(str(v), True)}"' for k, v in node.attrib.items())
        parts.append(f"<{name}{attrs}>{_escape(node.text or '', False)}")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    return "".join(parts)


def _escape(text: str, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def _network_link_href(element: Any, local: Callable[[Any], str]) -> str:
    for node in element.iter():
        if local(node.tag) == "href" and node.text and node.text.strip():
            return node.text.strip()
    return ""


def _put(attributes: dict[str, Any], key: str, value: Any) -> None:
    """Store `value` under `key`, or ``key (2)``, ``key (3)``… when the key is already taken."""
    if key not in attributes:
        attributes[key] = value
        return
    n = 2
    while f"{key} ({n})" in attributes:
        n += 1
    attributes[f"{key} ({n})"] = value


def _field_target(name: str, cache: dict[str, str | None]) -> str | None:
    try:
        return cache[name]
    except KeyError:
        target = cache[name] = _FIELD_ALIASES.get(_NON_ALNUM.sub("", fold(name)))
        return target


def _fast_point(point: Any, reader: _Reader) -> tuple[float, float] | None:
    """Read a plain ``<Point><coordinates>lon,lat[,alt]`` quickly; None sends it to `_geometry`."""
    codes = reader.codes
    for child in point:
        code = codes.get(child.tag)
        if code is None:
            code = reader.code(child.tag)
        if code == _C_COORDINATES:
            try:
                parts = child.text.split(None, 1)[0].split(",")
                lon, lat = float(parts[0]), float(parts[1])
            except (AttributeError, IndexError, ValueError):
                return None
            if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
                return lon, lat
            return None
    return None


def _read_placemark(placemark: Any, reader: _Reader, index: int) -> dict[str, Any] | Rejected:
    """Turn one ended Placemark element into a record dict (or a Rejected without `where`)."""
    codes = reader.codes
    name = description = None
    attributes: dict[str, Any] = {}
    canonical: dict[str, list[str]] = {}
    geometries = []
    for child in placemark:
        code = codes.get(child.tag)
        if code is None:
            code = reader.code(child.tag)
        if code == _C_NAME:
            name = child.text
            if len(child) or name is None:
                name = _text(child)
            else:
                name = name.strip() or None
        elif code == _C_DESCRIPTION:
            description = child.text if len(child) == 0 else _markup(child)
        elif code == _C_STYLEURL:
            if "styleUrl" in attributes:
                _put(attributes, "styleUrl", (child.text or "").strip())
            else:
                attributes["styleUrl"] = (child.text or "").strip()
        elif code == _C_EXTENDED:
            _read_extended_data(child, reader, attributes, canonical)
        elif code == _C_POINT or code == _C_GEOMETRY:
            geometries.append(child)
        elif code == _C_VIEW:
            continue
        elif code == _C_ADDRESS:
            value = _text(child)
            if value:
                tag = reader.local(child.tag)
                _put(attributes, tag, value)
                canonical.setdefault("address" if tag == "address" else "contact", []).append(value)
        elif code == _C_TIME:
            for part in child:
                value = _text(part)
                if value:
                    _put(attributes, f"{reader.local(child.tag)}.{reader.local(part.tag)}", value)
        elif len(child) == 0:
            value = _text(child)
            if value:
                _put(attributes, _key(reader.local(child.tag)), value)
    own_id = (placemark.get("id") or placemark.get(_KML_ID)) if placemark.attrib else None
    if own_id is not None:
        own_id = own_id.strip() or None
        if own_id in reader.seen_ids:
            # A repeated id (hand-edited files) must not make two places one: keep it as data.
            _put(attributes, "id", own_id)
            own_id = None
        elif own_id:
            reader.seen_ids.add(own_id)
    if canonical:
        if name is None and canonical.get("_name"):
            name = canonical["_name"][0]
        if (description is None or not description.strip()) and canonical.get("_description"):
            description = canonical["_description"][0]

    geometry = None
    xy = None
    if len(geometries) == 1 and codes.get(geometries[0].tag) == _C_POINT:
        xy = _fast_point(geometries[0], reader)
    if xy is not None:
        reader.point_items.append(index)
        reader.point_x.append(xy[0])
        reader.point_y.append(xy[1])
    elif not geometries:
        address = "; ".join(canonical.get("address", []))
        hint = f" It has the address '{address}': place it on the map" if address else " Place it on the map"
        return Rejected(
            "",
            f"'{name or 'unnamed placemark'}' has no geometry (no Point, LineString or Polygon).{hint} "
            "and export again.",
            _raw(name, attributes, None),
        )
    else:
        try:
            if len(geometries) == 1:
                geometry = _geometry(geometries[0], reader.local, 0)
            else:
                geometry = _collect([_geometry(g, reader.local, 0) for g in geometries])
        except _BadGeometry as exc:
            return Rejected("", f"'{name or 'unnamed placemark'}': {exc}", _raw(name, attributes, geometries[0]))

    reader.attributes.append(attributes)
    if geometry is not None:
        reader.geometries[index] = geometry
    record: dict[str, Any] = {
        "name": name,
        "description": description,
        "location_source": "coordinates",
        "own_id": own_id,
        "layer": None,
        "status": None,
    }
    if canonical:
        for target, values in canonical.items():
            if target in _CANONICAL_TEXT:
                record[target] = values[0] if len(values) == 1 else "; ".join(dict.fromkeys(values))
        if "layer" in canonical:
            record["layer"] = _layer_from_fields(canonical["layer"])
        if "status" in canonical or "status_flag" in canonical:
            record["status"] = _status_from_fields(canonical.get("status"), canonical.get("status_flag"))
    return record


def _read_extended_data(
    extended: Any, reader: _Reader, attributes: dict[str, Any], canonical: dict[str, list[str]]
) -> None:
    codes = reader.codes
    targets = reader.targets
    for child in extended:
        code = codes.get(child.tag)
        if code is None:
            code = reader.code(child.tag)
        if code == _C_DATA:
            value = ""
            display = None
            for part in child:
                part_code = codes.get(part.tag)
                if part_code is None:
                    part_code = reader.code(part.tag)
                if part_code == _C_VALUE:
                    value = part.text if len(part) == 0 else _markup(part)
                    value = value.strip() if value else ""
                elif part_code == _C_DISPLAYNAME:
                    display = _text(part)
            key = child.get("name") or display or "Data"
            if display and display != key:
                _put(attributes, f"{key} (displayName)", display)
            # Inline of _store_field: this runs for every field of every placemark.
            if key in attributes:
                _put(attributes, key, value)
            else:
                attributes[key] = value
            if value:
                target = targets[key] if key in targets else _field_target(key, targets)
                if target:
                    if target in canonical:
                        canonical[target].append(value)
                    else:
                        canonical[target] = [value]
        elif code == _C_SCHEMADATA:
            for part in child:
                if reader.local(part.tag) == "SimpleData":
                    value = part.text if len(part) == 0 else _markup(part)
                    _store_field(part.get("name") or "SimpleData", value.strip() if value else "",
                                 attributes, canonical, targets)
        elif len(child) == 0:
            # Arbitrary XML in another namespace ("custom data" in the KML reference).
            _store_field(_key(child.tag), (child.text or "").strip(), attributes, canonical, targets)


def _store_field(
    key: str, value: str, attributes: dict[str, Any], canonical: dict[str, list[str]],
    targets: dict[str, str | None],
) -> None:
    if key in attributes:
        _put(attributes, key, value)
    else:
        attributes[key] = value
    if value:
        target = targets[key] if key in targets else _field_target(key, targets)
        if target:
            if target in canonical:
                canonical[target].append(value)
            else:
                canonical[target] = [value]


def _layer_from_fields(values: list[str] | None) -> str | None:
    """An ExtendedData layer value wins over the folder when it names a layer."""
    for value in values or ():
        if fold(value) in ALL_LAYERS:
            return fold(value)
        layer = layer_from_name(value)
        if layer != UNCLASSIFIED:
            return layer
    return None


def _status_from_fields(texts: list[str] | None, flags: list[str] | None) -> str | None:
    for value in texts or ():
        status = status_from_text(value)
        if status:
            return status
    for value in flags or ():
        folded = fold(value).strip(" .!")
        if folded in _YES:
            return PLANNED
        if folded in _NO:
            return EXISTING
        status = status_from_text(value)
        if status:
            return status
    return None


def _raw(name: str | None, attributes: dict[str, Any], geometry: Any) -> dict[str, Any]:
    """What a rejected placemark held: name, coordinate text (cut at 500 characters), fields."""
    raw: dict[str, Any] = {"name": name}
    if geometry is not None:
        coordinates = [
            node.text.strip() for node in geometry.iter() if isinstance(node.text, str) and node.text.strip()
        ]
        raw["coordinates"] = " ".join(coordinates)[:500]
    for key, value in attributes.items():
        _put(raw, key, value)
    return raw


# ----------------------------------------------------------------------------- geometry
def _coordinates(text: str | None, what: str) -> list[tuple[float, float]]:
    """Parse a KML ``<coordinates>`` text ("lon,lat[,alt]" tuples separated by white space)."""
    if not text or not text.strip():
        raise _BadGeometry(f"the {what} has no coordinates. Place it on the map again and export.")
    if _LOOSE_COMMA.search(text):
        text = re.sub(r"\s*,\s*", ",", text)
    points = []
    for token in text.split():
        parts = token.split(",")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            raise _BadGeometry(
                f"the {what} coordinates '{token[:60]}' are not 'longitude,latitude[,altitude]' numbers. "
                "Fix them in Google Earth or a text editor."
            ) from None
    for lon, lat in points:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            problem = check_point(lat, lon)
            if problem:
                where = "is at" if what == "Point" else "has a vertex at"
                problem = problem.replace(": check the column order.", ".")
                raise _BadGeometry(
                    f"the {what} {where} longitude {lon}, latitude {lat}: {problem} KML writes longitude "
                    "first; if the file was made from a spreadsheet, its columns may have been swapped there. "
                    "Fix the point in Google Earth or My Maps and export again."
                )
    return points


def _child(element: Any, name: str, local: Callable[[Any], str]) -> Any:
    for child in element:
        if local(child.tag) == name:
            return child
    return None


def _children(element: Any, name: str, local: Callable[[Any], str]) -> list[Any]:
    return [child for child in element if local(child.tag) == name]


def _ring(element: Any, local: Callable[[Any], str], what: str) -> list[tuple[float, float]]:
    ring = _child(element, "LinearRing", local) if local(element.tag) != "LinearRing" else element
    if ring is None:
        raise _BadGeometry(f"the {what} has no LinearRing. Redraw the shape and export again.")
    coordinates = _child(ring, "coordinates", local)
    points = _coordinates(coordinates.text if coordinates is not None else None, what)
    if len(set(points)) < 3:
        raise _BadGeometry(f"the {what} has fewer than 3 distinct points. Redraw the shape and export again.")
    if points[0] != points[-1]:
        points.append(points[0])
    return points


def _geometry(element: Any, local: Callable[[Any], str], depth: int) -> Any:
    """Build a shapely geometry (lon/lat) from a KML geometry element; raise _BadGeometry."""
    tag = local(element.tag)
    if tag == "Point":
        coordinates = _child(element, "coordinates", local)
        lon, lat = _coordinates(coordinates.text if coordinates is not None else None, "Point")[0]
        return shapely.Point(lon, lat)
    if tag == "LineString":
        coordinates = _child(element, "coordinates", local)
        points = _coordinates(coordinates.text if coordinates is not None else None, "LineString")
        if len(points) < 2:
            raise _BadGeometry("the LineString has fewer than 2 points. Redraw the line and export again.")
        return shapely.LineString(points)
    if tag == "LinearRing":
        # A ring on its own is an outline, not an area: keep it as a closed LineString.
        return shapely.LineString(_ring(element, local, "LinearRing"))
    if tag == "Polygon":
        outer = _child(element, "outerBoundaryIs", local)
        if outer is None:
            raise _BadGeometry("the Polygon has no outer boundary. Redraw the shape and export again.")
        shell = _ring(outer, local, "Polygon outer boundary")
        holes = [
            _ring(ring, local, "Polygon inner boundary")
            for inner in _children(element, "innerBoundaryIs", local)
            for ring in _children(inner, "LinearRing", local)
        ]
        return shapely.Polygon(shell, holes)
    if tag in ("MultiGeometry", "gx:MultiTrack"):
        if depth >= _MAX_GEOMETRY_DEPTH:
            raise _BadGeometry(f"the {tag} is nested more than {_MAX_GEOMETRY_DEPTH} levels deep.")
        parts = [_geometry(child, local, depth + 1) for child in element if local(child.tag) in _GEOMETRIES]
        if not parts:
            raise _BadGeometry(f"the {tag} holds no geometry. Add a shape and export again.")
        return _collect(parts)
    if tag == "gx:Track":
        points = []
        for child in element:
            if local(child.tag) == "gx:coord" and child.text:
                values = child.text.split()
                try:
                    points.append((float(values[0]), float(values[1])))
                except (ValueError, IndexError):
                    raise _BadGeometry(
                        f"the gx:Track coordinate '{child.text.strip()[:60]}' is not 'longitude latitude altitude'."
                    ) from None
        if not points:
            raise _BadGeometry("the gx:Track has no gx:coord points.")
        _coordinates(" ".join(f"{x!r},{y!r}" for x, y in points), "gx:Track")  # range check
        return shapely.Point(points[0]) if len(points) == 1 else shapely.LineString(points)
    if tag == "Model":
        location = _child(element, "Location", local)
        lon = _child(location, "longitude", local) if location is not None else None
        lat = _child(location, "latitude", local) if location is not None else None
        if lon is None or lat is None:
            raise _BadGeometry("the 3D Model has no Location longitude/latitude.")
        x, y = _coordinates(f"{(lon.text or '').strip()},{(lat.text or '').strip()}", "Model location")[0]
        return shapely.Point(x, y)
    raise _BadGeometry(f"the geometry <{tag}> is not supported.")


def _collect(parts: list[Any]) -> Any:
    """Combine parts into MultiPoint/MultiLineString/MultiPolygon, or a GeometryCollection when mixed."""
    flat = []
    for part in parts:
        if part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            flat.extend(part.geoms)
        else:
            flat.append(part)
    kinds = {part.geom_type for part in flat}
    if kinds == {"Point"}:
        return shapely.MultiPoint(flat)
    if kinds == {"LineString"}:
        return shapely.MultiLineString(flat)
    if kinds == {"Polygon"}:
        return shapely.MultiPolygon(flat)
    return shapely.GeometryCollection(flat)


# ----------------------------------------------------------------------------- results
def _result(parsed: _Parsed, source_file: str, label: str) -> LoadResult:
    items = parsed.items
    if not items and parsed.network_links:
        links = ", ".join(link[:120] for link in parsed.network_links[:3] if link) or "an online map"
        raise NetworkLinkOnlyError(
            f"{label}: the file holds no places, only a network link to an online map ({links}); "
            "nothing is fetched from the internet. This is what My Maps exports when "
            f"'Keep data up to date with network link KML' is ticked. {MY_MAPS_EXPORT_HELP}"
        )
    placed = [False] * len(items)
    reader = parsed.reader
    attributes = reader.attributes
    # Walk the folder tree. Stack entries: node, the innermost folder names above it, its
    # folder depth, layer and status from the nearest folder that names one, is-the-document.
    stack: list[tuple[Any, tuple[str, ...], int, str | None, str | None, bool]] = []
    documents_seen = False
    for node in reversed(parsed.top):
        is_document = isinstance(node, _Container) and node.kind == "Document" and not documents_seen
        documents_seen = documents_seen or is_document
        stack.append((node, (), 0, None, None, is_document))
    loose = 0
    while stack:
        node, path, depth, layer, status, is_document = stack.pop()
        if not isinstance(node, _Container):  # a placemark outside any Document/Folder
            loose += 1
            _place(items, node, f"placemark {loose}", layer, status, None, placed, attributes)
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
            if isinstance(child, _Container):
                subfolders.append((child, here, depth, child_layer, child_status, False))
            else:
                number += 1
                _place(items, child, f"{ref_head} › placemark {number}", direct_layer, direct_status, folder,
                       placed, attributes)
        stack.extend(reversed(subfolders))
    for index, done in enumerate(placed):  # nested where no folder can claim them (malformed nesting)
        if not done:
            loose += 1
            _place(items, index, f"placemark {loose} (outside any folder)", None, None, None, placed, attributes)

    for index, point in zip(reader.point_items, shapely.points(reader.point_x, reader.point_y)):
        items[index]["geometry"] = point
    for index, geometry in reader.geometries.items():
        items[index]["geometry"] = geometry
    records, rejected = [], []
    for item, fields in zip(items, attributes):
        if item.__class__ is Rejected:
            rejected.append(item)
        else:
            item["attributes"] = fields
            records.append(item)
    result = make_result(source_file, records, rejected, len(items))
    if parsed.network_links:
        result.notes.append(
            f"{label} also holds {len(parsed.network_links)} network link(s) to online data; those were not "
            "fetched: only the places stored in the file were imported."
        )
    return result


def _place(
    items: list[Any], index: int, ref: str, layer: str | None, status: str | None, folder: str | None,
    placed: list[bool], attributes: list[dict[str, Any] | None],
) -> None:
    item = items[index]
    placed[index] = True
    if isinstance(item, Rejected):
        item.where = ref
        if folder:
            _put(item.raw, "folder", folder)
        return
    item["source_ref"] = ref
    if item["layer"] is None:
        item["layer"] = layer or UNCLASSIFIED
    if item["status"] is None:
        item["status"] = status
    if folder:
        _put(attributes[index], "folder", folder)
