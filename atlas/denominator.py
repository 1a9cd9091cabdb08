"""Honest denominators: how much of a region's people the demand layer holds, and when it is too thin to tell.

Coverage shares are shares of the demand layer's population. GeoNames settlements of
500+ hold well under half the people of a rural region (203,269 of about 486,000 in the
West of Ireland), and a city region can be one or two points (Łódź), where every layer
shows 100 %. Every share shown therefore comes with what it is a share of.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from i18n import N_, Text
from i18n.formats import Figure

MIN_POINTS = 3
"""Below this many demand points an analysis cannot tell anything useful (Łódź is two GeoNames points:
one city point is 0 % or 100 % covered, so every layer showed 100 %)."""

# What demand points are (plural), as reports name them; translated where shown.
KINDS = (N_("settlements"), N_("grid cells"), N_("raster cells"), N_("points"), N_("areas"))
_N, _N_SOURCE = "{n}", "{n}, {source}"  # no words: not in the catalogues

LOW_CAPTURE = 0.9
"""Below this share of the official population, every share says what it is a share of."""


@dataclass(frozen=True)
class Denominator:
    """The demand layer measured against the region's official population.

    Attributes
    ----------
    points
        Demand points (settlements or grid-cell centres) inside the region.
    population
        People those points hold.
    official, official_year, official_source
        The region's official population, its year and source (None when the region has none).
    what
        What the points are, plural: "settlements", "grid cells".
    """

    points: int
    population: int
    official: int | None = None
    official_year: int | None = None
    official_source: str | None = None
    what: str = "settlements"

    @property
    def captured_share(self) -> float | None:
        """Share of the official population the demand layer holds (None without an official figure)."""
        if not self.official:
            return None
        return self.population / self.official

    @property
    def too_few(self) -> bool:
        """True when the demand is too thin for shares to mean anything."""
        return self.points < MIN_POINTS

    def warning(self) -> str | None:
        """One sentence when the figures cannot be trusted as shares of the region, else None."""
        if self.too_few:
            if self.points == 1:
                return Text("Only {n} demand point inside this region: coverage shares cannot tell anything useful "
                            "here (one point is either 0 % or 100 % covered). Load a population grid (for example "
                            "the Eurostat 1 km grid) as the demand layer.", n=self.points)
            return Text("Only {n} demand points inside this region: coverage shares cannot tell anything useful "
                        "here (one point is either 0 % or 100 % covered). Load a population grid (for example the "
                        "Eurostat 1 km grid) as the demand layer.", n=self.points)
        share = self.captured_share
        if share is not None and share < LOW_CAPTURE:
            return Text("These {what} hold {share} of the region's population ({official}); the shares below are "
                        "shares of them, not of everyone. A population grid counts everyone.",
                        what=Text(self.what) if self.what in KINDS else self.what,
                        share=Figure(share, "percent"), official=self._official())
        return None

    def _official(self) -> str:
        if self.official_year:
            text = Text("{n} in {year}", n=Figure(self.official), year=self.official_year)
        else:
            text = Text(_N, n=Figure(self.official))
        return Text(_N_SOURCE, n=text, source=self.official_source) if self.official_source else text

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON fields: captured_share, official_population (value, year, source), too_few_points."""
        out: dict[str, Any] = {"too_few_points": self.too_few}
        if self.official:
            out["official_population"] = {"value": self.official, "year": self.official_year,
                                          "source": self.official_source}
            out["captured_share"] = round(self.population / self.official, 6)
        return out
