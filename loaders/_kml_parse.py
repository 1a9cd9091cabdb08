"""Stream a KML file into placemark records and its folder tree: prolog check, namespace repair, XML errors."""
from __future__ import annotations

import codecs
import io
import re
import xml.etree.ElementTree as std_etree
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator, Sequence
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import errors as expat_errors

import defusedxml.ElementTree as safe_etree
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from i18n import Message, Text
from loaders._kml_elements import (
    CONTAINER,
    GX_NS,
    KML_NS,
    NETWORK_LINK,
    PLACEMARK,
    SKIP,
    Reader,
    element_text,
    tag_key,
)
from loaders._kml_fields import read_placemark
from loaders.errors import ImportFileError, UnsafeFileError, UnsupportedFileError
from loaders.features import Rejected

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


@dataclass(eq=False)  # hashed by identity: it also stands in for an element's tag
class Container:
    """A Document or Folder once it has ended: its name and what it held, in order."""

    kind: str
    name: str | None
    children: list[int | Container] = field(default_factory=list)


@dataclass
class Parsed:
    count: int  # placemarks read, rejected ones included; the reader holds their columns
    rejected: dict[int, Rejected]  # by placemark index
    top: list[int | Container]
    network_links: list[str]
    reader: Reader


class UnboundPrefix(Exception):
    def __init__(self, error: ParseError):
        super().__init__(str(error))
        self.error = error


def parse_with_declared_prefixes(data: bytes, label: str, error: ParseError) -> Parsed:
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
            return parse_kml(io.BytesIO(fixed), label)
        except UnboundPrefix as again:
            error = again.error
    line, column = error.position
    raise ImportFileError(Message(
        "{file}: not valid XML at line {line}, column {column}: a namespace prefix is used without "
        "being declared and could not be repaired. Open the file in Google Earth and save it again.",
        file=label, line=line, column=column + 1))


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


_DECLARED_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"']{0,100})["']""")
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "latin-1", "iso8859-1"})


def _check_encoding(head: bytes, label: str) -> None:
    """Refuse an XML declaration naming an encoding expat cannot read, with the fix.

    Expat reads UTF-8, UTF-16, ASCII and Latin-1 itself and any other single-byte text
    encoding Python knows (windows-1250, ISO-8859-2 …) through a 256-character table.
    A name Python does not know, a codec that is not a text encoding (``zlib``, ``rot13``)
    and multi-byte encodings (``utf-7``, ``shift_jis``) would end in LookupError or
    ValueError inside the parser; they are reported here instead.
    """
    match = _DECLARED_ENCODING.match(head)
    if match is None:
        return
    name = "".join(c if c.isprintable() else "?" for c in match.group(1).decode("ascii", "replace").strip())
    fix = Text("Open the file in a text editor and save it as UTF-8 (and write encoding=\"UTF-8\"), or export it "
               "again.")
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        raise ImportFileError(
            Message("{file}: the XML declaration names the encoding '{encoding}', which is not a known text "
                    "encoding. {fix}", file=label, encoding=name[:60], fix=fix)
        ) from None
    if info.name in _EXPAT_ENCODINGS:
        return
    if not getattr(info, "_is_text_encoding", True):
        raise ImportFileError(
            Message("{file}: the XML declaration names '{encoding}', which is not a text encoding. {fix}", file=label,
                    encoding=name[:60], fix=fix)
        )
    try:  # what pyexpat does for an encoding it does not know itself
        single_byte = len(bytes(range(256)).decode(info.name, "replace")) == 256
    except (UnicodeError, ValueError, LookupError, TypeError):
        single_byte = False
    if not single_byte:
        raise ImportFileError(
            Message("{file}: the XML declaration names the encoding '{encoding}', which the XML reader cannot decode "
                    "(it reads UTF-8, UTF-16 and single-byte encodings such as windows-1250). {fix}", file=label,
                    encoding=name[:60], fix=fix)
        )


def parse_kml(stream: IO[bytes], label: str) -> Parsed:
    """Stream through the KML, returning the placemarks (as the reader's columns) and the folder tree."""
    reader = Reader()
    roles = reader.roles
    local = reader.local
    rejected: dict[int, Rejected] = {}
    count = 0
    network_links: list[str] = []
    stream, plain = _checked_prolog(stream, label)
    events = _EndEvents(stream, plain)
    try:
        for batch in events:
            for _event, element in batch:
                role = roles.get(element.tag)
                if role is None:
                    role = reader.role(element.tag)
                if role == SKIP:
                    continue
                if role == PLACEMARK:
                    problem = read_placemark(element, reader, count)
                    if problem is not None:
                        rejected[count] = problem
                    element.clear()
                    element.tag = count  # the shell left in the parent says which placemark it was
                    count += 1
                elif role == CONTAINER:
                    container = Container(local(element.tag), None)
                    for child in element:
                        tag = child.tag
                        if tag.__class__ is int or tag.__class__ is Container:
                            container.children.append(tag)
                        elif container.name is None and local(tag) == "name":
                            container.name = element_text(child)
                    element.clear()
                    element.tag = container
                elif role == NETWORK_LINK:
                    network_links.append(_network_link_href(element, local))
                    element.clear()
                else:
                    element.clear()
        root = events.root
    except ParseError as exc:
        if getattr(exc, "code", None) == _UNBOUND_PREFIX:
            raise UnboundPrefix(exc) from None
        raise _xml_error(label, exc) from None
    except DTDForbidden:
        raise UnsafeFileError(
            Message("{file}: the file declares a DTD (<!DOCTYPE …>). KML never needs one, and DTDs are how 'billion "
                    "laughs' entity bombs and external-entity (XXE) attacks work, so the file was refused. Export the "
                    "map again from Google My Maps or Google Earth.", file=label)
        ) from None
    except EntitiesForbidden as exc:
        raise UnsafeFileError(
            Message("{file}: the file declares the XML entity '{name}'. KML never needs entity declarations (they are "
                    "used for entity-expansion attacks), so the file was refused. Export the map again.", file=label,
                    name=exc.name)
        ) from None
    except ExternalReferenceForbidden as exc:
        raise UnsafeFileError(
            Message("{file}: the file refers to an external entity ({sysid}); reading it could leak local files "
                    "(XXE), so the file was refused. Export the map again.", file=label, sysid=exc.sysid)
        ) from None
    except (LookupError, UnicodeError) as exc:  # an encoding _check_encoding could not see
        raise ImportFileError(
            Message("{file}: the file's text encoding cannot be read ({reason}). Open it in a text editor and save "
                    "it as UTF-8, or export it again.", file=label, reason=exc)
        ) from None
    except RecursionError:
        raise UnsafeFileError(
            Message("{file}: elements are nested too deeply to be a genuine export; the file was refused.",
                    file=label)
        ) from None
    if root is None:
        raise ImportFileError(Message("{file}: the XML ended before its root element closed. Export the file again.",
                                      file=label))
    if root.tag.__class__ is Container:
        root_name = root.tag.kind
    else:
        root_name = "Placemark" if root.tag.__class__ is int else local(root.tag)
    if root_name not in ("kml", "Document", "Folder", "Placemark"):
        raise UnsupportedFileError(
            Message("{file}: this is XML but not KML (its root element is <{root}>, expected <kml>). Export the map as "
                    "KML/KMZ from Google My Maps or Google Earth.", file=label, root=tag_key(root.tag))
        )
    if root.tag.__class__ is int or root.tag.__class__ is Container:
        top: list[int | Container] = [root.tag]
    else:
        top = [child.tag for child in root if child.tag.__class__ is int or child.tag.__class__ is Container]
    return Parsed(count, rejected, top, network_links, reader)


_CHUNK_BYTES = 1 << 16


class _EndEvents:
    """The parser's ("end", element) events, a batch per chunk of the file; `root` once it is read.

    For a file without a DTD the C parser's events are collected straight into a list that
    is handed over whole, rather than through iterparse's generator, which costs a Python
    call per element (1.3 million for 100,000 placemarks). Elements are the same, so are
    errors: they are raised by `feed`/`close` as iterparse raises them.
    """

    def __init__(self, stream: IO[bytes], plain: bool):
        self._stream, self._plain = stream, plain
        self.root: Any = None

    def __iter__(self) -> Iterator[Sequence[tuple[str, Any]]]:
        parser = std_etree.XMLParser(target=std_etree.TreeBuilder()) if self._plain else None
        if parser is None or not hasattr(parser, "_setevents"):
            yield from self._iterparse()
            return
        events: list[tuple[str, Any]] = []
        parser._setevents(events, ("end",))
        read = self._stream.read
        while True:
            data = read(_CHUNK_BYTES)
            if not data:
                break
            parser.feed(data)
            if events:
                yield events
                events.clear()
        self.root = parser.close()
        if events:
            yield events

    def _iterparse(self) -> Iterator[Sequence[tuple[str, Any]]]:
        if self._plain:
            iterator = std_etree.iterparse(self._stream, events=("end",))
        else:
            iterator = safe_etree.iterparse(
                self._stream, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        for event in iterator:
            yield (event,)
        self.root = iterator.root


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


def _checked_prolog(stream: IO[bytes], label: str) -> tuple[IO[bytes], bool]:
    """Look at everything before the root element; say whether the C parser is safe to use.

    Entity declarations and external references can only live in a DTD, and a DTD can only
    stand before the root element. So when that prolog holds no ``<!DOCTYPE``, the
    document cannot expand or fetch an entity (expat rejects undeclared ones) and the
    standard library's C-accelerated iterparse reads it about 1.3x faster than defusedxml's
    pure-Python parser. Otherwise (a DTD, an odd encoding, a prolog we can't see the end
    of) defusedxml reads it and refuses what it must.
    """
    head = stream.read(_PROLOG_BYTES)
    _check_encoding(head, label)
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


def _xml_error(label: str, exc: ParseError) -> ImportFileError:
    line, column = getattr(exc, "position", (0, -1))
    reason = str(exc).split(": line ")[0]
    if reason in ("no element found", "unclosed token"):
        return ImportFileError(Message(
            "{file}: not valid XML at line {line}, column {column} ({reason}): the file ends before "
            "the KML is complete, so it is empty or was cut short. Export or download it again.",
            file=label, line=line, column=column + 1, reason=reason))
    return ImportFileError(Message(
        "{file}: not valid XML at line {line}, column {column} ({reason}). The file is damaged, "
        "cut short or was edited by hand: export it again, or fix that line in a text editor.",
        file=label, line=line, column=column + 1, reason=reason))


def _network_link_href(element: Any, local: Callable[[Any], str]) -> str:
    for node in element.iter():
        if local(node.tag) == "href" and node.text and node.text.strip():
            return node.text.strip()
    return ""
