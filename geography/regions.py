"""Regions as data: the shipped ``geodata/regions.json`` plus a workspace's own ``regions.json``."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

from errors import UsageError
from i18n import Message, Text
from loaders.errors import ImportFileError
from loaders.layers import LAYERS

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
SHIPPED = GEODATA / "regions.json"
WORKSPACE_FILE = "regions.json"

# Used when neither the region nor the file's "defaults" give a radius for a layer.
FALLBACK_RADIUS_KM: dict[str, float] = {"hubs": 20.0, "training": 30.0, "networks": 30.0}

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION_FIELDS = (
    "id", "name", "countries", "nuts", "nuts_partial", "municipalities", "population", "radius_km", "outline",
    "outline_from", "notes",
)
_MUNICIPALITY_FIELDS = ("name", "country", "code")
_POPULATION_FIELDS = ("value", "year", "source", "note")
_MUNICIPALITY_CODE = re.compile(r"^[0-9A-Za-z._-]{1,20}$")
_SELECTOR_FIELDS = (
    "countries", "admin1", "names", "near", "bbox", "keep_nearest_to", "drop_nearest_to",
    "buffer_km", "concavity",
)
_FILE_FIELDS = ("about", "version", "defaults", "regions")
_PIPE = "{a} | {b}"  # joins the problems (no words of its own, so not in the catalogues)


class RegionsFileError(ImportFileError):
    """A regions file (shipped or the workspace's) is not valid; the message lists every problem."""


@dataclass(frozen=True)
class Municipality:
    """A municipality (or other local unit) that is part of a region but has no NUTS code of its own.

    Its shape comes from an area file the user imported (`geography.areas`); until then
    that part of the region's boundary is approximate.

    Attributes
    ----------
    name
        Name as the statistical office writes it (``Kristianstad``); matched without
        regard to case or a ``kommun``/``gmina`` suffix.
    country
        ISO 3166-1 alpha-2 code.
    code
        The national code (Swedish kommunkod ``1290``, Polish TERYT …), or "".
    """

    name: str
    country: str
    code: str = ""


@dataclass(frozen=True)
class Population:
    """A region's official population: the denominator of "share of the population captured".

    Attributes
    ----------
    value
        Inhabitants.
    year
        Reference year of the figure.
    source
        Who published it and which table (e.g. "CSO Census of Population 2022").
    note
        How the figure was put together, or what is uncertain about it.
    """

    value: int
    year: int
    source: str
    note: str = ""


@dataclass(frozen=True)
class Region:
    """One alliance's region.

    Attributes
    ----------
    id, name
        Stable id (lower-case, hyphens) and display name.
    countries
        ISO 3166-1 alpha-2 codes of the countries it lies in (``GB`` for Northern Ireland).
    nuts
        NUTS 2021 codes the region covers wholly; their union is its official boundary.
    nuts_partial
        NUTS 2021 codes the region covers only in part (its official boundary then needs
        the approximate outline for that part).
    municipalities
        Local units the region adds to its NUTS codes (e.g. Kristianstad municipality
        inside SE224); their shapes come from an imported area file.
    population
        Official population with year and source, or None when not given.
    radius_km
        Default coverage radius per layer, in kilometres.
    outline
        File with the approximate outline (GeoJSON, EPSG:4326), or None.
    outline_from
        How the outline is (re)built from GeoNames settlements: a list of selectors.
    notes
        Free text: what the alliance covered, corrections made to the codes.
    defined_in
        The file(s) the entry comes from, for messages.
    """

    id: str
    name: str
    countries: tuple[str, ...]
    nuts: tuple[str, ...] = ()
    nuts_partial: tuple[str, ...] = ()
    municipalities: tuple[Municipality, ...] = ()
    population: Population | None = None
    radius_km: dict[str, float] = field(default_factory=dict)
    outline: Path | None = None
    outline_from: tuple[dict[str, Any], ...] = ()
    notes: str = ""
    defined_in: str = ""

    @property
    def official_is_exact(self) -> bool:
        """True when the union of the NUTS codes is the whole region (no partial codes, no municipalities)."""
        return bool(self.nuts) and not self.nuts_partial and not self.municipalities


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegionsFileError(Message(
            "{file}: cannot be opened ({reason}). Check the path.", file=path, reason=exc.strerror)) from None
    except UnicodeDecodeError as exc:
        raise RegionsFileError(Message("{file}: not UTF-8 text ({reason}). Save it as UTF-8.", file=path,
                                       reason=exc.reason)) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegionsFileError(Message(
            "{file}: not valid JSON (line {line}, column {column}: {reason}). Fix the syntax (a missing comma or quote "
            "is the usual cause).", file=path, line=exc.lineno, column=exc.colno, reason=exc.msg)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("regions", []), list):
        raise RegionsFileError(Message(
            "{file}: expected an object with a \"regions\" list, e.g. {{\"regions\": [{{\"id\": \"my-region\", "
            "\"name\": \"My region\", \"countries\": [\"IE\"], \"nuts\": [\"IE042\"]}}]}}.", file=path))
    return doc


def _check_radius(value: Any, where: str, problems: list[str]) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Text("{where}: radius_km must be an object like {{\"hubs\": 20, \"training\": 30}}.",
                             where=where))
        return {}
    radius: dict[str, float] = {}
    for layer, km in value.items():
        if layer not in LAYERS:
            problems.append(Text(
                "{where}: radius_km has unknown layer '{layer}'. Use {layers}.", where=where, layer=layer,
                layers=", ".join(LAYERS)))
        elif isinstance(km, bool) or not isinstance(km, (int, float)) or not 0 < km <= 500:
            problems.append(Text(
                "{where}: radius_km.{layer} is {km}; give kilometres as a number between 0 and 500.", where=where,
                layer=layer, km=repr(km)))
        else:
            radius[layer] = float(km)
    return radius


def _codes(value: Any, pattern: re.Pattern[str], what: str, example: str, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(Text("{where}: {what} must be a list of codes, e.g. [\"{example}\"].", where=where, what=what,
                             example=example))
        return ()
    out = []
    for code in value:
        if not isinstance(code, str) or not pattern.match(code.strip().upper()):
            problems.append(Text(
                "{where}: {what} code {code} is not valid; expected e.g. \"{example}\".", where=where, what=what,
                code=repr(code), example=example))
        else:
            out.append(code.strip().upper())
    return tuple(out)


def _check_municipalities(value: Any, countries: tuple[str, ...], where: str,
                          problems: list[str]) -> tuple[Municipality, ...]:
    if value is None:
        return ()
    example = '[{"name": "Kristianstad", "country": "SE", "code": "1290"}]'
    if not isinstance(value, list):
        problems.append(Text("{where}: municipalities must be a list of objects like {example}.", where=where,
                             example=example))
        return ()
    out = []
    for i, item in enumerate(value, start=1):
        here = f"{where}, municipality {i}"
        if not isinstance(item, dict):
            problems.append(Text("{here}: expected an object like {example}.", here=here, example=example[1:-1]))
            continue
        before = len(problems)
        unknown = sorted(set(item) - set(_MUNICIPALITY_FIELDS))
        if unknown:
            problems.append(Text(
                "{here}: unknown field(s) {unknown}; known: {known}.", here=here, unknown=", ".join(unknown),
                known=", ".join(_MUNICIPALITY_FIELDS)))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Text("{here}: \"name\" is missing; give the municipality's name, e.g. \"Kristianstad\".",
                                 here=here))
        country = item.get("country")
        if not isinstance(country, str) or not _COUNTRY.match(country.strip().upper()):
            problems.append(Text(
                "{here}: country {country} is not an ISO alpha-2 code such as \"SE\".", here=here,
                country=repr(country)))
        elif countries and country.strip().upper() not in countries:
            problems.append(Text(
                "{here}: country {country} is not one of the region's countries ({countries}); add it to "
                "\"countries\" or fix the code.", here=here, country=country.strip().upper(),
                countries=", ".join(countries)))
        code = item.get("code", "")
        if code is None:
            code = ""
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)
        if not isinstance(code, str) or (code and not _MUNICIPALITY_CODE.match(code.strip())):
            problems.append(Text(
                "{here}: code {code} is not valid; give the national code as text, e.g. \"1290\".", here=here,
                code=repr(code)))
        if len(problems) == before:
            out.append(Municipality(name.strip(), country.strip().upper(), code.strip()))
    return tuple(out)


def _check_population(value: Any, where: str, problems: list[str]) -> Population | None:
    if value is None:
        return None
    example = '{"value": 486000, "year": 2022, "source": "CSO Census of Population 2022"}'
    if not isinstance(value, dict):
        problems.append(Text("{where}: population must be an object like {example}.", where=where,
                             example=example))
        return None
    before = len(problems)
    unknown = sorted(set(value) - set(_POPULATION_FIELDS))
    if unknown:
        problems.append(Text(
            "{where}: population has unknown field(s) {unknown}; known: {known}.", where=where,
            unknown=", ".join(unknown), known=", ".join(_POPULATION_FIELDS)))
    people = value.get("value")
    if isinstance(people, bool) or not isinstance(people, int) or people <= 0:
        problems.append(Text(
            "{where}: population.value is {people}; give the number of inhabitants as a positive whole number, e.g. "
            "486000.", where=where, people=repr(people)))
    year = value.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        problems.append(Text(
            "{where}: population.year is {year}; give the reference year, 1900-2100, e.g. 2022.", where=where,
            year=repr(year)))
    source = value.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(Text(
            "{where}: population.source is missing; say who published the figure, e.g. \"CSO Census of Population "
            "2022\".", where=where))
    note = value.get("note", "")
    if not isinstance(note, str):
        problems.append(Text("{where}: population.note must be text.", where=where))
    if len(problems) > before:
        return None
    return Population(people, year, source.strip(), (note or "").strip())


def _check_selector(selector: Any, where: str, problems: list[str]) -> None:
    if not isinstance(selector, dict):
        problems.append(Text(
            "{where}: each outline_from part must be an object such as {{\"countries\": [\"SE\"], \"admin1\": "
            "[\"02\"]}}.", where=where))
        return
    unknown = sorted(set(selector) - set(_SELECTOR_FIELDS))
    if unknown:
        problems.append(Text(
            "{where}: unknown outline_from field(s) {unknown}; known: {known}.", where=where,
            unknown=", ".join(unknown), known=", ".join(_SELECTOR_FIELDS)))
    if not selector.get("countries"):
        problems.append(Text("{where}: outline_from part needs \"countries\" (ISO codes of the settlements to use).",
                             where=where))
    for key in ("buffer_km", "concavity"):
        value = selector.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            problems.append(Text("{where}: outline_from.{key} must be a non-negative number.", where=where, key=key))
    bbox = selector.get("bbox")
    if bbox is not None and (not isinstance(bbox, list) or len(bbox) != 4):
        problems.append(Text("{where}: outline_from.bbox must be [min_lon, min_lat, max_lon, max_lat].",
                             where=where))


def _build(entry: dict[str, Any], base: Path, where: str, problems: list[str]) -> Region | None:
    unknown = sorted(set(entry) - set(_REGION_FIELDS))
    if unknown:
        problems.append(Text(
            "{where}: unknown field(s) {unknown}; known fields: {known}.", where=where, unknown=", ".join(unknown),
            known=", ".join(_REGION_FIELDS)))
    before = len(problems)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Text("{where}: \"name\" is missing; give the region's display name.", where=where))
    if not entry.get("countries"):
        problems.append(Text("{where}: \"countries\" is missing; give ISO codes, e.g. [\"SE\"] (GB for Northern "
                             "Ireland).", where=where))
    countries = _codes(entry.get("countries"), _COUNTRY, "countries", "IE", where, problems)
    nuts = _codes(entry.get("nuts"), _NUTS, "nuts", "IE042", where, problems)
    partial = _codes(entry.get("nuts_partial"), _NUTS, "nuts_partial", "SE224", where, problems)
    municipalities = _check_municipalities(entry.get("municipalities"), countries, where, problems)
    population = _check_population(entry.get("population"), where, problems)
    radius = _check_radius(entry.get("radius_km"), where, problems)
    outline = entry.get("outline")
    outline_path = None
    if outline is not None:
        if not isinstance(outline, str):
            problems.append(Text("{where}: \"outline\" must be a file path relative to {base}.", where=where,
                                 base=base))
        else:
            outline_path = (base / outline).resolve()
            if not outline_path.is_file():
                problems.append(Text(
                    "{where}: outline file {path} does not exist. Put the file there or fix the path "
                    "(relative to {base}).", where=where, path=outline_path, base=base))
    selectors = entry.get("outline_from") or []
    if isinstance(selectors, dict):
        selectors = [selectors]
    if not isinstance(selectors, list):
        problems.append(Text("{where}: \"outline_from\" must be a list of selector objects.", where=where))
        selectors = []
    for i, selector in enumerate(selectors, start=1):
        _check_selector(selector, f"{where}, outline_from part {i}", problems)
    notes = entry.get("notes") or ""
    if not isinstance(notes, str):
        problems.append(Text("{where}: \"notes\" must be text.", where=where))
    if len(problems) > before:
        return None
    return Region(
        id=entry["id"], name=name.strip(), countries=countries, nuts=nuts, nuts_partial=partial,
        municipalities=municipalities, population=population, radius_km=radius, outline=outline_path,
        outline_from=tuple(selectors), notes=str(notes), defined_in=where.split(",")[0],
    )


def _entries(doc: dict[str, Any], path: Path, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    unknown = sorted(set(doc) - set(_FILE_FIELDS))
    if unknown:
        problems.append(Text(
            "{file}: unknown top-level field(s) {unknown}; known: {known}.", file=path, unknown=", ".join(unknown),
            known=", ".join(_FILE_FIELDS)))
    out = []
    seen: set[str] = set()
    for i, entry in enumerate(doc.get("regions", []), start=1):
        if not isinstance(entry, dict):
            problems.append(Text("{file}, region {number}: expected an object with id, name, countries, nuts.",
                                 file=path, number=i))
            continue
        rid = entry.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            problems.append(Text(
                "{file}, region {number}: id {id} is not valid; use lower-case letters, digits and hyphens, e.g. "
                "\"west-ireland\".", file=path, number=i, id=repr(rid)))
            continue
        if rid in seen:
            problems.append(Text("{file}, region '{id}': defined twice in the same file; keep one entry.", file=path,
                                 id=rid))
            continue
        seen.add(rid)
        out.append((rid, entry))
    return out


@dataclass(frozen=True)
class Registry:
    """All regions available in a workspace, in file order, plus the default radii."""

    regions: dict[str, Region]
    default_radius_km: dict[str, float]
    sources: tuple[str, ...]

    def get(self, region_id: str) -> Region:
        """Return one region; a ValueError names the known ids when it is unknown."""
        try:
            return self.regions[region_id]
        except KeyError:
            raise RegionsFileError(Message(
                "unknown region '{id}'. Known regions: {known}. Add it to {file} in the workspace "
                "folder to define a new one.", id=region_id, known=", ".join(self.regions),
                file=WORKSPACE_FILE)) from None

    def radius_km(self, region: Region | None = None, overrides: dict[str, float] | None = None) -> dict[str, float]:
        """Return the radius per layer: overrides, else the region's, else the file's defaults."""
        radius = dict(self.default_radius_km)
        if region is not None:
            radius.update(region.radius_km)
        radius.update(overrides or {})
        return radius

    def __iter__(self):
        return iter(self.regions.values())

    def __len__(self) -> int:
        return len(self.regions)


def load_regions(workspace: str | Path | None = None, *, shipped: str | Path = SHIPPED) -> Registry:
    """Load the shipped regions plus the workspace folder's ``regions.json``, when present.

    An entry in the workspace file whose id is already known overrides it field by field:
    the fields it gives replace the shipped ones (``radius_km`` is merged layer by layer;
    ``null`` removes a field). New ids add regions. Paths in a file (``outline``) are
    relative to that file's folder. All problems of both files are reported together in
    one RegionsFileError.

    Parameters
    ----------
    workspace
        The workspace folder (or a Workspace); None loads only the shipped file.
    shipped
        The shipped regions file (tests point it elsewhere).
    """
    if workspace is not None and hasattr(workspace, "path"):
        workspace = workspace.path
    shipped = Path(shipped)
    files = [shipped]
    if workspace is not None and (Path(workspace) / WORKSPACE_FILE).is_file():
        files.append(Path(workspace) / WORKSPACE_FILE)
    problems: list[str] = []
    merged: dict[str, tuple[dict[str, Any], Path, str]] = {}
    defaults = dict(FALLBACK_RADIUS_KM)
    for path in files:
        doc = _read_json(path)
        file_defaults = doc.get("defaults") or {}
        if not isinstance(file_defaults, dict):
            problems.append(Text("{file}: \"defaults\" must be an object like {{\"radius_km\": {{\"hubs\": 20}}}}.",
                                 file=path))
        else:
            defaults.update(_check_radius(file_defaults.get("radius_km"), f"{path}, defaults", problems))
        for rid, entry in _entries(doc, path, problems):
            if rid in merged:
                old, _, old_where = merged[rid]
                new = dict(old)
                for key, value in entry.items():
                    if key == "radius_km" and isinstance(value, dict) and isinstance(old.get("radius_km"), dict):
                        new[key] = {**old["radius_km"], **value}
                    elif value is None:
                        new.pop(key, None)
                    else:
                        new[key] = value
                # Paths keep meaning relative to the file that gave them.
                if "outline" in entry and entry["outline"] is not None:
                    new["outline"] = str((path.parent / entry["outline"]).resolve())
                merged[rid] = (new, path.parent, f"{old_where} + {path}")
            else:
                entry = dict(entry)
                if isinstance(entry.get("outline"), str):
                    entry["outline"] = str((path.parent / entry["outline"]).resolve())
                merged[rid] = (entry, path.parent, str(path))
    regions: dict[str, Region] = {}
    for rid, (entry, base, where) in merged.items():
        region = _build(entry, base, f"{where}, region '{rid}'", problems)
        if region is not None:
            regions[rid] = region
    if problems:
        joined = reduce(lambda a, b: Text(_PIPE, a=a, b=b), problems)
        raise RegionsFileError(Message("{count} problem(s) in the regions file(s): {problems}", count=len(problems),
                                       problems=joined))
    return Registry(regions, defaults, tuple(str(p) for p in files))


def parse_radius_args(values: list[str] | None) -> dict[str, float]:
    """Parse ``["hubs=20", "training=30"]`` (command line ``--radius``) into kilometres per layer."""
    radius: dict[str, float] = {}
    for text in values or []:
        layer, sep, km = text.partition("=")
        layer = layer.strip()
        if not sep or layer not in LAYERS:
            raise UsageError(Message(
                "--radius {text}: expected LAYER=KM with LAYER one of {layers}, e.g. hubs=20.", text=repr(text),
                layers=", ".join(LAYERS)))
        try:
            value = float(km.replace(",", "."))
        except ValueError:
            raise UsageError(Message("--radius {text}: '{km}' is not a number of kilometres, e.g. hubs=20.",
                                     text=repr(text), km=km)) from None
        if not 0 < value <= 500:
            raise UsageError(Message("--radius {text}: the radius must be between 0 and 500 km.", text=repr(text)))
        radius[layer] = value
    return radius
