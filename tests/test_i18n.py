"""Translation and formats: numbers per language, the browser's language, one language per session, pages in sv/pl."""
from __future__ import annotations

import datetime
import threading

import pytest
from apptest_helpers import demo_copy, run_page, texts
from streamlit.testing.v1 import AppTest

import i18n
import ui
from atlas.dashboard import coverage_sentence, share_text
from errors import AtlasError, UsageError
from i18n import formats
from i18n.update import extract
from maps.style import layer_label

NBSP = "\u00a0"


@pytest.mark.parametrize("lang, population, share, km, day", [
    ("en", "203,269", "86%", "12.5 km", "29 November 2026"),
    ("sv", f"203{NBSP}269", f"86{NBSP}%", "12,5 km", "29 november 2026"),
    ("pl", f"203{NBSP}269", "86%", "12,5 km", "29 listopada 2026"),
    ("de", "203.269", f"86{NBSP}%", "12,5 km", "29. November 2026"),
])
def test_figures_are_written_as_each_language_writes_them(lang, population, share, km, day):
    with i18n.use(lang):
        assert formats.number(203269) == population
        assert formats.percent(0.86) == share == share_text(0.86)
        assert formats.km(12.5) == km
        assert formats.date(datetime.date(2026, 11, 29)) == day
        assert formats.percent(None) == share_text(None) == "—"
        assert formats.minutes(24.6) == "25 min"


def test_decimals_and_percent_digits():
    assert formats.percent(1 / 7, 1) == "14.3%"
    with i18n.use("sv"):
        assert formats.percent(1 / 7, 1) == f"14,3{NBSP}%"
        assert formats.number(1234.567, 1) == f"1{NBSP}234,6"
    assert formats.km(20.0) == "20 km"


@pytest.mark.parametrize("accept, expected", [
    ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
    ("pl-PL", "pl"),
    ("pl", "pl"),
    ("de-AT,de;q=0.9", "de"),
    ("fr-FR,fr;q=0.9,pl;q=0.5,en;q=0.4", "pl"),
    ("en;q=0.3, sv;q=0.8", "sv"),
    ("sv;q=0, pl;q=0.1", "pl"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR", "en"),
    ("*", "en"),
    ("", "en"),
    (None, "en"),
    ("garbage;;q=x,,", "en"),
    ("sv_SE", "sv"),
])
def test_the_browser_language_is_negotiated(accept, expected):
    assert i18n.negotiate(accept) == expected


def test_an_unknown_language_is_a_user_error():
    assert i18n.check_language("SV-se") == "sv"
    with pytest.raises(UsageError, match=r"unknown language 'fr': use one of en, sv, pl, de"):
        i18n.check_language("fr")
    with pytest.raises(AtlasError):
        i18n.set_language("")


def test_each_thread_keeps_its_own_language():
    """Streamlit runs every session's script in its own thread: one session's language never shows in another."""
    barrier = threading.Barrier(2, timeout=10)
    seen: dict[str, tuple[str, str, str]] = {}

    def session(lang: str) -> None:
        i18n.set_language(lang)
        barrier.wait()  # both have set their language before either reads
        seen[lang] = (i18n.current(), i18n.gettext("Map"), layer_label("training"))

    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("sv", "pl")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"sv": ("sv", "Karta", "Utbildning & stöd"), "pl": ("pl", "Mapa", "Szkolenia i wsparcie")}
    assert i18n.current() == "en" and i18n.gettext("Map") == "Map"


def test_use_restores_the_language_even_after_an_error():
    with pytest.raises(ValueError), i18n.use("pl"):
        assert i18n.current() == "pl"
        raise ValueError
    assert i18n.current() == "en"


def test_layer_names_users_see():
    assert [layer_label(l) for l in ("hubs", "training", "networks")] == [
        "Hubs & infrastructure", "Training & supports", "Networks"]
    with i18n.use("sv"):
        assert [layer_label(l) for l in ("hubs", "training", "networks")] == [
            "Kreativa nav & infrastruktur", "Utbildning & stöd", "Nätverk"]
        assert layer_label("my-own-layer") == "my-own-layer"
    with i18n.use("pl"):
        assert [layer_label(l) for l in ("hubs", "training", "networks")] == [
            "Huby i infrastruktura", "Szkolenia i wsparcie", "Sieci"]


def test_sentences_with_figures():
    radius = {"hubs": 20.0, "training": 30.0, "networks": 12.5}
    assert "(hubs 20 km, training 30 km, networks 12.5 km)" in coverage_sentence(radius)
    with i18n.use("sv"):
        line = coverage_sentence(radius)
        assert "(nav 20 km, utbildning 30 km, nätverk 12,5 km)" in line and line.startswith("**Täckning**")


def test_a_message_speaks_the_language_of_whoever_reads_it(tmp_path):
    """The hook for precise errors: a template with named parameters, translated when shown."""
    message = i18n.Message("{file}: no sheet named '{sheet}'.", file="blekinge.xlsx", sheet="Nav")
    error = UsageError(message)
    assert str(error) == "blekinge.xlsx: no sheet named 'Nav'."
    # Loaders that raise with a Message get their templates into the catalogues.
    (tmp_path / "loaders").mkdir()
    (tmp_path / "loaders" / "x.py").write_text('raise E(Message("{file}: no sheet named {sheet}.", file=f))\n')
    assert [m.id for m in extract(tmp_path) if m.id] == ["{file}: no sheet named {sheet}."]
    with i18n.use("sv"):
        assert str(i18n.Message("{count} feature(s): {layers}", count=3, layers="hubs 3")) == "3 objekt: hubs 3"
    assert i18n.ngettext("one site", "{n} sites", 2) == "{n} sites"
    assert i18n.N_("Networks") == "Networks"


# -- pages in Swedish and Polish ---------------------------------------------------------------------
NAV = {"sv": ["Start", "Karta", "Luckor", "Jämför", "Data", "Exportera", "Presentera"],
       "pl": ["Start", "Mapa", "Luki", "Porównaj", "Dane", "Eksport", "Prezentacja"]}


def run_in(lang: str, page: str, workspace) -> AppTest:
    """Open Home with ``?lang=`` in the URL (a shared link), then go to `page` as a reader would."""
    return run_page(page, workspace, query={"lang": lang})


def shown(at: AppTest) -> str:
    """Every text the page shows: messages, metric and widget labels, links, buttons."""
    labels = [m.label for m in at.metric] + [p.proto.label for p in at.get("page_link")]
    for kind in ("selectbox", "radio", "toggle", "multiselect", "button", "slider", "text_input", "expander"):
        labels += [w.label for w in getattr(at, kind)]
    labels += [b.proto.label for b in at.get("download_button")]
    return texts(at) + "\n" + "\n".join(str(label) for label in labels)


@pytest.fixture(scope="module")
def english_strings() -> list[str]:
    """Wrapped English strings that must not be seen in another language (long enough to be unambiguous)."""
    return [m.id for m in extract() if m.id and "{" not in m.id and len(m.id) >= 12 and " " in m.id]


@pytest.mark.parametrize("lang", ["sv", "pl"])
@pytest.mark.parametrize("page", ["app.py", "pages/compare.py", "pages/export.py"])
def test_pages_speak_swedish_and_polish(tmp_path, lang, page, english_strings):
    at = run_in(lang, page, demo_copy(tmp_path))
    assert [p.proto.label for p in at.get("page_link")][-7:] == NAV[lang]
    assert at.selectbox(key=ui.LANGUAGE).value == lang
    assert at.query_params.get("lang") in (lang, [lang])  # a reload keeps it
    text = shown(at)
    leaked = [s for s in english_strings if s in text]
    assert leaked == []
    if page == "app.py":
        metrics = {m.label: m.value for m in at.metric}
        population = metrics[{"sv": "Befolkning (orter med 500+)", "pl": "Ludność (miejscowości 500+)"}[lang]]
        assert NBSP in population and population.replace(NBSP, "").isdigit()
        full = metrics[{"sv": "Fullt stöd", "pl": "Pełne wsparcie"}[lang]]
        assert full.endswith(f"{NBSP}%" if lang == "sv" else "%") and f"{NBSP}%" not in full[:-2]
    if page == "pages/compare.py":
        columns = list(at.dataframe[0].value.columns)
        assert columns[:2] == {"sv": ["region", "befolkning"], "pl": ["region", "ludność"]}[lang]
    if page == "pages/export.py":
        assert at.selectbox(key=f"export.lang.{lang}").value == lang  # the file's language follows the page
        assert any(b.proto.label.startswith({"sv": "Ladda ner", "pl": "Pobierz"}[lang])
                   for b in at.get("download_button"))


def test_the_sidebar_picker_changes_the_language_and_the_url(tmp_path):
    at = run_in("sv", "app.py", demo_copy(tmp_path))
    at.selectbox(key=ui.LANGUAGE).set_value("pl").run()
    assert not at.exception
    assert at.query_params.get("lang") in ("pl", ["pl"])
    assert "Pełne wsparcie" in [m.label for m in at.metric]
    at.selectbox(key=ui.LANGUAGE).set_value("en").run()
    assert "Full support" in [m.label for m in at.metric]
    assert "lang" not in at.query_params  # English is what this (test) browser would pick anyway


def test_an_unknown_lang_in_the_url_falls_back_to_the_browser_language(tmp_path):
    at = run_in("xx", "app.py", demo_copy(tmp_path))
    assert at.selectbox(key=ui.LANGUAGE).value == "en"
    assert "Full support" in [m.label for m in at.metric]
