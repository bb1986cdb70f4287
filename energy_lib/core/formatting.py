"""Numbers, quantities, months and tables as a reader of the page's language writes them.

Every number a published page or chart prints goes through here: Babel's locale data (CLDR) for
``ko_KR`` and ``en_US`` gives the separators, percentages and month names, so no page writes
``f"{v:,.0f}"`` by hand. Energy is scaled to the unit a reader expects (kWh, MWh, GWh, TWh);
a missing value (a withheld cell) is the catalogue's word for it, never ``nan`` or ``<NA>``.

>>> number(1234.5, "ko", 1)
'1,234.5'
>>> quantity(12_345_678, "en", "kWh")
'12.3 GWh'
>>> month("2024-01", "ko"), month("2024-01", "en")
('2024년 1월', 'Jan 2024')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from energy_lib.core import i18n

__all__ = ["LOCALES", "Scale", "missing", "number", "percent", "scale_for", "quantity", "month", "year", "table"]

LOCALES = {"ko": "ko_KR", "en": "en_US"}
"""The Babel locale of each published language."""

_LADDERS = {
    "kWh": ("kWh", "MWh", "GWh", "TWh"),
    "Wh": ("Wh", "kWh", "MWh", "GWh"),
    "kgCO2eq": ("kgCO2eq", "tCO2eq", "ktCO2eq", "MtCO2eq"),
    "m³": ("m³", "1,000 m³"),
}
"""Units that scale by 1,000 a step, and their larger units."""


def _locale(lang: str) -> str:
    if lang not in LOCALES:
        raise ValueError(f"lang must be one of {', '.join(LOCALES)}, not {lang!r}")
    return LOCALES[lang]


def missing(value) -> bool:
    """True for None, NaN, NaT and pandas' NA (a withheld or absent number)."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number(value, lang: str, decimals: int = 0, *, unit: str = "", absent: str = "common.suppressed") -> str:
    """``value`` with the locale's separators and exactly ``decimals`` places, then ``unit``.

    A missing value is the catalogue's word ``absent`` (default: "withheld",
    ``common.suppressed``), without unit.
    """
    if missing(value):
        return i18n.text(absent, lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    shown = babel_numbers.format_decimal(float(value), format=pattern, locale=_locale(lang),
                                         decimal_quantization=True)
    return f"{shown} {unit}" if unit else shown


def percent(value, lang: str, decimals: int = 1, *, signed: bool = False, absent: str = "common.suppressed") -> str:
    """A fraction as a percentage (0.247 → ``24.7%``), with a sign if ``signed`` (a change); a
    missing value is the catalogue's word ``absent``."""
    if missing(value):
        return i18n.text(absent, lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    shown = babel_numbers.format_percent(float(value), format=pattern, locale=_locale(lang),
                                         decimal_quantization=True)
    if signed and float(value) > 0:
        shown = "+" + shown
    return shown


@dataclass(frozen=True)
class Scale:
    """A unit for a set of values: divide by ``divisor`` to print them in ``unit``."""

    divisor: float
    unit: str

    def apply(self, values):
        """``values`` in this scale's unit."""
        return values / self.divisor


def scale_for(values, unit: str) -> Scale:
    """The largest unit of ``unit``'s ladder (kWh → MWh → GWh → TWh; kgCO2eq → tCO2eq …) in which
    the largest absolute value of ``values`` is at least 1; other units are returned unscaled.

    Parameters
    ----------
    values : array-like
        Quantities in ``unit`` (NaN ignored).
    unit : str
        Their unit, e.g. ``"kWh"`` [kWh].
    """
    ladder = _LADDERS.get(unit)
    array = np.abs(np.asarray(values, dtype=float).ravel())
    array = array[np.isfinite(array)]
    if ladder is None or not len(array):
        return Scale(1.0, unit)
    step = int(min(len(ladder) - 1, max(0, np.floor(np.log10(max(array.max(), 1.0)) / 3))))
    return Scale(1000.0**step, ladder[step])


def quantity(value, lang: str, unit: str, *, decimals: int | None = None) -> str:
    """One quantity in the best unit of its ladder, e.g. ``12.3 GWh`` for 12,345,678 kWh.

    ``decimals`` defaults to 1 below 100 of the chosen unit and 0 above."""
    if missing(value):
        return i18n.text("common.suppressed", lang)
    chosen = scale_for([value], unit)
    shown = float(value) / chosen.divisor
    places = decimals if decimals is not None else (1 if abs(shown) < 100 and chosen.divisor > 1 else 0)
    return number(shown, lang, places, unit=chosen.unit)


def month(value, lang: str) -> str:
    """A month (``YYYY-MM``, a Period or a Timestamp) as the locale writes it: ``2024년 1월``,
    ``Jan 2024``."""
    if missing(value):
        return i18n.text("common.suppressed", lang)
    stamp = pd.Period(str(value)[:7], freq="M").to_timestamp()
    return babel_dates.format_skeleton("yMMM", stamp.date(), locale=_locale(lang))


def year(value: int, lang: str) -> str:
    """A year as the locale writes it alone: ``2024년``, ``2024``."""
    return babel_dates.format_skeleton("y", pd.Timestamp(year=int(value), month=1, day=1).date(), locale=_locale(lang))


def table(frame: pd.DataFrame, lang: str, formats: dict | None = None, *, default_decimals: int = 0) -> pd.DataFrame:
    """``frame`` with every cell as text for a page: numbers in the locale's format, missing cells
    as the word for withheld, never ``nan`` or ``<NA>``; an index or column axis named by a code
    (``area``, ``carrier``) loses that name, which is no header for a reader.

    Parameters
    ----------
    formats : dict, optional
        Column → decimals (int) or a function of one value returning text; other numeric columns
        get ``default_decimals``, text columns stay as they are.
    """
    formats = formats or {}
    out = {}
    for column in frame.columns:
        values = frame[column]
        rule = formats.get(column)
        if callable(rule):
            out[column] = [rule(v) for v in values]
        elif rule is not None or pd.api.types.is_numeric_dtype(values.dtype):
            places = default_decimals if rule is None else int(rule)
            out[column] = [number(v, lang, places) for v in values]
        else:
            out[column] = [i18n.text("common.suppressed", lang) if missing(v) else str(v) for v in values]
    shown = pd.DataFrame(out, index=frame.index, columns=list(frame.columns))
    shown.index = [i18n.text("common.suppressed", lang) if missing(v) else v for v in frame.index]
    # a code's name (``carrier``, ``area`` from a pivot) is no header a reader should see
    name = frame.index.name
    shown.index.name = None if name is None or re.fullmatch(r"[a-z_0-9]+", str(name)) else name
    return shown
