"""The sections of a building-type report (``notebooks/reports/building_type.ipynb``).

Each function displays one section of the page of ``building_type`` from a
:class:`~energy_lib.publish.report.Report`: its heading, its words and its figure.
"""

from __future__ import annotations

from energy_lib.core import formatting, i18n
from energy_lib.publish import aggregate, charts, opendata
from energy_lib.publish.report import Report

__all__ = ["check", "title", "by_gu", "intensity", "distribution", "savings"]


def check(building_type: str) -> None:
    """Raise ``ValueError`` unless ``building_type`` has a report."""
    if building_type not in opendata.BUILDING_TYPES:
        raise ValueError(f"building_type must be one of {', '.join(opendata.BUILDING_TYPES)}, not {building_type!r}")


def _name(report: Report, building_type: str) -> str:
    return report.text("building_type." + building_type)


def _residential(building_type: str) -> bool:
    return opendata.SECTORS[building_type] == "residential"


def title(report: Report, building_type: str) -> None:
    """The page's title and introduction (after :func:`check`)."""
    check(building_type)
    name = _name(report, building_type)
    report.title("title.building_type", "report.building_intro", name=name)


def by_gu(report: Report, building_type: str) -> None:
    """The type's use in each gu, by carrier [toe]."""
    report.say("report.building_text")
    toe = report.toe
    gu_toe = aggregate.carrier_totals(toe[(toe["level"] == "gu") & (toe["building_type"] == building_type)], ["area"])
    gu_toe = gu_toe.rename(lambda a: i18n.area_name(a, report.lang))
    charts.carrier_bars(gu_toe, lang=report.lang, unit="toe", alt_key="report.building_by_gu_alt", area="city",
                        name=_name(report, building_type)).show()


def _unit(report: Report, building_type: str) -> str:
    return report.text("column.per_household") if _residential(building_type) else "kWh/m²"


def intensity(report: Report, building_type: str) -> None:
    """Use per unit in each gu: electricity per household [kWh] for homes (every household's
    electricity meter has its building type), energy over every carrier per floor area [kWh/m²]
    for other buildings (floor area from the building register)."""
    lang, name = report.lang, _name(report, building_type)
    if _residential(building_type):
        report.heading("report.intensity_heading_household")
        report.say("report.intensity_text_household", name=name)
        use_per = aggregate.ranking(report.annual, report.stock, carrier="electricity", level="gu",
                                    building_type=building_type, per="households")
        alt_key = "report.intensity_household_alt"
    else:
        report.heading("report.intensity_heading_area")
        report.say("report.intensity_text_area", name=name)
        use_per = aggregate.energy_ranking(report.energy, report.stock, level="gu", building_type=building_type,
                                           per="floor_area_m2")
        alt_key = "report.intensity_alt"
    use_per = use_per.sort_values("area").set_index("area")["intensity"].rename(lambda a: i18n.area_name(a, lang))
    summary = ", ".join(f"{n} {formatting.number(v, lang)}" for n, v in use_per.items())
    charts.labelled_bars(use_per, lang=lang, unit=_unit(report, building_type),
                         alt=report.text(alt_key, name=name, summary=summary)).show()


def distribution(report: Report, building_type: str) -> None:
    """How the dongs spread: dongs are published by sector only, so the sector this type belongs to."""
    report.heading("report.distribution_heading")
    name = _name(report, building_type)
    if _residential(building_type):
        report.say("report.distribution_text_residential", name=name)
        per_dong = aggregate.ranking(report.annual, report.stock, carrier="electricity", level="ward",
                                     building_type="residential")
        measure = report.text("report.rank_measure")
    else:
        report.say("report.distribution_text_area", name=name)
        per_dong = aggregate.energy_ranking(report.energy, report.stock, level="ward", building_type="non_residential")
        measure = report.text("report.intensity_heading_area")
    charts.distribution(per_dong.set_index("area")["intensity"], lang=report.lang, unit=_unit(report, building_type),
                        alt_key="report.distribution_alt", name=measure).show()


def savings(report: Report, building_type: str) -> None:
    """The type's savings in the city by carrier, each carrier in its own unit ([kWh] or [m³]),
    one panel per unit: never one axis for both."""
    report.heading("report.savings_heading")
    report.say("report.savings_text_type", name=_name(report, building_type))
    table = report.savings
    chosen = table[(table["analysis"] == "annual") & (table["area"] == "city") & (table["building_type"] == building_type)]
    chosen = chosen.assign(name=[report.text("carrier." + c) for c in chosen["carrier"]])
    charts.intervals(chosen, lang=report.lang, label=report.text("column.savings"), alt_key="report.savings_alt").show()
