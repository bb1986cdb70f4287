"""The utility's published figures beside the store's, for the city and gu reports.

KEPCO publishes electricity use by gu and contract type (계약종별); the open-data table
``utility_electricity`` (:func:`energy_lib.publish.reconcile.published_totals`) holds those
figures and, beside each area's total, the store's own published total. Where the store covers
part of the customers, the utility's figure is the area's whole use, and a page shows both, each
labelled with its source. Where both give a gu's total and they differ by more than the tolerance
of ``config/reconcile.toml``, the row is flagged.

The utility's figures are public at gu × contract type; the store's side comes only from the
protected ``consumption_annual`` table. Neither is mixed into the household tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.core import formatting, i18n, templating
from energy_lib.publish import reconcile
from energy_lib.publish.report import Report, display_html, table_html

__all__ = ["year_shown", "totals_table", "contract_table", "show"]

_CONTRACT = {"residential": "contract.residential", "general": "contract.general", "education": "contract.education",
             "industrial": "contract.industrial", "agricultural": "contract.agricultural",
             "streetlight": "contract.streetlight", "night": "contract.night", "all": "contract.all"}
_STATUS = {"agrees": "reconcile.agrees", "partial": "reconcile.partial", "exceeds": "reconcile.exceeds",
           "no_store_data": "reconcile.no_store_data", "withheld": "reconcile.withheld"}
_MWH = 1000  # [kWh] per [MWh]


def year_shown(table: pd.DataFrame, area: str) -> int | None:
    """The year a page shows for ``area`` (the city: any of its gu): the latest whole year (12
    months) the store also has a figure for, else the latest whole year, else the latest year;
    None when there is none."""
    own = table[((table["area"] == area) | (area == "city")) & (table["category"] == "all")]
    if own.empty:
        return None
    whole = own[own["months"] == 12]
    both = whole[~whole["status"].isin([reconcile.Agreement.NO_STORE_DATA, ""])]
    return int((both if len(both) else whole if len(whole) else own)["year"].max())


def _mwh(value, lang: str, absent: str) -> str:
    return formatting.number(value / _MWH if value == value else value, lang, 0, absent=absent)


def _row(report: Report, row, label_key: str, label: str) -> dict:
    t, lang = report.text, report.lang
    withheld = row.status == reconcile.Agreement.WITHHELD
    return {
        t(label_key): label,
        t("column.utility_mwh"): _mwh(float(row.utility_kwh), lang, "common.not_available"),
        t("column.store_mwh"): _mwh(float(row.store_kwh), lang,
                                    "common.suppressed" if withheld else "reconcile.no_store_data"),
        t("column.coverage"): t("common.suppressed") if withheld else i18n.percent(float(row.coverage), lang, 2),
        t("column.check"): t(_STATUS[row.status], tolerance=_tolerance(lang)) if row.status else "",
    }


def _tolerance(lang: str) -> str:
    return i18n.percent(reconcile.tolerance(), lang, 0)


def totals_table(report: Report, year: int) -> pd.DataFrame:
    """Each gu's and the city's figures of ``year`` that the store can be set beside (the total and
    주택용, :data:`energy_lib.publish.reconcile.STORE_SIDE`): the utility's, the store's, the
    coverage and the check."""
    table = report.utility
    rows = table[(table["year"] == year) & table["category"].isin(list(reconcile.STORE_SIDE))]
    rows = rows.assign(_o=rows["level"].map({"gu": 0, "city": 1}),
                       _c=rows["category"].map({c: i for i, c in enumerate(_CONTRACT)})).sort_values(["_o", "area", "_c"])
    return pd.DataFrame([{report.text("column.area"): i18n.area_name(r.area, report.lang),
                          **_row(report, r, "column.contract_type", report.text(_CONTRACT[r.category]))}
                         for r in rows.itertuples()])


def contract_table(report: Report, area: str, year: int) -> pd.DataFrame:
    """The utility's figures of ``area`` and ``year`` by contract type, and the area's total with
    the store's beside it (the store is not split by contract type: its site data know building
    types, which map onto contract types only in part; docs/reconcile.md)."""
    table = report.utility
    rows = table[(table["year"] == year) & (table["area"] == area)]
    order = {c: i for i, c in enumerate(_CONTRACT)}
    rows = rows.assign(_o=rows["category"].map(order)).sort_values("_o")
    out = pd.DataFrame([_row(report, r, "column.contract_type", report.text(_CONTRACT[r.category]))
                        for r in rows.itertuples()])
    alone = (rows["status"] == "").to_numpy()
    for column in ("column.store_mwh", "column.coverage", "column.check"):  # no published store figure to set beside
        out.loc[alone, report.text(column)] = ""
    return out


def show(report: Report, area: str) -> None:
    """The section for ``area`` (``"city"`` or a gu code): heading, what each figure is, the table."""
    report.heading("report.utility_heading")
    year = year_shown(report.utility, area)
    if year is None:
        report.say("report.utility_none")
        return
    t, lang = report.text, report.lang
    table = totals_table(report, year) if area == "city" else contract_table(report, area, year)
    chosen = report.utility[(report.utility["year"] == year) & (report.utility["status"] != "")]
    if area != "city":
        chosen = chosen[chosen["area"] == area]
    texts = [t("report.utility_text", year=year, source=t("report.utility_source"), own=t("report.utility_own"),
               tolerance=_tolerance(lang))]

    def names(rows: pd.DataFrame) -> str:
        return ", ".join(f"{i18n.area_name(a, lang)} {t(_CONTRACT[c])}" for a, c in zip(rows["area"], rows["category"]))

    partial = chosen[chosen["status"] == reconcile.Agreement.PARTIAL]
    if len(partial):
        share = i18n.percent(float(np.nanmedian(partial["coverage"])), lang, 2)
        texts.append(t("report.utility_partial", names=names(partial), share=share))
    exceeds = chosen[chosen["status"] == reconcile.Agreement.EXCEEDS]
    if len(exceeds):
        texts.append(t("report.utility_exceeds", names=names(exceeds), tolerance=_tolerance(lang)))
    display_html(templating.render(
        "report/utility.html.j2", paragraphs=texts, table=templating.Markup(table_html(table, lang, stacked=True)),
        source_label=t("report.utility_source_label"), source=t("report.utility_source"),
        own_label=t("report.utility_own_label"), own=t("report.utility_own")))
