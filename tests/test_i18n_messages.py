"""Messages users read from loaders, boundaries and analyses speak Swedish and Polish, as precise as in English;
the Gaps page runs in sv and pl with no English left."""
from __future__ import annotations

import json
import pickle
import re

import pytest
from apptest_helpers import demo_copy, run_page, texts

import i18n
from atlas.denominator import Denominator
from errors import ImportFileError
from geography.boundaries import boundary_for
from geography.regions import load_regions
from geography.settlements import SETTLEMENT_CAVEAT
from i18n import Text, tr
from i18n.update import extract
from loaders import read_bytes

NBSP = "\u00a0"
# English words of these messages that must not be left in a translation.
ENGLISH = ("is outside", "Check the column order", "not valid XML", "no header row found", "the file is empty",
           "approximate", "boundary", "Demand counts", "population", "facilities")


def rejected_reason(lang: str) -> tuple[str, str]:
    result = read_bytes(b"Name,Town,Latitude,Longitude\nHub A,Karlshamn,95.3,15.59\nHub B,Karlshamn,56.16,15.59\n",
                        "blekinge.csv")
    assert len(result.features) + len(result.rejected) == result.rows_read == 2
    [row] = result.rejected
    with i18n.use(lang):
        return row.where, tr(row.reason)


@pytest.mark.parametrize("lang, words", [("sv", "ligger utanför"), ("pl", "jest poza zakresem")])
def test_a_rejected_row_names_the_value_and_the_columns_in_every_language(lang, words):
    where, english = rejected_reason("en")
    assert english == ("latitude '95.3' is outside −90…90. Swapping latitude and longitude would give a valid point. "
                       "Check the column order (Latitude/Longitude).")
    where_there, reason = rejected_reason(lang)
    assert where_there == where == "row 2"
    assert words in reason and "'95.3'" in reason and "(Latitude/Longitude)" in reason
    assert not any(word in reason for word in ENGLISH)


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_a_kml_that_is_not_xml_is_reported_with_the_file_and_the_place(lang):
    with pytest.raises(ImportFileError) as caught:
        read_bytes(b"<kml><Document><Placemark><name>A</name>\n<Point></Document>", "mayo hubs.kml")
    english = str(caught.value)
    assert english.startswith("mayo hubs.kml: not valid XML at line 2, column")
    with i18n.use(lang):
        shown = str(caught.value)  # the same error, read by a Swedish or Polish reader
    assert shown != english and shown.startswith("mayo hubs.kml: ")
    position = english.split(" at line ")[1].split(" (")[0]          # "2, column 17"
    line, column = position.split(", column ")
    assert f" {line}, " in shown and f" {column} " in shown        # the same line and column
    assert {"sv": "ogiltig XML på rad", "pl": "niepoprawny XML w wierszu"}[lang] in shown
    assert not any(word in shown for word in ENGLISH)


@pytest.mark.parametrize("lang, fix", [("sv", "Lägg till en rubrikrad"), ("pl", "Dodaj wiersz nagłówka")])
def test_a_sheet_without_a_name_column_says_what_to_add(lang, fix):
    with pytest.raises(ImportFileError, match=r"nav\.csv: no header row found in the first \d+ rows") as caught:
        read_bytes(b"Foo;Bar\n1;2\n", "nav.csv")
    with i18n.use(lang):
        shown = str(caught.value)
    assert shown.startswith("nav.csv: ") and fix in shown
    assert "Name/Namn/Nazwa/Organisation" in shown  # the column names to use are data, the same everywhere
    assert not any(word in shown for word in ENGLISH)


def test_boundary_labels_and_notes_translate_but_stay_english_underneath(tmp_path):
    """Blekinge is official NUTS plus Kristianstad: with no municipality imported, part of it is approximate."""
    region = load_regions(None).get("blekinge")
    found = boundary_for(region, None, online=False)
    assert found.label.startswith("approximate boundary: official NUTS 2021 SE221")  # English for JSON and exports
    assert json.loads(json.dumps({"label": found.label}))["label"] == str(found.label)
    note = next(n for n in found.notes if "Kristianstad" in n)
    with i18n.use("sv"):
        label, shown_note = tr(found.label), tr(note)
        assert label.startswith("ungefärlig gräns: officiell NUTS 2021 SE221") and "Kristianstad" in label
        assert "Kommunen Kristianstad finns inte" in shown_note
    with i18n.use("pl"):
        label = tr(found.label)
        assert label.startswith("przybliżona granica: oficjalna NUTS 2021 SE221") and "Kristianstad" in label
        assert "nie jest to oficjalna granica całego regionu" in label
    # Cached with st.cache_data (pickled): the label keeps what it needs to be shown in another language.
    again = pickle.loads(pickle.dumps(found))
    with i18n.use("sv"):
        assert tr(again.label) == tr(found.label) != found.label


def test_analysis_notes_translate_with_figures_written_for_the_language():
    thin = Denominator(points=120, population=203269, official=486000, official_year=2022, official_source="CSO")
    english = thin.warning()
    assert english == ("These settlements hold 42% of the region's population (486,000 in 2022, CSO); the shares "
                       "below are shares of them, not of everyone. A population grid counts everyone.")
    with i18n.use("sv"):
        assert tr(english) == ("Dessa orter rymmer 42\u00a0% av regionens befolkning (486\u00a0000 år 2022, CSO); "
                               "andelarna nedan är andelar av dem, inte av alla. Ett befolkningsrutnät räknar alla.")
        assert str(english) == english  # the value itself stays English: JSON and the CLI see it unchanged
    with i18n.use("pl"):
        shown = tr(english)
        assert "42%" in shown and f"486{NBSP}000 w 2022 r." in shown and shown.startswith("Te miejscowości")
        assert tr(SETTLEMENT_CAVEAT).startswith("Popyt liczy tylko punkty miejscowości")
        assert tr("user data, never translated") == "user data, never translated"


def test_a_text_is_its_english_whatever_language_builds_it():
    with i18n.use("pl"):
        text = Text("{file}: the file is empty (0 bytes). Export or download it again.", file="a.kml")
    assert text == "a.kml: the file is empty (0 bytes). Export or download it again."
    with i18n.use("pl"):
        assert tr(text) == "a.kml: plik jest pusty (0 bajtów). Wyeksportuj lub pobierz go ponownie."


def test_the_new_messages_are_extracted():
    ids = {m.id for m in extract() if m.id}
    for expected in ("latitude '{value}' is outside −90…90. Check the column order{order}.",
                     "approximate boundary: {parts}; not an official boundary of the whole region",
                     "Towns beyond reach of {layer} ({count})"):
        assert expected in ids


# -- the Gaps page in Swedish and Polish ------------------------------------------------------------
def everything_shown(at) -> list[str]:
    """Every text a reader sees on the page: texts, metric and widget labels, options, help, table headers."""
    shown = [re.sub(r"<[^>]*>", " ", texts(at))]  # the HTML blocks' text, not their markup (border-radius)
    for metric in at.metric:
        shown += [metric.label, metric.value, metric.help or ""]
    for kind in ("selectbox", "slider", "toggle", "button", "multiselect", "radio", "expander"):
        for widget in getattr(at, kind):
            shown += [str(widget.label), str(getattr(widget, "help", "") or "")]
            shown += [str(o) for o in getattr(widget.proto, "options", [])]
    shown += [e.value for e in at.warning]
    for frame in at.dataframe:
        shown += [str(c) for c in frame.value.columns]
    return shown


@pytest.fixture(scope="module")
def english_phrases() -> list[str]:
    """Wrapped English phrases (several words, long enough to be unambiguous)."""
    return [m.id for m in extract() if isinstance(m.id, str) and "{" not in m.id and len(m.id) >= 12 and " " in m.id]


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_gaps_speaks_swedish_and_polish(tmp_path, lang, english_phrases):
    at = run_page("pages/gaps.py", demo_copy(tmp_path), **{"atlas.lang": lang})
    assert at.title[0].value == {"sv": "Luckor", "pl": "Luki"}[lang]
    shown = everything_shown(at)
    text = "\n".join(shown)
    assert [p for p in english_phrases if p in text] == []
    # ("Population" may appear in a source's own name: "CSO Census of Population 2022", data.)
    assert not any("Population" in label for label in [m.label for m in at.metric] + [w.label for w in at.slider])
    words = ("radius", "coverage", "Full support", "beyond reach", "suggested", "Focus layer",
             "New sites", "Show gap", "Demand:", "approximate outline", "official boundary", "Count planned",
             "town", "adds people", "missing", "settlements")
    assert [w for w in words if w in text] == []
    metrics = {m.label: m.value for m in at.metric}
    population = metrics[{"sv": "Befolkning", "pl": "Ludność"}[lang]]
    assert NBSP in population and population.replace(NBSP, "").isdigit()
    share = metrics[{"sv": "Fullt stöd", "pl": "Pełne wsparcie"}[lang]]
    assert share.endswith(f"{NBSP}%" if lang == "sv" else "%") and share[:-1].strip(NBSP).isdigit()
    towns = list(at.dataframe[-2].value.columns)
    assert towns[:4] == {"sv": ["Ort", "befolkning", "Saknas", "nav, km"],
                         "pl": ["Miejscowość", "ludność", "Brakuje", "huby (km)"]}[lang]
