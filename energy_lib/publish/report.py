"""A report page's set-up: the open data it reads, its language and the pieces every report shows.

Every report notebook (``notebooks/reports``) starts with one call,
:func:`open_report` ``(data_dir, lang, input_hash)``, and hands the :class:`Report` it returns to
the section functions of its page's module (:mod:`~energy_lib.publish.area_report`,
:mod:`~energy_lib.publish.city_report`, :mod:`~energy_lib.publish.building_report`,
:mod:`~energy_lib.publish.programme_report`). A section function displays its heading, its words
and its figure; the notebook only orders the sections.

Every word comes from the string catalogue (``config/strings.toml``) in the report's language,
every number from the open data (already checked by the 15/15 rule) through
:mod:`energy_lib.publish.aggregate`, and every HTML fragment from a template
(``core/templates/report/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.core import i18n, templating
from energy_lib.publish import aggregate, charts, opendata, plots

__all__ = ["Report", "open_report", "display_html"]


def display_html(html_text: str) -> None:
    """Display an HTML fragment (of a template) in the notebook."""
    from IPython.display import HTML, display

    display(HTML(html_text))


@dataclass(frozen=True)
class Report:
    """The open data one report page reads, in one language.

    Attributes
    ----------
    lang : str
        ``"ko"`` or ``"en"``.
    data : pathlib.Path
        The open-data folder (``reports/site/data``).
    input_hash : str
        The page's input hash (set by ``energy publish``; empty: the open data's hash).
    consumption : pandas.DataFrame
        ``consumption_monthly``: monthly use by area, building type and carrier [native units].
    savings, points, stock : pandas.DataFrame
        The open-data tables ``savings``, ``carbon_point`` and ``stock``.
    annual, energy, toe, co2 : pandas.DataFrame
        The last twelve months against the twelve before
        (:func:`energy_lib.publish.aggregate.last_twelve_months`), in native units, [kWh], [toe]
        and [kgCO2eq].
    units : pandas.Series
        Each carrier's native unit (``kWh``, ``m³``).
    utility : pandas.DataFrame
        ``utility_electricity``: KEPCO's published use per gu and contract type, with the store's
        protected totals beside each area's total (:mod:`energy_lib.publish.utility_figures`).
    """

    lang: str
    data: Path
    input_hash: str
    consumption: pd.DataFrame
    savings: pd.DataFrame
    points: pd.DataFrame
    stock: pd.DataFrame
    annual: pd.DataFrame
    energy: pd.DataFrame
    toe: pd.DataFrame
    co2: pd.DataFrame
    units: pd.Series
    utility: pd.DataFrame

    def text(self, key: str, **values) -> str:
        """The catalogue's text ``key`` in the report's language."""
        return i18n.text(key, self.lang, **values)

    def heading(self, key: str, level: int = 2) -> None:
        """Display the heading ``key`` (an ``<h2>`` unless ``level`` says otherwise)."""
        display_html(templating.render("report/heading.html.j2", level=level, text=self.text(key)))

    def paragraphs(self, *texts: str, table: pd.DataFrame | None = None) -> None:
        """Display ``texts``, one paragraph each, and ``table`` under them (withheld cells marked)."""
        shown = None if table is None else templating.Markup(table_html(table, self.lang))
        display_html(templating.render("report/paragraphs.html.j2", paragraphs=texts, table=shown))

    def say(self, key: str, **values) -> None:
        """Display the catalogue's text ``key`` as a paragraph."""
        self.paragraphs(self.text(key, **values))

    def title(self, title_key: str, intro_key: str, **values) -> None:
        """Display the page's title and introduction, the catalogue's texts ``title_key`` and ``intro_key``."""
        self.headline(self.text(title_key, **values), self.text(intro_key, **values))

    def headline(self, title: str, intro: str) -> None:
        """Display ``title`` as the page's ``<h1>`` and ``intro`` under it."""
        display_html(templating.render("report/title.html.j2", title=title, intro=intro))

    def rows_of(self, frame: pd.DataFrame, area: str, building_type: str = "all") -> pd.DataFrame:
        """``frame``'s rows of one area and building type, by carrier."""
        return frame[(frame["area"] == area) & (frame["building_type"] == building_type)].set_index("carrier")

    def annual_table(self, area: str, building_type: str = "all") -> pd.DataFrame:
        """The last twelve months against the twelve before, by carrier, with common units:
        native [kWh, m³], change [%], [toe] and [tCO2eq]."""
        own, own_toe, own_co2 = (self.rows_of(f, area, building_type) for f in (self.annual, self.toe, self.co2))
        t, lang = self.text, self.lang
        return pd.DataFrame([{
            t("column.carrier"): t("carrier." + c),
            t("column.recent"): i18n.number(own["recent"].get(c, np.nan), lang, unit=self.units[c]),
            t("column.earlier"): i18n.number(own["earlier"].get(c, np.nan), lang, unit=self.units[c]),
            t("column.change"): i18n.number(own["change"].get(c, np.nan), lang, 1, percent=True),
            t("column.toe"): i18n.number(own_toe["recent"].get(c, np.nan), lang),
            t("column.kgco2eq"): i18n.number(own_co2["recent"].get(c, np.nan) / 1000, lang),  # [kgCO2eq] → [tCO2eq]
        } for c in charts.CARRIERS if c in own.index])

    def monthly(self, area: str = "city", building_type: str = "all") -> None:
        """The section "month by month": use by carrier against the year before."""
        self.heading("report.monthly_heading")
        series = aggregate.monthly_series(self.consumption, area, **({} if building_type == "all" else
                                                                       {"building_type": building_type}))
        area_arg = {} if area == "city" else {"area": area}
        charts.monthly_by_carrier(series, self.units, self.rows_of(self.annual, area, building_type), lang=self.lang,
                                  **area_arg).show()

    def annual_section(self, area: str = "city", building_type: str = "all") -> None:
        """The section "the last twelve months": :meth:`annual_table` with its explanation."""
        self.heading("report.annual_heading")
        self.paragraphs(self.text("report.annual_text"), table=self.annual_table(area, building_type))

    def provenance(self) -> None:
        """Display the provenance box every page ends with."""
        from energy_lib.publish.site import provenance_html

        display_html(provenance_html(self.data, self.lang, self.input_hash))


def table_html(table: pd.DataFrame, lang: str, *, stacked: bool = False) -> str:
    """A formatted table as the pages show it: no index, withheld cells marked (pandas escapes
    every cell).

    ``stacked``: a table too wide for a phone, whose rows become blocks of "column: value" lines
    there instead of scrolling sideways (``table.stacked`` in ``site.css``; each cell names its
    column in ``data-label``; the first column is the row's name). The template escapes every
    value.
    """
    if not stacked:
        return table.to_html(index=False, border=0, na_rep=i18n.text("common.suppressed", lang))
    columns = [str(c) for c in table.columns]
    shown = table.astype(object).where(table.notna(), i18n.text("common.suppressed", lang))
    rows = [list(zip(columns, (str(v) for v in values))) for values in shown.itertuples(index=False)]
    return templating.render("report/stacked_table.html.j2", columns=columns, rows=rows)


def open_report(data_dir: str | Path, lang: str, input_hash: str = "") -> Report:
    """Read the open data a report shows and set the figures' style.

    Parameters
    ----------
    data_dir : str or pathlib.Path
        The open data written by ``energy publish`` (``reports/site/data``).
    lang : str
        ``"ko"`` or ``"en"``.
    input_hash : str
        The page's input hash, shown in its provenance box (empty: the open data's hash).
    """
    plots.use_style()
    data = Path(data_dir)
    consumption = opendata.read(data, "consumption_monthly")
    yearly = opendata.read(data, "consumption_annual")  # 12-month totals, published even where a month is not
    return Report(
        lang=lang, data=data, input_hash=input_hash, consumption=consumption,
        savings=opendata.read(data, "savings"), points=opendata.read(data, "carbon_point"),
        stock=opendata.read(data, "stock"),
        annual=aggregate.last_twelve_months(consumption, annual=yearly),
        energy=aggregate.last_twelve_months(consumption, annual=yearly, value="kwh"),
        toe=aggregate.last_twelve_months(consumption, annual=yearly, value="toe"),
        co2=aggregate.last_twelve_months(consumption, annual=yearly, value="kgco2eq"),
        units=consumption.drop_duplicates("carrier").set_index("carrier")["unit"],
        utility=opendata.read(data, "utility_electricity"))
