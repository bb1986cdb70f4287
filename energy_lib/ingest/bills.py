"""Household bills: electricity (KEPCO), city gas, water; one row per customer and billing period.

The utilities' bill exports differ in detail but carry the same things: a customer number, the
customer's administrative dong, the billing month or the read dates, the usage and its unit, and
often the read type (실측/추정) and the contract type (주택용, 일반용, …). Example (CP949 or UTF-8)::

    고객번호,행정동코드,청구년월,사용기간시작,사용기간종료,사용량,단위,검침구분,계약종별,건물유형
    0123456789,2911052500,202301,2022-12-15,2023-01-14,312,kWh,실측,주택용,아파트

Read dates are inclusive (the Korean convention: 2022-12-15 ~ 2023-01-14 is 31 days); pass
``--end-exclusive`` for exports whose end date is the next period's start. Without read dates the
billing month is the period. The unit comes from a unit column, the usage header
(``사용량(kWh)``) or ``--unit``; the carrier from a carrier column or ``--carrier``.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from energy_lib.core.vectors import map_values
from energy_lib.ingest import metered, vocab
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference, default_provider
from energy_lib.ingest.problems import IngestError, Issues
from energy_lib.ingest.sinks import MeteredSink

__all__ = ["FORMAT", "HEAT_FORMAT", "carrier_and_unit"]

FIELDS = (
    Field("customer_no", ("고객번호", "수용가번호", "납부자번호", "계약번호", "customer number", "custNo",
                          "cust_no", "customer", "account"), help="the utility's customer number",
          personal=True),
    Field("ward_code", ("행정동코드", "행정기관코드", "행정동", "hdong_cd", "adm_cd", "admCd", "dong_code",
                        "ward"), help="10-digit administrative dong code (any vintage)"),
    Field("billing_month", ("청구년월", "사용년월", "청구월", "useYm", "billing month", "bill_month", "yyyymm",
                            "년월", "month"), required=False, help="month billed (202301, 2023-01, 2023년 1월)"),
    Field("period_start", ("사용기간시작", "사용시작일", "검침시작일", "전월검침일", "from", "start", "start_date"),
          required=False, help="first day of the billing period"),
    Field("period_end", ("사용기간종료", "사용종료일", "검침일", "당월검침일", "to", "end", "end_date", "read_date"),
          required=False, help="last day of the billing period (inclusive unless --end-exclusive)"),
    Field("usage", ("사용량", "당월사용량", "useQty", "usage", "consumption", "value", "전력사용량", "가스사용량",
                    "수도사용량"), help="consumption in the unit given"),
    Field("unit", ("단위", "unit", "사용량단위", "useUnit"), required=False, help="kWh, m³, MJ, …"),
    Field("carrier", ("에너지원", "에너지종류", "에너지구분", "carrier", "energy", "종류"), required=False,
          help="전기, 도시가스, 상수도 (or --carrier)"),
    Field("read_type", ("검침구분", "검침유형", "검침방법", "read_type", "quality", "readType"), required=False,
          help="실측 (actual) or 추정/인정 (estimated); default actual"),
    Field("use_class", ("계약종별", "용도", "사용용도", "계약종류", "use", "contract", "cntr"), required=False,
          help="주택용, 일반용, 교육용, 산업용 …"),
    Field("building_type", ("건물유형", "주거형태", "주택유형", "건물용도", "building_type", "building"),
          required=False, help="아파트, 단독주택, … (see data/README.md)"),
    Field("provider", ("공급사", "공급자", "provider", "utility"), required=False,
          help="the utility (default per carrier: config/ingest.toml)"),
    Field("site_name", ("단지명", "시설명", "건물명", "complex_name", "site_name"), required=False,
          help="public name of a non-household site (never stored for a household)"),
    Field("households", ("세대수", "households", "hh"), required=False, help="households at the site"),
)


def carrier_and_unit(columns: Columns, options: Options, issues: Issues, n: int, *, usage: str = "usage",
                     default_carrier: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Carrier and native unit of each row, from the file's columns, its usage header, or options.

    Raises
    ------
    IngestError
        If neither the file nor the options say the carrier or the unit.
    """
    name = columns.raw.name
    if "carrier" in columns:
        text = columns.required_text("carrier", issues, "the carrier")
        carrier = vocab.to_carrier(text)
        unknown = carrier.isna().to_numpy() & (text.str.len() > 0).to_numpy()
        issues.add(unknown, columns.header("carrier"), "unknown_carrier",
                   "'" + text[unknown] + "' is not a carrier. Write 전기, 도시가스, 상수도 or 지역난방 "
                   "(electricity, gas, water, heat).")
    elif options.carrier or default_carrier:
        carrier = pd.Series(options.carrier or default_carrier, index=range(n), dtype="str")
    else:
        raise IngestError(name, "the file does not say which carrier it is (no carrier column).",
                          "Pass --carrier electricity, gas, water or heat.", row=1)
    if "unit" in columns:
        unit = columns.required_text("unit", issues, "the unit")
        columns.unit_conflicts("unit", usage, issues)
    elif columns.unit_hint(usage) or options.unit:
        unit = pd.Series(options.unit or columns.unit_hint(usage), index=range(n), dtype="str")
    else:
        raise IngestError(name, f"the file does not say the unit of '{columns.header(usage)}'.",
                          "Add a unit column, write the unit in the header (사용량(kWh)), or pass --unit.",
                          row=1, column=columns.header(usage))
    return carrier, unit


def convert(columns: Columns, options: Options, reference: Reference, *,
            default_carrier: str | None = None) -> Converted:
    """Bills → metered records (see :mod:`energy_lib.ingest.metered`)."""
    n = columns.raw.table.num_rows
    issues = Issues(n)
    carrier, unit = carrier_and_unit(columns, options, issues, n, default_carrier=default_carrier)
    customer = columns.required_text("customer_no", issues, "the customer number")
    ward = columns.ward("ward_code", issues, reference.ward_codes)
    value = columns.number("usage", issues, "the usage")

    if "period_start" in columns and "period_end" in columns:
        start = columns.date("period_start", issues)
        end = columns.date("period_end", issues) + (np.timedelta64(1, "D") if options.end_inclusive
                                                     else np.timedelta64(0, "D"))
        resolution = "billing"
    else:
        start = columns.month("billing_month", issues)
        end = (start.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[us]")
        resolution = "monthly"

    quality = pd.Series("actual", index=range(n), dtype="str")
    if "read_type" in columns:
        text = columns.series("read_type")
        mapped = vocab.to_quality(text)
        quality = mapped.fillna(text.where(text.str.len() > 0, "actual"))

    households = pd.Series(pd.NA, index=range(n), dtype="Int64")
    building = pd.Series("unknown", index=range(n), dtype="str")
    if "use_class" in columns:
        use = columns.series("use_class")
        households = households.mask(vocab.is_residential_use(use), 1)
        building = vocab.to_building_type(use).fillna(building)
        columns.unknown_category("use_class", (vocab.to_contract_type(use).isna()
                                               & vocab.to_building_type(use).isna()).to_numpy(), issues, _CLASSES)
    if "building_type" in columns:
        given = columns.series("building_type")
        building = vocab.to_building_type(given).fillna(building)
        households = households.mask(vocab.is_residential_use(given), 1)
        columns.unknown_category("building_type", (vocab.to_building_type(given).isna()
                                                    & ~vocab.is_residential_use(given)).to_numpy(), issues, _CLASSES)
    if "households" in columns:
        given = pd.Series(columns.optional_count("households", issues, "households"), index=range(n))
        households = given.where(given.notna(), households)
    site_name = pd.Series(pd.NA, index=range(n), dtype="str")
    if "site_name" in columns:  # a complex's public name; never a household's
        site_name = columns.series("site_name").where(households.ne(1).fillna(True).to_numpy())

    provider = (columns.series("provider") if "provider" in columns
                else pd.Series(options.provider, index=range(n), dtype="str") if options.provider
                else map_values(carrier, _default_providers()))
    records = pd.DataFrame({
        "source_row": columns.rows, "provider": provider, "carrier": carrier, "account": customer,
        "resolution": resolution,
        "period_start": start, "period_end": end, "value": value, "unit": unit, "quality": quality,
        "ward_code": ward, "placement": "reported", "building_type": building, "households": households,
        "site_name": site_name.where(site_name.str.len() > 0),
    })
    return Converted("readings", records, issues, headers={"value": columns.header("usage"),
                                                           "account": columns.header("customer_no")})


_CLASSES = ("a contract or building type: use 주택용, 일반용, 교육용, 산업용, 농사용 or 아파트, 단독주택, 상업, "
            "공공, 교육, 산업 (see data/README.md)")


def _default_providers() -> dict[str, str]:
    return {c: default_provider(c) for c in ("electricity", "gas", "water", "heat")}


FORMAT = Format(
    name="bills",
    title="household bill export",
    fields=FIELDS,
    convert=convert,
    sink=MeteredSink(metered.READINGS),
    description=__doc__.split("\n\n")[0],
    one_of=((("billing_month",), ("period_start", "period_end")),),
)


def _with_aliases(fields: tuple[Field, ...], extra: dict[str, tuple[str, ...]]) -> tuple[Field, ...]:
    return tuple(dataclasses.replace(f, aliases=f.aliases + extra.get(f.name, ())) for f in fields)


HEAT_FORMAT = Format(
    name="heat",
    title="district heat per complex",
    fields=_with_aliases(FIELDS, {
        "customer_no": ("단지코드", "수요처번호", "complex_code", "complex"),
        "billing_month": ("basYm", "기준년월"),
        "usage": ("engUse", "engUseGcal", "열사용량", "열량", "heat"),
        "unit": ("engUseUnit",),
    }),
    convert=functools.partial(convert, default_carrier="heat"),
    sink=MeteredSink(metered.READINGS),
    description="District heat per apartment complex or building (Gcal, MJ, TJ or kWh), as the "
                "bill export but with heat's field names (basYm, engUse, engUseUnit, 단지코드).",
    one_of=((("billing_month",), ("period_start", "period_end")),),
)
