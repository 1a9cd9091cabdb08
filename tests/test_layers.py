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
