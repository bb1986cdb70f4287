"""Building energy use (국토교통부 건물에너지정보): monthly (or daily) use per building.

Each row is a building, given by its parcel — ``sigunguCd`` + ``bjdongCd`` (the LEGAL dong),
``platGbCd`` (0 land, 1 mountain, 2 block), ``bun``, ``ji`` — with ``useYm`` (month) and ``useQty``.
Electricity and gas are served as separate files, so the carrier comes from ``--carrier`` (or a
carrier column) and the unit from ``--unit`` or the header; the daily variant adds ``useDay`` /
``day`` (YYYYMMDD) and ``platPlc`` (address). Usually CP949 CSV. Optional building-register
columns: ``mainPurpsCdNm`` (main use) and ``totArea`` (floor area, m²).

Buildings are placed in an administrative dong through the MOIS legal→administrative links: exactly
where the legal dong lies in one ward, by the parcel table (``energy ingest --format parcels``)
where it is split, otherwise by the documented allocation rule (:data:`energy_lib.core.wards.ALLOCATION_RULE`),
and the site records which (``sites.placement``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.core import wards
from energy_lib.ingest import metered, vocab
from energy_lib.ingest.bills import carrier_and_unit
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import MeteredSink

__all__ = ["FORMAT", "lot_number"]

FIELDS = (
    Field("sigunguCd", ("시군구코드", "sigungu_cd"), help="5-digit sigungu code"),
    Field("bjdongCd", ("법정동코드", "bjdong_cd"), help="5-digit legal dong code (or the full 10 digits)"),
    Field("platGbCd", ("대지구분코드", "plat_gb_cd"), required=False, help="0 land, 1 mountain, 2 block"),
    Field("bun", ("번", "본번"), help="main lot number"),
    Field("ji", ("지", "부번"), help="sub lot number"),
    Field("useYm", ("사용년월", "use_ym", "년월"), help="month (202301)"),
    Field("useDay", ("day", "사용일", "use_day", "일자"), required=False, help="day (YYYYMMDD), daily variant"),
    Field("useQty", ("사용량", "use_qty", "usage"), help="energy used"),
    Field("unit", ("단위", "useUnit"), required=False, help="unit (or --unit, or in the useQty header)"),
    Field("carrier", ("에너지원", "에너지종류", "carrier"), required=False, help="전기 or 가스 (or --carrier)"),
    Field("platPlc", ("대지위치", "주소", "address"), required=False, help="address (not stored)", personal=True),
    Field("mainPurpsCdNm", ("주용도코드명", "주용도", "main_purpose"), required=False, help="main use (공동주택, 업무시설, …)"),
    Field("totArea", ("연면적", "tot_area", "floor_area"), required=False, help="floor area [m²]"),
)


def lot_number(text: pd.Series) -> pd.Series:
    """Lot numbers without leading zeros; blank → ``"0"`` (``"0012"`` → ``"12"``)."""
    stripped = text.str.strip().str.lstrip("0")
    return stripped.where(stripped.str.len() > 0, "0")


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    carrier, unit = carrier_and_unit(columns, options, issues, n, usage="useQty")
    sigungu = columns.required_text("sigunguCd", issues, "the sigungu code")
    bjdong = columns.required_text("bjdongCd", issues, "the legal dong code")
    legal = bjdong.where(bjdong.str.len() == 10, sigungu + bjdong.str.zfill(5))
    known = legal.isin(reference.legal_dongs["legal_code"]).to_numpy()
    unknown = ~known & (sigungu.str.len() > 0).to_numpy() & (bjdong.str.len() > 0).to_numpy()
    issues.add(unknown, columns.header("bjdongCd"), "unknown_ward_code",
               "legal dong '" + legal[unknown] + "' (sigunguCd + bjdongCd) is not a Gwangju legal dong. "
               "Check both codes against data/README.md (legal dongs).")
    bun = lot_number(columns.series("bun"))
    ji = lot_number(columns.series("ji"))
    plat = columns.series("platGbCd").replace("", "0") if "platGbCd" in columns else pd.Series("0", index=range(n))
    placed = wards.place_by_legal_dong(legal, bun, ji, reference.legal_dongs, reference.parcels)

    month = columns.month("useYm", issues)
    if "useDay" in columns:
        start = columns.date("useDay", issues)
        end = start + np.timedelta64(1, "D")
        resolution = "daily"
        outside = ~np.isnat(start) & ~np.isnat(month) & (start.astype("datetime64[M]") != month.astype("datetime64[M]"))
        issues.add(outside, columns.header("useDay"), "inconsistent_value",
                   "the day is not in the month of useYm. Check both columns.")
    else:
        start = month
        end = (month.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[us]")
        resolution = "monthly"
    value = columns.number("useQty", issues, "the usage")

    building = pd.Series("unknown", index=range(n), dtype="str")
    households = pd.Series(pd.NA, index=range(n), dtype="Int64")
    if "mainPurpsCdNm" in columns:
        building = vocab.to_building_type(columns.series("mainPurpsCdNm")).fillna("unknown")
    parcel_key = legal + ":" + plat + ":" + bun + ":" + ji
    records = pd.DataFrame({
        "source_row": columns.rows, "provider": options.provider or "molit", "carrier": carrier,
        "account": parcel_key, "site_key": "building:" + parcel_key, "resolution": resolution,
        "period_start": start, "period_end": end, "value": value, "unit": unit, "quality": "actual",
        "ward_code": placed["ward_code"], "placement": placed["placement"],
        "placement_note": placed["placement_note"], "building_type": building, "households": households,
        "floor_area_m2": columns.optional_number("totArea", issues, "the floor area"),
    })
    return Converted("readings", records, issues, headers={"value": columns.header("useQty"),
                                                           "account": columns.header("bjdongCd")})


FORMAT = Format(
    name="building",
    title="MOLIT building energy",
    fields=FIELDS,
    convert=convert,
    sink=MeteredSink(metered.READINGS),
    description=__doc__.split("\n\n")[0],
)
