"""Map, Present and Data in Swedish and Polish: no English words of ours left, figures written for the language."""
from __future__ import annotations

import json
import re

import pytest
from apptest_helpers import demo_copy, run_page, texts
from streamlit.testing.v1 import AppTest

import i18n
import ui
from geography.gisco import GISCO_ATTRIBUTION
from geography.nuts_files import SHIPPED_ATTRIBUTION
from i18n.update import extract
from loaders.vocabulary import KINDS, SECTORS
from maps.legend import ATTRIBUTIONS
from maps.style import KIND_LABELS, SECTOR_LABELS, kind_label, sector_label

NBSP = "\u00a0"
# The files this pass wrapped: their English strings must not be seen on a Swedish or Polish page.
WRAPPED = ("pages/map.py", "pages/present.py", "pages/data.py", "maps/", "atlas/data_ops.py")
PAGES = {"map": "pages/map.py", "present": "pages/present.py", "data": "pages/data.py"}


@pytest.fixture(scope="module")
def english() -> list[str]:
    """English text of the wrapped strings, long enough to be unambiguous in a page.

    A template's placeholders are data, so its longest literal piece stands for it.
    """
    found = set()
    for message in extract():
        if not message.id or not any(f.startswith(WRAPPED) for f, _ in message.locations):
            continue
        for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
            piece = max(re.split(r"{\w*}", text), key=len).strip()
            if len(piece) >= 12 and " " in piece:
                found.add(piece)
    return sorted(found)


@pytest.fixture
def speaking():
    """Speak a language in the test's own thread as well, for as long as the test runs.

    AppTest calls a widget's format_func in the test's thread when it next runs the page (to
    find the option picked), so that thread must speak the session's language, as the
    script thread does in the app.
    """
    token = []

    def speak(lang: str) -> None:
        token.append(i18n._current.set(i18n.check_language(lang)))

    yield speak
    for t in reversed(token):
        i18n._current.reset(t)


def open_page(lang: str, page: str, workspace, **state) -> AppTest:
    """Open Home with ``?lang=`` (a shared link), then go to `page` as a reader would."""
    return run_page(page, workspace, query={"lang": lang}, **state)


def visible(at: AppTest) -> str:
    """Every text the page shows: markdown, captions, html (legend, slide), widget labels and options,
    help texts, placeholders, expanders, buttons, links and the headers of every table."""
    parts = [texts(at), *(e.proto.body for e in at.get("html")), *(e.value for e in at.warning)]
    for kind in ("selectbox", "radio", "multiselect", "toggle", "checkbox", "button", "text_input", "text_area",
                 "number_input", "expander", "tabs"):
        for widget in getattr(at, kind):
            parts.append(str(getattr(widget, "label", "")))
            parts += [str(o) for o in getattr(widget, "options", None) or []]
            parts += [str(getattr(widget, "help", "") or ""), str(getattr(widget, "placeholder", "") or "")]
    for kind in ("download_button", "page_link", "link_button", "popover", "file_uploader", "status"):
        for element in at.get(kind):
            proto = getattr(element, "proto", None)
            parts += [str(getattr(proto, "label", "")), str(getattr(proto, "help", ""))]
    for frame in at.dataframe:
        parts += [str(c) for c in frame.value.columns]
    return "\n".join(parts)


def leaks(text: str, english: list[str]) -> list[str]:
    return [s for s in english if s in text]


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_map_speaks_the_language(tmp_path, lang, english, speaking):
    speaking(lang)
    at = open_page(lang, PAGES["map"], demo_copy(tmp_path))
    at.toggle(key="map.choropleth").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    text = visible(at)
    assert leaks(text, english) == []
    assert at.toggle(key="map.discs").label == {"sv": "Täckningscirklar (regionens radier)",
                                                "pl": "Kręgi pokrycia (promienie regionu)"}[lang]
    # The legend: layer names; West of Ireland is one NUTS 3 region, so the page says (in the language) that
    # it has no areas to colour.
    legend = " ".join(e.proto.body for e in at.get("html"))
    assert {"sv": "Kreativa nav &amp; infrastruktur", "pl": "Huby i infrastruktura"}[lang] in legend
    assert {"sv": "har inga områden att färglägga", "pl": "nie ma obszarów do pokolorowania"}[lang] in text
    caption = next(c.value for c in at.caption if c.value.startswith({"sv": "Visar", "pl": "Widoczne"}[lang]))
    assert {"sv": "radier: nav 20 km", "pl": "promienie: huby 20 km"}[lang] in caption.replace("\\", "")
    # The filters offer kinds and sectors in the reader's words and filter on the canonical values.
    kinds = at.multiselect(key="map.kinds")
    assert {"sv": "kreativt nav", "pl": "centrum kreatywne"}[lang] in kinds.options
    assert "creative hub" not in kinds.options
    assert {"sv": "hantverk", "pl": "rzemiosło"}[lang] in at.multiselect(key="map.sectors").options
    before = caption
    kinds.set_value(["creative hub"]).run()
    assert not at.exception
    after = next(c.value for c in at.caption if c.value.startswith({"sv": "Visar", "pl": "Widoczne"}[lang]))
    assert after != before and {"sv": "dolda av lagerväljarna", "pl": "ukryte przez przełączniki"}[lang] in after


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_map_shares_by_area_are_written_for_the_language(tmp_path, lang, speaking):
    """West Pomerania has several NUTS 3 areas: the legend's scale and the areas' tooltips show shares
    ("0–100 %" in Swedish, "0–100%" in Polish) and grouped figures as the language writes them."""
    speaking(lang)
    at = open_page(lang, PAGES["map"], demo_copy(tmp_path), **{ui.REGION: "west-pomerania"})
    at.toggle(key="map.choropleth").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    legend = " ".join(e.proto.body for e in at.get("html"))
    percent = {"sv": f"{NBSP}%", "pl": "%"}[lang]
    assert f"0–100{percent}" in legend
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    [areas] = [layer for layer in spec["layers"] if layer["id"] == "area-shares"]
    figures = [r["kind"] for r in areas["data"]]
    reach = {"sv": "av befolkningen inom räckhåll för", "pl": "ludności w zasięgu"}[lang]
    assert figures and all(re.fullmatch(rf"\d+{percent} {reach}:? .+", f) for f in figures), figures[:3]
    people = [r["town"] for r in areas["data"]]
    word = {"sv": "personer", "pl": "osób"}[lang]
    assert any(re.fullmatch(r"\d{1,3}(" + NBSP + r"\d{3})+ " + word, p) for p in people), people[:3]


def _tooltip_kinds(at: AppTest) -> set[str]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {record["kind"] for layer in spec["layers"] if layer["id"].endswith("-existing")
            for record in layer["data"]}


def test_map_tooltips_follow_each_session_language(tmp_path):
    """The facility layers are cached across sessions: the language is part of the key, so Polish never
    gets the Swedish tooltips cached a moment before (or the other way round)."""
    workspace = demo_copy(tmp_path)
    swedish = _tooltip_kinds(open_page("sv", PAGES["map"], workspace))
    polish = _tooltip_kinds(open_page("pl", PAGES["map"], workspace))
    english_kinds = _tooltip_kinds(open_page("en", PAGES["map"], workspace))
    assert any(k.startswith("Kreativa nav & infrastruktur") for k in swedish)
    assert any(k.startswith("Huby i infrastruktura") for k in polish)
    assert not any("Kreativa" in k for k in polish) and not any("Huby" in k for k in swedish)
    assert any(k.startswith("Hubs & infrastructure") for k in english_kinds)


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_present_speaks_the_language(tmp_path, lang, english, speaking):
    speaking(lang)
    at = open_page(lang, PAGES["present"], demo_copy(tmp_path))
    text = visible(at)
    assert leaks(text, english) == []
    slide = " ".join(e.proto.body for e in at.get("html"))
    assert {"sv": "West of Ireland · Regionen", "pl": "West of Ireland · Region"}[lang] in slide
    assert {"sv": "Steg 1 av 6", "pl": "Krok 1 z 6"}[lang] in slide
    # "203 269 people live in …; 12 % have …": grouped with a no-break space, the share as the language writes it.
    sentence = re.search(r"<p>(.*?)</p>", slide[slide.index("atlas-present"):]).group(1)
    assert re.search(rf"\d{NBSP}\d{{3}}", sentence), sentence
    share = re.search(r"(\d+)(\u00a0?)%", sentence)
    assert share and share.group(2) == {"sv": NBSP, "pl": ""}[lang], sentence
    first, previous = at.button[:2]  # First is an icon, named in its tooltip
    assert (first.help, previous.label) == {"sv": ("Första steget (Home)", "◀ Föregående"),
                                            "pl": ("Pierwszy krok (Home)", "◀ Poprzedni")}[lang]
    # Every step, through to the suggested sites, speaks the language too.
    for _ in range(5):
        at.button(key="present.next").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert leaks(visible(at), english) == []
    assert {"sv": "Var nya nav skulle hjälpa mest", "pl": "Gdzie nowe huby pomogłyby najbardziej"}[lang] in " ".join(
        e.proto.body for e in at.get("html"))


def test_a_bad_step_in_the_address_is_told_in_the_language(tmp_path):
    at = run_page("app.py", demo_copy(tmp_path), query={"lang": "pl"})
    at.switch_page(PAGES["present"])
    at.query_params["step"] = "9"
    at.run()
    assert [w.value for w in at.warning] == [
        "?step=9 w adresie nie jest krokiem prezentacji: użyj od 1 do 6. Pokazuję krok z tej sesji."]


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_data_speaks_the_language(tmp_path, lang, english, speaking):
    speaking(lang)
    at = open_page(lang, PAGES["data"], demo_copy(tmp_path))
    text = visible(at)
    assert leaks(text, english) == []
    assert at.button[0].label == {"sv": "Importera 0 filer", "pl": "Importuj 0 plików"}[lang]
    headers = [list(f.value.columns) for f in at.dataframe]
    history = {"sv": ["importerad", "fil", "lästa rader"], "pl": ["zaimportowano", "plik", "wczytane wiersze"]}[lang]
    assert headers[-1][:3] == history
    assert headers[-2] == {"sv": ["fil", "var", "orsak"], "pl": ["plik", "gdzie", "powód"]}[lang]
    # The data itself is never translated: file names and reasons as stored.
    assert "west_ireland_mymaps.kmz" in set(at.dataframe[-1].value[history[1]])


def test_data_messages_and_plurals(tmp_path):
    """A message built in data_ops reads in the language, with the language's plural forms and figures."""
    from atlas import data_ops as ops

    with i18n.use("pl"):
        assert ops.import_status([{"error": None}] * 5)["label"] == "Zaimportowano 5 z 5 plików"
        assert ops.import_status([{"error": None}] * 2)["label"] == "Zaimportowano 2 z 2 plików"
        label = ops.candidate_label({"name": "Newport", "country": "IE", "admin1": "", "population": 1234,
                                     "lat": 53.88, "lon": -9.55, "km": 1234.5})
        assert label == f"Newport · IE · mieszk. 1{NBSP}234 · 53.8800, -9.5500 · 1{NBSP}234,5 km od obecnego punktu"
    with i18n.use("sv"), pytest.raises(ValueError, match="status måste vara ett av existing, planned, inte 'maybe'"):
        ops.field_changes({}, {"status": "maybe"})
    with pytest.raises(ValueError, match="status must be one of existing, planned, not 'maybe'"):
        ops.field_changes({}, {"status": "maybe"})


def test_the_vocabulary_has_a_label_for_every_canonical_kind_and_sector():
    assert set(KIND_LABELS) == set(KINDS) and set(SECTOR_LABELS) == set(SECTORS)
    with i18n.use("sv"):
        assert kind_label("co-working space") == "coworkingyta" and sector_label("crafts") == "hantverk"
        assert kind_label("pole namiotowe") == "pole namiotowe"  # a kind a user typed is shown as written
    with i18n.use("pl"):
        assert kind_label("co-working space") == "przestrzeń coworkingowa" and sector_label("crafts") == "rzemiosło"


def test_the_boundary_attributions_are_the_ones_the_legend_translates():
    assert {GISCO_ATTRIBUTION, SHIPPED_ATTRIBUTION} == set(ATTRIBUTIONS)
