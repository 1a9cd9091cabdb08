"""Numbers, shares, distances, durations and dates written as readers of the current language expect.

Babel's CLDR data: 203,269 and 86% in English (Irish conventions), 203 269 and 86 % in
Swedish, 203 269 and 86% in Polish, 203.269 and 86 % in German. The spaces Babel writes are
no-break spaces (U+00A0), so a figure never breaks across lines; units follow a plain space
("12.5 km"), as the pages always wrote them.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from i18n import current

# The Babel locale of each language: English as written in Ireland (dates "29 November 2026").
LOCALES: dict[str, str] = {"en": "en_IE", "sv": "sv_SE", "pl": "pl_PL", "de": "de_DE"}
DASH = "—"  # shown when there is no value (a share the analysis cannot tell)


def locale() -> str:
    """The Babel locale of the current language (``"sv_SE"``)."""
    return LOCALES.get(current(), "en_IE")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number(value: float | None, digits: int = 0) -> str:
    """A count or measure with grouped thousands and at most `digits` decimals ("203 269", "12,5")."""
    if _missing(value):
        return DASH
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=locale())


def percent(share: float | None, digits: int = 0) -> str:
    """A share in 0..1 as a percentage ("86%", "86 %"); a dash when there is none."""
    if _missing(share):
        return DASH
    pattern = Locale.parse(locale()).percent_formats[None].pattern  # "#,##0 %" in Swedish
    if digits > 0:
        pattern = re.sub(r"0(?=[^0#]*$)", "0." + "0" * digits, pattern, count=1)
    return format_percent(share, format=pattern, locale=locale())


def km(value: float | None, digits: int = 1) -> str:
    """A distance in kilometres ("12.5 km", "12,5 km"), at most `digits` decimals."""
    return DASH if _missing(value) else f"{number(value, digits)} km"


def minutes(value: float | None) -> str:
    """A travel time in whole minutes ("25 min")."""
    return DASH if _missing(value) else f"{number(round(value))} min"


def date(value: _dt.date | _dt.datetime, form: str = "long") -> str:
    """A date in the language's own words ("29 November 2026", "29 november 2026", "29 listopada 2026")."""
    return format_date(value, format=form, locale=locale())


class Figure:
    """A figure inside an `i18n.Text` or `i18n.Message`, written as the language of whoever reads it.

    ``Text("{n} people", n=Figure(203269))`` is "203,269 people" in English and
    "203 269 …" in Swedish. `kind` is ``number``, ``percent`` (a share in 0..1) or ``km``.
    """

    def __init__(self, value: float | None, kind: str = "number", digits: int = 0) -> None:
        self.value, self.kind, self.digits = value, kind, digits

    def __format__(self, spec: str) -> str:
        write = {"number": number, "percent": percent, "km": km}[self.kind]
        return write(self.value, self.digits) if self.kind != "km" else km(self.value, self.digits or 1)

    def __str__(self) -> str:
        return format(self)

    def __repr__(self) -> str:
        return f"Figure({self.value!r}, {self.kind!r}, {self.digits!r})"


__all__ = ["DASH", "LOCALES", "Figure", "date", "km", "locale", "minutes", "number", "percent"]
