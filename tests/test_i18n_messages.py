"""Messages users read from loaders, boundaries and analyses speak Swedish and Polish, as precise as in English;
the Gaps page runs in sv and pl with no English left."""
from __future__ import annotations

import ast
import importlib
import io
import json
import pickle
import re
import zipfile
from pathlib import Path

import pytest
from apptest_helpers import demo_copy, run_page, texts
from openpyxl import Workbook

import i18n
from atlas.denominator import Denominator
from errors import AtlasError, ImportFileError
from geography.boundaries import boundary_for
from geography.network import build_networks
from geography.regions import load_regions
from geography.settlements import SETTLEMENT_CAVEAT
from i18n import Text, tr
from i18n.formats import Figure
from i18n.update import extract
from loaders import read_bytes, safe_zip
from loaders.errors import UnsafeFileError
from loaders.gazetteer import geocode
from loaders.grids import demand_from_grid_csv, demand_from_raster
from loaders.population import demand_from_bytes

ROOT = Path(__file__).resolve().parents[1]
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


# -- every loader family: the same file, place and value, in the reader's words ----------------------
def shown_in(message, lang: str) -> str:
    """`message` (an error, or a `Text` such as a rejected row's reason) as a reader of `lang` sees it."""
    with i18n.use(lang):
        return str(message) if isinstance(message, BaseException) else tr(message)


def check_translated(message, *, same: tuple[str, ...], english: tuple[str, ...]) -> None:
    """In sv and pl the message differs from English, names everything in `same` and none of `english`."""
    original = str(message)
    assert all(part in original for part in same) and all(words in original for words in english)
    for lang in ("sv", "pl"):
        shown = shown_in(message, lang)
        assert shown != original
        assert [part for part in same if part not in shown] == [], (lang, shown)
        assert [words for words in english if words in shown] == [], (lang, shown)


def raised(call, *args, **kwargs) -> AtlasError:
    with pytest.raises(AtlasError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_damaged_workbook_says_what_it_is_and_how_to_save_it():
    error = raised(read_bytes, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "nav.xlsx")
    check_translated(error, same=("nav.xlsx: ", "(.xls)", ".xlsx", ".xlsm", "Excel", "LibreOffice"),
                     english=("old-style", "only .xlsx and .xlsm are read", "Open it in Excel"))


def test_a_workbook_over_the_cell_limit_names_the_sheet_the_range_and_the_limit():
    book = Workbook()
    book.active.title = "Nav"
    book.active.append(["Name", "Town"])
    book.active.append(["Old mill", "Karlshamn"])
    buffer = io.BytesIO()
    book.save(buffer)
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # one value in the grid's last cell
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is>'
                                                           b"<t>x</t></is></c></row></sheetData>")
            archive.writestr(info, content)
    error = raised(read_bytes, out.getvalue(), "blekinge.xlsx")
    assert str(error).startswith("blekinge.xlsx, sheet 'Nav': the used range A1:XFD1048576 holds 17 billion cells")
    check_translated(error, same=("blekinge.xlsx", "'Nav'", "A1:XFD1048576", "17 ", "Ctrl+End"),
                     english=("used range", "billion", "over the", "limit for one sheet", "Delete the stray cells"))
    assert f"2{NBSP}000{NBSP}000" in shown_in(error, "sv")  # the limit written as Swedes write it


def test_geojson_bad_geometry_and_damaged_file():
    result = read_bytes(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Hub"}, "geometry": {"type": "Point", "coordinates": [15.59, 95.3]}},
        {"type": "Feature", "properties": {"name": "Ok"}, "geometry": {"type": "Point", "coordinates": [15.59, 56.16]}},
    ]}).encode(), "hubs.geojson")
    assert len(result.features) + len(result.rejected) == result.rows_read == 2
    [row] = result.rejected
    assert row.where == "feature 1"
    check_translated(row.reason, same=("95.3", "15.59", "−90…90"),
                     english=("is outside", "Swapping them", "GeoJSON stores longitude first"))
    error = raised(read_bytes, b'{"type": "FeatureCollection", "features": [', "hubs.geojson")
    check_translated(error, same=("hubs.geojson: ", "JSON", " 1, ", " 44"),
                     english=("not valid JSON", "line 1", "Check the file was saved completely"))


def test_grid_csv_and_geotiff_errors_name_the_file_and_what_it_holds():
    error = raised(demand_from_grid_csv, b"foo;bar\n1;2\n", "geostat.csv")
    check_translated(error, same=("geostat.csv: ", "GRD_ID", "foo, bar", "CRS3035RES1000mN3000000E4000000"),
                     english=("no GRD_ID column", "names each cell", "for a table of places"))
    error = raised(demand_from_raster, b"this is not a GeoTIFF", "ghs_pop.tif")
    check_translated(error, same=("ghs_pop.tif: ", "GeoTIFF", "GHS-POP", "WorldPop", "Eurostat"),
                     english=("not a GeoTIFF we can read", "Export the population raster"))


def test_a_population_file_names_its_columns_and_each_rejected_row():
    error = raised(demand_from_bytes, b"name,lat,lon\nA,53.27,-8.1\n", "pop.csv")
    check_translated(error, same=("pop.csv: ", "name, lat, lon", "'population'"),
                     english=("no population column", "Name the column"))
    load = demand_from_bytes(b"name,lat,lon,population\nA,53.27,-8.1,lots\nB,53.3,-8.2,120\n", "pop.csv")
    assert load.accepted + len(load.rejected) == load.rows_read == 2
    [row] = load.rejected
    assert row.where == "row 2"
    check_translated(row.reason, same=("population: ", "'lots'", ">= 0"),
                     english=("is not a number", "give a whole number", "Fix the row"))


def test_a_zip_bomb_is_refused_with_the_entry_and_the_limit():
    info = zipfile.ZipInfo("doc.kml")
    info.file_size, info.compress_size = 300 * 1024 * 1024, 1024 * 1024
    with pytest.raises(UnsafeFileError) as caught:
        safe_zip.check_member_size(info, "mayo.kmz")
    check_translated(caught.value, same=("mayo.kmz: ", "'doc.kml'", "300 MB", "200 MB"),
                     english=("would unpack to", "zip bomb", "Split the map"))


def test_an_ambiguous_town_lists_the_places_in_every_language():
    reason = geocode("Roscommon").reason
    assert reason.startswith("town 'Roscommon' is ambiguous: 2 places match (")
    check_translated(reason, same=("'Roscommon'", " 2 ", "(IE, ", "53.6333, -8.1833", "44.4984, -84.5920"),
                     english=("is ambiguous", "places match", "pop.", "or the country"))
    assert f"6{NBSP}555" in shown_in(reason, "sv")  # the population written as Swedes write it


def test_a_network_file_that_is_empty_says_where_to_get_one(tmp_path):
    (tmp_path / "blekinge.osm.pbf").write_bytes(b"")
    error = raised(build_networks, tmp_path / "blekinge.osm.pbf")
    check_translated(error, same=("blekinge.osm.pbf: ", ".osm.pbf", "Geofabrik", "BBBike"),
                     english=("the file is empty", "Download the region's"))


def test_siting_notes_read_in_the_language_with_its_figures():
    note = Text("Exact optimum not computed: {count} candidates reach uncovered settlements (limit {limit}); "
                "raise exact_limit to try.", count=Figure(12345), limit=Figure(5000))
    assert note == ("Exact optimum not computed: 12,345 candidates reach uncovered settlements (limit 5,000); "
                    "raise exact_limit to try.")
    assert f"12{NBSP}345" in shown_in(note, "sv") and "exact_limit" in shown_in(note, "pl")
    check_translated(note, same=("exact_limit",), english=("Exact optimum", "candidates reach"))


# -- no loader error is left as a plain f-string ---------------------------------------------------
SCANNED = ("loaders", "geography")
# Files whose errors are not ours to wrap yet: `path: reason` each (none now).
ALLOWED: dict[str, str] = {}


def plain_errors(root: Path) -> list[str]:
    """Every `SomeAtlasError(<text>)` in the scanned packages whose message is a plain string, not a Message."""
    found = []
    for path in sorted(p for folder in SCANNED for p in (root / folder).glob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in ALLOWED:
            continue
        module = importlib.import_module(rel.removesuffix(".py").replace("/", "."))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            error = getattr(module, node.func.id, None)
            if not (isinstance(error, type) and issubclass(error, AtlasError)):
                continue
            text = node.args[0]
            plain = (isinstance(text, (ast.JoinedStr, ast.BinOp))
                     or (isinstance(text, ast.Constant) and isinstance(text.value, str))
                     or (isinstance(text, ast.Call) and (getattr(text.func, "id", "") == "str"
                                                         or isinstance(text.func, ast.Attribute))))
            if plain:
                found.append(f"{rel}:{node.lineno}: {node.func.id}({ast.unparse(text)[:60]}…)")
    return found


def test_no_loader_error_is_a_plain_string():
    assert plain_errors(ROOT) == []


def test_the_scan_finds_a_plain_f_string(tmp_path):
    (tmp_path / "loaders").mkdir()
    (tmp_path / "geography").mkdir()
    for name in ("loaders/kml.py", "geography/areas.py"):
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    with (tmp_path / "loaders" / "kml.py").open("a", encoding="utf-8") as handle:
        handle.write('\n\ndef _late(name):\n    raise ImportFileError(f"{name}: broken.")\n')
    with (tmp_path / "geography" / "areas.py").open("a", encoding="utf-8") as handle:
        handle.write('\n\ndef _later(name):\n    raise ImportFileError("broken: " + name)\n')
    found = plain_errors(tmp_path)
    assert len(found) == 2
    assert found[0].startswith("geography/areas.py:") and found[1].startswith("loaders/kml.py:")


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
