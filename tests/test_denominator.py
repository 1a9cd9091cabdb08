"""Shares say what they are shares of, and a too-thin demand layer says it cannot tell."""
from atlas.denominator import MIN_POINTS, Denominator


def test_settlements_holding_few_of_the_people_say_so():
    d = Denominator(points=120, population=203_269, official=486_000, official_year=2022, official_source="CSO census")
    assert round(d.captured_share, 2) == 0.42
    assert d.warning() == ("These settlements hold 42% of the region's population (486,000 in 2022, CSO census); "
                           "the shares below are shares of them, not of everyone. A population grid counts everyone.")
    assert d.to_dict() == {"too_few_points": False, "captured_share": round(203_269 / 486_000, 6),
                           "official_population": {"value": 486_000, "year": 2022, "source": "CSO census"}}


def test_a_grid_holding_nearly_everyone_needs_no_warning():
    d = Denominator(points=9000, population=480_000, official=486_000, official_year=2022, official_source="CSO",
                    what="grid cells")
    assert d.warning() is None


def test_two_points_cannot_tell_anything():
    d = Denominator(points=2, population=700_000, official=660_000)
    assert d.too_few and "Only 2 demand points" in d.warning() and "population grid" in d.warning()
    assert Denominator(points=MIN_POINTS, population=10).too_few is False


def test_without_an_official_figure_there_is_no_share():
    d = Denominator(points=50, population=1000)
    assert d.captured_share is None and d.warning() is None and d.to_dict() == {"too_few_points": False}
