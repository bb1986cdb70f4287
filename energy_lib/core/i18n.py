"""Every word a published page shows, in Korean and English, from one catalogue.

Reports and apps take a ``lang`` parameter (``"ko"`` first, ``"en"`` second) and get their text
here, so a page never mixes languages by accident and a translation is a change of data
(``energy_lib/config/strings.toml``), not of code. This module is the catalogue's only reader: the
board's labels and messages (``board.*``), the saving tips (``saving_tips.*``) and the apps' words
are entries of it like the reports' (docs/i18n.md).

>>> text("carrier.electricity", "ko")
'전기'
>>> text("title.area", "en", name="Seo-gu")
'Seo-gu: energy report'
"""

from __future__ import annotations

import functools

from energy_lib.core import configuration

__all__ = ["LANGUAGES", "text", "keys", "group", "area_name", "number", "decimal", "percent", "quantity", "month"]

LANGUAGES = ("ko", "en")
"""Published languages, the first is the default."""


def _flat(node: dict, prefix: str = "") -> dict[str, dict[str, str]]:
    entries = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and set(value) >= set(LANGUAGES) and all(isinstance(value[lang], str) for lang in LANGUAGES):
            entries[name] = value
        elif isinstance(value, dict):
            entries |= _flat(value, f"{name}.")
    return entries


@functools.cache
def _entries() -> dict[str, dict[str, str]]:
    return _flat(configuration.load("strings"))


def keys() -> list[str]:
    """Every key of the catalogue, sorted."""
    return sorted(_entries())


def group(prefix: str) -> dict[str, dict[str, str]]:
    """The entries under ``prefix`` (e.g. ``"saving_tips.gas"``), in catalogue order: the rest of
    each key → its text per language. Empty when the catalogue has none.

    >>> group("board.categories")["tips"]["en"]
    'Saving tips'
    """
    start = f"{prefix}."
    return {key[len(start):]: dict(entry) for key, entry in _entries().items() if key.startswith(start)}


def text(key: str, lang: str, **values) -> str:
    """The catalogue's text for ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    Raises
    ------
    KeyError
        If the key is not in ``energy_lib/config/strings.toml``.
    ValueError
        If ``lang`` is not one of :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    entries = _entries()
    if key not in entries:
        raise KeyError(f"energy_lib/config/strings.toml has no entry {key!r}")
    template = entries[key][lang]
    return template.format(**values) if values else template


def area_name(area: str, lang: str) -> str:
    """The name of ``"city"``, a gu code or a dong code in ``lang`` (a dong with its gu)."""
    if area == "city":
        return text("common.city", lang)
    return _area_names("ko" if lang == "ko" else "en")[area]


@functools.cache
def _area_names(suffix: str) -> dict[str, str]:
    """Every gu and dong code's name in the language of ``suffix`` (``ko`` or ``en``)."""
    from energy_lib.core.wards import wards

    table = wards()
    gu, dong = table[f"gu_name_{suffix}"], table[f"dong_name_{suffix}"]
    dongs = gu + " " + dong if suffix == "ko" else dong + ", " + gu
    return {**dict(zip(table["gu_code"], gu)), **dict(zip(table["ward_code"], dongs))}


def number(value: float, lang: str, decimals: int = 0, *, percent: bool = False, unit: str = "") -> str:
    """``value`` in the locale's format (Babel, :mod:`energy_lib.core.formatting`) with its ``unit``, or
    as a signed percentage of a fraction; the word for "suppressed", without a unit, when it is
    missing (a withheld cell)."""
    from energy_lib.core import formatting

    if percent:
        return formatting.percent(value, lang, decimals, signed=True)
    return formatting.number(value, lang, decimals, unit=unit)


# The apps' forms: a value an app cannot compute (no baseline yet) is "not available", not
# "suppressed"; the formats themselves are energy_lib.core.formatting's (Babel).

def decimal(value: float, lang: str, decimals: int = 0) -> str:
    """``value`` in ``lang``'s number format with ``decimals`` decimals; the catalogue's "not
    available" word when it is missing (None, NaN or ``pd.NA``).

    >>> decimal(1234.5, "ko", 1)
    '1,234.5'
    """
    from energy_lib.core import formatting

    return formatting.number(value, lang, decimals, absent="common.not_available")


def percent(fraction: float, lang: str, decimals: int = 1, *, signed: bool = False) -> str:
    """A fraction as a percentage in ``lang``'s format: ``0.247`` → ``24.7%``, with ``signed`` a
    change: ``+24.7%``; the catalogue's "not available" word when it is missing or infinite."""
    from energy_lib.core import formatting

    if not formatting.missing(fraction) and fraction in (float("inf"), float("-inf")):
        fraction = None
    return formatting.percent(fraction, lang, decimals, signed=signed, absent="common.not_available")


def quantity(value: float, unit: str, lang: str, decimals: int = 0) -> str:
    """:func:`decimal` with a unit key of the catalogue (``unit.kwh``, ``unit.won``, …) in
    ``lang``; the "not available" word alone, without a unit, when the value is missing."""
    from energy_lib.core import formatting

    if formatting.missing(value):
        return text("common.not_available", lang)
    return text(f"unit.{unit}", lang, value=decimal(value, lang, decimals))


def month(moment, lang: str) -> str:
    """The month of ``moment`` as a reader of ``lang`` writes it: ``2026년 11월``, ``Nov 2026``."""
    from energy_lib.core import formatting

    return formatting.month(moment, lang)
