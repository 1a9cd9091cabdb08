"""The alias table that maps layer and status names in any language to canonical ids."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

HUBS, TRAINING, NETWORKS, UNCLASSIFIED = "hubs", "training", "networks", "unclassified"
LAYERS: tuple[str, ...] = (HUBS, TRAINING, NETWORKS)
ALL_LAYERS: tuple[str, ...] = LAYERS + (UNCLASSIFIED,)
EXISTING, PLANNED = "existing", "planned"
STATUSES: tuple[str, ...] = (EXISTING, PLANNED)
HELIX: tuple[str, ...] = ("public", "education", "industry", "community")

# Words (after folding case and diacritics) that name a layer. A name maps to a layer when
# one of its words starts with one of these stems; stems are chosen so that they do not
# collide across layers. English, Swedish, Polish, German, Irish, plus common abbreviations.
_LAYER_STEMS: dict[str, tuple[str, ...]] = {
    HUBS: (
        "hub", "infrastruct", "infrastrukt", "cowork", "co-work", "makerspace", "incubat",
        "inkubat", "studio", "workspace", "space", "nav", "przestrzen", "mol", "moil",
        "arbetsplats", "kontorshotell", "raum", "raume", "gruenderzentrum",
        "grunderzentrum", "makerspace", "fablab",
    ),
    TRAINING: (
        "training", "train", "support", "educat", "edukac", "skill", "course", "college",
        "mentor", "grant", "utbild", "stod", "kurs", "szkolen", "wsparc", "ksztalc",
        "oswiat", "bildung", "ausbild", "weiterbild", "forderung", "foerderung", "unterstuetz",
        "unterstutz", "beratung", "oiliun", "oiliuint", "traenail", "tacaiocht", "tacaiochta",
        "school", "skola", "szkol", "uczel", "hochschul", "universit", "academ", "akadem",
    ),
    NETWORKS: (
        "network", "netw", "natverk", "sieci", "siec", "netzwerk", "lionr", "cluster",
        "klust", "klaster", "association", "forening", "stowarzysz", "verband", "verein",
        "meetup", "meet-up", "communit", "gemenskap", "spolecznosc", "festival", "festiwal",
        "gemeinschaft", "lionra", "cumann",
    ),
}

_STATUS_STEMS: dict[str, tuple[str, ...]] = {
    PLANNED: (
        "plan", "expect", "propos", "future", "upcoming", "potential", "pipeline", "empty",
        "vacant", "offered", "kommande", "framtid", "foreslag", "tom", "ledig", "planow",
        "projekt", "przyszl", "oczekiw", "pustostan", "geplant", "zukunft", "vorgeschlag",
        "leerstand", "beartaithe", "todo", "idea", "candidate",
    ),
    EXISTING: (
        "exist", "current", "open", "active", "befintlig", "aktiv", "istniej", "dzialaj",
        "aktywn", "bestehend", "vorhanden", "established", "operat",
    ),
}


_MATCH_CACHE = 4096
"""Distinct texts whose layer or status is remembered: a file repeats a handful of values
(folder names, ``Status`` cells) thousands of times, so matching each once keeps import
throughput the same whichever ExtendedData fields a file carries; the bound keeps a file
of all-different values from growing the cache."""


def fold(text: str) -> str:
    """Return `text` lower-cased with diacritics removed (Łódź -> lodz, Stöd -> stod)."""
    if text.isascii():
        return text.casefold().strip()
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss").replace("ø", "o")
    text = text.replace("Ø", "O").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z\-]+", fold(text)) if w]


def _match(text: str, stems: dict[str, tuple[str, ...]]) -> set[str]:
    found = set()
    for word in _words(text):
        for key, key_stems in stems.items():
            if word.startswith(key_stems):
                found.add(key)
    return found


def layer_from_name(name: str | None) -> str:
    """Map a folder, sheet or column value naming a layer to a canonical layer id.

    Exact canonical ids win; otherwise every word is matched against the alias stems.
    A name matching no layer, or more than one, is ``"unclassified"``: we never guess.
    """
    if not name:
        return UNCLASSIFIED
    return _layer_of(name if name.__class__ is str else str(name))


@lru_cache(maxsize=_MATCH_CACHE)
def _layer_of(name: str) -> str:
    folded = fold(name)
    if folded in ALL_LAYERS:
        return folded
    found = _match(folded, _LAYER_STEMS)
    if len(found) == 1:
        return found.pop()
    if found == {HUBS, TRAINING} or found == {HUBS, NETWORKS} or found == {TRAINING, NETWORKS}:
        # "Creative Industries Training & Supports" mentions no hub word, but names such as
        # "Hub network" do mix: prefer the word that comes first, as a reader would.
        for word in _words(folded):
            for key in (HUBS, TRAINING, NETWORKS):
                if key in found and word.startswith(_LAYER_STEMS[key]):
                    return key
    return UNCLASSIFIED


def status_from_text(text: str | None) -> str | None:
    """Map a status value or a folder name to ``"existing"``/``"planned"``, or None if silent."""
    if not text:
        return None
    return _status_of(text if text.__class__ is str else str(text))


@lru_cache(maxsize=_MATCH_CACHE)
def _status_of(text: str) -> str | None:
    found = _match(text, _STATUS_STEMS)
    if PLANNED in found:
        return PLANNED
    if EXISTING in found:
        return EXISTING
    return None
