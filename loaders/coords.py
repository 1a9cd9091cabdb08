"""Parse coordinate text the way people type it, and reject impossible or swapped points."""
from __future__ import annotations

import re

from i18n import Text

# Rough box around geographic Europe incl. the Canaries, Azores, Iceland and Cyprus.
EUROPE_BBOX = (-32.0, 27.0, 45.0, 72.0)  # lon_min, lat_min, lon_max, lat_max
EUROPEAN_COUNTRIES = frozenset(
    "AD AL AT BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GI GR HR HU IE IM IS IT LI LT LU "
    "LV MC MD ME MK MT NL NO PL PT RO RS SE SI SK SM UA UK VA XK".split()
)

_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_DMS = re.compile(
    r"^\s*(?P<deg>\d+(?:[.,]\d+)?)\s*[°º]\s*(?:(?P<min>\d+(?:[.,]\d+)?)\s*['′’])?\s*"
    r"(?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:\"|″|''|’’))?\s*(?P<hem>[NSEWnsew])?\s*$"
)


def parse_number(value: object) -> float | None:
    """Read one coordinate: ``53.6``, ``"53,6"`` (decimal comma), ``"53° 38' N"``; None if empty.

    Raises ValueError with a short description when the text is not a number.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if value != value else float(value)
    text = str(value).strip().replace("\u2212", "-").replace(" ", "")
    if not text:
        return None
    if _NUMBER.match(text):
        return float(text.replace(",", "."))
    match = _DMS.match(str(value))
    if match:
        number = float(match["deg"].replace(",", "."))
        number += float((match["min"] or "0").replace(",", ".")) / 60
        number += float((match["sec"] or "0").replace(",", ".")) / 3600
        return -number if (match["hem"] or "").upper() in ("S", "W") else number
    raise ValueError(Text("'{value}' is not a number", value=value))


def parse_pair(value: object) -> tuple[float, float] | None:
    """Read a "lat, lon" cell: ``"53.63, -8.18"``, ``"53,63; -8,18"``, ``"53.63 -8.18"``.

    Returns (lat, lon), None for an empty cell; raises ValueError otherwise.
    """
    if value is None:
        return None
    text = str(value).strip().strip("()[]")
    if not text:
        return None
    for pattern in (r"\s*;\s*", r"\s*,\s+|\s+,\s*", r"\s*,\s*", r"\s+"):
        parts = [p for p in re.split(pattern, text) if p]
        if len(parts) == 2:
            try:
                lat, lon = parse_number(parts[0]), parse_number(parts[1])
            except ValueError:
                continue
            if lat is not None and lon is not None:
                return lat, lon
    raise ValueError(Text("'{value}' is not a 'latitude, longitude' pair", value=value))


def _in_europe(lat: float, lon: float) -> bool:
    lon_min, lat_min, lon_max, lat_max = EUROPE_BBOX
    return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


def placeholder_point(lat: float, lon: float) -> str | None:
    """Return why (lat, lon) is a placeholder rather than a place (exactly 0, 0), or None.

    Tools write 0, 0 for "no location yet"; the sheet, KML and GeoJSON loaders reject it
    with this reason (plus their own advice on how to fix it).
    """
    if lat == 0 and lon == 0:
        return Text("latitude 0, longitude 0 is a placeholder, not a place.")
    return None


def check_point(lat: float, lon: float, *, country: str | None = None) -> str | None:
    """Return why (lat, lon) cannot be right, or None when it is plausible.

    Impossible values (|lat| > 90, |lon| > 180) are always rejected. When the row's or
    region's `country` is European and the point lies outside Europe while the swapped
    point lies inside it, the columns are plainly swapped and the point is rejected too.
    """
    if not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            return Text("latitude {lat} / longitude {lon} is outside −90…90 / −180…180. Swapping them gives latitude "
                        "{lon}, longitude {lat}, which would be valid: check the column order.", lat=lat, lon=lon)
        return Text("latitude {lat} / longitude {lon} is outside −90…90 / −180…180.", lat=lat, lon=lon)
    if country and country.upper() in EUROPEAN_COUNTRIES and not _in_europe(lat, lon):
        if _in_europe(lon, lat):
            return Text(
                "latitude {lat}, longitude {lon} lies outside Europe but the row is in {country}; "
                "swapping them (latitude {lon}, longitude {lat}) would put it in Europe: check the column order.",
                lat=lat, lon=lon, country=country.upper())
    return None
