"""Turn an ended KML Placemark into a record: its fields, ExtendedData mapped to columns, layer and status."""
from __future__ import annotations

import re
from typing import Any

from i18n import Text
from loaders._kml_elements import (
    C_ADDRESS,
    C_COORDINATES,
    C_DATA,
    C_DESCRIPTION,
    C_DISPLAYNAME,
    C_EXTENDED,
    C_GEOMETRY,
    C_NAME,
    C_POINT,
    C_SCHEMADATA,
    C_STYLEURL,
    C_TIME,
    C_VALUE,
    C_VIEW,
    KML_ID,
    Reader,
    element_text,
    field_text,
    markup_text,
    tag_key,
)
from loaders._kml_geometry import BadGeometry, collect_parts, read_geometry
from loaders.features import Rejected
from loaders.layers import (
    EXISTING,
    PLANNED,
    UNCLASSIFIED,
    fold,
    layer_from_name,
    status_from_text,
)

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

_NAMED = "'{name}': {problem}"  # a placemark's name and its problem (no words to translate)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_BLANK = " \t\n\r"  # leading white space that `field_text` looks at


def put_field(attributes: dict[str, Any], key: str, value: Any) -> None:
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


def read_placemark(placemark: Any, reader: Reader, index: int) -> Rejected | None:
    """Read one ended Placemark element into the reader's columns; return a Rejected (without `where`) or None.

    This runs for every placemark, so the common cases of `field_text` (text without
    children) and of a plain Point are written out inline.
    """
    codes = reader.codes
    name = description = None
    attributes: dict[str, Any] = {}
    canonical: dict[str, list[str]] = {}
    geometries = []
    for child in placemark:
        code = codes.get(child.tag)
        if code is None:
            code = reader.code(child.tag)
        if code == C_NAME:
            if len(child):
                name = element_text(child)
            else:
                text = child.text
                if text:
                    text = text.rstrip()
                    if text and text[0] in _BLANK:
                        text = field_text(text)
                name = text or None
        elif code == C_DESCRIPTION:
            text = child.text if len(child) == 0 else markup_text(child)
            if text:
                text = text.rstrip()
                if text and text[0] in _BLANK:
                    text = field_text(text)
            description = text or None
        elif code == C_STYLEURL:
            if "styleUrl" in attributes:
                put_field(attributes, "styleUrl", (child.text or "").strip())
            else:
                attributes["styleUrl"] = (child.text or "").strip()
        elif code == C_EXTENDED:
            _read_extended_data(child, reader, attributes, canonical)
        elif code == C_POINT or code == C_GEOMETRY:
            geometries.append(child)
        elif code == C_VIEW:
            continue
        elif code == C_ADDRESS:
            value = element_text(child)
            if value:
                tag = reader.local(child.tag)
                put_field(attributes, tag, value)
                canonical.setdefault("address" if tag == "address" else "contact", []).append(value)
        elif code == C_TIME:
            for part in child:
                value = element_text(part)
                if value:
                    put_field(attributes, f"{reader.local(child.tag)}.{reader.local(part.tag)}", value)
        elif len(child) == 0:
            value = element_text(child)
            if value:
                put_field(attributes, tag_key(reader.local(child.tag)), value)
    own_id = (placemark.get("id") or placemark.get(KML_ID)) if placemark.attrib else None
    if own_id is not None:
        own_id = own_id.strip() or None
        if own_id in reader.seen_ids:
            # A repeated id (hand-edited files) must not make two places one: keep it as data.
            put_field(attributes, "id", own_id)
            own_id = None
        elif own_id:
            reader.seen_ids.add(own_id)
    if canonical:
        if name is None and canonical.get("_name"):
            name = canonical["_name"][0]
        if (description is None or not description.strip()) and canonical.get("_description"):
            description = canonical["_description"][0]

    geometry = xy = None
    if len(geometries) == 1 and codes.get(geometries[0].tag) == C_POINT:
        # A plain <Point><coordinates>lon,lat[,alt]: read here; anything else (out of range,
        # 0,0, NaN, no coordinates) goes to read_geometry, which gives the reason.
        for child in geometries[0]:
            code = codes.get(child.tag)
            if code is None:
                code = reader.code(child.tag)
            if code == C_COORDINATES:
                try:
                    parts = child.text.split(None, 1)[0].split(",")
                    lon, lat = float(parts[0]), float(parts[1])
                except (AttributeError, IndexError, ValueError):
                    break
                if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 and (lon or lat):
                    xy = lon, lat
                break
    if xy is not None:
        reader.point_items.append(index)
        reader.point_x.append(xy[0])
        reader.point_y.append(xy[1])
    elif not geometries:
        address = "; ".join(canonical.get("address", []))
        label = name or Text("unnamed placemark")
        return _rejected(reader, Rejected(
            "",
            Text("'{name}' has no geometry (no Point, LineString or Polygon). It has the address '{address}': place "
                 "it on the map and export again.", name=label, address=address) if address else
            Text("'{name}' has no geometry (no Point, LineString or Polygon). Place it on the map and export again.",
                 name=label),
            _raw(name, attributes, None),
        ))
    else:
        try:
            if len(geometries) == 1:
                geometry = read_geometry(geometries[0], reader.local, 0)
            else:
                geometry = collect_parts([read_geometry(g, reader.local, 0) for g in geometries])
        except BadGeometry as exc:
            return _rejected(reader, Rejected(
                "", Text(_NAMED, name=name or Text("unnamed placemark"), problem=exc.args[0]),
                _raw(name, attributes, geometries[0])
            ))
        reader.geometries[index] = geometry

    reader.names.append(name)
    reader.descriptions.append(description)
    reader.own_ids.append(own_id)
    reader.attributes.append(attributes)
    if canonical:
        fields = reader.fields
        for target, values in canonical.items():
            if target in _CANONICAL_TEXT:
                value = values[0] if len(values) == 1 else "; ".join(dict.fromkeys(values))
                if target in fields:
                    fields[target][index] = value
                else:
                    fields[target] = {index: value}
        if "layer" in canonical:
            layer = _layer_from_fields(canonical["layer"])
            if layer is not None:
                reader.layers[index] = layer
        texts, flags = canonical.get("status"), canonical.get("status_flag")
        if texts is not None or flags is not None:
            if flags is None and len(texts) == 1:
                # A Status column repeats a handful of values over the whole file.
                value = texts[0]
                cache = reader.status_of
                status = cache[value] if value in cache else cache.setdefault(value, _status_from_fields(texts, None))
            else:
                status = _status_from_fields(texts, flags)
            if status is not None:
                reader.status_values[index] = status
    return None


def _rejected(reader: Reader, rejected: Rejected) -> Rejected:
    """Keep the reader's columns one entry per placemark: a rejected one holds None."""
    reader.names.append(None)
    reader.descriptions.append(None)
    reader.own_ids.append(None)
    reader.attributes.append(None)
    return rejected


def _read_extended_data(
    extended: Any, reader: Reader, attributes: dict[str, Any], canonical: dict[str, list[str]]
) -> None:
    codes = reader.codes
    targets = reader.targets
    for child in extended:
        code = codes.get(child.tag)
        if code is None:
            code = reader.code(child.tag)
        if code == C_DATA:
            value = ""
            display = None
            for part in child:
                part_code = codes.get(part.tag)
                if part_code is None:
                    part_code = reader.code(part.tag)
                if part_code == C_VALUE:
                    text = part.text if len(part) == 0 else markup_text(part)
                    if text:  # field_text, inline
                        text = text.rstrip()
                        if text and text[0] in _BLANK:
                            text = field_text(text)
                    value = text or ""
                elif part_code == C_DISPLAYNAME:
                    display = element_text(part)
            key = child.get("name") or display or "Data"
            if display and display != key:
                put_field(attributes, f"{key} (displayName)", display)
            # Inline of _store_field: this runs for every field of every placemark.
            if key in attributes:
                put_field(attributes, key, value)
            else:
                attributes[key] = value
            if value:
                target = targets[key] if key in targets else _field_target(key, targets)
                if target:
                    if target in canonical:
                        canonical[target].append(value)
                    else:
                        canonical[target] = [value]
        elif code == C_SCHEMADATA:
            for part in child:
                if reader.local(part.tag) == "SimpleData":
                    value = field_text(part.text if len(part) == 0 else markup_text(part)) or ""
                    _store_field(part.get("name") or "SimpleData", value, attributes, canonical, targets)
        elif len(child) == 0:
            # Arbitrary XML in another namespace ("custom data" in the KML reference).
            _store_field(tag_key(child.tag), field_text(child.text) or "", attributes, canonical, targets)


def _store_field(
    key: str, value: str, attributes: dict[str, Any], canonical: dict[str, list[str]],
    targets: dict[str, str | None],
) -> None:
    if key in attributes:
        put_field(attributes, key, value)
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
        layer = layer_from_name(value)  # a canonical id ("hubs", "unclassified") maps to itself
        if layer != UNCLASSIFIED or fold(value) == UNCLASSIFIED:
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
        put_field(raw, key, value)
    return raw
