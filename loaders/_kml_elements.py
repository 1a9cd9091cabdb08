"""Name the KML elements the reader meets: namespaces, tag roles and codes, per-file caches, element text."""
from __future__ import annotations

from typing import Any

KML_NS = "http://www.opengis.net/kml/2.2"
GX_NS = "http://www.google.com/kml/ext/2.2"
KML_ID = "{%s}id" % KML_NS
# Namespaces whose elements we read as KML: OGC 2.2/2.3 and Google's older 2.0–2.2.
_KML_NS_STARTS = (
    "http://www.opengis.net/kml/", "https://www.opengis.net/kml/",
    "http://earth.google.com/kml/", "https://earth.google.com/kml/",
)
_GX_NS_STARTS = ("http://www.google.com/kml/ext/", "https://www.google.com/kml/ext/")

# Roles of elements in the event loop.
SKIP, PLACEMARK, CONTAINER, NETWORK_LINK, _DISCARD = range(5)
_ROLES = {
    "Placemark": PLACEMARK,
    "Folder": CONTAINER,
    "Document": CONTAINER,
    "NetworkLink": NETWORK_LINK,
    # Styles and schemas are never read; clear them so a style-heavy file stays small.
    "Style": _DISCARD,
    "StyleMap": _DISCARD,
    "gx:CascadingStyle": _DISCARD,
    "Schema": _DISCARD,
    "GroundOverlay": _DISCARD,
    "ScreenOverlay": _DISCARD,
    "PhotoOverlay": _DISCARD,
}
GEOMETRIES = frozenset(
    {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model", "gx:Track", "gx:MultiTrack"}
)
(
    _C_OTHER, C_NAME, C_DESCRIPTION, C_STYLEURL, C_EXTENDED, C_POINT, C_GEOMETRY, C_VIEW,
    C_ADDRESS, C_TIME, C_DATA, C_VALUE, C_DISPLAYNAME, C_SCHEMADATA, C_COORDINATES,
) = range(15)
# Placemark children that hold view settings or styling, not data someone typed.
_VIEW_ELEMENTS = frozenset(
    {"LookAt", "Camera", "Region", "Style", "StyleMap", "gx:CascadingStyle", "open",
     "gx:balloonVisibility", "drawOrder"}
)
_CODES: dict[str, int] = {
    "name": C_NAME, "description": C_DESCRIPTION, "styleUrl": C_STYLEURL, "ExtendedData": C_EXTENDED,
    "Point": C_POINT, "address": C_ADDRESS, "phoneNumber": C_ADDRESS, "TimeStamp": C_TIME,
    "TimeSpan": C_TIME, "Data": C_DATA, "value": C_VALUE, "displayName": C_DISPLAYNAME,
    "SchemaData": C_SCHEMADATA, "coordinates": C_COORDINATES,
    **{tag: C_GEOMETRY for tag in GEOMETRIES if tag != "Point"},
    **{tag: C_VIEW for tag in _VIEW_ELEMENTS},
}


class Reader:
    """Per-file caches: tag → local name and tag → code, ids seen, field-name targets, points."""

    def __init__(self) -> None:
        self.local_names: dict[Any, str] = {}
        self.codes: dict[Any, int] = {}
        self.roles: dict[Any, int] = {}
        self.seen_ids: set[str] = set()
        self.targets: dict[str, str | None] = {}
        self.status_of: dict[str, str | None] = {}  # a Status field's value -> existing/planned/None
        # Placemarks are read into columns, one entry per placemark in document order (None
        # for a rejected one): a list append costs less than a dict per placemark that
        # `loaders.features` would then take apart again, key by key.
        self.names: list[str | None] = []
        self.descriptions: list[str | None] = []
        self.own_ids: list[str | None] = []
        self.attributes: list[dict[str, Any] | None] = []
        # Sparse columns, by placemark index: canonical fields filled from ExtendedData
        # (kind, website …) and the layer and status those fields name.
        self.fields: dict[str, dict[int, str]] = {}
        self.layers: dict[int, str] = {}
        self.status_values: dict[int, str] = {}
        # Points are built in one vectorised call at the end: (item index, lon, lat).
        self.point_items: list[int] = []
        self.point_x: list[float] = []
        self.point_y: list[float] = []
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
        role = self.roles[tag] = _ROLES.get(self.local(tag), SKIP)
        return role


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


def tag_key(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def field_text(text: str | None) -> str | None:
    """Return text as its author wrote it: None when blank, trailing white space trimmed.

    Leading white space is kept (``" =1"``, ``"&#9;=1"`` and ``"&#13;=1"`` stay as written)
    unless it holds a line break: that is the indentation of a pretty-printed file
    (``<name>\n      Hub</name>``), not part of the value. The XML parser turns a raw
    carriage return into a line break, so only an escaped one (``&#13;``) survives.
    """
    if not text:
        return None
    text = text.rstrip()
    if not text:
        return None
    if text[0] in " \t\n\r":
        body = text.lstrip()
        if "\n" in text[: len(text) - len(body)]:
            return body
    return text


def element_text(element: Any) -> str | None:
    """An element's text content (`field_text`), children's text included."""
    return field_text(element.text if len(element) == 0 else "".join(element.itertext()))


def markup_text(element: Any) -> str | None:
    """Return an element's content as text, serialising stray unescaped HTML tags inside it."""
    if len(element) == 0:
        return element.text
    parts = [_escape(element.text or "", False)]
    stack: list[Any] = [(child, False) for child in reversed(list(element))]
    while stack:
        node, closing = stack.pop()
        name = tag_key(node.tag)
        if closing:
            parts.append(f"</{name}>{_escape(node.tail or '', False)}")
            continue
        attrs = "".join(f' {tag_key(k)}="{_escape(str(v), True)}"' for k, v in node.attrib.items())
        parts.append(f"<{name}{attrs}>{_escape(node.text or '', False)}")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    return "".join(parts)


def _escape(text: str, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text
