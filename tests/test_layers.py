"""The alias table: layer and status names in five languages."""
import pytest

from loaders.layers import fold, layer_from_name, status_from_text


@pytest.mark.parametrize("name, layer", [
    ("Creative Industries Hubs & Infrastructure", "hubs"),
    ("Creative Industries Training & Supports", "training"),
    ("Creative Industries Networks", "networks"),
    ("Kreativa nav", "hubs"),
    ("Utbildning & stöd", "training"),
    ("Nätverk", "networks"),
    ("Huby kreatywne", "hubs"),
    ("Szkolenia i wsparcie", "training"),
    ("Sieci", "networks"),
    ("Netzwerke", "networks"),
    ("Weiterbildung", "training"),
    ("Lionraí", "networks"),
    ("Mol cruthaitheach", "hubs"),
    ("hubs", "hubs"),
    ("Coworking spaces", "hubs"),
    ("Warstwa bez nazwy", "unclassified"),
    ("Museums / attractions", "unclassified"),
    ("", "unclassified"),
    (None, "unclassified"),
])
def test_layer_aliases(name, layer):
    assert layer_from_name(name) == layer


@pytest.mark.parametrize("text, status", [
    ("Planned", "planned"), ("planerad", "planned"), ("planowany", "planned"), ("geplant", "planned"),
    ("Offered", "planned"), ("Hubs (planned)", "planned"), ("Existing", "existing"), ("befintlig", "existing"),
    ("istniejący", "existing"), ("", None), ("blue", None),
])
def test_status_aliases(text, status):
    assert status_from_text(text) == status


def test_fold_removes_case_and_diacritics():
    assert fold("Łódź") == "lodz"
    assert fold("Borås") == "boras"
    assert fold("Baile Átha an Rí") == "baile atha an ri"


def test_status_and_layer_matching_runs_once_per_distinct_text(monkeypatch):
    # A 100,000-placemark file with a Status field repeats a handful of values: the matcher
    # must not run for every placemark (it took half of the import time of such a file).
    import loaders.layers as layers
    from loaders.kml import features_from_kml

    layers._status_of.cache_clear()
    layers._layer_of.cache_clear()
    calls = []
    real = layers._match
    monkeypatch.setattr(layers, "_match", lambda text, stems: calls.append(text) or real(text, stems))
    placemarks = "".join(
        f'<Placemark><name>P{i}</name><ExtendedData><Data name="Status"><value>{status}</value></Data>'
        f'<Data name="Layer"><value>{layer}</value></Data></ExtendedData>'
        f"<Point><coordinates>15.{i},56.1</coordinates></Point></Placemark>"
        for i in range(300)
        for status, layer in [(("Planerad", "Befintlig", "Planowany")[i % 3], ("Nav", "Kurs")[i % 2])]
    )
    data = (f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Kreativa nav</name>'
            f"{placemarks}</Folder></Document></kml>").encode()
    result = features_from_kml(data, "status.kml")
    assert result.accepted == 300
    assert result.features["status"].value_counts().to_dict() == {"planned": 200, "existing": 100}
    assert len(calls) <= 10, f"the alias matcher ran {len(calls)} times for 5 distinct values"
