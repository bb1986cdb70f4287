"""KEPCO electricity usage by region and contract type (한전 전력데이터 개방포털, 계약종별 전력사용량).

What KEPCO publishes already aggregated: per month, metro (시도) and city (시군구), and contract
type (계약종별: 주택용, 일반용, 교육용, 산업용, 농사용, 가로등, 심야), the number of customers, the
usage [kWh] and the bill [won]. Fields as the API names them — ``year, month, metro, city, cntr,
custCnt, powerUsage`` (the guide also spells it ``powerUseage``), ``bill, unitCost`` — or in
Korean (년, 월, 시도, 시군구, 계약종별, 고객호수, 사용량, 전기요금, 평균판매단가). A CSV or the API's
JSON response. Region names (광주광역시, 동구) or codes (29, 110 / 29110, also the 12xxx codes of
2026-07) are both accepted; rows of other metros are quarantined as ``outside_city``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.core import configuration, units, wards
from energy_lib.ingest import checks, vocab
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import KeyedFactSink

__all__ = ["FORMAT", "AGGREGATE_RULES", "AGGREGATE_SINK", "GWANGJU_NAMES", "GWANGJU_CODES", "gu_codes"]

GWANGJU_NAMES = {"광주", "광주광역시", "광주시", "gwangju", "광주특별시", "광주전남특별시"}
GWANGJU_CODES = {"29", "12"}
"""How a 시도 field names Gwangju (names compared in lower case; the sido codes before and after 2026-07)."""

FIELDS = (
    Field("year", ("년", "년도", "연도", "yyyy"), help="year"),
    Field("month", ("월", "mm"), help="month (1–12)"),
    Field("metro", ("시도", "시도명", "metroCd", "metro_code"), help="metro: 광주광역시 or code 29"),
    Field("city", ("시군구", "시군구명", "cityCd", "city_code", "구"), help="gu: 동구 … or code 110 / 29110"),
    Field("cntr", ("계약종별", "계약종", "contract", "contract_type"), help="contract type (주택용, 일반용, …)"),
    Field("custCnt", ("고객호수", "고객수", "호수", "customers", "cust_cnt"), required=False,
          help="number of customers"),
    Field("powerUsage", ("powerUseage", "사용량", "전력사용량", "usage", "power_usage"), help="usage [kWh]"),
    Field("bill", ("전기요금", "요금", "판매수입", "bill_won"), required=False, help="amount billed [won]"),
    Field("unitCost", ("평균판매단가", "판매단가", "unit_cost"), required=False, help="average price [won/kWh]"),
)


def _fmt(values: pd.Series) -> pd.Series:
    return values.map(lambda v: f"{v:,.6g}")


def plausible_bounds(carrier: pd.Series, category: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The largest plausible aggregate of each record's carrier and class: a whole cell's monthly
    total and its total per customer [canonical unit per month: kWh, m³] (config/ingest.toml
    ``[plausible]``; a class without its own bounds uses its carrier's ``default``)."""
    bounds = configuration.load("ingest")["plausible"]
    pairs = pd.DataFrame({"carrier": carrier.to_numpy(dtype=object), "category": category.to_numpy(dtype=object)})

    def bound(key: str) -> np.ndarray:
        def lookup(row) -> float:
            by_class = bounds.get(row.carrier, {})
            return by_class.get(row.category, by_class.get("default", {})).get(key, np.inf)
        distinct = pairs.drop_duplicates()  # a few carriers × classes, not one lookup per row
        distinct = distinct.assign(bound=[lookup(r) for r in distinct.itertuples()])
        return pairs.merge(distinct, on=["carrier", "category"], how="left")["bound"].to_numpy(dtype=float)

    return bound("max_per_month"), bound("max_per_customer_month")


def _implausible(f: pd.DataFrame) -> np.ndarray:
    """True where an aggregate is beyond its carrier's and class's bounds, as a whole cell or per
    customer (where the count is given)."""
    per_month, per_customer = plausible_bounds(f["carrier"], f["category"])
    value = f["value_canonical"].to_numpy(dtype=float)
    customers = pd.to_numeric(f["customers"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        each = np.where(customers > 0, value / customers, np.nan)
    return (value > per_month) | (each > per_customer)


AGGREGATE_RULES = (
    checks.Rule("implausible_value", "value", lambda f: ~_implausible(f),
                lambda f: "usage " + _fmt(f["value_canonical"]) + " " + f["carrier"] + " for class '"
                + f["category"].fillna("?").astype(str) + "' is beyond the plausible bounds for one month "
                "(config/ingest.toml [plausible]): a unit or typing error. Check the number and its unit "
                "with the source."),
    checks.Rule("negative_value", "value", lambda f: ~(f["value"] < 0),
                lambda f: "usage " + _fmt(f["value"]) + " is negative. Check the number with the source."),
    checks.Rule("negative_value", "customers", lambda f: ~(f["customers"] < 0),
                lambda f: "customer count " + f["customers"].astype(str) + " is negative. Check the number."),
    checks.Rule("future_period", "period_start",
                lambda f: ~(f["period_start"] > pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None)),
                lambda f: "the month " + f["period_start"].dt.strftime("%Y-%m")
                + " has not begun yet. Check the year and month."),
)


def gu_codes(city: pd.Series, crosswalk: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Gu code of each city field (a name, a 3-digit city code or a 5-digit code); sido rows
    (blank, 합계, 전체) are marked."""
    current = wards.wards().drop_duplicates("gu_code")
    by_name = {n: c for n, c in zip(current["gu_name_ko"], current["gu_code"])}
    by_name.update({n.lower(): c for n, c in zip(current["gu_name_en"], current["gu_code"])})
    text = city.str.replace(r"^광주(광역시)?\s*", "", regex=True).str.strip()
    named = text.map(lambda t: by_name.get(t) or by_name.get(t.lower()))
    digits = text.where(text.str.fullmatch(r"\d{3}|\d{5}"))
    five = digits.where(digits.str.len() != 3, "29" + digits)
    coded = wards.resolve_codes(five.fillna(""), crosswalk, level="gu")
    whole_city = text.isin(["", "합계", "전체", "계", "total", "all"]).to_numpy()
    return named.fillna(coded), whole_city


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    """KEPCO contract-type rows → utility_aggregates records."""
    n = columns.raw.table.num_rows
    issues = Issues(n)
    year = columns.number("year", issues, "the year")
    month = columns.number("month", issues, "the month")
    ok = (year >= 1990) & (year <= 2200) & (month >= 1) & (month <= 12)
    bad = ~ok & ~np.isnan(year) & ~np.isnan(month)
    issues.add(bad, columns.header("month"), "unreadable_date",
               "year " + pd.Series(year[bad]).astype(str) + ", month " + pd.Series(month[bad]).astype(str)
               + " is not a month. Check the year and month columns.")
    y = np.where(ok, year, 1970).astype(int)
    m = np.where(ok, month, 1).astype(int)
    start = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]").astype("datetime64[us]")
    start = np.where(ok, start, np.datetime64("NaT"))

    metro = columns.required_text("metro", issues, "the metro (시도)")
    gwangju = (metro.str.lower().isin(GWANGJU_NAMES) | metro.isin(GWANGJU_CODES)).to_numpy()
    issues.add(~gwangju & (metro.str.len() > 0).to_numpy(), columns.header("metro"), "outside_city",
               "'" + metro[~gwangju & (metro.str.len() > 0).to_numpy()] + "' is not Gwangju: the workbook "
               "keeps Gwangju only. Nothing to do if the export covers several regions.")
    city = columns.series("city")
    gu, whole_city = gu_codes(city, reference.ward_codes)
    unknown = gu.isna().to_numpy() & ~whole_city & gwangju
    issues.add(unknown, columns.header("city"), "unknown_ward_code",
               "'" + city[unknown] + "' is not a gu of Gwangju (name or code of any vintage). "
               "Correct it (see `energy wards`).")

    category_text = columns.required_text("cntr", issues, "the contract type")
    category = vocab.to_contract_type(category_text)
    unknown = category.isna().to_numpy() & (category_text.str.len() > 0).to_numpy()
    issues.add(unknown, columns.header("cntr"), "unknown_category",
               "'" + category_text[unknown] + "' is not a KEPCO contract type (주택용, 일반용, 교육용, 산업용, "
               "농사용, 가로등, 심야, 합계). Check the column.")

    value = columns.number("powerUsage", issues, "the usage")
    customers = columns.optional_count("custCnt", issues, "customers")
    bill = columns.optional_number("bill", issues, "the bill")
    unit = options.unit or columns.unit_hint("powerUsage") or "kWh"
    canonical, mismatch = units.to_canonical(value, pd.Series(unit, index=range(n)),
                                             pd.Series("electricity", index=range(n)))
    issues.add(mismatch, columns.header("powerUsage"), "unit_mismatch",
               f"unit '{unit}' is not an electricity unit. Pass --unit kWh or MWh.")
    records = pd.DataFrame({
        "source_row": columns.rows, "provider": options.provider or "kepco", "carrier": "electricity",
        "region_level": np.where(whole_city, "sido", "gu"),
        "region_code": gu.where(~pd.Series(whole_city), "29"),
        "category": category, "category_ko": category_text, "period_start": start,
        "customers": customers,
        "value": value, "unit": unit, "value_canonical": canonical, "bill_won": bill,
    })
    return Converted("utility_aggregates", records, issues, headers={"value": columns.header("powerUsage"),
                                                                     "customers": columns.mapping.get("custCnt", "custCnt")})


AGGREGATE_SINK = KeyedFactSink("utility_aggregates", ("provider", "region_code", "category", "period_start"),
                               "value_canonical", AGGREGATE_RULES)
"""Where every utility aggregate goes: one cell per provider, region, category and month."""

FORMAT = Format(
    name="kepco",
    title="KEPCO usage by contract type",
    fields=FIELDS,
    convert=convert,
    sink=AGGREGATE_SINK,
    description=__doc__.split("\n\n")[0],
)
