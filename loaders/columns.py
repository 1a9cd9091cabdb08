"""The column alias table: spreadsheet headers in English, Swedish, Polish, German, Irish to fields."""
from __future__ import annotations

import re

from loaders.layers import fold

NAME, ADDRESS, TOWN, COUNTRY, KIND, LAYER, STATUS = "name", "address", "town", "country", "kind", "layer", "status"
SECTORS, HELIX, WEBSITE, CONTACT, DESCRIPTION = "sectors", "helix", "website", "contact", "description"
LAT, LON, PAIR, ID = "latitude", "longitude", "pair", "id"

# Headers after `normalize_header` (folded, punctuation to spaces, parentheses dropped).
# Matching is exact on the whole header, so "Sector type" (helix) never becomes "Sector".
_ALIASES: dict[str, tuple[str, ...]] = {
    NAME: (
        "name", "names", "namn", "nazwa", "ainm", "organisation", "organization", "organisations",
        "org", "organisation name", "organization name", "name of organisation",
        "name of organization", "company", "company name", "business name", "venue", "venue name",
        "hub name", "organisationsnamn", "organisation namn", "namn pa organisation",
        "foretag", "foretagsnamn", "foretagets namn", "aktor", "verksamhet", "nazwa organizacji",
        "nazwa firmy", "nazwa instytucji", "nazwa podmiotu", "podmiot", "organizacja", "instytucja",
        "firma", "bezeichnung", "einrichtung", "name der organisation", "ainm na heagraiochta",
    ),
    ADDRESS: (
        "address", "adress", "adres", "adresse", "gatuadress", "besoksadress", "postadress",
        "ulica", "street", "street address", "street name", "gata", "strasse", "anschrift",
        "seoladh", "address line 1", "address 1",
    ),
    TOWN: (
        "town", "city", "ort", "stad", "kommun", "miejscowosc", "miasto", "gmina", "stadt",
        "town city", "city town", "municipality", "locality", "village", "postort", "gemeinde",
        "baile", "ort stad", "tatort", "miejscowosc gmina",
    ),
    COUNTRY: (
        "country", "land", "kraj", "staat", "tir", "country code", "cc", "landskod", "kod kraju",
    ),
    KIND: (
        "type", "typ", "kind", "art", "rodzaj", "type of organisation", "type of organization",
        "organisation type", "organization type", "verksamhetstyp", "typ av verksamhet",
        "typ organizacji", "rodzaj dzialalnosci", "rodzaj podmiotu", "cineal",
    ),
    LAYER: (
        "layer", "category", "kategori", "kategoria", "kategorie", "warstwa", "lager", "ebene",
        "map layer", "sraith", "catagoir",
    ),
    STATUS: (
        "status", "stan", "planned", "planerad", "planerat", "planowany", "planowane", "planowana",
        "geplant", "existing planned", "existing or planned", "befintlig planerad", "stadie",
    ),
    SECTORS: (
        "sector", "sectors", "sektor", "sektorer", "sektory", "bransch", "branscher", "branza",
        "branze", "branche", "branchen", "creative sector", "creative sectors", "sub sector",
        "sub sectors", "subsector", "subsectors", "dziedzina", "earnail",
    ),
    HELIX: (
        "helix", "sector type", "quadruple helix", "helix sector", "helix type", "typ sektora",
        "sektorstyp", "sektor typ",
    ),
    WEBSITE: (
        "website", "web", "url", "hemsida", "webbplats", "strona www", "strona", "www", "homepage",
        "home page", "webseite", "web site", "link", "lank", "suiomh greasain", "strona internetowa",
    ),
    CONTACT: (
        "contact", "contacts", "email", "e mail", "e post", "epost", "mail", "kontakt", "telefon",
        "phone", "tel", "telephone", "mobile", "mobil", "contact person", "contact name",
        "contact details", "kontaktperson", "kontaktuppgifter", "osoba kontaktowa", "ansprechpartner",
        "telefonnummer", "numer telefonu", "phone number", "email address", "e mail address",
        "adres email", "adres e mail", "teagmhail", "r phost", "riomhphost",
    ),
    DESCRIPTION: (
        "description", "beskrivning", "opis", "notes", "note", "anteckningar", "anteckning", "uwagi",
        "comments", "comment", "kommentar", "kommentarer", "beschreibung", "notizen", "bemerkungen",
        "cur sios", "notai",
    ),
    LAT: (
        "lat", "latitude", "latitud", "szerokosc", "szerokosc geograficzna", "szer geogr",
        "breitengrad", "breite", "y", "lat dd", "latitude dd", "latitud dd", "domhanleithead",
    ),
    LON: (
        "lon", "lng", "long", "longitude", "longitud", "dlugosc", "dlugosc geograficzna", "dl geogr",
        "langengrad", "lange", "x", "lon dd", "longitude dd", "longitud dd", "domhanfhad",
    ),
    PAIR: (
        "coordinates", "coordinate", "coords", "koordinater", "koordinat", "koordinaten",
        "wspolrzedne", "wspolrzedne geograficzne", "lat lon", "lat long", "lat lng", "latlon",
        "latlng", "latitude longitude", "latitud longitud", "gps", "gps coordinates",
        "gps koordinater", "location", "position", "lokalizacja", "geo", "comhordanaidi",
    ),
    ID: ("id", "identifier", "feature id", "id nr", "object id", "objectid"),
}

ALIASES: dict[str, str] = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
# Headers whose values say yes/no to "planned" rather than naming a status.
PLANNED_FLAG_HEADERS = frozenset(
    ("planned", "planerad", "planerat", "planowany", "planowane", "planowana", "geplant")
)
# Words that make a header a name column when no header is exactly a name alias
# ("hospital_name", "Nazwa obiektu", "Företagsnamn").
_NAME_WORDS = ("name", "namn", "nazwa", "ainm")
# Headers of these fields make a row a header row together with a name column.
EXAMPLE_NAMES = "Name/Namn/Nazwa/Organisation"

_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_header(value: object) -> str:
    """Fold a header cell for matching: case, diacritics, punctuation and (notes) ignored.

    ``"Szerokość geograficzna"`` → ``"szerokosc geograficzna"``, ``"E-post:"`` → ``"e post"``,
    ``"Latitude (WGS84)"`` → ``"latitude"``. Non-text cells give ``""``.
    """
    if not isinstance(value, str):
        return ""
    folded = fold(value)
    without = _NON_WORD.sub(" ", _PARENS.sub(" ", folded)).strip()
    return without or _NON_WORD.sub(" ", folded).strip()


def field_for(header: object) -> str | None:
    """Return the canonical field a header names, or None when it is not a known column."""
    key = normalize_header(header)
    if not key:
        return None
    field = ALIASES.get(key)
    if field is None and isinstance(header, str):
        # "Latitude (WGS84)" matched above; try the raw folded text too ("Lat.(N)").
        field = ALIASES.get(_NON_WORD.sub(" ", fold(header)).strip())
    return field


def _looks_like_name(key: str) -> bool:
    for word in key.split():
        if word in _NAME_WORDS or (word.endswith("namn") and len(word) > 6):
            return True
    return False


def map_header(cells: list[object]) -> dict[int, str]:
    """Map a candidate header row to ``{column index: field}`` for the known columns.

    Every known column is listed, repeats included (the loader keeps the first of each
    field and sends the others to attributes). When no header is exactly a name alias,
    the first header containing a name word ("hospital_name", "Nazwa obiektu") is the name.
    """
    mapping: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field = field_for(cell)
        if field is not None:
            mapping[index] = field
    if NAME not in mapping.values():
        for index, cell in enumerate(cells):
            if index not in mapping and _looks_like_name(normalize_header(cell)):
                mapping[index] = NAME
                break
    return mapping


def is_header(mapping: dict[int, str]) -> bool:
    """True when a mapped row has a name column and at least one other known column."""
    fields = set(mapping.values())
    return NAME in fields and len(fields) >= 2
