"""Parcels and the administrative dong each lies in, from the city's GIS (연속지적도 × 행정동 경계).

Fields: the legal dong (``legal_code``, or ``sigunguCd`` + ``bjdongCd``), ``bun``, ``ji`` and the
administrative dong code (``ward_code``/``행정동코드``, any vintage). With it, buildings in legal dongs
split across several wards are placed exactly (``sites.placement = parcel``) instead of by the
allocation rule. A parcel given again replaces the stored one.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.ingest.building import lot_number
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import DimensionSink

__all__ = ["FORMAT"]

FIELDS = (
    Field("legal_code", ("법정동코드", "pnu_legal", "legal dong code"), required=False,
          help="10-digit legal dong code"),
    Field("sigunguCd", ("시군구코드",), required=False, help="5-digit sigungu code"),
    Field("bjdongCd", ("bjdong_cd",), required=False, help="5-digit legal dong code"),
    Field("bun", ("번", "본번"), help="main lot number"),
    Field("ji", ("지", "부번"), help="sub lot number"),
    Field("ward_code", ("행정동코드", "행정기관코드", "admin_code", "adm_cd"), help="administrative dong code"),
)


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    if "legal_code" in columns:
        legal = columns.required_text("legal_code", issues, "the legal dong code")
        legal_header = columns.header("legal_code")
    else:
        legal = (columns.required_text("sigunguCd", issues, "the sigungu code")
                 + columns.required_text("bjdongCd", issues, "the legal dong code").str.zfill(5))
        legal_header = columns.header("bjdongCd")
    unknown = ~legal.isin(reference.legal_dongs["legal_code"]).to_numpy() & (legal.str.len() > 0).to_numpy()
    issues.add(unknown, legal_header, "unknown_ward_code",
               "'" + legal[unknown] + "' is not a Gwangju legal dong code. Check it.")
    ward = columns.ward("ward_code", issues, reference.ward_codes)
    linked = pd.DataFrame({"legal_code": legal, "ward_code": ward}).merge(
        reference.legal_dongs[["legal_code", "ward_code"]], how="left", indicator=True)["_merge"].eq("both")
    inconsistent = ~linked.to_numpy() & ~unknown & ward.notna().to_numpy()
    issues.add(inconsistent, columns.header("ward_code"), "inconsistent_value",
               "the administrative dong does not cover this legal dong in the MOIS links. Check both codes.")
    records = pd.DataFrame({"source_row": columns.rows, "legal_code": legal,
                            "bun": lot_number(columns.series("bun")), "ji": lot_number(columns.series("ji")),
                            "ward_code": ward})
    return Converted("parcels", records, issues)


FORMAT = Format(
    name="parcels",
    title="parcel table (city GIS)",
    fields=FIELDS,
    convert=convert,
    sink=DimensionSink("parcels", ("legal_code", "bun", "ji"), "ward_code"),
    description=__doc__.split("\n\n")[0],
    one_of=((("legal_code",), ("sigunguCd", "bjdongCd")),),
)
