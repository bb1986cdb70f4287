"""The "my savings" page of one household, as HTML in Korean or English (the Voila app shows it).

Everything here is presentation: the numbers were computed ahead of time for every household by
:func:`energy_lib.apps.household.build_index` and are read by :class:`energy_lib.apps.household.Lookup`.
Numbers are formatted by Babel in the page's language (:mod:`energy_lib.core.i18n`) and every word
comes from the catalogue, so a Korean page is Korean throughout and an English page English.

Each carrier is a card of label–value rows (readable at 390 px, no table wider than a phone).
Every shown number sits in an element with a ``data-field`` attribute naming the index column it
shows, so that tests can read back what the page says and compare it with the store.

The judgement encourages rather than ranks: the household is compared with the typical and the
efficient neighbours of at least 15 similar households nearby (:mod:`energy_lib.apps.peers`: means of
rank bands, rounded, never one household's use), never given a position among them.
"""

from __future__ import annotations

import re

from energy_lib.apps import peers
from energy_lib.apps.household import CarrierView, HouseholdView, Refused
from energy_lib.core import i18n, templating

__all__ = ["view_html", "refused_html", "style", "UNIT_KEYS"]

UNIT_KEYS = {"kWh": "kwh", "m³": "m3"}
"""Catalogue unit key (``unit.*``) of each canonical unit."""

# A sentence of the page is a list of parts for templates/my_savings/view.html.j2: a text, a shown
# value {"field": index column, "text": shown} or a band {"band": parts}.
Parts = list


def _field(name: str, shown: str) -> dict:
    """A shown value, marked with the index column it shows."""
    return {"field": name, "text": shown}


def _sentence(key: str, lang: str, **values: tuple[str, str] | str) -> Parts:
    """The catalogue's sentence ``key`` with its placeholders filled: a ``(field, shown)`` pair
    becomes a :func:`_field`, a plain string is inserted as text (the template escapes both)."""
    markers = {name: f"\x00{i}\x00" for i, name in enumerate(values)}
    names = list(values)
    parts: Parts = []
    for i, piece in enumerate(re.split(r"\x00(\d+)\x00", i18n.text(key, lang, **markers))):
        if i % 2 == 0:
            if piece:
                parts.append(piece)
            continue
        value = values[names[int(piece)]]
        parts.append(_field(*value) if isinstance(value, tuple) else value)
    return parts


def refused_html(refused: Refused, lang: str) -> str:
    """The friendly message of a refused lookup (the same for unknown customers and wrong codes)."""
    message = refused.message_ko if lang == "ko" else refused.message_en
    return templating.render("my_savings/refused.html.j2", lang=lang, message=message)


def _half_year(label: str, lang: str) -> str:
    """``2026H2`` → ``2026년 하반기`` / ``the second half of 2026``."""
    year, half = label.split("H")
    return i18n.text(f"my_savings.half_{int(half)}", lang, year=year)


def _row(label_key: str | None, value: Parts, lang: str) -> dict:
    """A label–value row of a card; a row without a label is a note."""
    return {"label": None if label_key is None else i18n.text(label_key, lang), "value": value}


def _carrier_card(c: CarrierView, lang: str) -> dict:
    """One carrier's card: use, this half-year against its Carbon Point baseline, the tier and
    points it is on track for, and the weather-adjusted savings in its unit, won and CO2 — or,
    where the baseline fails data sufficiency, why they are not shown."""
    unit = UNIT_KEYS[c.unit]
    amount = lambda field, value, decimals=0, key=unit: _field(field, i18n.quantity(value, key, lang, decimals))  # noqa: E731
    rows = [_row("my_savings.use", [amount("use_12m", c.use_12m)], lang)]
    if c.bills_12m < 12:
        rows.append(_row(None, _sentence("my_savings.bills_missing", lang, bills=("bills_12m", i18n.decimal(c.bills_12m, lang))), lang))
    if c.cp_reduction == c.cp_reduction:  # a baseline exists for this half-year's months
        rows += [_row("my_savings.half_use", [amount("cp_half_use", c.cp_half_use)], lang),
                 _row("my_savings.half_baseline", [amount("cp_half_baseline", c.cp_half_baseline)], lang),
                 _row("my_savings.reduction", [_field("cp_reduction", i18n.percent(c.cp_reduction, lang, 1))], lang)]
        tier = i18n.text("my_savings.tier_none", lang) if not c.cp_tier else i18n.text(f"column.tier_{int(c.cp_tier)}", lang)
        rows.append(_row("my_savings.on_track", [_field("cp_tier", tier), " · ", amount("cp_points", c.cp_points, key="points")], lang))
    else:
        rows.append(_row("my_savings.reduction", [_field("cp_reduction", i18n.text("my_savings.no_baseline", lang))], lang))
    if c.savings_note == "insufficient":  # not a figure to trust: the city's totals leave it out too
        reason = i18n.text(f"warning.{c.savings_warning or 'too_many_days_with_missing_data'}", lang)
        rows.append(_row("column.savings", [_field("savings_note", i18n.text("my_savings.insufficient", lang, reason=reason))], lang))
    elif c.savings == c.savings:
        band = _sentence("my_savings.band", lang, band=("band", i18n.quantity(c.band, unit, lang)))
        rows.append(_row("column.savings", [amount("savings", c.savings), " ", {"band": band}], lang))
        if c.normal_savings == c.normal_savings:
            normal_band = _sentence("my_savings.band", lang, band=("normal_band", i18n.quantity(c.normal_band, unit, lang)))
            rows.append(_row("my_savings.normal", [amount("normal_savings", c.normal_savings), " ", {"band": normal_band}], lang))
        rows += [_row("my_savings.won", [amount("savings_won", c.savings_won, key="won")], lang),
                 _row("my_savings.co2", [amount("savings_kgco2eq", c.savings_kgco2eq, key="kgco2eq")], lang)]
        if c.savings_note == "programme_in_baseline":
            rows.append(_row(None, [_field("savings_note", i18n.text("my_savings.programme_in_baseline", lang))], lang))
    else:
        rows.append(_row("column.savings", [_field("savings", i18n.text("my_savings.no_savings", lang))], lang))
    return {"carrier": c.carrier, "name": i18n.text("carrier." + c.carrier, lang), "rows": rows}


def view_html(view: HouseholdView, lang: str) -> str:
    """One household's page: per carrier its use, Carbon Point outlook and savings; the points
    it is on track for; the comparison with similar households nearby; and tips for the carrier
    where it could save most (``templates/my_savings/view.html.j2``)."""
    period = _sentence("my_savings.period", lang, month=i18n.month(view.last_month, lang),
                       half_year=_half_year(view.half_year, lang))
    tips = None
    if view.tip_carrier and view.tips:
        tips = {"heading": i18n.text("my_savings.tips", lang, carrier=i18n.text("carrier." + view.tip_carrier, lang)),
                "lines": [tip[lang] for tip in view.tips]}
    return templating.render(
        "my_savings/view.html.j2", lang=lang, heading=i18n.text("my_savings.heading", lang), period=period,
        cards=[_carrier_card(c, lang) for c in view.carriers if c.bills_12m],
        points=_sentence("my_savings.points_total", lang, points=("points", i18n.decimal(view.points, lang))),
        neighbours=_neighbours(view, lang), tips=tips)


def _band(band: tuple[float, float], lang: str) -> str:
    """``40–60%`` of a rank band [fraction]."""
    return f"{i18n.decimal(band[0] * 100, lang)}–{i18n.percent(band[1], lang, 0)}"


def _neighbours(view: HouseholdView, lang: str) -> dict:
    """The comparison with similar neighbours: the judgement, the two figures and how they are
    made; or, in words, why there is no comparison (too few similar households, or no complete
    year of bills): never an empty section."""
    settings = peers.PeerSettings.configured()
    heading = i18n.text("my_savings.neighbours", lang)
    if view.judgement:
        compare = _sentence("my_savings.compare", lang, households=i18n.decimal(view.peer_households, lang),
                            mine=("kgco2eq_12m", i18n.decimal(view.kgco2eq_12m, lang)),
                            typical=("peer_typical_kgco2eq", i18n.decimal(view.peer_typical_kgco2eq, lang)),
                            efficient=("peer_efficient_kgco2eq", i18n.decimal(view.peer_efficient_kgco2eq, lang)))
        method = i18n.text("my_savings.compare_method", lang, typical_band=_band(settings.typical_band, lang),
                           efficient_band=_band(settings.efficient_band, lang), digits=settings.significant_digits)
        return {"heading": heading, "judgement": i18n.text("my_savings.judgement_" + view.judgement, lang),
                "compare": compare, "method": method}
    if view.kgco2eq_12m != view.kgco2eq_12m:  # NaN: the household's own year is incomplete
        return {"heading": heading, "judgement": None, "withheld": i18n.text("my_savings.compare_incomplete", lang)}
    return {"heading": heading, "judgement": None,
            "withheld": i18n.text("my_savings.compare_withheld", lang, minimum=settings.min_households)}


def style() -> str:
    """CSS of the page on top of :func:`energy_lib.apps.explorer.app_style`: one card per carrier,
    label above value, as wide as the phone and no wider (``templates/my_savings/style.html.j2``)."""
    return templating.render("my_savings/style.html.j2")
