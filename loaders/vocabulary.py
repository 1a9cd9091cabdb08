"""The shared vocabulary of facility kinds and creative sectors, with their aliases in EN, SV, PL, DE and GA.

What the ``kind`` and ``sectors`` columns hold (DESIGN.md: "normalised to a shared
vocabulary; the text as written stays in ``attributes``"). Loaders, the Data page's edit
form and the analyses all go through `kind_of` / `sectors_of` here.

Matching
    A cell is folded (`loaders.layers.fold`: case and diacritics; white space collapsed;
    surrounding punctuation such as a trailing colon dropped) and looked up as a whole
    phrase among the aliases. Failing that, it is read as a list ("design; gry; film",
    also split at ``,``, ``/``, ``|`` and line breaks) and each part is looked up; a part
    joined by "and" ("konst och hantverk", "sztuka i design", "Film & Musik") is split
    there only when every piece is an alias. There is no substring or stem guessing: a
    variant is matched because it is listed (co-working, coworking, co working;
    cluster, klaster, kluster; makerspace, maker space, fablab, fab lab …).

Unknown text
    A value (or a part of a list) that matches nothing is kept, cleaned: white space
    collapsed, surrounding punctuation dropped, lower-cased (as the Map's sector filter
    already lower-cases), diacritics kept ("Pole namiotowe:" → "pole namiotowe"). It is
    neither dropped nor mapped to "other": the Map's filters still offer it, and whoever
    curates the data sees what to add here. Within one import, unknown values that fold
    to the same text are written one way (the first seen), so the filter does not list
    "kawiarnia" and "Kawiárnia" twice. A kind cell none of whose parts is known is kept
    whole ("pole namiotowe/biwakowe" is one kind); a sectors cell is always a list.

Choices worth knowing
    - Sectors follow the Kreativa Blekinge action plan (architecture, design, games,
      film, photography, visual arts, heritage, literature, media, fashion, music,
      performing arts, crafts, experience-based learning) and Urban Creative Poles
      (advertising, broadcasting = radio and TV, software = software and computer
      services, publishing), plus ``digital`` (the alliances' own audits use it for
      digital content and services that are neither games nor software) and ``all``
      (a provider serving every sector; the sector analysis counts it for any sector).
    - Museums, libraries and archives as a *sector* are heritage; as a *kind* of venue
      they are ``museum`` and ``library``. Animation and cinema are film; textiles go
      with fashion (Borås' "textil & mode"); marketing goes with advertising; theatre,
      dance and circus are performing arts; "digital media" is media.
    - Kinds: a bare "college" (högskola, uczelnia, Hochschule, coláiste) is
      ``university`` (third level); "college of further education", folkhögskola and
      Volkshochschule are ``further education``; municipal arts and music schools
      (kulturskola, szkoła muzyczna, Musikschule) are ``arts school``. An accelerator is
      an ``incubator``; a kontorshotell / business centre is an ``enterprise centre``;
      a verkstad / warsztat / Werkstatt (a workshop room) is a ``studio`` while
      warsztaty / workshops (sessions) are a ``course``; Polish "centrum" on its own
      is a ``creative hub``; rådgivning / doradztwo (business advice) is an
      ``enterprise office``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from loaders.layers import fold

__all__ = [
    "ALL_SECTORS", "KINDS", "SECTORS", "kind_of", "normalise_fields", "sector_choice", "sector_names",
    "sectors_of", "serves_sector", "unify_unknown",
]

ALL_SECTORS = "all"
"""The sector value of a provider that serves every sector ("alla", "wszystkie", "alle")."""

# Canonical kind → aliases (English, Swedish, Polish, German, Irish). The canonical name is
# an alias of itself. Layers in comments: hubs, training, networks (a kind does not set a layer).
KINDS: dict[str, tuple[str, ...]] = {
    # -- hubs & infrastructure
    "co-working space": (
        "co-working", "coworking", "co working", "co-working space", "coworking space", "co working space",
        "co-working spaces", "coworking spaces", "co-working hub", "coworking hub", "cowork", "shared office",
        "shared workspace", "shared office space", "hot desk", "hot desks", "hot desking", "hot-desking",
        "coworkingyta", "coworkingplats", "kontorsgemenskap", "delat kontor",
        "przestrzeń coworkingowa", "przestrzeń co-workingowa", "biuro coworkingowe",
        "coworking-space", "co-working-space", "gemeinschaftsbüro", "bürogemeinschaft",
    ),
    "makerspace": (
        "makerspaces", "maker space", "maker-space", "makers space", "fablab", "fab lab", "fab-lab", "fablabs",
        "hackerspace", "hackspace", "hacker space", "maker lab", "skaparverkstad", "skaparverkstäder",
        "pracownia makerska", "przestrzeń makerska", "offene werkstatt", "offene werkstätten",
    ),
    "incubator": (
        "incubators", "business incubator", "creative incubator", "accelerator", "accelerators",
        "business accelerator", "incubator/accelerator", "incubator / accelerator", "inkubator", "inkubatorer",
        "företagsinkubator", "affärsinkubator", "inkubator przedsiębiorczości", "inkubator technologiczny",
        "akcelerator", "akcelerator biznesu", "inkubatoren", "gründerzentrum", "akzelerator", "gorlann",
    ),
    "science park": (
        "technology park", "research park", "innovation park", "vetenskapspark", "teknikpark", "forskningspark",
        "innovationspark", "park naukowo-technologiczny", "park technologiczny", "park naukowy",
        "technologiepark", "wissenschaftspark", "technologiezentrum",
    ),
    "studio": (
        "studios", "artist studio", "artist studios", "artists studios", "artists' studios", "art studio",
        "workshop space", "craft workshop", "atelier", "ateliers", "ateljé", "ateljéer", "ateljer", "verkstad",
        "verkstäder", "pracownia", "pracownie", "pracownia artystyczna", "pracownie artystyczne",
        "pracownia twórcza", "pracownie twórcze", "warsztat", "künstleratelier", "atelierhaus", "werkstatt",
        "werkstätten", "stiúideo",
    ),
    "creative hub": (
        "creative hubs", "hub", "hubs", "creative space", "creative centre", "creative center", "creative quarter",
        "digital hub", "innovation hub", "kreativt nav", "nav", "kreativ mötesplats", "mötesplats",
        "kreativt center", "hub kreatywny", "centrum kreatywne", "przestrzeń kreatywna", "centrum",
        "kreativzentrum", "kreativquartier", "kreativhub", "mol", "mol cruthaitheach",
    ),
    "arts centre": (
        "arts center", "art centre", "cultural centre", "cultural center", "culture house", "community arts centre",
        "kulturhus", "kulturhuset", "kulturcentrum", "centrum kultury", "dom kultury", "ośrodek kultury",
        "kulturzentrum", "kulturhaus", "soziokulturelles zentrum", "ionad ealaíon", "ionad cultúrtha",
    ),
    "enterprise centre": (
        "enterprise center", "business centre", "business center", "serviced offices", "office hotel",
        "kontorshotell", "företagscentrum", "företagshus", "centrum biznesowe", "centrum biurowe",
        "bürozentrum", "geschäftszentrum", "gewerbehof", "ionad fiontair",
    ),
    "empty building": (
        "empty buildings", "vacant building", "vacant buildings", "empty shop", "vacant shop", "empty unit",
        "vacant unit", "vacant premises", "empty premises", "disused building", "derelict building",
        "building offered for a hub", "tom lokal", "tomma lokaler", "ledig lokal", "lediga lokaler",
        "tom byggnad", "outnyttjad lokal", "pustostan", "pustostany", "pusty budynek", "pusty lokal",
        "wolny lokal", "leerstand", "leerstehendes gebäude", "leeres gebäude", "leerstehende räume",
        "foirgneamh folamh",
    ),
    # -- training & supports
    "university": (
        "universities", "college", "colleges", "third-level college", "third level college",
        "institute of technology", "technological university", "university college", "higher education",
        "higher education institution", "art academy", "film school", "högskola", "högskolan", "universitet",
        "universitetet", "konsthögskola", "uczelnia", "uczelnie", "uniwersytet", "politechnika", "akademia",
        "akademia sztuk pięknych", "szkoła wyższa", "szkoła filmowa", "hochschule", "universität",
        "fachhochschule", "kunsthochschule", "kunstakademie", "filmhochschule", "ollscoil", "coláiste",
    ),
    "further education": (
        "further-education", "further education course", "further-education course", "further education college",
        "college of further education", "fe college", "etb", "education and training board", "plc course",
        "adult education", "folkhögskola", "folkhögskolan", "folk high school", "yrkeshögskola",
        "vuxenutbildning", "studieförbund", "kształcenie ustawiczne", "centrum kształcenia ustawicznego",
        "edukacja dorosłych", "uniwersytet ludowy", "volkshochschule", "erwachsenenbildung", "weiterbildung",
        "oideachas breise", "oideachas aosach",
    ),
    "arts school": (
        "art school", "music school", "school of music", "kulturskola", "kulturskolan", "musikskola",
        "musikskolan", "szkoła artystyczna", "szkoła muzyczna", "ognisko muzyczne", "ognisko artystyczne",
        "musikschule", "kunstschule", "jugendkunstschule", "scoil cheoil",
    ),
    "course": (
        "courses", "training course", "training courses", "training", "workshops", "short course", "masterclass",
        "kurs", "kurser", "utbildning", "utbildningar", "workshoppar", "kursy", "szkolenie", "szkolenia",
        "warsztaty", "kurse", "lehrgang", "schulung", "schulungen", "seminar", "cúrsa", "cúrsaí", "oiliúint",
    ),
    "enterprise office": (
        "local enterprise office", "leo", "enterprise board", "business advice", "business support",
        "business advisory", "advice", "rådgivning", "företagsrådgivning", "almi", "nyföretagarcentrum",
        "näringslivskontor", "doradztwo", "doradztwo biznesowe", "punkt konsultacyjny", "wsparcie biznesu",
        "ośrodek wspierania przedsiębiorczości", "beratung", "gründungsberatung", "wirtschaftsförderung",
        "oifig fiontair", "oifig fiontair áitiúil",
    ),
    "mentoring": (
        "mentorship", "mentor", "mentors", "mentoring programme", "mentoring program", "coaching",
        "mentorskap", "mentorprogram", "coachning", "mentorstwo", "meantóireacht",
    ),
    "grant": (
        "grants", "funding", "funding scheme", "grant scheme", "bursary", "bursaries", "grant/funding",
        "grant / funding", "bidrag", "stipendium", "stipendier", "finansiering", "projektstöd", "dotacja",
        "dotacje", "stypendium", "stypendia", "dofinansowanie", "förderung", "fördermittel", "förderprogramm",
        "zuschuss", "deontas", "maoiniú",
    ),
    # -- networks
    "cluster": (
        "clusters", "creative cluster", "industry cluster", "business cluster", "klaster", "klastry",
        "klaster kreatywny", "kluster", "klustret", "branschkluster", "braisle",
    ),
    "network": (
        "networks", "creative network", "business network", "nätverk", "nätverket", "sieć", "sieci", "netzwerk",
        "netzwerke", "líonra",
    ),
    "association": (
        "associations", "society", "guild", "non-profit", "nonprofit", "ngo", "förening", "föreningen",
        "föreningar", "ideell förening", "intresseförening", "kulturförening", "förbund", "stowarzyszenie",
        "stowarzyszenia", "towarzystwo", "organizacja pozarządowa", "verein", "e.v.", "verband",
        "berufsverband", "cumann",
    ),
    "foundation": ("foundations", "stiftelse", "fundacja", "stiftung", "fondúireacht"),
    "meet-up": (
        "meetup", "meet up", "meet-ups", "meetups", "meeting", "meetings", "networking event", "networking",
        "träff", "träffar", "nätverksträff", "spotkanie", "spotkania", "spotkanie networkingowe", "treffen",
        "stammtisch", "netzwerktreffen", "cruinniú",
    ),
    "festival": ("festivals", "festiwal", "festiwale", "festivaler", "festspiele", "féile"),
    "online community": (
        "online communities", "online network", "online group", "online forum", "forum", "facebook group",
        "online", "nätgemenskap", "onlinegemenskap", "onlinenätverk", "digitalt nätverk", "społeczność online",
        "społeczność internetowa", "grupa facebookowa", "grupa online", "online-community", "online-netzwerk",
        "onlinegemeinschaft", "pobal ar líne",
    ),
    # -- venues and institutions (any layer)
    "library": (
        "libraries", "public library", "bibliotek", "biblioteket", "stadsbibliotek", "folkbibliotek",
        "biblioteka", "biblioteki", "biblioteka publiczna", "bibliothek", "bücherei", "stadtbibliothek",
        "stadtbücherei", "leabharlann",
    ),
    "museum": ("museums", "museet", "museer", "muzeum", "muzea", "museen", "músaem", "iarsmalann"),
    "gallery": (
        "galleries", "art gallery", "galleri", "konsthall", "konstgalleri", "galeria", "galeria sztuki",
        "galerie", "kunsthalle", "kunstgalerie", "gailearaí",
    ),
    "venue": (
        "venues", "theatre", "theater", "theatres", "theaters", "concert hall", "music venue", "arts venue",
        "performance venue", "theatre/venue", "theatre / venue", "teater", "teatern", "konserthus", "scen",
        "teatr", "filharmonia", "sala koncertowa", "scena", "konzerthaus", "spielstätte", "veranstaltungsort",
        "bühne", "amharclann", "ionad ceolchoirme",
    ),
    "cinema": ("cinemas", "movie theatre", "picture house", "bio", "biograf", "kino", "kina", "pictiúrlann"),
}

# Canonical sector → aliases. Order: the Kreativa Blekinge plan, Urban Creative Poles, ours.
SECTORS: dict[str, tuple[str, ...]] = {
    "architecture": ("architectural", "architects", "arkitektur", "architektura", "architektur", "ailtireacht"),
    "design": (
        "designs", "product design", "industrial design", "graphic design", "interior design", "service design",
        "formgivning", "industridesign", "grafisk design", "inredningsdesign", "wzornictwo",
        "wzornictwo przemysłowe", "projektowanie", "projektowanie graficzne", "projektowanie wnętrz", "dizajn",
        "gestaltung", "produktdesign", "grafikdesign", "kommunikationsdesign", "dearadh",
    ),
    "games": (
        "game", "gaming", "video games", "videogames", "computer games", "game development", "games development",
        "game dev", "gamedev", "games industry", "spel", "dataspel", "datorspel", "tv-spel", "spelutveckling",
        "spelindustri", "gry", "gry komputerowe", "gry wideo", "gry video", "tworzenie gier", "branża gier",
        "spiele", "computerspiele", "videospiele", "spieleentwicklung", "cluichí", "cluichí ríomhaire",
    ),
    "film": (
        "films", "film & video", "film and video", "moving image", "animation", "cinema", "filmmaking",
        "film production", "filmproduktion", "rörlig bild", "animering", "filmy", "kino", "animacja",
        "produkcja filmowa", "filmwirtschaft", "scannán", "scannáin", "scannánaíocht",
    ),
    "photography": (
        "photo", "photographs", "foto", "fotografi", "fotografering", "fotografia", "fotografie",
        "grianghrafadóireacht",
    ),
    "visual arts": (
        "visual art", "art", "fine art", "fine arts", "painting", "sculpture", "konst", "bildkonst", "bild och form",
        "sztuka", "sztuki wizualne", "sztuki piękne", "sztuki plastyczne", "plastyka", "malarstwo", "rzeźba",
        "kunst", "bildende kunst", "malerei", "ealaín", "amharcealaíona", "ealaíona amhairc",
    ),
    "heritage": (
        "cultural heritage", "museums", "museum", "libraries", "library", "archives", "archive", "kulturarv",
        "kulturmiljö", "museer", "bibliotek", "arkiv", "dziedzictwo", "dziedzictwo kulturowe",
        "dziedzictwo kulturalne", "muzea", "muzealnictwo", "biblioteki", "archiwa", "kulturerbe",
        "denkmalpflege", "museen", "bibliotheken", "oidhreacht", "oidhreacht chultúrtha",
    ),
    "literature": (
        "writing", "creative writing", "books", "poetry", "litteratur", "skrivande", "böcker", "poesi",
        "literatura", "poezja", "pisarstwo", "literatur", "lyrik", "litríocht", "filíocht",
    ),
    "media": (
        "news media", "digital media", "journalism", "medier", "digitala medier", "dziennikarstwo", "medien",
        "journalismus", "meáin", "iriseoireacht",
    ),
    "fashion": (
        "fashion design", "textiles", "textile", "textile & fashion", "textile and fashion", "mode", "modedesign",
        "textil", "textil & mode", "textil och mode", "moda", "tekstylia", "projektowanie mody",
        "moda i tekstylia", "faisean", "teicstílí",
    ),
    "music": ("music industry", "musik", "musikbranschen", "muzyka", "branża muzyczna", "musikwirtschaft", "ceol"),
    "performing arts": (
        "theatre", "theater", "drama", "dance", "circus", "opera", "scenkonst", "teater", "dans", "cirkus",
        "sztuki performatywne", "sztuki sceniczne", "teatr", "taniec", "cyrk", "darstellende kunst",
        "darstellende künste", "tanz", "zirkus", "ealaíona taibhithe", "drámaíocht", "damhsa",
    ),
    "crafts": (
        "craft", "handicraft", "handicrafts", "applied arts", "makers", "hantverk", "konsthantverk", "slöjd",
        "rzemiosło", "rzemiosło artystyczne", "rękodzieło", "rękodzielnictwo", "handwerk", "kunsthandwerk",
        "ceardaíocht", "ceird", "ceirdeanna",
    ),
    "experience-based learning": (
        "experience based learning", "experiential learning", "learning by experience",
        "upplevelsebaserat lärande", "upplevelsebaserad inlärning", "uczenie się przez doświadczenie",
        "edukacja przez doświadczenie", "erlebnisbasiertes lernen", "erfahrungsbasiertes lernen",
        "erlebnispädagogik", "foghlaim ó thaithí",
    ),
    "advertising": (
        "advertisement", "marketing", "marketing & advertising", "advertising & marketing", "reklam",
        "reklambyrå", "marknadsföring", "reklama", "werbung", "werbewirtschaft", "fógraíocht",
    ),
    "broadcasting": (
        "radio", "tv", "television", "radio & tv", "radio and tv", "radio and television", "radio/tv",
        "radio & television", "radio och tv", "radio och television", "radio i telewizja", "radio i tv",
        "telewizja", "rundfunk", "fernsehen", "hörfunk", "radio und fernsehen", "craolachán", "raidió",
        "teilifís",
    ),
    "software": (
        "software development", "computer services", "software and computer services",
        "software & computer services", "it", "it services", "it & software", "computing", "programming",
        "mjukvara", "programvara", "mjukvaruutveckling", "it-tjänster", "oprogramowanie", "usługi informatyczne",
        "informatyka", "programowanie", "softwareentwicklung", "it-dienstleistungen", "informatik", "bogearraí",
        "ríomhaireacht",
    ),
    "publishing": (
        "publishers", "book publishing", "förlag", "bokförlag", "förlagsverksamhet", "utgivning", "wydawnictwo",
        "wydawnictwa", "działalność wydawnicza", "verlag", "verlagswesen", "verlage", "foilsitheoireacht",
        "foilsiú",
    ),
    "digital": (
        "digital creative", "digital content", "digitalt", "cyfrowe", "cyfrowy", "treści cyfrowe", "digitales",
        "digitale wirtschaft", "digiteach",
    ),
    ALL_SECTORS: (
        "all sectors", "all creative sectors", "any", "every sector", "cross-sector", "alla", "alla branscher",
        "alla sektorer", "samtliga", "wszystkie", "wszystkie branże", "wszystkie sektory", "alle",
        "alle branchen", "alle sektoren", "gach earnáil", "uile",
    ),
}

_CACHE = 4096
"""Distinct cells remembered: a file repeats a handful of kinds and sector lists thousands of times."""

_SPACES = re.compile(r"\s+")
_EDGE = " \t\n\r.:;,!?*\"'`"
_LIST = re.compile(r"\s*[;,|/\n]\s*")
_AND = re.compile(r"\s+(?:&|\+|and|och|i|oraz|und|agus)\s+|\s*&\s*", re.IGNORECASE)


def _key(text: str) -> str:
    """The folded form of a phrase for matching: case, diacritics, spacing and edge punctuation ignored."""
    return _SPACES.sub(" ", fold(text)).strip(_EDGE)


def _clean(text: str) -> str:
    """An unknown value as stored: white space collapsed, edge punctuation dropped, lower case, diacritics kept."""
    return _SPACES.sub(" ", text).strip(_EDGE).lower()


def _index(vocabulary: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, aliases in vocabulary.items():
        for alias in (canonical, *aliases):
            index.setdefault(_key(alias), canonical)
    return index


_KIND_INDEX = _index(KINDS)
_SECTOR_INDEX = _index(SECTORS)


def _parts(text: str, index: dict[str, str], *, keep_whole: bool) -> list[str]:
    """The canonical values in `text` (see the module docstring), unknown parts cleaned, in order."""
    whole = _key(text)
    if not whole:
        return []
    if whole in index:
        return [index[whole]]
    found: list[str] = []
    known = False
    for part in _LIST.split(text):
        key = _key(part)
        if not key:
            continue
        if key in index:
            found.append(index[key])
            known = True
            continue
        pieces = [_key(p) for p in _AND.split(part)]
        if len(pieces) > 1 and all(p in index for p in pieces):
            found.extend(index[p] for p in pieces)
            known = True
        else:
            found.append(_clean(part))
    if not known and keep_whole:
        return [_clean(text)]
    return list(dict.fromkeys(found))


@lru_cache(maxsize=_CACHE)
def _kind(text: str) -> str | None:
    return "; ".join(_parts(text, _KIND_INDEX, keep_whole=True)) or None


@lru_cache(maxsize=_CACHE)
def _sectors(text: str) -> tuple[str, ...]:
    return tuple(_parts(text, _SECTOR_INDEX, keep_whole=False))


def kind_of(value: Any) -> str | None:
    """Return the canonical kind of a ``kind`` cell ("Klaster" → "cluster"), None when empty.

    A list ("studio; co-working") gives its kinds joined with ``"; "``; text that matches
    no alias is kept cleaned (see the module docstring). Canonical values map to themselves.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    return _kind(value if value.__class__ is str else str(value))


def sector_names(value: Any) -> tuple[str, ...]:
    """Return the canonical sectors of a ``sectors`` cell, in order, without repeats (() when empty)."""
    if value is None or (isinstance(value, float) and value != value):
        return ()
    return _sectors(value if value.__class__ is str else str(value))


def sectors_of(value: Any) -> str | None:
    """Return a ``sectors`` cell in canonical form: ``"hantverk, Spel"`` → ``"crafts; games"``; None when empty."""
    return "; ".join(sector_names(value)) or None


def sector_choice(text: str) -> str | None:
    """Return the canonical sector a user named (``"gry"`` → ``"games"``), or None when it names none.

    Only a single known sector counts (not ``all``, not an unknown text), so that a
    misspelt choice is reported instead of silently analysing nothing.
    """
    found = _SECTOR_INDEX.get(_key(text or ""))
    return None if found == ALL_SECTORS else found


def serves_sector(value: Any, sector: str) -> bool:
    """True when a ``sectors`` cell lists `sector` (a canonical name) or ``all``."""
    names = sector_names(value)
    return sector in names or ALL_SECTORS in names


def unify_unknown(values: Iterable[str | None], *, sectors: bool) -> dict[str, str]:
    """Map each distinct canonical cell to one spelling per folded form of its unknown parts.

    Within one import "kawiarnia" and "Kawiárnia" (already cleaned) fold the same; the first
    seen is kept for both so that a filter does not list them twice. Canonical values and
    lists are left as they are (absent from the returned mapping).
    """
    index = _SECTOR_INDEX if sectors else _KIND_INDEX
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    for value in values:
        if not value or value in out:
            continue
        parts = value.split("; ")
        changed = []
        for part in parts:
            key = _key(part)
            if key in index:
                changed.append(part)
            else:
                changed.append(first.setdefault(key, part))
        unified = "; ".join(dict.fromkeys(changed))
        if unified != value:
            out[value] = unified
    return out


def normalise_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` (fields of a feature, e.g. from the Data page's form) with kind and sectors canonical.

    Other fields are returned as given; a blank kind or sectors stays blank.
    """
    out = dict(values)
    if isinstance(out.get("kind"), str):
        out["kind"] = kind_of(out["kind"]) or ""
    if isinstance(out.get("sectors"), str):
        out["sectors"] = sectors_of(out["sectors"]) or ""
    return out
