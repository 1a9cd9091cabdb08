"""Exports in the alliances' languages: XLSX sheets and headers, KML folders; data and layer ids untouched."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook

import i18n
from atlas.cli import main
from atlas.export import export_to_memory, export_workspace
from loaders import read_file
from loaders.layers import layer_from_name
from tests.test_export_cli import workspace  # noqa: F401  (the fixture: a My Maps KMZ + a boundary)

SHEETS = {
    "en": ["About", "Hubs & Infrastructure", "Training & Supports", "Networks", "Unclassified"],
    "sv": ["Om rapporten", "Nav & infrastruktur", "Utbildning & stöd", "Nätverk", "Oklassificerade"],
    "pl": ["O raporcie", "Huby i infrastruktura", "Szkolenia i wsparcie", "Sieci", "Niesklasyfikowane"],
}
FOLDERS = {
    "en": ["Creative Industries Hubs & Infrastructure", "Creative Industries Training & Supports",
           "Creative Industries Networks", "Unclassified"],
    "sv": ["Kreativa näringar: nav & infrastruktur", "Kreativa näringar: utbildning & stöd",
           "Kreativa näringar: nätverk", "Oklassificerade"],
    "pl": ["Przemysły kreatywne: huby i infrastruktura", "Przemysły kreatywne: szkolenia i wsparcie",
           "Przemysły kreatywne: sieci", "Niesklasyfikowane"],
}
HEADERS = {
    "en": ["name", "kind", "status"],
    "sv": ["Namn", "Typ", "Status"],
    "pl": ["Nazwa", "Rodzaj", "Stan"],
}


def _files(workspace, fmt, lang, **options):
    files, result = export_to_memory(workspace.path, fmt, "out", lang=lang, **options)
    return files, result


@pytest.mark.parametrize("lang", ["en", "sv", "pl"])
def test_xlsx_sheets_and_headers_speak_the_language_and_the_data_does_not(workspace, lang):
    files, result = _files(workspace, "xlsx", lang)
    book = load_workbook(io.BytesIO(files[0][1]), read_only=True)
    assert book.sheetnames == SHEETS[lang]
    rows = list(book[SHEETS[lang][1]].iter_rows(values_only=True))
    assert list(rows[0][:3]) == HEADERS[lang]
    english = load_workbook(io.BytesIO(_files(workspace, "xlsx", "en")[0][0][1]), read_only=True)
    english_rows = list(english["Hubs & Infrastructure"].iter_rows(values_only=True))
    assert rows[1:] == english_rows[1:]  # names, kinds, statuses ("existing"), attributes: as they were
    assert {r[2] for r in rows[1:]} <= {"existing", "planned"}
    about = list(book[SHEETS[lang][0]].iter_rows(values_only=True))
    if lang != "en":
        assert not any(cell == "Features in this report" for row in about for cell in row)


@pytest.mark.parametrize("lang", ["sv", "pl"])
def test_a_translated_report_imports_back_into_the_same_layers(workspace, lang, tmp_path):
    """Sheet names and headers are words the sheet reader knows, so a partner's report re-imports."""
    files, _ = _files(workspace, "xlsx", lang)
    path = tmp_path / f"report-{lang}.xlsx"
    path.write_bytes(files[0][1])
    back = read_file(path).features
    original = workspace.features()
    assert sorted(zip(back["name"], back["layer"], back["status"])) == sorted(
        zip(original["name"], original["layer"], original["status"]))


@pytest.mark.parametrize("lang", ["en", "sv", "pl"])
def test_kml_folder_names_follow_the_language_and_layer_ids_stay(workspace, lang, tmp_path):
    files, _ = _files(workspace, "kml", lang)
    text = files[0][1].decode("utf-8")
    folders = re.findall(r"<Folder><name>(.*?)</name>", text)
    assert folders == [name.replace("&", "&amp;") for name in FOLDERS[lang]]
    layers = set(re.findall(r'<Data name="layer"><value>(.*?)</value>', text))
    assert layers == {"hubs", "training", "networks", "unclassified"}
    # And My Maps' folders come back as the same layers when the KML is imported again.
    path = tmp_path / f"back-{lang}.kml"
    path.write_bytes(files[0][1])
    back = read_file(path).features
    original = workspace.features()
    assert sorted(zip(back["name"], back["layer"])) == sorted(zip(original["name"], original["layer"]))


@pytest.mark.parametrize("lang", ["sv", "pl", "de"])
def test_every_translated_layer_title_names_its_layer(lang):
    from exporters.common import LAYER_TITLES, layer_title
    from exporters.xlsx import LAYER_SHEETS
    from maps.style import layer_label

    with i18n.use(lang):
        for layer in LAYER_TITLES:
            assert layer_from_name(layer_title(layer)) == layer, layer_title(layer)
            assert layer_from_name(i18n.gettext(LAYER_SHEETS[layer])) == layer
            assert layer_title(layer) != LAYER_TITLES[layer]
            if layer != "unclassified":
                assert layer_from_name(layer_label(layer)) == layer


def test_geojson_properties_and_layer_ids_are_the_same_in_every_language(workspace):
    docs = {lang: json.loads(_files(workspace, "geojson", lang)[0][0][1]) for lang in ("en", "sv", "pl")}
    english = [(f["properties"], f["geometry"]) for f in docs["en"]["features"]]
    for lang in ("sv", "pl"):
        assert [(f["properties"], f["geometry"]) for f in docs[lang]["features"]] == english
    assert {f["properties"]["layer"] for f in docs["sv"]["features"]} == {"hubs", "training", "networks",
                                                                         "unclassified"}


def test_the_language_does_not_leak_out_of_an_export(workspace, tmp_path):
    export_workspace(workspace.path, "xlsx", tmp_path / "a.xlsx", lang="pl")
    assert i18n.current() == "en"
    assert i18n.gettext("Map") == "Map"


def test_cli_export_lang_sv(workspace, tmp_path, capsys):
    out = tmp_path / "rapport.xlsx"
    assert main(["export", "--workspace", str(workspace.path), "--format", "xlsx", "--out", str(out),
                 "--lang", "sv"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Exporterade 9 objekt: hubs 4, training 2, networks 2, unclassified 1 som XLSX")
    assert load_workbook(out, read_only=True).sheetnames == SHEETS["sv"]
    kmz = tmp_path / "karta.kmz"
    assert main(["export", "--workspace", str(workspace.path), "--format", "kmz", "--out", str(kmz),
                 "--lang", "pl"]) == 0
    text = zipfile.ZipFile(kmz).read("doc.kml").decode("utf-8")
    assert "<name>Przemysły kreatywne: sieci</name>" in text and "<name>Eksport z Creative Atlas</name>" in text


def test_cli_unknown_language_is_one_line(workspace, tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    assert main(["export", "--workspace", str(workspace.path), "--format", "xlsx", "--out", str(out),
                 "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: unknown language 'fr': use one of en, sv, pl, de")
    assert not out.exists()


def test_the_page_command_names_the_language():
    from atlas.export import cli_command

    assert cli_command("ws", "xlsx", "r.xlsx", lang="sv").endswith("--out r.xlsx --lang sv")
    assert "--lang" not in cli_command("ws", "xlsx", "r.xlsx", lang="en")
