"""The sections of a gu or dong report (``notebooks/reports/area.ipynb``).

Each function displays one section of the page of ``area`` (a 5-digit gu or 10-digit dong code)
from a :class:`~energy_lib.publish.report.Report`: its heading, its words and its figure.
"""

from __future__ import annotations

import numpy as np

from energy_lib.core import formatting, i18n
from energy_lib.publish import aggregate, charts, maps, opendata, plots, utility_figures
from energy_lib.publish.report import Report

__all__ = ["check", "title", "where", "mix", "buildings", "utility", "compare", "savings", "solar", "carbon_point"]


def check(report: Report, level: str, area: str) -> None:
    """Raise ``ValueError`` unless ``level`` is ``"gu"`` or ``"ward"`` and ``area`` one of the open data's areas."""
    if level not in ("gu", "ward") or area not in set(report.consumption["area"]):
        raise ValueError(f"level must be 'gu' or 'ward' and code one of its areas in {report.data}, not {level!r}, {area!r}")


def title(report: Report, level: str, area: str) -> None:
    """The page's title and introduction (after :func:`check`)."""
    check(report, level, area)
    report.title("title.area", "report.intro_area", name=i18n.area_name(area, report.lang))


def where(report: Report, area: str, boundaries: str = "") -> None:
    """Where the area stands: residential electricity per household of every dong on a map, the area marked.

    ``boundaries`` is a dong boundary GeoJSON; empty: a schematic map from the dong points.
    """
    report.heading("report.where_heading")
    t, lang = report.text, report.lang
    # residential electricity over residential households: the use of shops and factories is not the households'
    values = aggregate.ranking(report.annual, report.stock, carrier="electricity", level="ward",
                               building_type="residential").set_index("area")["intensity"]
    measure = maps.Measure(label=t("report.rank_measure"), unit=t("column.per_household"))
    shapes = maps.read_boundaries(boundaries) if boundaries else None
    plots.show(maps.draw_map(values, measure, title=t("report.rank_measure"), shapes=shapes, lang=lang, highlight=area,
                             inset=False),
               alt=maps.map_alt_text(values, measure, shapes=shapes, lang=lang, highlight=area),
               table=maps.map_table(values, measure, shapes=shapes, lang=lang), table_summary=t("common.table"))


def mix(report: Report, area: str) -> None:
    """The area's residential energy mix [shares of kWh] beside the city's."""
    report.heading("report.mix_heading")
    energy = report.energy
    both = energy[energy["area"].isin([area, "city"]) & (energy["building_type"] == "residential")].rename(
        columns={"recent": "kwh"})
    shares = aggregate.energy_mix(both, ["area"]).reindex(index=[area, "city"], columns=["electricity", "gas", "heat"])
    shares.index = [i18n.area_name(area, report.lang), i18n.area_name("city", report.lang)]
    charts.stacked_shares(shares, lang=report.lang, alt_key="report.mix_alt").show()


def buildings(report: Report, area: str) -> None:
    """The area's use by building type (a gu) or sector (a dong) [toe]."""
    report.heading("report.building_heading")
    report.say("report.building_text")
    toe = report.toe
    own = aggregate.carrier_totals(toe[(toe["area"] == area) & (toe["building_type"] != "all")], ["building_type"])
    # building types where published (a gu), else the sectors (a dong): never both, which would count twice
    order = ([b for b in opendata.BUILDING_TYPES if b in own.index]
             or [s for s in dict.fromkeys(opendata.SECTORS.values()) if s in own.index])
    own = own.reindex(order).rename(lambda b: report.text("building_type." + b))
    charts.carrier_bars(own, lang=report.lang, unit="toe", alt_key="report.building_alt", area=area).show()


def utility(report: Report, level: str, area: str) -> None:
    """A gu: KEPCO's published electricity use by contract type [MWh] and the gu's total beside the
    store's, each labelled with its source. A dong: where to find it (KEPCO publishes by gu only)."""
    if level == "gu":
        utility_figures.show(report, area)
        return
    report.heading("report.utility_heading")
    report.say("report.utility_ward", gu=i18n.area_name(area[:5], report.lang))


def compare(report: Report, level: str, area: str) -> None:
    """The area against its peers (the dongs of its gu, or the gus of the city): electricity per household."""
    report.heading("report.compare_heading")
    report.say("report.compare_text")
    lang = report.lang
    name, gu_code = i18n.area_name(area, lang), area[:5]
    peers = aggregate.ranking(report.annual, report.stock, carrier="electricity", level=level, building_type="residential")
    if level == "ward":
        peers = peers[peers["area"].str[:5] == gu_code]
    peers = peers.set_index("area")["intensity"].sort_values(ascending=False, na_position="last")
    peers.index = [i18n.area_name(a, lang) for a in peers.index]
    charts.labelled_bars(peers, lang=lang, unit=report.text("column.per_household"), highlight=name,
                         alt=report.text("report.compare_alt",
                                         gu=i18n.area_name(gu_code if level == "ward" else "city", lang), name=name,
                                         value=formatting.number(peers.get(name, np.nan), lang)), area=area).show()


def savings(report: Report, area: str) -> None:
    """Weather-normalised residential electricity savings of the area and the city, with their bands [MWh]."""
    report.heading("report.savings_heading")
    report.say("report.savings_text")
    table = report.savings
    chosen = table[(table["analysis"] == "annual") & table["area"].isin([area, "city"])
                   & (table["building_type"] == "residential") & (table["carrier"] == "electricity")]
    chosen = chosen.sort_values("level", key=lambda s: s.map({"ward": 0, "gu": 0, "city": 1}))
    chosen = chosen.assign(name=[i18n.area_name(a, report.lang) for a in chosen["area"]])
    charts.intervals(chosen, lang=report.lang, label=report.text("column.savings"), unit="MWh",
                     alt_key="report.savings_alt", scale=1000, area=area).show()  # [kWh] → [MWh]
    covered = chosen[~chosen["suppressed"]]
    if len(covered):  # what each sum holds and which meters it leaves out, so no one reads it as every home's
        report.paragraphs(*(report.text("report.savings_meters", name=row.name,
                                        meters=formatting.number(row.meters, report.lang),
                                        insufficient=formatting.number(row.meters_insufficient, report.lang),
                                        programme=formatting.number(row.meters_programme_in_baseline, report.lang))
                            for row in covered.itertuples()))


def solar(report: Report, area: str) -> None:
    """Solar generation in the area by year [kWh] and its share of the area's electricity."""
    report.heading("report.pv_heading")
    lang = report.lang
    pv = aggregate.re100_progress(opendata.read(report.data, "generation"), report.consumption, area=area)
    summary = ", ".join(f"{y} {formatting.quantity(g, lang, 'kWh')} ({formatting.percent(s, lang, 2)})"
                        for y, g, s in zip(pv["year"], pv["generation_kwh"], pv["share"]))
    if len(pv) and pv["generation_kwh"].isna().all():  # every year withheld: say why and where to look instead
        charts.withheld(area, lang).show()
    else:
        report.say("report.pv_text", name=i18n.area_name(area, lang), summary=summary or report.text("report.no_data"))


def carbon_point(report: Report, area: str) -> None:
    """Households of the area in each tier of the Carbon Point scheme."""
    report.heading("report.carbon_point_heading")
    report.say("report.carbon_point_text")
    points = report.points
    charts.tier_bars(points[(points["area"] == area) & (points["building_type"] == "all") & (points["carrier"] == "electricity")],
                     lang=report.lang, area=area).show()
