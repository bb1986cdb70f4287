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

import html

from energy_lib.apps import peers
from energy_lib.core import i18n
from energy_lib.apps.household import CarrierView, HouseholdView, Refused

__all__ = ["view_html", "refused_html", "style", "UNIT_KEYS"]

UNIT_KEYS = {"kWh": "kwh", "m³": "m3"}
"""Catalogue unit key (``unit.*``) of each canonical unit."""


def _t(key: str, lang: str, **values) -> str:
    return html.escape(i18n.text(key, lang, **values))


def _field(name: str, shown: str) -> str:
    """A shown value, marked with the index column it shows."""
    return f'<span data-field="{name}">{html.escape(shown)}</span>'


def _sentence(key: str, lang: str, **values: tuple[str, str] | str) -> str:
    """The catalogue's sentence ``key`` with its placeholders filled: a ``(field, shown)`` pair
    becomes a :func:`_field`, a plain string is inserted as text. Everything is escaped."""
    markers = {name: f"\x00{i}\x00" for i, name in enumerate(values)}
    sentence = html.escape(i18n.text(key, lang, **markers))
    for name, value in values.items():
        shown = _field(*value) if isinstance(value, tuple) else html.escape(value)
        sentence = sentence.replace(html.escape(markers[name]), shown)
    return sentence


def refused_html(refused: Refused, lang: str) -> str:
    """The friendly message of a refused lookup (the same for unknown customers and wrong codes)."""
    message = refused.message_ko if lang == "ko" else refused.message_en
    return f'<p role="alert" lang="{lang}" class="lookup-refused">{html.escape(message)}</p>'


def _half_year(label: str, lang: str) -> str:
    """``2026H2`` → ``2026년 하반기`` / ``the second half of 2026``."""
    year, half = label.split("H")
    return i18n.text(f"my_savings.half_{int(half)}", lang, year=year)


def _row(label_key: str, value_html: str, lang: str) -> str:
    return f"<div class='row'><dt>{_t(label_key, lang)}</dt><dd>{value_html}</dd></div>"


def _carrier_html(c: CarrierView, lang: str) -> str:
    """One carrier's card: use, this half-year against its Carbon Point baseline, the tier and
    points it is on track for, and the weather-adjusted savings in its unit, won and CO2."""
    unit = UNIT_KEYS[c.unit]
    amount = lambda field, value, decimals=0, key=unit: _field(field, i18n.quantity(value, key, lang, decimals))  # noqa: E731
    rows = [_row("my_savings.use", amount("use_12m", c.use_12m), lang)]
    if c.bills_12m < 12:
        rows.append(f"<div class='row note'><dd>{_sentence('my_savings.bills_missing', lang, bills=('bills_12m', i18n.decimal(c.bills_12m, lang)))}</dd></div>")
    if c.cp_reduction == c.cp_reduction:  # a baseline exists for this half-year's months
        rows += [_row("my_savings.half_use", amount("cp_half_use", c.cp_half_use), lang),
                 _row("my_savings.half_baseline", amount("cp_half_baseline", c.cp_half_baseline), lang),
                 _row("my_savings.reduction", _field("cp_reduction", i18n.percent(c.cp_reduction, lang, 1)), lang)]
        tier = i18n.text("my_savings.tier_none", lang) if not c.cp_tier else i18n.text(f"column.tier_{int(c.cp_tier)}", lang)
        rows.append(_row("my_savings.on_track", f"{_field('cp_tier', tier)} · {amount('cp_points', c.cp_points, key='points')}", lang))
    else:
        rows.append(_row("my_savings.reduction", f"<span data-field='cp_reduction'>{_t('my_savings.no_baseline', lang)}</span>", lang))
    if c.savings == c.savings:
        band = _sentence("my_savings.band", lang, band=("band", i18n.quantity(c.band, unit, lang)))
        rows.append(_row("column.savings", f"{amount('savings', c.savings)} <span class='band'>{band}</span>", lang))
        if c.normal_savings == c.normal_savings:
            normal_band = _sentence("my_savings.band", lang, band=("normal_band", i18n.quantity(c.normal_band, unit, lang)))
            rows.append(_row("my_savings.normal", f"{amount('normal_savings', c.normal_savings)} "
                                                  f"<span class='band'>{normal_band}</span>", lang))
        rows += [_row("my_savings.won", amount("savings_won", c.savings_won, key="won"), lang),
                 _row("my_savings.co2", amount("savings_kgco2eq", c.savings_kgco2eq, key="kgco2eq"), lang)]
    else:
        rows.append(_row("column.savings", f"<span data-field='savings'>{_t('my_savings.no_savings', lang)}</span>", lang))
    return (f"<section class='carrier-card' data-carrier='{html.escape(c.carrier)}'>"
            f"<h3>{_t('carrier.' + c.carrier, lang)}</h3><dl>{''.join(rows)}</dl></section>")


def view_html(view: HouseholdView, lang: str) -> str:
    """One household's page: per carrier its use, Carbon Point outlook and savings; the points
    it is on track for; the comparison with similar households nearby; and tips for the carrier
    where it could save most."""
    period = _sentence("my_savings.period", lang, month=i18n.month(view.last_month, lang),
                       half_year=_half_year(view.half_year, lang))
    cards = "".join(_carrier_html(c, lang) for c in view.carriers if c.bills_12m)
    points = _sentence("my_savings.points_total", lang, points=("points", i18n.decimal(view.points, lang)))
    parts = [f"<section lang='{lang}' class='my-savings'><h2>{_t('my_savings.heading', lang)}</h2>",
             f"<p>{period}</p>", f"<div class='carrier-cards'>{cards}</div>", f"<p class='points-total'>{points}</p>",
             _neighbours_html(view, lang)]
    if view.tip_carrier and view.tips:
        items = "".join(f"<li>{html.escape(tip[lang])}</li>" for tip in view.tips)
        parts.append(f"<h3>{_t('my_savings.tips', lang, carrier=i18n.text('carrier.' + view.tip_carrier, lang))}</h3><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _band(band: tuple[float, float], lang: str) -> str:
    """``40–60%`` of a rank band [fraction]."""
    return f"{i18n.decimal(band[0] * 100, lang)}–{i18n.percent(band[1], lang, 0)}"


def _neighbours_html(view: HouseholdView, lang: str) -> str:
    """The comparison with similar neighbours: the judgement, the two figures and how they are
    made; or, in words, why there is no comparison (too few similar households, or no complete
    year of bills): never an empty section."""
    settings = peers.PeerSettings.configured()
    heading = f"<h3>{_t('my_savings.neighbours', lang)}</h3>"
    if view.judgement:
        compare = _sentence("my_savings.compare", lang, households=i18n.decimal(view.peer_households, lang),
                            mine=("kgco2eq_12m", i18n.decimal(view.kgco2eq_12m, lang)),
                            typical=("peer_typical_kgco2eq", i18n.decimal(view.peer_typical_kgco2eq, lang)),
                            efficient=("peer_efficient_kgco2eq", i18n.decimal(view.peer_efficient_kgco2eq, lang)))
        method = _t("my_savings.compare_method", lang, typical_band=_band(settings.typical_band, lang),
                    efficient_band=_band(settings.efficient_band, lang), digits=settings.significant_digits)
        return (f"{heading}<p class='judgement'><strong>{_t('my_savings.judgement_' + view.judgement, lang)}</strong></p>"
                f"<p class='peer-compare'>{compare}</p><p class='peer-method'>{method}</p>")
    if view.kgco2eq_12m != view.kgco2eq_12m:  # NaN: the household's own year is incomplete
        return f"{heading}<p class='peer-withheld'>{_t('my_savings.compare_incomplete', lang)}</p>"
    return f"{heading}<p class='peer-withheld'>{_t('my_savings.compare_withheld', lang, minimum=settings.min_households)}</p>"


def style() -> str:
    """CSS of the page on top of :func:`energy_lib.apps.explorer.app_style`: one card per carrier,
    label above value, as wide as the phone and no wider."""
    return ("<style>.carrier-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 300px), 1fr)); "
            "gap: 12px; } .carrier-card { border: 1px solid #c8c8c8; border-radius: 6px; padding: 8px 12px; min-width: 0; } "
            ".carrier-card h3 { margin: 0 0 4px 0; } .carrier-card dl { margin: 0; } "
            ".carrier-card .row { display: flex; flex-wrap: wrap; gap: 0 8px; padding: 4px 0; border-top: 1px solid #eee; "
            "overflow-wrap: normal; word-break: keep-all; } .carrier-card dt { color: #4a4a4a; flex: 1 1 10em; } "
            ".carrier-card dd { margin: 0 0 0 auto; font-weight: bold; font-variant-numeric: tabular-nums; text-align: right; } "
            ".carrier-card .band { font-weight: normal; color: #4a4a4a; } .carrier-card .note dd { font-weight: normal; "
            "text-align: left; color: #4a4a4a; }</style>")
