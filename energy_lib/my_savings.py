"""The "my savings" page of one household, as HTML in Korean or English (the Voila app shows it).

Everything here is presentation: the numbers were computed ahead of time for every household by
:func:`energy_lib.household.build_index` and are read by :class:`energy_lib.household.Lookup`.
The judgement encourages rather than ranks: the household is compared with the typical and the
efficient neighbours of at least 15 similar households nearby (:mod:`energy_lib.peers`: means of
rank bands, rounded, never one household's use), never given a position among them.
"""

from __future__ import annotations

import html

from energy_lib import i18n, peers
from energy_lib.household import HouseholdView, Refused

__all__ = ["view_html", "refused_html"]


def _number(value, lang: str, decimals: int = 0, unit: str = "") -> str:
    if value is None or value != value:
        return "–"
    return i18n.number(float(value), lang, decimals, unit=unit)


def refused_html(refused: Refused, lang: str) -> str:
    """The friendly message of a refused lookup (the same for unknown customers and wrong codes)."""
    message = refused.message_ko if lang == "ko" else refused.message_en
    return f'<p role="alert" lang="{lang}" class="lookup-refused">{html.escape(message)}</p>'


def view_html(view: HouseholdView, lang: str) -> str:
    """One household's page: use, Carbon Point outlook, savings, the comparison with similar
    households nearby, and tips for the carrier where it could save most."""
    t = lambda key, **values: i18n.text(key, lang, **values)  # noqa: E731 - a local shorthand
    rows = []
    for c in view.carriers:
        if not c.bills_12m:
            continue
        tier = t("my_savings.tier_none") if not c.cp_tier else t(f"column.tier_{int(c.cp_tier)}")
        rows.append(
            f"<tr><th scope='row'>{html.escape(t('carrier.' + c.carrier))}</th>"
            f"<td>{_number(c.use_12m, lang, unit=c.unit)}</td>"
            f"<td>{_number(c.cp_reduction, lang, 1, unit='%') if c.cp_reduction == c.cp_reduction else '–'}</td>"
            f"<td>{html.escape(tier)} · {_number(c.cp_points, lang)} {html.escape(t('my_savings.points'))}</td>"
            f"<td>{_number(c.savings, lang, unit=c.unit)} ± {_number(c.band, lang)}</td>"
            f"<td>{_number(c.normal_savings, lang, unit=c.unit)} ± {_number(c.normal_band, lang)}</td>"
            f"<td>{_number(c.savings_won, lang, unit='원' if lang == 'ko' else 'won')}</td>"
            f"<td>{_number(c.savings_kgco2eq, lang, unit='kgCO2eq')}</td></tr>")
    header = "".join(f"<th scope='col'>{html.escape(t(key))}</th>" for key in (
        "column.carrier", "my_savings.use", "my_savings.reduction", "my_savings.on_track", "column.savings",
        "my_savings.normal", "my_savings.won", "my_savings.co2"))
    parts = [f"<section lang='{lang}' class='my-savings'><h2>{html.escape(t('my_savings.heading'))}</h2>",
             f"<p>{html.escape(t('my_savings.period', half_year=view.half_year, month=view.last_month.strftime('%Y-%m')))}</p>",
             f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
             f"<p>{html.escape(t('my_savings.points_total', points=_number(view.points, lang)))}</p>"]
    parts.append(_neighbours_html(view, lang))
    if view.tip_carrier and view.tips:
        items = "".join(f"<li>{html.escape(tip[lang])}</li>" for tip in view.tips)
        parts.append(f"<h3>{html.escape(t('my_savings.tips', carrier=t('carrier.' + view.tip_carrier)))}</h3><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _band(band: tuple[float, float]) -> str:
    """``40–60%`` of a rank band [fraction]."""
    return f"{band[0] * 100:.0f}–{band[1] * 100:.0f}%"


def _neighbours_html(view: HouseholdView, lang: str) -> str:
    """The comparison with similar neighbours: the judgement, the two figures and how they are
    made; or, in words, why there is no comparison (too few similar households, or no complete
    year of bills): never an empty section."""
    t = lambda key, **values: html.escape(i18n.text(key, lang, **values))  # noqa: E731 - a local shorthand
    settings = peers.PeerSettings.configured()
    heading = f"<h3>{t('my_savings.neighbours')}</h3>"
    if view.judgement:
        compare = t("my_savings.compare", households=view.peer_households, mine=_number(view.kgco2eq_12m, lang),
                    typical=_number(view.peer_typical_kgco2eq, lang), efficient=_number(view.peer_efficient_kgco2eq, lang))
        method = t("my_savings.compare_method", typical_band=_band(settings.typical_band),
                   efficient_band=_band(settings.efficient_band), digits=settings.significant_digits)
        return (f"{heading}<p class='judgement'><strong>{t('my_savings.judgement_' + view.judgement)}</strong></p>"
                f"<p class='peer-compare'>{compare}</p><p class='peer-method'>{method}</p>")
    if view.kgco2eq_12m != view.kgco2eq_12m:  # NaN: the household's own year is incomplete
        return f"{heading}<p class='peer-withheld'>{t('my_savings.compare_incomplete')}</p>"
    return f"{heading}<p class='peer-withheld'>{t('my_savings.compare_withheld', minimum=settings.min_households)}</p>"
