"""The shared vocabulary of kinds and creative sectors (loaders/vocabulary.py) and the loaders that use it."""
from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from openpyxl import Workbook

from loaders.geojson import features_from_geojson
from loaders.kml import features_from_kml
from loaders.layers import fold
from loaders.sheets import features_from_csv, features_from_xlsx
from loaders.vocabulary import (
    ALL_SECTORS,
    KINDS,
    SECTORS,
    kind_of,
    normalise_fields,
    sector_choice,
    sector_names,
    sectors_of,
    serves_sector,
)
from tests.conftest import find_realdata, missing_realdata


# -- the vocabulary ---------------------------------------------------------------------------
@pytest.mark.parametrize("canonical, alias", [(c, a) for c, aliases in KINDS.items() for a in (c, *aliases)])
def test_every_kind_alias_maps_to_its_canonical_kind(canonical, alias):
    assert kind_of(alias) == canonical
    assert kind_of(alias.upper()) == canonical  # case does not matter
    assert kind_of(f"  {alias}: ") == canonical  # nor spacing and a trailing colon


@pytest.mark.parametrize("canonical, alias", [(c, a) for c, aliases in SECTORS.items() for a in (c, *aliases)])
def test_every_sector_alias_maps_to_its_canonical_sector(canonical, alias):
    assert sectors_of(alias) == canonical
    assert sectors_of(alias.title()) == canonical


def test_canonical_values_are_stable_and_fold_apart():
    for vocabulary, normalise in ((KINDS, kind_of), (SECTORS, sectors_of)):
        assert all(normalise(c) == c for c in vocabulary)  # normalising again changes nothing
        folded = Counter(fold(c) for c in vocabulary)
        assert max(folded.values()) == 1
        # A canonical name is plain: no list separator that would split it.
        assert not [c for c in vocabulary if any(sep in c for sep in ";,/|")]


@pytest.mark.parametrize("written", ["co-working", "coworking", "Co Working", "Co-Working space", "coworkingyta",
                                     "Przestrzeń coworkingowa", "Coworking-Space"])
def test_co_working_spellings_collapse(written):
    assert kind_of(written) == "co-working space"


@pytest.mark.parametrize("written", ["cluster", "Klaster", "kluster", "KLUSTER", "klastry", "Braisle"])
def test_cluster_spellings_collapse(written):
    assert kind_of(written) == "cluster"


@pytest.mark.parametrize("written", ["crafts", "craft", "hantverk", "konsthantverk", "Rzemiosło", "rzemioslo",
                                     "rękodzieło", "Handwerk", "Kunsthandwerk"])
def test_crafts_in_four_languages_collapse(written):
    assert sectors_of(written) == "crafts"


def test_the_briefs_examples():
    assert [sectors_of(t) for t in ("spel", "dataspel", "gry", "gry komputerowe", "Spiele", "Games")] == ["games"] * 6
    assert [sectors_of(t) for t in ("formgivning", "wzornictwo", "projektowanie", "Design")] == ["design"] * 4
    assert kind_of("makerspace") == kind_of("maker space") == kind_of("FabLab") == kind_of("fab lab") == "makerspace"


def test_diacritics_fold_both_ways():
    assert sectors_of("rzemioslo") == sectors_of("RZEMIOSŁO") == "crafts"
    assert kind_of("hogskola") == kind_of("Högskola") == "university"
    assert kind_of("Ateljé") == kind_of("atelje") == "studio"
    assert sectors_of("Dziedzictwo kulturowe") == "heritage"


def test_list_cells_split_map_and_deduplicate():
    assert sectors_of("design; gry; film") == "design; games; film"
    assert sectors_of("hantverk, Rzemiosło; crafts / Handwerk") == "crafts"
    assert sectors_of("Spel | design\nmusik") == "games; design; music"
    assert sectors_of("konst och hantverk") == "visual arts; crafts"  # "and" between two known sectors
    assert sectors_of("textil & mode") == "fashion"  # a listed phrase wins over splitting
    assert sectors_of("radio/TV") == "broadcasting"
    assert kind_of("studio; co-working") == "studio; co-working space"
    assert sector_names("design; games; design") == ("design", "games")


def test_unknown_text_is_kept_cleaned_never_dropped_or_guessed():
    assert kind_of("railwayStop") == "railwaystop"
    assert kind_of("  Pole   namiotowe: ") == "pole namiotowe"
    assert kind_of("Pole namiotowe/biwakowe") == "pole namiotowe/biwakowe"  # one kind, nothing in it known
    assert kind_of("kawiarnia i galeria") == "kawiarnia i galeria"  # not every piece known: kept whole
    assert kind_of("coworkingowy raj") == "coworkingowy raj"  # no substring guessing
    assert kind_of("studio; kawiarnia") == "studio; kawiarnia"
    assert sectors_of("design; Bärenzucht") == "design; bärenzucht"
    assert sectors_of("Zielarstwo, gry") == "zielarstwo; games"
    # Cleaned unknown text is stable too.
    for text in ("railwaystop", "pole namiotowe/biwakowe", "design; bärenzucht"):
        assert (kind_of(text) if "design" not in text else sectors_of(text)) == text


def test_empty_values_stay_empty():
    assert kind_of(None) is kind_of("") is kind_of("  ; ") is sectors_of(None) is sectors_of(" ,; ") is None
    assert kind_of(float("nan")) is None and sector_names(float("nan")) == ()


def test_sector_choice_accepts_aliases_and_refuses_the_rest():
    assert sector_choice("gry") == "games" and sector_choice("Spel") == "games" and sector_choice("games") == "games"
    assert sector_choice("hantverk") == "crafts"
    assert sector_choice("all") is None and sector_choice("bärenzucht") is None and sector_choice("") is None


def test_serves_sector_counts_providers_for_all_sectors():
    assert serves_sector("design; games", "games")
    assert serves_sector("gry", "games")  # a cell stored before the vocabulary
    assert serves_sector("alla", "games") and serves_sector(ALL_SECTORS, "music")
    assert not serves_sector("design", "games") and not serves_sector(None, "games")


def test_form_values_are_normalised_and_other_fields_untouched():
    values = {"name": " Klaster Gier ", "kind": "Klaster", "sectors": "gry, sztuka", "town": "Łódź"}
    assert normalise_fields(values) == {"name": " Klaster Gier ", "kind": "cluster", "sectors": "games; visual arts",
                                        "town": "Łódź"}
    assert normalise_fields({"kind": "", "sectors": "  "}) == {"kind": "", "sectors": ""}


# -- the loaders -----------------------------------------------------------------------------
_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Vocabulary</name>
<Folder><name>Kreativa nav</name>
  <Placemark><name>Spelklustret</name><ExtendedData>
    <Data name="Typ"><value>Kluster</value></Data><Data name="Bransch"><value>Spel; formgivning</value></Data>
  </ExtendedData><Point><coordinates>15.59,56.16</coordinates></Point></Placemark>
  <Placemark><name>Pracownia</name><ExtendedData>
    <Data name="Rodzaj"><value>pracownie twórcze</value></Data>
    <Data name="Branża"><value>Rzemiosło, rękodzieło</value></Data>
  </ExtendedData><Point><coordinates>19.45,51.76</coordinates></Point></Placemark>
  <Placemark><name>Kawiarnia</name><ExtendedData>
    <Data name="Typ"><value>Kawiarnia artystyczna</value></Data>
  </ExtendedData><Point><coordinates>19.46,51.77</coordinates></Point></Placemark>
</Folder></Document></kml>"""


def _rows(result) -> dict[str, dict]:
    assert result.accepted + len(result.rejected) == result.rows_read
    return {row["name"]: {**row, "attributes": json.loads(row["attributes"])}
            for row in result.features.drop(columns="geometry").to_dict("records")}


def test_kml_import_stores_canonical_kinds_and_sectors_and_keeps_the_text_as_written():
    rows = _rows(features_from_kml(_KML.encode(), "vocabulary.kml"))
    cluster, studio, cafe = rows["Spelklustret"], rows["Pracownia"], rows["Kawiarnia"]
    assert (cluster["kind"], cluster["sectors"]) == ("cluster", "games; design")
    assert cluster["attributes"]["Typ"] == "Kluster" and cluster["attributes"]["Bransch"] == "Spel; formgivning"
    assert (studio["kind"], studio["sectors"]) == ("studio", "crafts")
    assert studio["attributes"]["Rodzaj"] == "pracownie twórcze"
    assert studio["attributes"]["Branża"] == "Rzemiosło, rękodzieło"
    assert cafe["kind"] == "kawiarnia artystyczna" and cafe["attributes"]["Typ"] == "Kawiarnia artystyczna"


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Nätverk"
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_sheet_import_stores_canonical_kinds_and_sectors_and_keeps_the_text_as_written():
    data = _xlsx([
        ["Namn", "Typ", "Bransch", "Ort", "Latitud", "Longitud"],
        ["Game Hub", "Kluster", "spel, dataspel", "Karlshamn", 56.17, 14.86],
        ["Hantverkarna", "förening", "Konsthantverk; hantverk", "Sölvesborg", 56.05, 14.58],
        ["Klubben", "association", "design", "Ronneby", 56.21, 15.28],
        ["Okänt", "Bärenzwinger", "Bärenzucht", "Ronneby", 56.21, 15.29],
    ])
    rows = _rows(features_from_xlsx(data, "natverk.xlsx"))
    hub, crafts, plain, unknown = rows["Game Hub"], rows["Hantverkarna"], rows["Klubben"], rows["Okänt"]
    assert (hub["kind"], hub["sectors"], hub["layer"]) == ("cluster", "games", "networks")
    assert hub["attributes"] == {"Typ": "Kluster", "Bransch": "spel, dataspel"}
    assert (crafts["kind"], crafts["sectors"]) == ("association", "crafts")
    assert crafts["attributes"] == {"Typ": "förening", "Bransch": "Konsthantverk; hantverk"}
    assert (plain["kind"], plain["sectors"], plain["attributes"]) == ("association", "design", {})  # nothing to keep
    assert (unknown["kind"], unknown["sectors"]) == ("bärenzwinger", "bärenzucht")
    assert unknown["attributes"] == {"Typ": "Bärenzwinger", "Bransch": "Bärenzucht"}


def test_csv_import_normalises_polish_kinds():
    data = ("Nazwa;Rodzaj;Branża;Miejscowość;Szerokość;Długość\n"
            "Klaster Gier;klaster;gry komputerowe;Łódź;51,76;19,45\n")
    row = _rows(features_from_csv(data.encode("utf-8"), "audyt.csv"))["Klaster Gier"]
    assert (row["kind"], row["sectors"]) == ("cluster", "games")
    assert row["attributes"] == {"Rodzaj": "klaster", "Branża": "gry komputerowe"}


def test_geojson_import_normalises_and_keeps_the_property_as_written():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Hub", "layer": "hubs", "kind": "Coworking",
                                           "sectors": ["gry", "design"]},
         "geometry": {"type": "Point", "coordinates": [19.45, 51.76]}},
        {"type": "Feature", "properties": {"name": "Ours", "layer": "hubs", "kind": "co-working space",
                                           "sectors": "games; design"},
         "geometry": {"type": "Point", "coordinates": [19.46, 51.76]}},
    ]}
    rows = _rows(features_from_geojson(json.dumps(doc).encode(), "hubs.geojson"))
    assert (rows["Hub"]["kind"], rows["Hub"]["sectors"]) == ("co-working space", "games; design")
    assert rows["Hub"]["attributes"] == {"kind": "Coworking", "sectors": "gry; design"}
    assert rows["Ours"]["attributes"] == {}  # already canonical (our own export): nothing added


def test_unknown_kinds_of_one_import_are_written_one_way():
    kml = _KML.replace("Kawiarnia artystyczna", "Kawiarnia").replace(
        "<value>pracownie twórcze</value>", "<value>KAWIÁRNIA</value>")
    kinds = set(features_from_kml(kml.encode(), "cafes.kml").features["kind"])
    assert kinds == {"cluster", "kawiárnia"}  # the first spelling seen


# -- real exports ------------------------------------------------------------------------------
def test_real_exports_kinds_before_and_after():
    """Every real KML/KMZ: no kind is invented (folder names stay layers), and distinct kinds never fold together."""
    folder, looked = find_realdata()
    if folder is None:
        missing_realdata(f"the real-data folder ({looked})")
    from loaders import read_bytes
    from loaders.errors import NetworkLinkOnlyError

    paths = sorted(folder.glob("mymaps/*.km[lz]")) + sorted(folder.glob("kml_other/*.km[lz]"))
    assert len(paths) >= 10
    found: dict[str, set] = {}
    for path in paths:
        try:
            result = read_bytes(path.read_bytes(), path.name)
        except NetworkLinkOnlyError:
            continue
        kinds = set(result.features["kind"].dropna())
        found[path.name] = kinds
        assert len({fold(k) for k in kinds}) == len(kinds), path.name
        assert all(k == kind_of(k) for k in kinds), path.name
    # Only the Manchester stops have a type field; the camping, Warsaw and travel maps name
    # their categories in folders, which set layers, never kinds.
    assert found["manchester_RailwayStationNode.kml"] == {"railwaystop"}
    assert found["campteam_pl_map.kml"] == found["warsaw_pomoc_dla_bezdomnych_doc.kml"] == set()
    stops = read_bytes((folder / "mymaps" / "manchester_RailwayStationNode.kml").read_bytes(), "stops.kml")
    assert {json.loads(a)["type"] for a in stops.features["attributes"]} == {"railwayStop"}  # as written
