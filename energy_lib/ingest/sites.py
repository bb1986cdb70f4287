"""The city's site register: households and buildings with their utility customer numbers.

The register (e.g. the Carbon Point membership list, 탄소중립포인트 가입자, or a building-register
extract) links each site to the customer numbers its utilities bill it under, so that a
household's electricity, gas and water meters belong to one site. Fields: a site key (``관리번호``),
the ward (``행정동코드``, any vintage; or the legal dong + lot number of a building), the building
type, households, floor area [m²], a public name for non-household sites, the customer numbers
(``전기고객번호``, ``가스고객번호``, ``수도고객번호``, ``열고객번호``), and optionally whether the
site's own interval series may be shown by name (``실시간공개``, e.g. a public body or a site that
consented; empty means no) with where that decision is recorded (``공개근거``).

A site given again is updated; a meter first seen in a bill and later listed here moves to the
register's site (the site the bill created is removed once no meter uses it). Customer numbers are
never stored, only the pseudonymous meter ids derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from energy_lib.core import units, wards
from energy_lib.core.identity import pseudonyms
from energy_lib.core.tables import table
from energy_lib.core.vectors import is_in
from energy_lib.ingest import checks, vocab
from energy_lib.ingest.building import lot_number
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference, default_provider
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import Sink

__all__ = ["FORMAT", "register_site_ids"]

_CUSTOMER_FIELDS = {
    "electricity": Field("electricity_customer_no", ("전기고객번호", "한전고객번호", "kepco_customer_no",
                                                     "elec_customer_no"), required=False,
                         help="KEPCO customer number", personal=True),
    "gas": Field("gas_customer_no", ("가스고객번호", "도시가스고객번호", "gas_customer"), required=False,
                 help="city gas customer number", personal=True),
    "water": Field("water_customer_no", ("수도고객번호", "상수도고객번호", "수용가번호", "water_customer"),
                   required=False, help="water customer number", personal=True),
    "heat": Field("heat_customer_no", ("열고객번호", "난방고객번호", "지역난방고객번호", "heat_customer"),
                  required=False, help="district heat customer number", personal=True),
}
FIELDS = (
    Field("site_key", ("관리번호", "가구번호", "등록번호", "site_key", "site", "household_id"),
          help="the register's key of the site", personal=True),
    Field("ward_code", ("행정동코드", "행정기관코드", "adm_cd", "ward"), required=False, help="administrative dong"),
    Field("legal_code", ("법정동코드", "legal_code"), required=False, help="legal dong (with bun, ji)"),
    Field("bun", ("번", "본번"), required=False, help="main lot number"),
    Field("ji", ("지", "부번"), required=False, help="sub lot number"),
    Field("building_type", ("건물유형", "주거형태", "주용도", "building_type"), help="아파트, 단독주택, …"),
    Field("households", ("세대수", "가구수", "households"), required=False, help="households (1 for a household)"),
    Field("floor_area", ("면적", "전용면적", "연면적", "floor_area_m2", "floor_area"), required=False,
          help="floor area [m²]"),
    Field("name", ("시설명", "건물명", "단지명", "name"), required=False, help="public name (not for households)"),
    *_CUSTOMER_FIELDS.values(),
    Field("series_public", ("실시간공개", "시계열공개", "사용량공개", "공개동의", "공개여부", "series_public"),
          required=False, help="예/아니오: the site's own series may be shown (public body; consent)"),
    Field("series_public_source", ("공개근거", "동의근거", "series_public_source", "consent_source"), required=False,
          help="where that decision is recorded (e.g. 공공기관, a consent letter's number)"),
)


def register_site_ids(site_key: pd.Series) -> pd.Series:
    """Pseudonymous site ids of register keys."""
    return pseudonyms("site", "register:" + site_key.astype("str"))


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    key = columns.required_text("site_key", issues, "the site key")
    if "ward_code" in columns:
        ward = columns.ward("ward_code", issues, reference.ward_codes)
        placement = pd.Series("reported", index=range(n), dtype="str")
        note = pd.Series(pd.NA, index=range(n), dtype="str")
    else:
        legal = columns.required_text("legal_code", issues, "the legal dong code")
        placed = wards.place_by_legal_dong(legal, lot_number(columns.series("bun")),
                                           lot_number(columns.series("ji")), reference.legal_dongs,
                                           reference.parcels)
        ward, placement, note = placed["ward_code"], placed["placement"], placed["placement_note"]
        unknown = ward.isna().to_numpy() & (legal.str.len() > 0).to_numpy()
        issues.add(unknown, columns.header("legal_code"), "unknown_ward_code",
                   "'" + legal[unknown] + "' is not a Gwangju legal dong code. Check it.")
    given = columns.required_text("building_type", issues, "the building type")
    building = vocab.to_building_type(given)
    unknown = building.isna().to_numpy() & (given.str.len() > 0).to_numpy()
    issues.add(unknown, columns.header("building_type"), "unknown_category",
               "'" + given[unknown] + "' is not a building type: use 아파트, 단독주택, 상업, 공공, 교육, 산업 "
               "(apartment, detached, commercial, public, education, industrial).")
    households = pd.Series(columns.optional_count("households", issues, "households"), index=range(n))
    area = columns.optional_number("floor_area", issues, "the floor area")
    name = columns.series("name") if "name" in columns else pd.Series("", index=range(n), dtype="str")
    public = columns.optional_flag("series_public", issues, "whether the site's series may be shown")
    basis = columns.series("series_public_source") if "series_public_source" in columns \
        else pd.Series("", index=range(n), dtype="str")
    # a site's own series is shown only on a recorded decision: a yes without its source is not one
    if "series_public" in columns:
        issues.add(public & (basis.str.len() == 0).to_numpy(), columns.header("series_public"), "missing_value",
                   "the site's series is marked public, but where that decision is recorded (공개근거, "
                   "series_public_source) is empty. Name the public body's basis or the consent, or write 아니오.")
    records = pd.DataFrame({
        "source_row": columns.rows, "site_id": register_site_ids(key), "ward_code": ward,
        "building_type": building, "households": households,
        "floor_area_m2": area, "name": name.where((name.str.len() > 0) & households.ne(1).fillna(True).astype(bool)),
        "placement": placement, "placement_note": note, "origin": "register",
        "series_public": public, "series_public_source": basis.where(pd.Series(public) & (basis.str.len() > 0)),
    })
    for carrier, field in _CUSTOMER_FIELDS.items():
        if field.name in columns:
            number = columns.series(field.name)
            records[f"meter_{carrier}"] = pseudonyms("meter", pd.Series(default_provider(carrier), index=range(n)),
                                                     pd.Series(carrier, index=range(n)), number).where(number.str.len() > 0)
    return Converted("sites", records, issues)


_RULES = (
    checks.Rule("negative_value", "households", lambda f: ~(f["households"] < 0),
                lambda f: "households " + f["households"].astype(str) + " is negative. Correct it."),
    checks.Rule("negative_value", "floor_area_m2", lambda f: ~(f["floor_area_m2"] <= 0),
                lambda f: "floor area " + f["floor_area_m2"].astype(str) + " m² is not positive. Correct it."),
)


@dataclass(frozen=True)
class RegisterSink(Sink):
    """Upserts sites and links the customer numbers' meters to them."""

    table: str = "sites"

    def prepare(self, converted, headers, options):
        records, issues = converted.records, converted.issues
        checks.validate(records, list(_RULES), issues, headers)
        signature = pd.util.hash_pandas_object(records.drop(columns="source_row"), index=False)
        checks.duplicates_within(records.assign(signature=signature), ["site_id"], "signature", issues, headers)
        return records

    def stage(self, records, issues, headers, writer, ingested_at, source_file):
        live = records[~issues.rejected[records.index.to_numpy()]].assign(source_file=source_file)
        if live.empty:
            return 0
        store = writer.store
        columns = table("sites").column_names
        sites = store.read("sites")
        # sites stored before the register had the column were never public
        sites["series_public"] = sites["series_public"].fillna(False).astype(bool)
        meters = store.read("meters")
        links = pd.concat([
            pd.DataFrame({"meter_id": live[f"meter_{c}"], "site_id": live["site_id"], "carrier": c})
            for c in units.CARRIERS if f"meter_{c}" in live
        ] or [pd.DataFrame(columns=["meter_id", "site_id", "carrier"])]).dropna(subset=["meter_id"])
        links = links.drop_duplicates("meter_id", keep="last")
        relinked = meters.merge(links[["meter_id", "site_id"]], on="meter_id", how="left", suffixes=("", "_new"))
        meters = meters.assign(site_id=relinked["site_id_new"].fillna(relinked["site_id"]).to_numpy())
        new = links[~is_in(links["meter_id"], meters["meter_id"])]
        meters = pd.concat([meters, pd.DataFrame({
            "meter_id": new["meter_id"], "site_id": new["site_id"], "carrier": new["carrier"],
            "provider": new["carrier"].map(default_provider), "source_file": source_file,
        })], ignore_index=True)
        sites = sites[~is_in(sites["site_id"], live["site_id"])]
        sites = pd.concat([sites, live[columns]], ignore_index=True)
        orphaned = sites["origin"].eq("implicit").to_numpy() & ~is_in(sites["site_id"], meters["site_id"])
        writer.replace("sites", sites[~orphaned].sort_values("site_id", ignore_index=True))
        writer.replace("meters", meters.sort_values("meter_id", ignore_index=True))
        return len(live)


FORMAT = Format(
    name="sites",
    title="site register",
    fields=FIELDS,
    convert=convert,
    sink=RegisterSink(),
    description=__doc__.split("\n\n")[0],
    one_of=((("ward_code",), ("legal_code", "bun", "ji")),),
)
