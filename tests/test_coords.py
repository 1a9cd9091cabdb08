"""Coordinates as people type them, and the checks that reject impossible or swapped points."""
import pytest

from loaders.coords import check_point, parse_number, parse_pair


@pytest.mark.parametrize("text, value", [
    ("53.6", 53.6), ("53,6", 53.6), ("-8,18", -8.18), (" 12 ", 12.0), (7, 7.0),
    ("53° 38' N", 53 + 38 / 60), ("8°10'59\" W", -(8 + 10 / 60 + 59 / 3600)), ("", None), (None, None),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value) if value is not None else parse_number(text) is None


def test_parse_number_refuses_words():
    with pytest.raises(ValueError, match="'north' is not a number"):
        parse_number("north")


@pytest.mark.parametrize("text", ["53.63, -8.18", "53,63; -8,18", "53,63, -8,18", "53.63 -8.18", "(53.63, -8.18)"])
def test_parse_pair(text):
    assert parse_pair(text) == pytest.approx((53.63, -8.18))


def test_parse_pair_refuses_three_numbers():
    with pytest.raises(ValueError, match="not a 'latitude, longitude' pair"):
        parse_pair("1, 2, 3")


def test_impossible_point_is_rejected_with_a_swap_hint():
    reason = check_point(95.3, 15.0)
    assert "outside −90…90" in reason and "Swapping them" in reason
    assert "Swapping" not in check_point(95.0, 185.0)


def test_swapped_point_for_a_european_country():
    reason = check_point(15.58, 56.16, country="SE")
    assert "swapping them (latitude 56.16, longitude 15.58)" in reason
    assert check_point(56.16, 15.58, country="SE") is None
    # Without a European context the same numbers are a real place (Yemen coast), not an error.
    assert check_point(15.58, 56.16) is None
