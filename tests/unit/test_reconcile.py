"""Site-level totals against KEPCO's published ones, from either KEPCO format (energy_lib.publish.reconcile)."""

from __future__ import annotations

from html import unescape

import numpy as np
import pandas as pd
import pytest

from energy_lib.publish import reconcile
from tests.conftest import bills_csv

MONTHS = [f"{m}월" for m in range(1, 13)]


def _public_file(rows: list[tuple[str, str, list[int]]]) -> str:
    """A KEPCO public file (2024) with one row per (gu, contract type, monthly kWh)."""
    lines = ["연도,시도,시군구,계약종별," + ",".join(MONTHS)]
    lines += [f"2024,광주광역시,{gu},{contract}," + ",".join(f'"{v:,}"' for v in months) for gu, contract, months in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def reconciled(write, ingest, store):
    """Households with bills in 동구 (300 kWh a month), 서구 (200) and 남구 (500) in 2024, and KEPCO's
    figures: 동구 what the bills hold (+1%), 서구 ten times more, 남구 half."""
    rows = []
    for customer, ward, kwh in (("0001", "2911052500", 300), ("0002", "2914057500", 200), ("0003", "2915551000", 500)):
        rows += [f"{customer},{ward},2024{m:02d},{kwh},kWh,실측,가정용" for m in range(1, 13)]
    report, _ = ingest(write("bills.csv", bills_csv(rows, header="고객번호,행정동코드,청구년월,사용량,단위,검침구분,용도")),
                       carrier="electricity")
    assert report.rows_stored == 36
    public = _public_file([("동구", "주택용", [303] * 12), ("서구", "주택용", [2000] * 12),
                           ("남구", "주택용", [250] * 12), ("북구", "가로등", [0] * 12)])
    report, _ = ingest(write("kepco_public.csv", public))
    assert report.format == "kepco_public" and report.rows_stored == 48
    return store


def test_agreement_within_the_configured_tolerance():
    assert reconcile.tolerance() == 0.02
    status = reconcile.agreement([100, 98.5, 50, 103, np.nan], [100, 100, 100, 100, 100])
    assert status.tolist() == ["agrees", "agrees", "partial", "exceeds", "no_store_data"]


def test_coverage_per_gu_category_and_year(reconciled):
    table = reconcile.coverage(reconciled)
    totals = table[table["category"] == "all"].set_index("gu")
    assert totals.loc["동구", "status"] == "agrees"  # 3,600 kWh against 3,636: within 2%
    assert totals.loc["서구", "status"] == "partial" and totals.loc["서구", "coverage"] == pytest.approx(0.1)
    assert totals.loc["남구", "status"] == "exceeds"  # the store holds twice what KEPCO billed: flagged
    assert np.isnan(totals.loc["북구", "store_kwh"]) and totals.loc["북구", "status"] == "no_store_data"
    home = table[(table["category"] == "residential") & (table["gu"] == "동구")].iloc[0]
    assert (home["store_kwh"], home["utility_kwh"], home["months"], home["carrier"]) == (3600, 3636, 12, "electricity")


def test_both_kepco_formats_reconcile_alike(reconciled, write, ingest):
    # the API export's January for 동구 주택용 with the same figure adds nothing; another figure conflicts
    same = write("api.csv", "년,월,시도,시군구,계약종별,사용량\n2024,1,광주광역시,동구,주택용,303\n")
    report, rows = ingest(same)
    assert report.format == "kepco" and rows["reason"].tolist() == ["already_stored"]
    other = write("api2.csv", "년,월,시도,시군구,계약종별,사용량\n2024,2,광주광역시,동구,주택용,999\n"
                              "2025,1,광주광역시,동구,주택용,310\n")
    report, rows = ingest(other)
    assert rows["reason"].tolist() == ["conflicts_with_stored"] and report.rows_stored == 1
    table = reconcile.coverage(reconciled)
    assert set(table.loc[table["gu"] == "동구", "year"]) == {2024, 2025}  # the API's month is covered too


def test_summary_and_reconcile_print_the_coverage_table(reconciled):
    from typer.testing import CliRunner

    from energy_lib.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["summary", "--store", str(reconciled.root)])
    assert result.exit_code == 0, result.output
    assert "== coverage: the store's site-level totals against the utility's published totals ==" in result.output
    assert "exceeds" in result.output and "±2%" in result.output
    result = runner.invoke(app, ["reconcile", "--by", "coverage", "--store", str(reconciled.root)])
    assert result.exit_code == 0 and "partial" in result.output


def test_published_table_shows_the_utilitys_figures_and_only_protected_store_totals(reconciled):
    annual = pd.DataFrame({"level": "gu", "area": ["29110", "29140", "29155", "29110", "29110"],
                           "carrier": "electricity", "building_type": ["all", "all", "all", "residential", "industrial"],
                           "period": ["2024", "2024", "2024", "2024", "2024"],
                           "total": [3600.0, np.nan, 6000.0, 3600.0, 1.0], "suppressed": [False, True, False, False, False]})
    table = reconcile.published_totals(reconciled, annual)
    totals = table[table["category"] == "all"].set_index("area")
    assert totals.loc["29110", "status"] == "agrees" and totals.loc["29110", "store_kwh"] == 3600
    assert totals.loc["29140", "status"] == "withheld" and np.isnan(totals.loc["29140", "store_kwh"])
    assert totals.loc["29155", "status"] == "exceeds"
    assert "city" not in totals.index  # not every gu publishes the year: no city total
    # the residential sector beside 주택용; no other contract type has a published store figure
    homes = table[(table["category"] == "residential") & (table["area"] == "29110")].iloc[0]
    assert (homes["store_kwh"], homes["status"], homes["category_ko"]) == (3600, "agrees", "주택용")
    others = table[~table["category"].isin(["all", "residential"])]
    assert others["store_kwh"].isna().all() and (others["status"] == "").all()
    assert totals.loc["29170", "utility_kwh"] == 0 and totals.loc["29170", "category_ko"] == "합계"


def _page(utility: pd.DataFrame, lang: str):
    """A report page whose only table is ``utility`` (the sections read nothing else)."""
    from pathlib import Path

    from energy_lib.publish.report import Report

    empty = pd.DataFrame()
    return Report(lang=lang, data=Path("."), input_hash="", consumption=empty, savings=empty, points=empty, stock=empty,
                  annual=empty, energy=empty, toe=empty, co2=empty, units=pd.Series(dtype=str), utility=utility)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_reports_show_the_utilitys_figures_beside_the_stores_with_the_source_named(reconciled, monkeypatch, lang):
    from energy_lib.core import i18n
    from energy_lib.publish import area_report, city_report, utility_figures

    annual = pd.DataFrame({"level": "gu", "area": ["29110", "29140", "29155"], "carrier": "electricity",
                           "building_type": "residential", "period": "2024", "total": [3600.0, 2400.0, 6000.0],
                           "suppressed": False})
    page = _page(reconcile.published_totals(reconciled, annual), lang)
    shown: list[str] = []
    monkeypatch.setattr(utility_figures, "display_html", shown.append)
    monkeypatch.setattr("energy_lib.publish.report.display_html", shown.append)
    city_report.utility(page)  # not every gu publishes 2024 here: the gu without the city
    html = unescape("".join(shown))
    assert i18n.text("report.utility_source", lang) in html  # the source named, in the page's language
    assert i18n.text("column.utility_mwh", lang) in html and i18n.text("column.store_mwh", lang) in html
    assert i18n.text("reconcile.exceeds", lang) in html  # 남구: the store holds twice KEPCO's 주택용: flagged
    assert i18n.text("reconcile.partial", lang) in html  # 서구: a tenth
    assert i18n.area_name("29155", lang) in html
    shown.clear()
    area_report.utility(page, "gu", "29110")
    html = unescape("".join(shown))
    assert i18n.text("contract.residential", lang) in html and i18n.text("reconcile.agrees", lang, tolerance="2%") in html
    # on a phone the rows stack: every cell names its column
    assert '<table class="stacked">' in html
    assert f'<td data-label="{i18n.text("column.utility_mwh", lang)}">' in html
    shown.clear()
    area_report.utility(page, "ward", "2911052500")
    assert i18n.text("report.utility_ward", lang, gu=i18n.area_name("29110", lang)) in unescape("".join(shown))
    assert utility_figures.year_shown(page.utility, "29110") == 2024 and utility_figures.year_shown(page.utility, "x") is None


def test_a_stacked_table_names_each_cells_column_escapes_it_and_marks_withheld_cells():
    from energy_lib.core import i18n
    from energy_lib.publish.report import table_html

    table = pd.DataFrame({"지역 <b>": ["동구", "서구"], "MWh": ["1,200", None]})
    html = table_html(table, "ko", stacked=True)
    assert '<table class="stacked">' in html and "<b>" not in html and "&lt;b&gt;" in html
    assert '<td data-label="지역 &lt;b&gt;">동구</td><td data-label="MWh">1,200</td>' in html
    assert f'<td data-label="MWh">{i18n.text("common.suppressed", "ko")}</td>' in html
    assert html.count("<tr>") == 3  # the header and two rows

