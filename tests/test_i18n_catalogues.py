"""The catalogues are complete: every marked string has a Swedish and a Polish translation, with its placeholders."""
from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import i18n
from i18n.update import extract

REQUIRED = ("sv", "pl")  # complete, checked here; German is kept where it costs little
# Strings that are rightly the same in a language (a word both languages share, a name).
SAME: dict[str, set[str]] = {
    "sv": {"Region", "region", "Status", "status", "Format", "Data", "Creative Atlas — {region}",
           # words Swedish shares (a history action, vocabulary sectors and kinds) and bare placeholder pairs
           "import", "design", "film", "festival", "museum", "{count} person", "{minutes} {mode}", "{layer} {reach}"},
    "pl": {"Region", "region", "Status", "Format", "Creative Atlas — {region}",
           "import", "film", "media", "{minutes} {mode}", "{layer} {reach}"},
    "de": {"Region", "Status", "Format", "Export", "Creative Atlas — {region}", "Code", "Name"},
}
_FIELD = re.compile(r"{(\w*)[^{}]*}")


def load(lang: str) -> Catalog:
    with (i18n.LOCALES / lang / "LC_MESSAGES" / "atlas.po").open("rb") as handle:
        return read_po(handle, locale=lang, domain=i18n.DOMAIN)


def problems(template: Catalog, catalogue: Catalog, lang: str, *, complete: bool = True) -> list[str]:
    """What is wrong with `catalogue` against `template`: missing, empty, fuzzy, untranslated, bad placeholders."""
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalogue.get(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if entry is None:
            found.append(f"{lang}: missing {ids[0]!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            if complete:
                found.append(f"{lang}: empty {ids[0]!r}")
            continue
        if entry.fuzzy:
            found.append(f"{lang}: fuzzy {ids[0]!r}")
        if complete and strings[0] == ids[0] and ids[0] not in SAME.get(lang, set()):
            found.append(f"{lang}: still English {ids[0]!r}")
        wanted = set(_FIELD.findall(ids[0]))
        for text in strings:
            if set(_FIELD.findall(text)) != wanted:
                found.append(f"{lang}: placeholders of {ids[0]!r} are {sorted(_FIELD.findall(text))}, "
                             f"not {sorted(wanted)}")
    return found


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


def test_the_strings_wrapped_so_far_are_extracted(template):
    ids = {m.id for m in template if m.id}
    for expected in ("Home", "Language", "Hubs & infrastructure", "Creative Industries Networks", "Compare regions",
                     "Language of the file", "{layer} coverage", "Download {file} ({size} KB)", "name"):
        assert expected in ids
    assert len(ids) > 150


@pytest.mark.parametrize("lang", REQUIRED)
def test_swedish_and_polish_are_complete(template, lang):
    assert problems(template, load(lang), lang) == []


def test_german_placeholders_hold_where_translated(template):
    assert problems(template, load("de"), "de", complete=False) == []


def test_the_check_finds_what_is_wrong(template):
    """Doctor a catalogue four ways: the check must name each."""
    catalogue = load("sv")
    del catalogue["Language"]
    catalogue["Map"].string = ""
    catalogue["Compare"].string = "Compare"
    catalogue["{layer} coverage"].string = "{lager}: täckning"
    catalogue["Gaps"].flags.add("fuzzy")
    found = problems(template, catalogue, "sv")
    assert "sv: missing 'Language'" in found
    assert "sv: empty 'Map'" in found
    assert "sv: still English 'Compare'" in found
    assert "sv: fuzzy 'Gaps'" in found
    assert any("placeholders of '{layer} coverage'" in p for p in found)


@pytest.mark.parametrize("lang", ["sv", "pl", "de"])
def test_every_catalogue_compiles_and_translates(lang):
    with i18n.use(lang):
        assert i18n.gettext("Language") == {"sv": "Språk", "pl": "Język", "de": "Sprache"}[lang]
        assert i18n.gettext("a string nobody marked") == "a string nobody marked"
