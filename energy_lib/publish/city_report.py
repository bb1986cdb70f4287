"""The sections of the city report (``notebooks/reports/city.ipynb``).

Each function displays one section of the page from a :class:`~energy_lib.publish.report.Report`:
its heading, its words and its figure.
"""

from __future__ import annotations

from energy_lib.core import configuration, formatting, i18n
from energy_lib.publish import aggregate, charts, maps, opendata, plots, utility_figures
from energy_lib.publish.report import Report

__all__ = ["title", "mix", "buildings", "utility", "ranking", "savings", "carbon_point", "re100", "carbon"]


def title(report: Report) -> None:
    """The page's title and introduction."""
    report.title("title.city", "report.intro_city")


def mix(report: Report) -> None:
    """Each gu's residential energy mix [shares of kWh]."""
    report.heading("report.mix_heading")
    energy = report.energy
    gu_energy = energy[(energy["level"] == "gu") & (energy["building_type"] == "residential")].rename(columns={"recent": "kwh"})
    shares = aggregate.energy_mix(gu_energy, ["area"]).reindex(columns=["electricity", "gas", "heat"])
    shares.index = [i18n.area_name(a, report.lang) for a in shares.index]
    charts.stacked_shares(shares, lang=report.lang, alt_key="report.mix_alt").show()


def buildings(report: Report) -> None:
    """The city's use by building type [toe]."""
    report.heading("report.building_heading")
    report.say("report.building_text")
    toe = report.toe
    by_type = aggregate.carrier_totals(toe[(toe["area"] == "city") & toe["building_type"].isin(opendata.BUILDING_TYPES)],
                                       ["building_type"])
    by_type = by_type.reindex([b for b in opendata.BUILDING_TYPES if b in by_type.index]).rename(
        lambda b: report.text("building_type." + b))
    charts.carrier_bars(by_type, lang=report.lang, unit="toe", alt_key="report.building_alt", area="city").show()


def utility(report: Report) -> None:
    """KEPCO's published electricity use of each gu and the city [MWh] beside the store's totals,
    each labelled with its source, and the gu whose totals disagree beyond the tolerance flagged."""
    utility_figures.show(report, "city")


def ranking(report: Report, boundaries: str = "") -> None:
    """Every dong's residential electricity per household on a map (ranked), then its total [MWh] folded.

    ``boundaries`` is a dong boundary GeoJSON; empty: a schematic map from the dong points.
    """
    report.heading("report.rank_heading")
    report.say("report.rank_text")
    t, lang = report.text, report.lang
    # residential electricity over residential households: the use of shops and factories is not the households'
    ranked = aggregate.ranking(report.annual, report.stock, carrier="electricity", level="ward",
                               building_type="residential").set_index("area")
    values = ranked["intensity"]
    measure = maps.Measure(label=t("report.rank_measure"), unit=t("column.per_household"))
    shapes = maps.read_boundaries(boundaries) if boundaries else None
    plots.show(maps.draw_map(values, measure, title=t("report.rank_measure"), shapes=shapes, lang=lang, annotate="rank"),
               alt=maps.map_alt_text(values, measure, shapes=shapes, lang=lang),
               table=maps.map_table(values, measure, shapes=shapes, lang=lang), table_summary=t("common.table"))
    totals = ranked["recent"] / 1000  # [kWh] → [MWh]
    total_measure = maps.Measure(label=t("report.totals_measure"), unit="MWh")
    plots.show(maps.draw_map(totals, total_measure, title=t("report.totals_measure"), shapes=shapes, lang=lang, inset=False),
               alt=maps.map_alt_text(totals, total_measure, shapes=shapes, lang=lang),
               table=maps.map_table(totals, total_measure, shapes=shapes, lang=lang), table_summary=t("common.table"),
               collapsed=t("report.totals_summary"))


def savings(report: Report) -> None:
    """Residential electricity savings of the city and each gu with their bands [MWh], then the
    savings in a normal-weather year in words."""
    report.heading("report.savings_heading")
    report.say("report.savings_text")
    lang, table = report.lang, report.savings
    chosen = table[(table["analysis"] == "annual") & table["level"].isin(["city", "gu"])
                   & (table["building_type"] == "residential") & (table["carrier"] == "electricity")]
    chosen = chosen.assign(name=[i18n.area_name(a, lang) for a in chosen["area"]])
    charts.intervals(chosen, lang=lang, label=report.text("column.savings"), unit="MWh", alt_key="report.savings_alt",
                     scale=1000).show()  # [kWh] → [MWh]
    normal = "; ".join(f"{n} " + (f"{formatting.number(s / 1000, lang, 1)} ± {formatting.number(b / 1000, lang, 1, unit='MWh')}"
                                    if s == s else formatting.number(s, lang))  # [kWh] → [MWh]; NaN: withheld
                       for n, s, b in zip(chosen["name"], chosen["normal_savings"].astype(float),
                                          chosen["normal_band"].astype(float)))
    report.say("report.normal_text", summary=normal)


def carbon_point(report: Report) -> None:
    """Households of the city in each tier of the Carbon Point scheme."""
    report.heading("report.carbon_point_heading")
    report.say("report.carbon_point_text")
    points = report.points
    charts.tier_bars(points[(points["area"] == "city") & (points["building_type"] == "all")
                            & (points["carrier"] == "electricity")], lang=report.lang).show()


def re100(report: Report) -> None:
    """Solar generation's share of the city's electricity against the RE100 target year."""
    report.heading("report.re100_heading")
    target_year = configuration.load("targets")["re100"]["year"]
    report.say("report.re100_text", year=target_year)
    charts.re100(aggregate.re100_progress(opendata.read(report.data, "generation"), report.consumption), lang=report.lang,
                 target_year=target_year).show()


def carbon(report: Report) -> None:
    """The city's emissions path [kgCO2eq] against the carbon-neutrality year, and the carriers left out."""
    report.heading("report.carbon_heading")
    net_zero = configuration.load("targets")["carbon_neutrality"]["year"]
    path = aggregate.emissions_path(report.consumption)
    left_out = ", ".join(report.text("carrier." + c) for c in path.attrs["left_out"])
    text = report.text("report.carbon_text", year=net_zero)
    if left_out:
        text += " " + report.text("report.carbon_left_out", carriers=left_out)
    report.paragraphs(text)
    charts.emissions(path, lang=report.lang, target_year=net_zero).show()
